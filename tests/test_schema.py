import numpy as np
import pytest

from vasa_core import schema
from vasa_core.errors import VasaError

REQUIRED_DYNAMICS = (
    "jaw_open mouth_round mouth_wide lip_press smile frown upper_lip_raise lower_lip_depress "
    "blink_left blink_right brow_raise brow_frown brow_inner_up gaze_yaw gaze_pitch"
).split()


def test_channels_are_named_once_and_split_into_pose_then_dynamics():
    assert len(set(schema.NAMES)) == schema.DIM
    assert schema.POSE_NAMES == ("yaw", "pitch", "roll", "tx", "ty", "scale")
    assert set(REQUIRED_DYNAMICS) <= set(schema.DYNAMICS_NAMES)
    assert schema.NAMES[schema.POSE] == schema.POSE_NAMES
    assert schema.NAMES[schema.DYNAMICS] == schema.DYNAMICS_NAMES
    assert np.all(schema.LOW <= schema.DEFAULT) and np.all(schema.DEFAULT <= schema.HIGH)


def test_neutral_is_the_default_and_tiles_over_frames():
    assert schema.neutral()[schema.index("scale")] == 1.0
    assert schema.neutral(5).shape == (5, schema.DIM)


def test_check_rejects_wrong_shapes_and_non_finite_values():
    with pytest.raises(VasaError, match="shape"):
        schema.check(np.zeros((4, schema.DIM + 1)))
    bad = schema.neutral(3)
    bad[1, schema.index("smile")] = np.nan
    bad[2, schema.index("yaw")] = np.inf
    with pytest.raises(VasaError, match="smile") as error:
        schema.check(bad)
    assert "yaw" in str(error.value)


def test_check_clips_out_of_range_values_with_one_warning_naming_them():
    motion = schema.neutral(2)
    motion[0, schema.index("jaw_open")] = 1.7
    motion[1, schema.index("yaw")] = -90
    with pytest.warns(UserWarning, match="yaw, jaw_open"):
        clipped = schema.check(motion)
    assert clipped[0, schema.index("jaw_open")] == 1.0
    assert clipped[1, schema.index("yaw")] == -45


def test_dicts_round_trip_and_missing_channels_are_named():
    motion = np.random.default_rng(0).uniform(schema.LOW, schema.HIGH, (7, schema.DIM))
    assert np.allclose(schema.from_dict(schema.to_dict(motion)), motion)
    channels = schema.to_dict(motion)
    del channels["blink_left"]
    with pytest.raises(VasaError, match="missing channels: blink_left"):
        schema.from_dict(channels)
    with pytest.raises(VasaError, match="unknown motion channel"):
        schema.index("wink")


def test_the_reach_narrows_the_pose_about_the_portraits_own():
    """The poses a portrait can be shown in: its own pose inside, turns and shifts within
    `REACH` of it, the scale a ratio of its own, the other channels untouched."""
    own = schema.neutral()
    own[schema.index("yaw")], own[schema.index("pitch")] = 12.0, -7.0
    low, high = schema.reach(own)
    assert np.all(low <= own) and np.all(own <= high)
    assert (low[schema.index("yaw")], high[schema.index("yaw")]) == (-8.0, 32.0)
    assert high[schema.index("pitch")] == -7.0 + schema.REACH["pitch"][1]
    assert (low[schema.index("scale")], high[schema.index("scale")]) == pytest.approx((0.7, 1.4))
    jaw = schema.index("jaw_open")
    assert (low[jaw], high[jaw]) == (schema.LOW[jaw], schema.HIGH[jaw])
