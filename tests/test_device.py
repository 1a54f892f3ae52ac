"""One device setting: what `pick_device` accepts, and that the stages keep to it."""

import pytest
import torch

from vasa_core.device import device_from_environment, pick_device
from vasa_core.errors import VasaError


def test_auto_picks_cuda_only_when_there_is_one():
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert pick_device(None).type == expected
    assert pick_device("auto").type == expected
    assert pick_device(" CPU ") == torch.device("cpu")
    assert pick_device(torch.device("cpu")) == torch.device("cpu")


def test_a_bad_or_missing_device_is_one_clear_error():
    with pytest.raises(VasaError, match="not one of auto, cpu, cuda"):
        pick_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(VasaError, match="no CUDA GPU"):
            pick_device("cuda")


def test_the_environment_names_the_apps_device(monkeypatch):
    monkeypatch.setenv("VASA_DEVICE", "cpu")
    assert device_from_environment() == torch.device("cpu")
    monkeypatch.setenv("VASA_DEVICE", "gpu")
    with pytest.raises(VasaError, match="gpu"):
        device_from_environment()


def test_the_pipelines_device_reaches_generator_and_renderer(latents, monkeypatch):
    import numpy as np

    from vasa_core.audio import compute_features
    from vasa_core.motion.controls import Controls
    from vasa_core.pipeline import Pipeline
    from vasa_core.render import renderer
    from vasa_core.settings import Sampling

    asked = []
    original = renderer.Renderer.__init__

    def spy(self, latents, size=512, device=None):
        asked.append(device)
        original(self, latents, size, device)

    monkeypatch.setattr(renderer.Renderer, "__init__", spy)
    pipe = Pipeline(device="cpu")
    assert next(pipe.generator.model.parameters()).device == torch.device("cpu")
    features = compute_features(np.zeros(8000, np.float32), fps=25)
    next(pipe.stream(latents["drawn"], features, Controls(), sampling=Sampling(steps=1)))
    assert asked == [torch.device("cpu")]


# The device-parameterised code of training, the mark and rendering: the same functions run
# on the CPU here and on CUDA where there is a GPU (the `cuda` cases skip without one).
CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU")
DEVICES = ["cpu", pytest.param("cuda", marks=CUDA)]


def tiny_clips(count: int = 3, frames: int = 60):
    """Clips of noise in the corpus's shapes: what the training code reads, made in
    microseconds instead of the seconds a synthesised corpus takes."""
    import numpy as np

    from vasa_core import schema
    from vasa_core.audio import condition
    from vasa_core.motion import controls
    from vasa_core.training.setup import Clips

    rng = np.random.default_rng(0)
    return Clips(
        features=[rng.normal(size=(frames, condition.DIM)).astype(np.float32)] * count,
        motion=[rng.normal(size=(frames, schema.DIM)).astype(np.float32) for _ in range(count)],
        valid=[np.ones(frames, bool)] * count,
        controls=rng.normal(size=(count, controls.DIM)).astype(np.float32),
        voices=[f"v{i}" for i in range(count)],
    )


TINY_CONFIG = dict(window=12, context=4, width=32, layers=1, heads=2)


@pytest.mark.parametrize("device", DEVICES)
def test_training_batches_land_on_the_device_and_its_steps_learn(device):
    import numpy as np

    from vasa_core import schema
    from vasa_core.motion.model import Config, MotionDenoiser
    from vasa_core.training.checkpointing import TrainingState
    from vasa_core.training.loop import optimise, validate
    from vasa_core.training.setup import Windows

    torch.manual_seed(0)
    config = Config(**TINY_CONFIG)
    mean, std = np.zeros(schema.DIM, np.float32), np.ones(schema.DIM, np.float32)
    batch = Windows(tiny_clips(), [0, 1, 2], config, mean, std, seed=0).batch(8, device)
    assert {t.device.type for t in batch.values()} == {device}
    assert batch["x0"].dtype == torch.float32 and batch["x0"].shape == (8, 12, schema.DIM)
    assert batch["valid"].dtype == torch.bool and batch["has_ctx"].dtype == torch.bool
    model = MotionDenoiser(config).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    state = TrainingState(model, optimizer, mean, std)
    rng = torch.Generator(device=device).manual_seed(0)
    before = validate(model, batch)
    for _ in range(20):
        loss = optimise(model, state, batch, rng, 3e-3)
    assert loss.device.type == device and state.step == 20
    assert validate(model, batch) < before


