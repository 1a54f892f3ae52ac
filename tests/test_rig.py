"""The expression rig: decode and encode are inverses, and each channel does its one job."""

import numpy as np
import pytest

from vasa_core import schema
from vasa_core.face import landmarks as lmk
from vasa_core.face import rig
from vasa_core.face import topology as top
from vasa_core.face.template import build_template, load_template, mirror_back

ANCHOR = rig.Anchor(scale=230.0, offset=np.array([310.0, -270.0, 0.0]))


def random_motion(rng: np.random.Generator) -> np.ndarray:
    motion = rng.uniform(schema.LOW, schema.HIGH)
    motion[schema.index("yaw")] = rng.uniform(-30, 30)
    motion[schema.index("pitch")] = rng.uniform(-30, 30)
    return motion


@pytest.mark.parametrize("who", ["template", "astronaut", "drawn"])
def test_round_trip_recovers_pose_within_1_degree_and_dynamics_within_005(who, latents):
    identity = rig.load_rig().neutral if who == "template" else latents[who].identity
    rng = np.random.default_rng(3)
    for _ in range(100):
        motion = random_motion(rng)
        points = rig.decode(identity, motion[schema.POSE], motion[schema.DYNAMICS], ANCHOR)
        fit = rig.encode(points, identity=identity, anchor=ANCHOR)
        assert np.abs(fit.pose[:3] - motion[:3]).max() < 1.0
        assert np.abs(fit.pose[3:] - motion[3:6]).max() < 1e-3
        assert np.abs(fit.dynamics - motion[schema.DYNAMICS]).max() < 0.05


def test_a_first_look_reads_gaze_and_head_pose_of_any_face(latents):
    """Without a known identity, gaze is measured against the template's eyes: an identity
    at rest looks straight ahead, whatever face it is."""
    identity = latents["drawn"].identity
    for gaze_yaw, gaze_pitch in [(15.0, 0.0), (-20.0, 8.0), (5.0, -12.0)]:
        motion = schema.neutral()
        motion[schema.index("yaw")] = 10.0
        motion[schema.index("gaze_yaw")] = gaze_yaw
        motion[schema.index("gaze_pitch")] = gaze_pitch
        points = rig.decode(identity, motion[schema.POSE], motion[schema.DYNAMICS], ANCHOR)
        fit = rig.encode(points)
        gaze = fit.dynamics[[schema.DYNAMICS_NAMES.index(n) for n in ("gaze_yaw", "gaze_pitch")]]
        assert np.abs(gaze - [gaze_yaw, gaze_pitch]).max() < 1.0
        assert abs(fit.pose[0] - 10.0) < 2.0


def test_expressions_never_move_the_stable_points_used_for_pose():
    basis = rig.load_rig().basis
    assert np.abs(basis[:, list(top.STABLE)]).max() == 0.0
    # ...and every channel does move something.
    assert (np.abs(basis).reshape(len(basis), -1).max(axis=1) > 0.01).all()


def _shape(**channels: float) -> np.ndarray:
    dynamics = schema.neutral()[schema.DYNAMICS].astype(np.float64)
    for name, value in channels.items():
        dynamics[schema.DYNAMICS_NAMES.index(name)] = value
    return rig.deform(rig.load_rig().neutral, dynamics)


def _lip_gap(shape: np.ndarray) -> float:
    return shape[top.LIPS_INNER_UPPER[5], 1] - shape[top.LIPS_INNER_LOWER[5], 1]


def _eye_gap(shape: np.ndarray, upper, lower) -> float:
    return float(np.mean(shape[list(upper), 1] - shape[list(lower), 1]))


def test_neutral_mouth_is_closed_and_jaw_open_parts_the_lips():
    assert abs(_lip_gap(_shape())) < 1e-6
    assert _lip_gap(_shape(jaw_open=1.0)) > 0.15  # face widths


def test_an_open_jaw_parts_the_lips_in_an_ellipse_that_meets_at_the_corners():
    """Most in the middle, less towards the corners, nothing where the lips join (the
    first rig opened the mouth as a box: the gap next to the corners was the middle's)."""
    open_jaw = _shape(jaw_open=1.0)
    gaps = open_jaw[list(top.LIPS_INNER_UPPER), 1] - open_jaw[list(top.LIPS_INNER_LOWER), 1]
    middle = gaps[5]
    assert abs(gaps[0]) < 0.05 * middle and abs(gaps[-1]) < 0.05 * middle  # the corners
    half = gaps[:6]  # one side, corner to middle
    assert (np.diff(half) > 0).all()  # widening towards the middle
    assert half[1] < 0.7 * middle  # next to the corner: well short of the middle


