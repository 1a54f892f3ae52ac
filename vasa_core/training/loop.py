"""The training loop of the motion generator: the loss, the optimiser steps, validation.

Each step takes a batch of windows (see `setup`), draws a diffusion time and noise for each,
drops conditions at random (audio 10%, controls 10%, context 50%, and always at a clip's
start) so that guidance works, and asks the model for the clean motion x0. The loss is the
x0 error, plus velocity and acceleration errors on the mouth and the pose, and the velocity
across the join with the context, so consecutive windows meet without a seam; optionally
(`closure_weight`) the mouth's error again at the brief closures of p, b and m, a few
frames of a window whose miss a viewer sees at once but the plain average hardly counts.
A run may start from a trained checkpoint's weights and normalisation (`init`). Every
`val_every` steps the same loss on windows of the held-out voices shows overfitting, and the
run is saved (see `checkpointing`). Runs on CPU or GPU, and under `torchrun`
(DistributedDataParallel: NCCL with one GPU per process, gloo on CPUs) unchanged. On a GPU
the batches are built on the host while the previous step runs, and copied from pinned
memory without waiting; the loss is read back only at validations, so the host never
waits on the device in between.
"""

from __future__ import annotations

import contextlib
import math
import os
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from vasa_core import schema
from vasa_core.device import pick_device
from vasa_core.errors import VasaError
from vasa_core.motion import diffusion
from vasa_core.motion.model import Config, MotionDenoiser
from vasa_core.training import checkpointing
from vasa_core.training.checkpointing import TrainingState
from vasa_core.training.setup import Windows, load_clips, normalisation, split

DROP = {"audio": 0.1, "controls": 0.1, "context": 0.5}  # how often each condition is dropped
MOUTH_AND_POSE = [schema.index(n) for n in ("yaw", "pitch", "roll", *schema.MOUTH)]
MOUTH = [schema.index(n) for n in schema.MOUTH]


def loss_fn(
    model: torch.nn.Module, batch: dict, rng: torch.Generator, closure_weight: float = 0.0
) -> torch.Tensor:
    """The training loss of `model` on one batch of windows (noise and drops from `rng`)."""
    x0 = batch["x0"]
    size = len(x0)
    device = x0.device
    t = torch.rand(size, generator=rng, device=device)
    noise = torch.randn(x0.shape, generator=rng, device=device)
    keep = {name: torch.rand(size, generator=rng, device=device) >= p for name, p in DROP.items()}
    keep["context"] = keep["context"] & batch["has_ctx"]
    pred = model(
        diffusion.noisy(x0, t, noise),
        t,
        batch["audio"],
        batch["controls"],
        batch["ctx"],
        batch["ctx_audio"],
        keep["audio"],
        keep["controls"],
        keep["context"],
    )
    valid = batch["valid"].float()[..., None]
    error = ((pred - x0) ** 2 * valid).mean()
    key = MOUTH_AND_POSE
    # Velocities from the last context frame on: the first one is the jump across the join,
    # which only counts where the model was given the context.
    joined_pred = torch.cat([batch["ctx"][:, -1:], pred], dim=1)[..., key]
    joined_true = torch.cat([batch["ctx"][:, -1:], x0], dim=1)[..., key]
    velocity = torch.diff(joined_pred, dim=1) - torch.diff(joined_true, dim=1)
    with_join = keep["context"].float()[:, None, None]
    velocity_loss = _mean(velocity[:, 1:] ** 2) + (velocity[:, :1] ** 2 * with_join).mean()
    accel = torch.diff(pred[..., key], n=2, dim=1) - torch.diff(x0[..., key], n=2, dim=1)
    loss = error + 2.0 * velocity_loss + 1.0 * _mean(accel**2)
    if closure_weight:
        shut = (batch["closure"] & batch["valid"]).float()[..., None]
        lips = ((pred - x0)[..., MOUTH] ** 2 * shut).sum() / (shut.sum() * len(MOUTH)).clamp(min=1)
        loss = loss + closure_weight * lips
    return loss


