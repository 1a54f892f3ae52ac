"""Noise schedule, training target and the few-step sampler (DDIM), with guidance.

Forward process: x_t = sqrt(a(t)) x0 + sqrt(1 - a(t)) noise, with the cosine schedule
a(t) = cos(pi/2 * (t + s) / (1 + s))^2 for t in [0, 1]. The network predicts x0.

Sampling walks t from 1 to 0 in `steps` deterministic DDIM steps. Guidance per condition
(VASA-1's form): x0 = (1 + sum l_c) H(x_t, C) - sum l_c H(x_t, C without c). A `project`
function may then move each step's x0 towards what is known of the answer (the generator
pulls the lips shut where the phonetic encoder hears a closure); the next step starts from
the moved x0, so what is moved is denoised with the rest, not pasted over the result.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

S = 0.008
CONDITIONS = ("audio", "controls", "context")  # what the denoiser can be given or not


def alpha_bar(t: torch.Tensor) -> torch.Tensor:
    return (
        torch.cos(0.5 * math.pi * (t + S) / (1 + S)) ** 2
        / math.cos(0.5 * math.pi * S / (1 + S)) ** 2
    )


def noisy(x0: torch.Tensor, t: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    a = alpha_bar(t).clamp(1e-5, 1.0)[:, None, None]
    return a.sqrt() * x0 + (1 - a).sqrt() * noise


@torch.no_grad()
def sample(
    denoise,  # callable(x_t, t, keep) -> x0 prediction; keep: condition -> bool tensor [B]
    shape: tuple[int, int, int],
    steps: int = 10,
    guidance: dict[str, float | torch.Tensor] | None = None,
    generator: torch.Generator | None = None,
    device=None,
    temperature: float | torch.Tensor = 1.0,
    project: Callable[[torch.Tensor], torch.Tensor] | None = None,  # on each step's x0
) -> torch.Tensor:
    """DDIM (eta = 0) from pure noise to x0 in `steps` steps; deterministic given `generator`,
    a CPU generator whatever `device` is.

    With guidance, the conditional prediction and one prediction per dropped condition are
    made in one call on a stacked batch (the same sums, one pass of the network instead of
    several). A condition's weight is a number or one per channel [DIM] (0: that channel
    keeps the plain conditional prediction). `temperature` (a number or [DIM]) scales the
    starting noise: above 1 it widens what a model that regresses to its mean would shrink.
    """
    guidance = {
        k: v
        for k, v in (guidance or {}).items()
        if (bool(v.any()) if torch.is_tensor(v) else v != 0)
    }
    # Noise comes from a CPU generator and is then moved, so one seed gives the same
    # motion on the CPU and on CUDA (their random streams differ).
    x = torch.randn(shape, generator=generator).to(device) * temperature
    times = torch.linspace(1.0, 0.0, steps + 1, device=device)
    batch = shape[0]
    # Row block 0 keeps every condition; block k + 1 drops the k-th guided one.
    names = list(guidance)
    keep = {
        c: torch.tensor([True] + [c != n for n in names], device=device).repeat_interleave(batch)
        for c in CONDITIONS
    }
    for i in range(steps):
        t, t_next = times[i], times[i + 1]
        tt = t.expand(batch * (1 + len(names)))
        x0, *dropped = denoise(x.repeat(1 + len(names), 1, 1), tt, keep).split(batch)
        # (1 + sum l) H(C) - sum l H(C without c) = H(C) + sum l (H(C) - H(C without c))
        guided = x0
        for name, without in zip(names, dropped, strict=True):
            guided = guided + guidance[name] * (x0 - without)
        x0 = guided if project is None else project(guided)
        a, a_next = alpha_bar(t).clamp(1e-5, 1.0), alpha_bar(t_next).clamp(1e-5, 1.0)
        eps = (x - a.sqrt() * x0) / (1 - a).sqrt().clamp(min=1e-4)
        x = a_next.sqrt() * x0 + (1 - a_next).sqrt() * eps if i < steps - 1 else x0
    return x