@pytest.mark.parametrize("device", DEVICES)
def test_host_arrays_reach_the_device_as_they_are(device):
    import numpy as np

    from vasa_core.training.setup import to_device

    arrays = {"x": np.arange(12, dtype=np.float32).reshape(3, 4), "ok": np.array([True, False])}
    tensors = to_device(arrays, device)
    for key, array in arrays.items():
        assert tensors[key].device.type == device
        assert np.array_equal(tensors[key].cpu().numpy(), array)


def test_alone_a_run_joins_no_process_group():
    from vasa_core.motion.model import Config, MotionDenoiser
    from vasa_core.training.loop import _parallel, _process_group

    with _process_group(torch.device("cpu")) as (rank, world_size, device):
        assert (rank, world_size, device) == (0, 1, torch.device("cpu"))
        assert not torch.distributed.is_initialized()
        model = MotionDenoiser(Config(**TINY_CONFIG))
        assert _parallel(model, device) is model


def torchrun_environment(monkeypatch, local_rank: int = 0) -> None:
    """The variables torchrun sets for a process of a one-process launch."""
    import socket

    with socket.socket() as s:  # a free port for the group's rendezvous
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    for name, value in dict(
        TORCHELASTIC_RUN_ID="test",
        RANK="0",
        WORLD_SIZE="1",
        LOCAL_RANK=str(local_rank),
        MASTER_ADDR="127.0.0.1",
        MASTER_PORT=str(port),
    ).items():
        monkeypatch.setenv(name, value)


def test_under_torchrun_a_cpu_run_averages_over_gloo_with_ddp(monkeypatch):
    import numpy as np

    from vasa_core import schema
    from vasa_core.motion.model import Config, MotionDenoiser
    from vasa_core.training.checkpointing import TrainingState
    from vasa_core.training.loop import _parallel, _process_group, optimise
    from vasa_core.training.setup import Windows

    torchrun_environment(monkeypatch)
    config = Config(**TINY_CONFIG)
    with _process_group(torch.device("cpu")) as (rank, world_size, device):
        assert (rank, world_size, device.type) == (0, 1, "cpu")
        assert torch.distributed.get_backend() == "gloo"
        model = MotionDenoiser(config)
        net = _parallel(model, device)
        assert isinstance(net, torch.nn.parallel.DistributedDataParallel)
        assert net.device_ids is None  # CPU replicas take no device ids
        mean, std = np.zeros(schema.DIM, np.float32), np.ones(schema.DIM, np.float32)
        batch = Windows(tiny_clips(), [0, 1], config, mean, std, seed=0).batch(4, device)
        state = TrainingState(model, torch.optim.AdamW(model.parameters()), mean, std)
        assert torch.isfinite(optimise(net, state, batch, torch.Generator().manual_seed(0), 1e-3))
    assert not torch.distributed.is_initialized()  # left again, for the next run


def test_a_bad_torchrun_environment_is_one_clear_error(monkeypatch):
    from vasa_core.training.loop import _process_group

    monkeypatch.setenv("WORLD_SIZE", "two")
    with pytest.raises(VasaError, match="WORLD_SIZE='two' is not a whole number"):
        with _process_group(torch.device("cpu")):
            pass
    # A process whose local rank has no GPU of its own (more processes than GPUs).
    torchrun_environment(monkeypatch, local_rank=3)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    with pytest.raises(VasaError, match="local rank 3 has no GPU.*at most 2"):
        with _process_group(torch.device("cuda")):
            pass
    assert not torch.distributed.is_initialized()