def _mean(x: torch.Tensor) -> torch.Tensor:
    """The mean, 0 for no elements: a window of one or two frames (the live model's) has
    no velocity or acceleration inside it, only the join with its context."""
    return x.mean() if x.numel() else x.sum()


def learning_rate(step: int, steps: int, peak: float) -> float:
    """Linear warm-up over a tenth of the run (at most 200 steps), then a cosine down to 0."""
    warmup = max(1, min(200, steps // 10))  # a short run must still reach its rate
    warm = min(1.0, (step + 1) / warmup)
    return peak * warm * 0.5 * (1 + math.cos(math.pi * step / steps))


def optimise(
    net: torch.nn.Module,
    state: TrainingState,
    batch: dict,
    rng: torch.Generator,
    lr: float,
    closure_weight: float = 0.0,
) -> torch.Tensor:
    """One optimiser step of `state` on `batch`; returns the loss (detached). `net` is the
    model, or the model wrapped in DistributedDataParallel, which averages the gradients."""
    state.model.train()
    for group in state.optimizer.param_groups:
        group["lr"] = lr
    loss = loss_fn(net, batch, rng, closure_weight)
    state.optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(state.model.parameters(), 1.0)
    state.optimizer.step()
    state.step += 1
    return loss.detach()


def validate(model: MotionDenoiser, held: dict) -> float:
    """The loss on the held-out batch, with the same noise every time so that runs compare
    (the plain loss, without a closure weight, so that runs with and without one do too)."""
    model.eval()
    with torch.no_grad():
        rng = torch.Generator(device=held["x0"].device).manual_seed(0)
        return float(loss_fn(model, held, rng))


def _launched_by_torchrun() -> bool:
    """Whether this process is one of a `torchrun` launch: then it joins the process group
    even when it is the only one, so that `--nproc_per_node=1` runs the code of many."""
    return "TORCHELASTIC_RUN_ID" in os.environ or _environment_int("WORLD_SIZE", 1) > 1


def _environment_int(name: str, default: int) -> int:
    """An integer that torchrun (or a user) put in the environment; one clear error if not."""
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        return int(text)
    except ValueError:
        raise VasaError(f"the environment's {name}={text!r} is not a whole number") from None


@contextlib.contextmanager
def _process_group(device: torch.device) -> Iterator[tuple[int, int, torch.device]]:
    """(rank, world size, this process's device) for the run inside; under `torchrun` the
    process joins the group for it: over NCCL on GPUs, each process on the GPU of its local
    rank, over gloo on CPUs. The backend follows the device asked for, not what the machine
    has (a CPU run on a GPU machine cannot use NCCL, which reduces CUDA tensors only). The
    group is left also when the run fails, so that the other processes stop too."""
    if not _launched_by_torchrun():
        yield 0, 1, device
        return
    local_rank = _environment_int("LOCAL_RANK", 0)
    if device.type == "cuda":
        count = torch.cuda.device_count()
        if local_rank >= count:
            raise VasaError(
                f"local rank {local_rank} has no GPU of its own ({count} visible): "
                f"run torchrun with --nproc_per_node at most {count}"
            )
        # Before the group starts, so that NCCL binds this process to its own GPU.
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    torch.distributed.init_process_group("nccl" if device.type == "cuda" else "gloo")
    try:
        yield torch.distributed.get_rank(), torch.distributed.get_world_size(), device
    finally:
        torch.distributed.destroy_process_group()


def _parallel(model: MotionDenoiser, device: torch.device) -> torch.nn.Module:
    """`model` wrapped to average its gradients over the process group (when there is one).
    On a GPU, DDP is told the one device this process's replica lives on (`device_ids`, and
    `output_device` for its outputs); without them it treats the model as spread over
    devices and takes a slower path. On the CPU it takes none."""
    if not (torch.distributed.is_available() and torch.distributed.is_initialized()):
        return model
    if device.type == "cuda":
        return torch.nn.parallel.DistributedDataParallel(
            model, device_ids=[device.index], output_device=device.index
        )
    return torch.nn.parallel.DistributedDataParallel(model)


def _start_from(
    init: str | os.PathLike, config: Config | None, device: torch.device
) -> tuple[MotionDenoiser, np.ndarray, np.ndarray]:
    """(model, mean, std) of the checkpoint a run starts from; one clear error where the
    run asks for another shape of model."""
    from vasa_core.motion.checkpoint import load_checkpoint

    model, mean, std, _ = load_checkpoint(init, device)
    if config is not None and config != model.config:
        theirs = {k: v for k, v in model.config.as_dict().items() if v != getattr(config, k)}
        raise VasaError(f"{init}: made with {theirs}, not what this run asks for")
    return model, mean, std


def train(
    data: str | os.PathLike,
    out: str | os.PathLike,
    steps: int = 20000,
    batch_size: int = 64,
    lr: float = 3e-4,
    seed: int = 0,
    resume: bool = False,
    config: Config | None = None,
    val_every: int = 500,
    progress: bool = True,
    device: str | torch.device | None = None,
    stats: tuple[np.ndarray, np.ndarray] | None = None,
    init: str | os.PathLike | None = None,
    closure_weight: float = 0.0,
) -> Path:
    """Train, save a safetensors checkpoint (and `.train.pt` to resume); returns its path.

    `stats`: the (mean, std) per motion channel to standardise with, instead of the training
    clips' own (a corpus of a few minutes misses whole ranges, e.g. a smile no training clip
    has, and its held-out clips then fall far outside them; the shipped checkpoint's suit).
    `init`: a motion checkpoint to start from (its weights and normalisation; `config`, if
    given, must be its own). `closure_weight`: see the module docstring."""
    out = checkpointing.check_output(out)
    with _process_group(pick_device(device)) as (rank, world_size, device):
        torch.manual_seed(seed + rank)  # the model's initial weights come from it
        start = _start_from(init, config, device) if init is not None else None
        config = start[0].config if start else config or Config()
        clips = load_clips(data)
        train_index, test_index = split(clips)
        if start:
            mean, std = start[1], start[2]
        elif stats is None:
            mean, std = normalisation(clips, train_index)
        else:
            mean, std = (np.asarray(a, np.float32).reshape(schema.DIM) for a in stats)
        model = start[0].train() if start else MotionDenoiser(config).to(device)
        optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
        state = TrainingState(model, optimizer, mean, std)
        if resume:
            checkpointing.resume(state, out, device)
        net = _parallel(model, device)
        # A resumed run draws new windows and noise, not those of the steps it already took.
        seeds = (seed + 1000 * rank + state.step, seed + rank + state.step)
        windows = Windows(clips, train_index, config, state.mean, state.std, seeds[0])
        held = Windows(clips, test_index, config, state.mean, state.std, seed=12345).batch(
            256, device
        )
        rng = torch.Generator(device=device).manual_seed(seeds[1])
        run = dict(data=str(data), seed=seed, batch_size=batch_size, lr=lr, device=str(device))
        if init is not None:
            run["init"] = Path(init).name
        if closure_weight:
            run["closure_weight"] = closure_weight
        run["world_size"] = world_size  # processes, each with a batch of `batch_size`
        # How the gradients were averaged (nccl, gloo), or None for a run on its own.
        run["backend"] = torch.distributed.get_backend() if net is not model else None
        started = time.time()
        bar = tqdm(total=steps, initial=state.step, desc="train", disable=not progress or rank != 0)
        while state.step < steps:
            batch = windows.batch(batch_size, device)
            rate = learning_rate(state.step, steps, lr)
            loss = optimise(net, state, batch, rng, rate, closure_weight)
            bar.update(1)
            if state.step % val_every == 0 or state.step == steps:
                # Only here is the loss read back (on a GPU, reading it waits for the step).
                loss, val = float(loss), validate(model, held)
                seconds = round(time.time() - started, 1)
                row = {"step": state.step, "train_loss": loss, "val_loss": val, "seconds": seconds}
                state.history.append(row)
                bar.set_postfix(loss=f"{loss:.3f}", val=f"{val:.3f}")
                if rank == 0:  # one writer; under DDP every rank holds the same weights
                    checkpointing.save(state, out, run)
        bar.close()
        return out
