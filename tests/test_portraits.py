"""The example portraits, each measured as it is."""

import numpy as np
import pytest
from PIL import Image

from vasa_core import schema
from vasa_core.face import analyze, rig
from vasa_core.face import topology as top


def dyn(latents, name: str) -> float:
    return float(latents.dynamics[schema.DYNAMICS_NAMES.index(name)])


@pytest.mark.parametrize("name", ["astronaut", "grace_hopper", "drawn"])
def test_a_face_is_found_in_a_plausible_pose_with_open_eyes(name, latents):
    face = latents[name]
    assert face.n_faces == 1
    yaw, pitch, _ = face.pose[:3]
    assert abs(yaw) < 25 and abs(pitch) < 25
    assert face.pose[3:].tolist() == [0.0, 0.0, 1.0]
    assert dyn(face, "blink_left") < 0.3 and dyn(face, "blink_right") < 0.3
    x0, y0, x1, y1 = face.box
    assert 0 <= x0 < x1 <= face.image.shape[1] and 0 <= y0 < y1 <= face.image.shape[0]


@pytest.mark.parametrize("name", ["grace_hopper", "drawn"])
def test_closed_mouths_read_as_closed(name, latents):
    assert dyn(latents[name], "jaw_open") < 0.15


def test_astronaut_smiles_with_parted_lips(latents):
    face = latents["astronaut"]
    assert dyn(face, "smile") > 0.3
    assert dyn(face, "jaw_open") > 0.15
    inner_gap = (
        face.landmarks[top.LIPS_INNER_LOWER[5], 1] - face.landmarks[top.LIPS_INNER_UPPER[5], 1]
    )
    eyes = np.linalg.norm(face.landmarks[33, :2] - face.landmarks[263, :2])
    assert inner_gap > 0.1 * eyes  # teeth show between the lips


def test_identity_of_a_smiling_portrait_is_neutral(latents):
    face = latents["astronaut"]
    rest = schema.neutral()
    rest[schema.POSE] = face.pose
    neutral_points = face.decode(rest)
    again = rig.encode(neutral_points)  # a first look at the neutral face, like any portrait
    assert again.dynamics[schema.DYNAMICS_NAMES.index("smile")] < 0.1
    assert again.dynamics[schema.DYNAMICS_NAMES.index("jaw_open")] < 0.05
    corners_y = lambda p: p[list(top.MOUTH_CORNERS), 1].mean()  # noqa: E731  (pixels, y down)
    # Corners come down. (By 1.5 px since the jaw parts the lips in an ellipse: the open
    # smile now reads a little more as smile and jaw, less as torn corners.)
    assert corners_y(neutral_points) > corners_y(face.landmarks) + 1


def test_own_latents_decode_to_own_landmarks(latents):
    mesh = np.arange(top.N_MESH)
    for face in latents.values():
        error = np.abs(face.decode() - face.landmarks)
        assert error[mesh].max() < 0.05  # pixels
        assert error[rig.IRIS].max() < 0.05


@pytest.mark.parametrize("name", ["astronaut", "grace_hopper"])
def test_mirrored_photo_flips_yaw_and_roll(name, portraits, latents):
    mirrored = analyze(np.ascontiguousarray(portraits[name][:, ::-1]))
    original = latents[name].pose
    assert abs(mirrored.pose[0] + original[0]) < 3
    assert abs(mirrored.pose[2] + original[2]) < 3
    assert abs(mirrored.pose[1] - original[1]) < 3


@pytest.mark.parametrize("name", ["astronaut", "grace_hopper", "drawn"])
def test_rotating_the_photo_by_15_degrees_adds_15_to_roll(name, portraits, latents):
    image = Image.fromarray(portraits[name])
    turned = analyze(np.asarray(image.rotate(15, Image.BICUBIC, expand=True, fillcolor="gray")))
    assert turned.pose[2] - latents[name].pose[2] == pytest.approx(15, abs=3)


def test_several_faces_warn_and_the_largest_is_used(portraits):
    big = Image.fromarray(portraits["grace_hopper"])
    small = big.resize((big.width // 2, big.height // 2))
    canvas = Image.new("RGB", (big.width + small.width + 40, big.height), "white")
    canvas.paste(big, (0, 0))
    canvas.paste(small, (big.width + 40, 100))
    with pytest.warns(UserWarning, match="found 2 faces"):
        face = analyze(np.asarray(canvas))
    assert face.n_faces == 2
    assert face.box[2] < big.width  # the big one, on the left


def test_latents_save_and_load(tmp_path, latents):
    face = latents["drawn"]
    path = tmp_path / "drawn.npz"
    face.save(path)
    loaded = type(face).load(path)
    assert np.array_equal(loaded.image, face.image)
    assert np.allclose(loaded.identity, face.identity)
    assert np.allclose(loaded.motion, face.motion)
    assert np.allclose(loaded.decode(), face.decode(), atol=1e-3)
