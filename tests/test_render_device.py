"""The render loop on the device: the same functions on the CPU and, where there is one,
on CUDA, and the GPU's way of running them (fixed shapes, torch polygons, no read-backs)
run on the CPU too, against the CPU's own way."""

import numpy as np
import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode

from vasa_core import schema
from vasa_core.bench import talking_motion
from vasa_core.device import pick_device, set_tf32, tf32_from_environment
from vasa_core.errors import VasaError
from vasa_core.face import rig
from vasa_core.face.pose import rotation
from vasa_core.render import Renderer
from vasa_core.render.raster import Capacity, fixed_shapes, polygon_pixels, rasterize

CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU")
DEVICES = ["cpu", pytest.param("cuda", marks=CUDA)]
ANCHOR = rig.Anchor(scale=230.0, offset=np.array([310.0, -270.0, 0.0]))


def frames_apart(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.abs(a.astype(np.int16) - b.astype(np.int16))


@pytest.mark.parametrize("device", DEVICES)
def test_the_rig_decodes_tensors_on_the_device_as_numpy_does(device, latents):
    """One decoding, written over both array kinds: tensors in, tensors out, same points."""
    face = latents["drawn"]
    rng = np.random.default_rng(0)
    motion = rng.uniform(schema.LOW, schema.HIGH, (6, schema.DIM))
    motion[:, schema.index("yaw")] = rng.uniform(-30, 30, 6)
    expected = rig.decode(face.identity, motion[:, schema.POSE], motion[:, 6:], ANCHOR)
    on = {"dtype": torch.float64, "device": device}
    got = rig.decode(
        torch.as_tensor(face.identity, **on),
        torch.as_tensor(motion[:, schema.POSE], **on),
        torch.as_tensor(motion[:, schema.DYNAMICS], **on),
        ANCHOR,
        torch.as_tensor(rig.basis_for(face.identity), **on),
    )
    assert got.device.type == device and got.dtype == torch.float32
    assert np.abs(got.cpu().numpy() - expected).max() < 1e-3  # pixels
    turn = rotation(torch.tensor([10.0, -5.0], **on), torch.tensor(3.0, **on), 0.0)
    assert np.allclose(turn.cpu().numpy(), rotation([10.0, -5.0], 3.0, 0.0))


@pytest.mark.parametrize("device", DEVICES)
def test_torch_polygons_cover_what_opencv_does(device):
    """The GPU's polygon fill against OpenCV's: the same inside, edges within a little."""
    rng = np.random.default_rng(4)
    height, width = 60, 70
    centres = rng.uniform(10, 60, (6, 1, 2))
    angles = np.sort(rng.uniform(0, 2 * np.pi, (6, 9)), axis=1)
    radius = rng.uniform(4, 12, (6, 9, 1))
    polygons = centres + radius * np.stack([np.cos(angles), np.sin(angles)], axis=-1)
    polygons[5] -= 8  # reaching off the picture

    def dense(pixels) -> np.ndarray:
        which, y, x, coverage = (t.cpu() for t in pixels)
        out = torch.zeros(len(polygons), height, width)
        out.index_put_((which, y, x), coverage, accumulate=True)
        return out.numpy()

    opencv = dense(polygon_pixels(polygons, height, width))
    with fixed_shapes():
        on = torch.as_tensor(polygons, device=device)
        drawn = dense(polygon_pixels(on, height, width, box=32))
    assert drawn.max() <= 1 and drawn.min() >= 0
    either = (opencv > 0) | (drawn > 0)
    assert np.abs(opencv - drawn)[either].mean() < 0.08
    assert ((opencv == 1) == (drawn == 1)).mean() > 0.99  # the insides agree
    assert abs(opencv.sum() - drawn.sum()) < 0.03 * opencv.sum()


def test_off_the_cpu_a_polygon_needs_a_box_known_beforehand():
    with fixed_shapes(), pytest.raises(ValueError, match="fixed-size box"):
        polygon_pixels(np.zeros((1, 4, 2)), 10, 10)


@pytest.mark.parametrize("device", DEVICES)
def test_fixed_size_rasterising_lists_every_pixel_with_the_same_triangles(device):
    rng = np.random.default_rng(0)
    frames, count, height, width = 3, 40, 48, 64
    corners = torch.as_tensor(rng.uniform(-8, 70, (frames, count, 3, 2)), device=device)
    priority = torch.as_tensor(np.stack([rng.permutation(count) for _ in range(frames)]))
    priority[0, :10] = -1
    priority = priority.to(device)
    frame, y, x, tri = rasterize(corners.cpu(), priority.cpu(), height, width)
    expected = np.full((frames, height, width), -1)
    expected[frame, y, x] = tri
    capacity = Capacity()
    with fixed_shapes():
        frame, y, x, tri = (t.cpu() for t in rasterize(corners, priority, height, width, capacity))
    assert len(tri) == frames * height * width  # every pixel, in order
    assert np.array_equal(tri.numpy().reshape(expected.shape), expected)
    assert not capacity.grow()  # the first batch set the room it needs
    # Too little room is found after the batch, and grows.
    capacity.pixels = 10
    with fixed_shapes():
        rasterize(corners, priority, height, width, capacity)
    assert capacity.grow() and capacity.pixels > 10


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", ["astronaut", "drawn"])
def test_the_gpus_way_renders_the_cpus_frames(device, name, latents):
    """The fixed-shape loop (all on the device, torch polygons) against the CPU's own way,
    on a talking clip with a blink and moving eyes: the same frames but for a few edge
    pixels of the mouth and eye openings, whose anti-aliasing differs."""
    face = latents[name]
    motion = talking_motion(face.motion, 40)[24:40]  # through the blink at 1.5 s
    cpu = Renderer(face, size=256, device="cpu").render(motion)
    renderer = Renderer(face, size=256, device=device)
    with fixed_shapes():
        on_device = renderer.render(motion)
    difference = frames_apart(cpu, on_device)
    assert difference.mean() < 0.1
    assert (difference > 16).mean() < 0.002


@pytest.mark.parametrize("name", ["drawn", "astronaut"])  # the astronaut's lips seal
def test_the_gpus_way_reads_nothing_back_inside_a_batch(latents, name):
    """No op that makes a GPU's host wait is called while a batch is drawn the GPU's way:
    no scalar read (item, int, bool), no nonzero or count-dependent op, no boolean mask,
    no tensor made from host data but the batch's one upload of its motion."""
    waiting = {
        "aten._local_scalar_dense.default",
        "aten.nonzero.default",
        "aten.repeat_interleave.Tensor",
        "aten.masked_select.default",
    }

    class Watch(TorchDispatchMode):
        def __init__(self):
            super().__init__()
            self.seen: list[str] = []

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            name = str(func)
            indexing = name.startswith("aten.index") and len(args) > 1
            # Lists of index tensors (index, index_put), not index_select's dimension.
            indices = args[1] if indexing and isinstance(args[1], list | tuple) else ()
            masks = [
                i for i in indices or () if isinstance(i, torch.Tensor) and i.dtype == torch.bool
            ]
            if name in waiting or masks or name == "aten.lift_fresh.default":
                self.seen.append(name)
            return func(*args, **(kwargs or {}))

    face = latents[name]
    renderer = Renderer(face, size=256, device="cpu")
    motion = talking_motion(face.motion, 40)[30:38]  # eyes closing: lids are painted
    out = np.empty((len(motion), 256, 256, 3), np.uint8)
    with fixed_shapes():
        renderer._draw_batch(motion, out)  # the first batch sets the rasteriser's room
        watch = Watch()
        with watch:
            renderer._draw_batch(motion, out)
    # The motion's upload at the start (the frames' way back, on the CPU, is NumPy's).
    assert watch.seen == ["aten.lift_fresh.default"], watch.seen


def test_the_batch_is_a_setting_with_a_default_per_device(latents):
    face = latents["drawn"]
    assert Renderer(face, size=256, device="cpu").batch == 8
    renderer = Renderer(face, size=256, device="cpu", batch=3)
    motion = talking_motion(face.motion, 7)
    assert renderer.batch == 3
    # (batched sums may round a channel the other way: within 1/255)
    assert frames_apart(renderer.render(motion), renderer.render(motion, batch=7)).max() <= 1
    assert len(list(renderer.stream(motion))) == 7
    for bad in (0, -2, 2.5, True):
        with pytest.raises(VasaError, match="render batch"):
            Renderer(face, size=256, device="cpu", batch=bad)


def test_tf32_is_a_switch_for_cuda_only(monkeypatch):
    before = torch.backends.cuda.matmul.allow_tf32
    assert set_tf32(torch.device("cpu"), True) is False  # nothing changes on the CPU
    assert torch.backends.cuda.matmul.allow_tf32 == before
    monkeypatch.delenv("VASA_TF32", raising=False)
    assert tf32_from_environment() is None
    monkeypatch.setenv("VASA_TF32", "on")
    assert tf32_from_environment() is True
    assert pick_device("cpu") == torch.device("cpu")  # and the CPU is left as it was
    assert torch.backends.cuda.matmul.allow_tf32 == before
    monkeypatch.setenv("VASA_TF32", "maybe")
    with pytest.raises(VasaError, match="VASA_TF32='maybe': give 1"):
        tf32_from_environment()


@CUDA
def test_tf32_on_cuda_is_set_and_taken_back():
    cuda = torch.device("cuda")
    try:
        assert set_tf32(cuda, True) is True and torch.backends.cudnn.allow_tf32
    finally:
        assert set_tf32(cuda, False) is False
