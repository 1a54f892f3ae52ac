"""Portraits in the forms they really arrive in."""

import numpy as np
import pytest
from PIL import Image

from vasa_core.errors import VasaError
from vasa_core.face import analyze
from vasa_core.face.image import as_rgb_array, load_image


def test_exif_orientation_is_applied(tmp_path, portraits):
    # A phone stores the sensor's pixels sideways and says "rotate 90° clockwise" in EXIF.
    upright = Image.fromarray(portraits["grace_hopper"])
    sideways = upright.transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90 CW to view
    path = tmp_path / "phone.jpg"
    sideways.save(path, exif=exif, quality=95)
    loaded = load_image(path)
    assert loaded.shape == portraits["grace_hopper"].shape
    assert abs(analyze(loaded).pose[2]) < 10  # upright head, not a 90 degree roll


def test_transparent_background_becomes_white(tmp_path, portraits):
    rgba = np.dstack([portraits["drawn"], np.full(portraits["drawn"].shape[:2], 255, np.uint8)])
    rgba[:40, :40, 3] = 0
    path = tmp_path / "drawing.png"
    Image.fromarray(rgba).save(path)
    loaded = load_image(path)
    assert (loaded[:40, :40] == 255).all()
    assert analyze(loaded).n_faces == 1


@pytest.mark.parametrize("mode", ["L", "P", "I;16"])
def test_grayscale_palette_and_16_bit_images_load_and_analyse(tmp_path, portraits, mode):
    image = Image.fromarray(portraits["grace_hopper"])
    if mode == "I;16":
        gray = np.asarray(image.convert("L")).astype(np.uint16) * 257
        image = Image.fromarray(gray)  # uint16 -> mode I;16
    else:
        image = image.convert(mode)
    path = tmp_path / f"portrait-{mode.replace(';', '')}.png"
    image.save(path)
    loaded = load_image(path)
    assert loaded.dtype == np.uint8 and loaded.shape[2] == 3
    assert loaded.max() > 200  # the full range survives, not a dark 16-bit truncation
    assert analyze(loaded).n_faces == 1


def test_huge_image_is_analysed_on_a_small_copy_with_coordinates_mapped_back(latents, portraits):
    small = portraits["astronaut"]
    factor = 12
    huge = np.asarray(Image.fromarray(small).resize((512 * factor, 512 * factor), Image.BILINEAR))
    face = analyze(huge)
    expected = latents["astronaut"].landmarks[:, :2] * factor
    eyes = np.linalg.norm(expected[33] - expected[263])
    assert np.median(np.linalg.norm(face.landmarks[:, :2] - expected, axis=1)) < 0.03 * eyes


def test_arrays_of_other_types_are_accepted():
    gray_float = np.random.default_rng(0).random((64, 80))
    assert as_rgb_array(gray_float).shape == (64, 80, 3)
    with pytest.raises(VasaError, match="too small"):
        as_rgb_array(np.zeros((8, 8, 3), np.uint8))
