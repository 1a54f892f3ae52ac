"""The head crop: inside the picture where it fits, a blurred continuation where not."""

import numpy as np

from vasa_core.render.crop import head_crop, head_region


def streakiness(band: np.ndarray) -> float:
    """How much a band varies across (along the edge) compared with down (outwards): rows
    repeated outwards vary across but not down."""
    band = band.astype(float).mean(axis=2)
    across = np.abs(np.diff(band, axis=1)).mean()
    down = np.abs(np.diff(band, axis=0)).mean()
    return across / (down + 1e-6)


def test_a_crop_that_fits_is_slid_inside_the_picture():
    left, top, side = head_region((100, 10, 200, 130), (600, 500))
    assert (left, top) == (max(0, left), 0) and top + side <= 600 and left + side <= 500


def test_past_the_edge_the_fill_is_smooth_not_streaked():
    rng = np.random.default_rng(0)
    picture = rng.integers(0, 255, (200, 200, 3), dtype=np.uint8)  # busy texture up to the edge
    crop = head_crop(picture, left=0, top=-60, side=260, size=256)  # 60 rows above the top
    above = crop[: int(256 * 50 / 260), : int(256 * 190 / 260)]  # over the picture, not beside
    assert streakiness(above) < 10, streakiness(above)  # measured 4.7; repeated rows: > 50
    assert above.std(axis=1).mean() < 0.25 * picture.std()  # blurred along the edge
    edge_repeated = np.repeat(picture[:1], 60, axis=0)
    assert streakiness(edge_repeated) > 50
    inside = crop[int(256 * 70 / 260) :, : int(256 * 190 / 260)]
    assert inside.std() > 0.8 * picture.std()  # the picture itself is left sharp
