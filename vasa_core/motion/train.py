"""Training the motion generator on a corpus (synthetic or ingested).

    vasa train --data DIR --out CKPT.safetensors [--steps N] [--resume]

Windows of W frames are cut from the corpus clips with the P frames before them as context;
conditions are dropped at random (audio 10%, controls 10%, context 50%, and always at a
clip's start) so that guidance works. Losses: x0 error, plus velocity and acceleration
errors on the mouth and the pose, and the velocity across the join with the context, so
consecutive windows meet without a seam. Validation on held-out voices every so often.
Runs on CPU or GPU, and under `torchrun` (DistributedDataParallel) unchanged.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from vasa_core import schema
from vasa_core.data import corpus as corpus_io
from vasa_core.data.corpus import HELD_OUT_VOICE_MARKS, held_out
from vasa_core.errors import VasaError
from vasa_core.motion import diffusion
from vasa_core.motion.model import Config, MotionDenoiser

DROP = {"audio": 0.1, "controls": 0.1, "context": 0.5}
MOUTH_AND_POSE = [schema.index(n) for n in ("yaw", "pitch", "roll", *schema.MOUTH)]


@dataclass
class Clips:
    features: list[np.ndarray]
    motion: list[np.ndarray]
    valid: list[np.ndarray]
    controls: np.ndarray
    voices: list[str]


def load_clips(folder: str | os.PathLike) -> Clips:
    manifest, shards = corpus_io.load(folder)
    out = Clips([], [], [], [], [])
    controls = []
    for shard in shards:
        starts = shard["clip_start"]
        for i, info in enumerate(shard["clips"]):
            a, b = starts[i], starts[i + 1]
            out.features.append(shard["features"][a:b].astype(np.float32))
            out.motion.append(shard["motion"][a:b])
            out.valid.append(shard.get("valid", np.ones(len(shard["motion"]), bool))[a:b])
            controls.append(shard["controls"][i])
            out.voices.append(info.get("voice", ""))
    out.controls = np.stack(controls)
    return out


def split(clips: Clips) -> tuple[list[int], list[int]]:
    test = [i for i, v in enumerate(clips.voices) if held_out(v)]
    train = [i for i, v in enumerate(clips.voices) if not held_out(v)]
    if not train:
        raise VasaError("the corpus has no clips to train on")
    if not test and len(train) >= 2:
        # No held-out voices (e.g. ingested real videos): hold out the last tenth of the
        # clips, so the validation loss still shows overfitting.
        cut = max(1, len(train) // 10)
        train, test = train[:-cut], train[-cut:]
    return train, test or train[:1]


class Windows:
    """Random training windows (with context) from a set of clips."""

    def __init__(self, clips: Clips, index: list[int], config: Config, mean, std, seed: int):
        self.clips, self.index, self.config = clips, index, config
        self.mean, self.std = mean, std
        lengths = np.array([len(clips.motion[i]) for i in index], dtype=np.float64)
        self.weights = lengths / lengths.sum()
        self.rng = np.random.default_rng(seed)

    def batch(self, size: int, device) -> dict[str, torch.Tensor]:
        w, p = self.config.window, self.config.context
        parts = {k: [] for k in ("x0", "audio", "ctx", "ctx_audio", "controls", "has_ctx", "valid")}
        for k in self.rng.choice(len(self.index), size=size, p=self.weights):
            clip = self.index[k]
            motion = (self.clips.motion[clip] - self.mean) / self.std
            feats, valid = self.clips.features[clip], self.clips.valid[clip]
            start = int(self.rng.integers(0, max(1, len(motion) - w + 1)))
            take = np.arange(start - p, start + w)
            inside = (take >= 0) & (take < len(motion))
            take = np.clip(take, 0, len(motion) - 1)
            audio = np.where(inside[:, None], feats[take], 0.0)
            parts["x0"].append(motion[take[p:]])
            parts["audio"].append(audio[p:])
            parts["ctx"].append(motion[take[:p]])
            parts["ctx_audio"].append(audio[:p])
            parts["controls"].append(self.clips.controls[clip])
            parts["has_ctx"].append(start >= p)
            parts["valid"].append(valid[take[p:]] & inside[p:])
        return {
            k: torch.as_tensor(np.array(v), device=device).float()
            if k not in ("has_ctx", "valid")
            else torch.as_tensor(np.array(v), device=device)
            for k, v in parts.items()
        }


def loss_fn(model, batch: dict, rng: torch.Generator) -> torch.Tensor:
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
    joined_pred = torch.cat([batch["ctx"][:, -1:], pred], dim=1)[..., key]
    joined_true = torch.cat([batch["ctx"][:, -1:], x0], dim=1)[..., key]
    velocity = torch.diff(joined_pred, dim=1) - torch.diff(joined_true, dim=1)
    with_join = keep["context"].float()[:, None, None]
    velocity_loss = (velocity[:, 1:] ** 2).mean() + (velocity[:, :1] ** 2 * with_join).mean()
    accel = torch.diff(pred[..., key], n=2, dim=1) - torch.diff(x0[..., key], n=2, dim=1)
    return error + 2.0 * velocity_loss + 1.0 * (accel**2).mean()


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
    device=None,
) -> Path:
    """Train, save a safetensors checkpoint (and `.train.pt` to resume); returns its path."""
    from tqdm import tqdm

    from vasa_core.motion.checkpoint import save_checkpoint

    out = Path(out)
    if out.suffix != ".safetensors":
        raise VasaError(f"{out}: checkpoints are written as .safetensors")
    if not out.parent.is_dir():
        raise VasaError(f"{out}: cannot write here (no folder {out.parent})")
    distributed = int(os.environ.get("WORLD_SIZE", "1")) > 1
    rank = 0
    if distributed:
        torch.distributed.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
        rank = torch.distributed.get_rank()
        if torch.cuda.is_available():
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    torch.manual_seed(seed + rank)
    config = config or Config()
    clips = load_clips(data)
    train_index, test_index = split(clips)
    every = np.concatenate([clips.motion[i] for i in train_index])
    mean, std = every.mean(axis=0), np.maximum(every.std(axis=0), 1e-2)
    model = MotionDenoiser(config).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    warmup = max(1, min(200, steps // 10))  # a short run must still reach its rate
    state = out.with_suffix(".train.pt")
    step, history = 0, []
    if resume and state.exists():
        saved = torch.load(state, map_location=device, weights_only=False)
        model.load_state_dict(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])
        step, history, mean, std = saved["step"], saved["history"], saved["mean"], saved["std"]
    net = torch.nn.parallel.DistributedDataParallel(model) if distributed else model
    windows = Windows(clips, train_index, config, mean, std, seed + 1000 * rank + step)
    held = Windows(clips, test_index, config, mean, std, seed=12345).batch(256, device)
    rng = torch.Generator(device=device).manual_seed(seed + rank + step)
    started = time.time()
    bar = tqdm(total=steps, initial=step, desc="train", disable=not progress or rank != 0)
    while step < steps:
        model.train()
        for group in optimizer.param_groups:
            warm = min(1.0, (step + 1) / warmup)
            group["lr"] = lr * warm * 0.5 * (1 + math.cos(math.pi * step / steps))
        loss = loss_fn(net, windows.batch(batch_size, device), rng)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        step += 1
        bar.update(1)
        if step % val_every == 0 or step == steps:
            model.eval()
            with torch.no_grad():
                val = float(loss_fn(model, held, torch.Generator(device=device).manual_seed(0)))
            history.append(
                {
                    "step": step,
                    "train_loss": float(loss.detach()),
                    "val_loss": val,
                    "seconds": round(time.time() - started, 1),
                }
            )
            bar.set_postfix(loss=f"{float(loss.detach()):.3f}", val=f"{val:.3f}")
            if rank == 0:
                torch.save(
                    {
                        "model": model.state_dict(),
                        "optimizer": optimizer.state_dict(),
                        "step": step,
                        "history": history,
                        "mean": mean,
                        "std": std,
                    },
                    state,
                )
                save_checkpoint(
                    out,
                    model,
                    mean,
                    std,
                    {
                        "steps": step,
                        "history": history,
                        "data": str(data),
                        "seed": seed,
                        "batch_size": batch_size,
                        "lr": lr,
                        "device": str(device),
                        "held_out_voices": list(HELD_OUT_VOICE_MARKS),
                        "world_size": int(os.environ.get("WORLD_SIZE", "1")),
                    },
                )
    bar.close()
    if distributed:
        torch.distributed.destroy_process_group()
    return out
