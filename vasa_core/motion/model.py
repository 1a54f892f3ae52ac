"""The motion generator's network: a transformer that denoises a window of motion.

Input tokens are the last P frames of the previous window (their clean motion and audio:
what came before) followed by the W frames being generated (their noisy motion x_t and
their audio). Every token also hears the controls and the diffusion time, added to it.
The network predicts the clean motion x0 of the W frames (VASA-1 predicts x0, not noise).

Conditions can be dropped, one by one (audio, controls, previous window), by swapping
them for learned "absent" embeddings: trained with random drops, the same network gives
both H(x_t, C) and H(x_t, C without c), which guidance mixes (diffusion.py).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
from torch import nn

from vasa_core import schema
from vasa_core.audio import condition
from vasa_core.motion import controls as ctl


@dataclass
class Config:
    window: int = 50  # frames generated at once (2 s at 25 fps)
    context: int = 10  # frames of the previous window it sees
    width: int = 192
    layers: int = 4
    heads: int = 4
    dropout: float = 0.1
    audio_dim: int = condition.DIM  # columns of the audio condition (audio/condition.py)

    def as_dict(self) -> dict:
        return asdict(self)


def time_embedding(t: torch.Tensor, width: int) -> torch.Tensor:
    """Sinusoidal embedding [B, width] of diffusion times t in [0, 1]."""
    half = width // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, device=t.device) / half)
    angles = 1000.0 * t[:, None] * freqs[None]
    return torch.cat([torch.sin(angles), torch.cos(angles)], dim=-1)


class MotionDenoiser(nn.Module):
    def __init__(self, config: Config):
        super().__init__()
        self.config = config
        d = config.width
        self.motion_in = nn.Linear(schema.DIM, d)
        self.audio_in = nn.Linear(config.audio_dim, d)
        self.controls_in = nn.Sequential(nn.Linear(ctl.DIM, d), nn.SiLU(), nn.Linear(d, d))
        self.time_in = nn.Sequential(nn.Linear(d, d), nn.SiLU(), nn.Linear(d, d))
        self.position = nn.Parameter(torch.zeros(config.context + config.window, d))
        self.is_context = nn.Parameter(torch.zeros(2, d))  # context token / generated token
        self.no_audio = nn.Parameter(torch.zeros(d))
        self.no_controls = nn.Parameter(torch.zeros(d))
        self.no_context = nn.Parameter(torch.zeros(d))
        layer = nn.TransformerEncoderLayer(
            d,
            config.heads,
            4 * d,
            config.dropout,
            activation="gelu",
            batch_first=True,
            norm_first=True,
        )
        self.body = nn.TransformerEncoder(layer, config.layers, enable_nested_tensor=False)
        self.out = nn.Sequential(nn.LayerNorm(d), nn.Linear(d, schema.DIM))
        nn.init.normal_(self.position, std=0.02)

    def forward(
        self,
        x_t: torch.Tensor,  # [B, W, DIM] noisy motion (normalised)
        t: torch.Tensor,  # [B] diffusion time in [0, 1]
        audio: torch.Tensor,  # [B, W, audio_dim]
        controls: torch.Tensor,  # [B, C]
        context_motion: torch.Tensor,  # [B, P, DIM] clean (normalised)
        context_audio: torch.Tensor,  # [B, P, audio_dim]
        keep_audio: torch.Tensor,  # [B] bool: condition present
        keep_controls: torch.Tensor,
        keep_context: torch.Tensor,
    ) -> torch.Tensor:
        a = self.audio_in(torch.cat([context_audio, audio], dim=1))
        a = torch.where(keep_audio[:, None, None], a, self.no_audio)
        ctx = self.motion_in(context_motion) + self.is_context[0]
        ctx = torch.where(keep_context[:, None, None], ctx, self.no_context)
        now = self.motion_in(x_t) + self.is_context[1]
        tokens = torch.cat([ctx, now], dim=1) + a + self.position
        c = self.controls_in(controls)
        c = torch.where(keep_controls[:, None], c, self.no_controls)
        tokens = tokens + (c + self.time_in(time_embedding(t, self.config.width)))[:, None]
        hidden = self.body(tokens)
        return self.out(hidden[:, self.config.context :])
