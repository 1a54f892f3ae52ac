import numpy as np

from vasa_core.face.pose import angles, fit_similarity, rotation

MIRROR = np.diag([-1.0, 1.0, 1.0])


def test_angles_invert_rotation():
    rng = np.random.default_rng(1)
    for yaw, pitch, roll in rng.uniform([-45, -30, -30], [45, 30, 30], (200, 3)):
        matrix = rotation(yaw, pitch, roll)
        assert np.allclose(matrix @ matrix.T, np.eye(3))
        assert np.allclose(angles(matrix), (yaw, pitch, roll))


def test_conventions_match_the_schema_doc():
    forward = np.array([0.0, 0.0, 1.0])
    assert rotation(30, 0, 0) @ forward @ [1, 0, 0] > 0.4  # yaw > 0 faces the viewer's right
    assert rotation(0, 30, 0) @ forward @ [0, 1, 0] > 0.4  # pitch > 0 looks up
    assert (rotation(0, 0, 30) @ [1, 0, 0])[1] > 0.4  # roll > 0 is counter-clockwise


def test_mirroring_flips_yaw_and_roll_but_not_pitch():
    yaw, pitch, roll = angles(MIRROR @ rotation(20, 10, -8) @ MIRROR)
    assert np.allclose((yaw, pitch, roll), (-20, 10, 8))


def test_similarity_fit_recovers_scale_rotation_translation():
    rng = np.random.default_rng(2)
    source = rng.normal(size=(30, 3))
    target = 3.0 * source @ rotation(12, -20, 5).T + [4.0, -1.0, 2.0]
    scale, r, t = fit_similarity(source, target)
    assert np.isclose(scale, 3.0)
    assert np.allclose(angles(r), (12, -20, 5))
    assert np.allclose(t, [4.0, -1.0, 2.0])
