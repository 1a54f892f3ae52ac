"""Every control moves the output video in its direction, measured on the frames by Face Mesh.

One short sentence is generated under a few controls; each video's frames go back through
Face Mesh and are encoded against the portrait's own identity, so what is measured is what a
viewer sees, not what the generator meant.
"""

import numpy as np
import pytest
import soundfile

from vasa_core import schema
from vasa_core.audio import tts
from vasa_core.face import landmarks as lm
from vasa_core.face import rig
from vasa_core.media import read_video
from vasa_core.motion.controls import Controls
from vasa_core.pipeline import Pipeline

SETTINGS = {
    "neutral": Controls(),
    "look right": Controls(gaze_yaw=25.0),
    "closer": Controls(distance=1.35),
    "happy": Controls(emotion="happy", intensity=1.0),
    "still head": Controls(motion=0.0),
    "lively head": Controls(motion=2.0),
}


@pytest.fixture(scope="module")
def measured(tmp_path_factory, latents):
    folder = tmp_path_factory.mktemp("controls")
    speech = tts.synthesize("Hello there, we are testing every control today.")
    wav = folder / "speech.wav"
    soundfile.write(wav, speech.samples, speech.rate)
    face = latents["astronaut"]
    pipe = Pipeline()
    results = {}
    for name, controls in SETTINGS.items():
        out = pipe.generate(
            face, folder / f"{name}.mp4", audio=wav, controls=controls, size=256, mark=False
        )
        frames, _ = read_video(out)
        rows = []
        for frame in frames[::2]:
            points = lm.detect_all(frame)[0]
            fit = rig.encode(points, identity=face.identity)
            eyes = np.linalg.norm(points[33, :2] - points[263, :2])  # outer eye corners
            rows.append([*fit.pose[:3], fit.dynamics[schema.DYNAMICS_NAMES.index("smile")],
                         fit.dynamics[schema.DYNAMICS_NAMES.index("gaze_yaw")], eyes])  # fmt: skip
        rows = np.array(rows)
        results[name] = {
            "pose_std": float(rows[:, :3].std(axis=0).mean()),
            "smile": float(rows[:, 3].mean()),
            "gaze_yaw": float(rows[:, 4].mean()),
            "eye_distance": float(rows[:, 5].mean()),
        }
    return results


def test_gaze_turns_the_eyes(measured):
    assert measured["look right"]["gaze_yaw"] > measured["neutral"]["gaze_yaw"] + 5


def test_distance_makes_the_head_bigger(measured):
    assert measured["closer"]["eye_distance"] > 1.15 * measured["neutral"]["eye_distance"]


def test_happy_smiles_more(measured):
    assert measured["happy"]["smile"] > measured["neutral"]["smile"] + 0.1


def test_head_motion_control_orders_the_head_movement(measured):
    still, calm, lively = (
        measured[n]["pose_std"] for n in ("still head", "neutral", "lively head")
    )
    assert still < 0.5 * calm and lively > calm
