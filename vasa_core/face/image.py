"""Reading a portrait from disk into an RGB uint8 array, or saying clearly why not.

Handles what real portraits arrive as: EXIF-rotated phone photos, RGBA drawings with a
transparent background, grayscale scans, 16-bit TIFF/PNG, palette GIFs and PNGs.
"""

from __future__ import annotations

import os
import warnings

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from vasa_core.errors import VasaError
from vasa_core.files import check_input

MAX_FILE_MB = 50.0
MAX_PIXELS = 100_000_000  # 10000 x 10000; PIL's own bomb guard trips at ~179 MP
MIN_SIDE = 32


def load_image(
    path: str | os.PathLike, max_file_mb: float = MAX_FILE_MB, max_pixels: int = MAX_PIXELS
) -> np.ndarray:
    """Read an image file as an [H, W, 3] uint8 RGB array, upright. More than `max_pixels`
    is refused from the file's header, before any of it is decoded."""
    path = check_input(path, "an image")
    size_mb = path.stat().st_size / 2**20
    if size_mb > max_file_mb:
        raise VasaError(f"{path}: {size_mb:.0f} MB is too large; images up to {max_file_mb:g} MB")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                if image.width * image.height > max_pixels:
                    raise VasaError(
                        f"{path}: {image.width}x{image.height} pixels is too many "
                        f"(at most {max_pixels / 1e6:.3g} megapixels)"
                    )
                image.load()
                return to_rgb(image, name=str(path))
    except UnidentifiedImageError:
        raise VasaError(f"{path}: not an image file (unknown or unsupported format)") from None
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        # PIL's own guard, in `open` itself, for the very largest (it names no size).
        raise VasaError(
            f"{path}: too many pixels to be a portrait (at most {max_pixels / 1e6:.3g} megapixels)"
        ) from None
    except (OSError, SyntaxError, ValueError) as error:
        raise VasaError(f"{path}: the image is truncated or corrupt ({error})") from None


def to_rgb(image: Image.Image, name: str = "image") -> np.ndarray:
    """Any PIL image to upright [H, W, 3] uint8 RGB; transparency becomes white."""
    image = ImageOps.exif_transpose(image)
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        image = Image.fromarray(_to_8bit(np.asarray(image)))
    if image.mode in ("P", "PA", "LA", "RGBA", "La") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(white, rgba)
    array = np.asarray(image.convert("RGB"))
    check_array(array, name)
    return np.ascontiguousarray(array)


def check_array(array: np.ndarray, name: str = "image") -> None:
    """Reject arrays that cannot be a portrait: wrong shape, dtype or a tiny size."""
    if array.ndim != 3 or array.shape[2] != 3 or array.dtype != np.uint8:
        raise VasaError(f"{name}: expected an RGB uint8 image, got {array.dtype} {array.shape}")
    height, width = array.shape[:2]
    if min(height, width) < MIN_SIDE:
        raise VasaError(
            f"{name}: {width}x{height} pixels is too small; a portrait needs at least "
            f"{MIN_SIDE}x{MIN_SIDE}"
        )


def as_rgb_array(image: np.ndarray | Image.Image | str | os.PathLike) -> np.ndarray:
    """Accept a path, a PIL image or an array (gray, RGB, RGBA, any integer/float type)."""
    if isinstance(image, (str, os.PathLike)):
        return load_image(image)
    if isinstance(image, Image.Image):
        return to_rgb(image)
    array = np.asarray(image)
    if array.dtype != np.uint8:
        array = _to_8bit(array)
    if array.ndim == 2:
        array = np.repeat(array[..., None], 3, axis=2)
    if array.ndim == 3 and array.shape[2] == 4:
        return to_rgb(Image.fromarray(array))
    check_array(array)
    return np.ascontiguousarray(array)


def _to_8bit(array: np.ndarray) -> np.ndarray:
    """Scale integer or float pixel data of any depth to uint8."""
    array = np.asarray(array)
    if array.dtype == np.bool_:
        return array.astype(np.uint8) * 255
    if np.issubdtype(array.dtype, np.floating):
        finite = np.nan_to_num(array.astype(np.float64))
        top = 1.0 if finite.max(initial=0) <= 1.0 else 255.0
        return np.clip(finite / top * 255 + 0.5, 0, 255).astype(np.uint8)
    top = 65535 if array.max(initial=0) > 255 else 255
    return np.clip(array.astype(np.float64) / top * 255 + 0.5, 0, 255).astype(np.uint8)