def test_blink_closes_one_eye_only():
    rest = _shape()
    blink = _shape(blink_left=1.0)
    left_open = _eye_gap(rest, top.LEFT_UPPER_LID, top.LEFT_LOWER_LID)
    assert _eye_gap(blink, top.LEFT_UPPER_LID, top.LEFT_LOWER_LID) < 0.1 * left_open
    right = _eye_gap(blink, top.RIGHT_UPPER_LID, top.RIGHT_LOWER_LID)
    assert right == pytest.approx(_eye_gap(rest, top.RIGHT_UPPER_LID, top.RIGHT_LOWER_LID))


def test_gaze_moves_the_irises_and_nothing_else():
    rest, looking = _shape(), _shape(gaze_yaw=20.0, gaze_pitch=-10.0)
    moved = np.nonzero(np.abs(looking - rest).max(axis=1) > 1e-9)[0]
    assert set(moved) == set(rig.IRIS)
    assert (looking[list(rig.IRIS), 0] > rest[list(rig.IRIS), 0]).all()  # towards viewer's right
    assert (looking[list(rig.IRIS), 1] < rest[list(rig.IRIS), 1]).all()  # and down


def test_smile_lifts_and_widens_the_mouth_corners():
    rest, smile = _shape(), _shape(smile=1.0)
    left, right = top.MOUTH_CORNERS[1], top.MOUTH_CORNERS[0]
    assert smile[left, 1] > rest[left, 1] + 0.03 and smile[right, 1] > rest[right, 1] + 0.03
    width = lambda s: s[left, 0] - s[right, 0]  # noqa: E731
    assert width(smile) > width(rest) + 0.05


def test_template_is_symmetric_one_face_width_wide_and_reproducible():
    shipped = load_template()
    points, mirror = shipped.points, shipped.mirror
    assert (mirror[mirror] == np.arange(len(points))).all()
    assert np.allclose(points[mirror] * [-1, 1, 1], points)
    assert points[top.FACE_SIDES[1], 0] - points[top.FACE_SIDES[0], 0] == pytest.approx(1.0)
    rebuilt = build_template()
    assert rebuilt.n_faces == shipped.n_faces
    assert np.abs(rebuilt.points - shipped.points).max() < 1e-3


def test_landmarks_of_a_mirror_image_land_back_on_the_original(portraits):
    """Face Mesh on the flipped portrait, put back: each point lands near where Face Mesh
    puts it on the portrait itself (it is not exactly symmetric: a few % of the eye
    distance). A wrong flip or a wrong partner would be off by about the eye distance."""
    image = portraits["astronaut"]
    width = image.shape[1]
    found = lmk.detect(image).landmarks
    back = mirror_back(lmk.detect(np.ascontiguousarray(image[:, ::-1])).landmarks, width)
    eyes = np.linalg.norm(found[33, :2] - found[263, :2])
    miss = np.linalg.norm(back[:, :2] - found[:, :2], axis=1) / eyes
    assert np.median(miss) < 0.02 and miss.max() < 0.08
    assert np.allclose(mirror_back(mirror_back(found, width), width), found)


def test_a_full_blink_closes_each_faces_own_eyes(latents):
    for face in latents.values():
        for name, upper, lower in (
            ("blink_left", top.LEFT_UPPER_LID, top.LEFT_LOWER_LID),
            ("blink_right", top.RIGHT_UPPER_LID, top.RIGHT_LOWER_LID),
        ):
            dynamics = schema.neutral()[schema.DYNAMICS].copy()
            open_eye = rig.deform(face.identity, dynamics)
            dynamics[schema.DYNAMICS_NAMES.index(name)] = 1.0
            closed = rig.deform(face.identity, dynamics)

            def gap(shape, upper=upper, lower=lower):
                return np.abs(shape[list(upper), 1] - shape[list(lower), 1]).mean()

            assert gap(closed) < 0.1 * gap(open_eye), (face.name, name)