def test_bench_measures_each_batch_size_asked_for():
    from vasa_core import bench

    cpu = [torch.device("cpu")]
    report = bench.run(frames=2, sizes=(256,), devices=cpu, batches=(1, 2))
    assert [(r["size"], r["batch"]) for r in report["results"]] == [(256, 1), (256, 2)]
    assert all(r["fps"] > 0 for r in report["results"])
    assert "batch" in bench.table(report)


@pytest.mark.parametrize(
    "option, phrase",
    [
        (["--batch", "8,x"], "whole numbers, comma-separated"),
        (["--batch", "0"], "0 must be between 1 and 1024"),
        (["--batch", ","], "at least one number"),
        (["--sizes", "300"], "300 is not one of 256, 512"),
        (["--live", "--batch", "8"], "--live measures a session"),
    ],
)
def test_a_bad_bench_option_is_one_clear_line(option, phrase):
    from tests.conftest import run_vasa
    from tests.test_cli import assert_one_line_error

    assert_one_line_error(run_vasa("bench", "--device", "cpu", "--frames", "1", *option), phrase)


@CUDA
def test_cuda_smoke_generate_render_mark_and_train_on_the_gpu(latents, tmp_path, monkeypatch):
    """On a GPU: motion, frames and the mark are made there, agree with the CPU's, and a
    short training run under the process group writes a checkpoint that says so."""
    import numpy as np

    from vasa_core.audio import compute_features
    from vasa_core.bench import talking_motion
    from vasa_core.data import corpus
    from vasa_core.media import stamp, stamp_frames
    from vasa_core.motion.checkpoint import load_checkpoint
    from vasa_core.motion.generator import MotionGenerator
    from vasa_core.motion.model import Config
    from vasa_core.render import Renderer
    from vasa_core.settings import Sampling
    from vasa_core.training import train

    cuda = pick_device("cuda")
    assert cuda.type == "cuda"
    # Motion from a second of tone, sampled on the GPU.
    t = np.arange(16000) / 16000
    features = compute_features((0.3 * np.sin(2 * np.pi * 140 * t)).astype(np.float32))
    generator = MotionGenerator(device=cuda)
    assert next(generator.model.parameters()).device.type == "cuda"
    motion = generator.generate(features, sampling=Sampling(steps=2))
    assert np.isfinite(motion).all() and len(motion) == features.frames
    # The same frames on either device, to rounding (a pixel on a polygon's edge may fall
    # to the other side): the figures of the agreement are in benchmarks/gpu_check.sh.
    face = latents["drawn"]
    talk = talking_motion(face.motion, 8)
    on_gpu = Renderer(face, size=256, device=cuda).render(talk).astype(np.int16)
    on_cpu = Renderer(face, size=256, device="cpu").render(talk).astype(np.int16)
    difference = np.abs(on_gpu - on_cpu)
    assert difference.mean() < 1.0 and (difference > 16).mean() < 0.005
    # The mark put on frames on the GPU is the host's.
    marked = stamp_frames(torch.from_numpy(on_gpu.astype(np.uint8)).to(cuda))
    assert np.array_equal(marked.cpu().numpy()[0], stamp(on_gpu[0].astype(np.uint8)))
    # Training under torchrun's environment: NCCL, the GPU of local rank 0, DDP given it.
    corpus.build(tmp_path / "c", minutes=0.2, seed=1, progress=False)
    torchrun_environment(monkeypatch)
    out = tmp_path / "m.safetensors"
    train(
        tmp_path / "c",
        out,
        steps=10,
        batch_size=8,
        config=Config(**TINY_CONFIG),
        val_every=5,
        progress=False,
        device="cuda",
    )
    info = load_checkpoint(out)[3]
    assert info["device"] == "cuda:0" and info["backend"] == "nccl" and info["steps"] == 10
    assert all(np.isfinite(row["val_loss"]) for row in info["history"])
