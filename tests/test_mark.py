"""The visible mark: replayed from an overlay, it looks as Pillow draws it, on any frame size,
on the host (`stamp`) and on a device (`stamp_frames`)."""

import numpy as np
import pytest
import torch

from vasa_core.errors import VasaError
from vasa_core.media import _draw_mark, mark_overlay, stamp, stamp_frames

DEVICES = ["cpu", "cuda"]
NEEDS = {"cuda": pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU")}

# The sizes the kit makes (256, 512, the portrait's own), odd ones, and ones too small for
# the whole mark, where Pillow clips it.
SIZES = [(512, 512), (256, 256), (301, 517), (720, 405), (24, 24), (1, 1)]


def frames_of(height: int, width: int, count: int = 1) -> np.ndarray:
    """Noise, so that every grey level under the mark's blended edges is tried."""
    return np.random.default_rng(height * width).integers(
        0, 256, (count, height, width, 3), dtype=np.uint8
    )


@pytest.mark.parametrize("height, width", SIZES)
def test_the_overlay_gives_the_frames_pillow_draws(height, width):
    for frame in frames_of(height, width, 3):
        drawn = _draw_mark(frame).astype(int)
        marked = stamp(frame).astype(int)
        assert np.abs(marked - drawn).max() <= 1  # one grey level: integer rounding only


def test_the_mark_is_white_text_on_black_in_the_bottom_right_corner_only():
    frame = np.full((512, 512, 3), 128, np.uint8)
    marked = stamp(frame)
    changed = (marked != frame).any(axis=2)
    ys, xs = np.nonzero(changed)
    assert ys.min() > 512 * 0.9 and xs.min() > 512 * 0.7  # the corner, nothing else
    corner = marked[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    assert (corner > 200).any() and (corner < 40).any()
    assert (frame == 128).all()  # the frame given is left as it was


def test_the_overlay_is_made_once_per_size():
    assert mark_overlay(512, 512) is mark_overlay(512, 512)
    overlay = mark_overlay(512, 512)
    assert overlay.over.shape == overlay.keep.shape
    assert overlay.over.shape[0] * overlay.over.shape[1] < 0.02 * 512 * 512  # the corner


@pytest.mark.parametrize("device", [pytest.param(d, marks=NEEDS.get(d, ())) for d in DEVICES])
@pytest.mark.parametrize("height, width", [(512, 512), (301, 517), (24, 24)])
def test_frames_on_a_device_get_the_same_mark(device, height, width):
    frames = frames_of(height, width, 4)
    on_device = torch.from_numpy(frames).to(device)
    marked = stamp_frames(on_device)
    assert marked.device == on_device.device and marked.dtype == torch.uint8
    assert torch.equal(on_device.cpu(), torch.from_numpy(frames))  # not in place
    expected = np.stack([stamp(f) for f in frames])
    assert np.array_equal(marked.cpu().numpy(), expected)


@pytest.mark.parametrize(
    "frame, phrase",
    [
        (np.zeros((64, 64, 3), np.float32), "uint8"),
        (np.zeros((64, 64), np.uint8), r"\[H, W, 3\]"),
        (np.zeros((64, 64, 4), np.uint8), r"\[H, W, 3\]"),
        (np.zeros((2, 64, 64, 3), np.uint8), "stamp_frames"),
    ],
)
def test_what_is_not_a_frame_is_one_clear_error(frame, phrase):
    with pytest.raises(VasaError, match=phrase):
        stamp(frame)


def test_what_is_not_a_batch_of_frames_is_one_clear_error():
    with pytest.raises(VasaError, match="torch tensor"):
        stamp_frames(np.zeros((1, 64, 64, 3), np.uint8))
    with pytest.raises(VasaError, match=r"\[N, H, W, 3\]"):
        stamp_frames(torch.zeros(64, 64, 3, dtype=torch.uint8))
    with pytest.raises(VasaError, match="uint8"):
        stamp_frames(torch.zeros(1, 64, 64, 3))
