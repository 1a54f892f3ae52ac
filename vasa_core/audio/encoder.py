"""A small phonetic encoder: per-frame log-mel in, per-frame posteriors over what the mouth
does out (silence, lips closed for p b m, lip to teeth for f v, four vowel shapes, other
consonants).

The motion generator hears audio features of one synthesiser's voice and so learns that
voice; VASA-1 listens to wav2vec2 instead, whose features say what is spoken rather than
who speaks it. We can download nothing, so this encoder is trained on speech the kit makes
itself, with exact phoneme times (`vasa_core.training.encoder`), and ships its weights in
`checkpoints/encoder.safetensors`.

    encoder = load_encoder(device=pick_device("auto"))
    probs = encoder.posteriors(compute_features(samples, fps=25).mel)  # [T, len(CLASSES)]
    stream = encoder.stream()  # the same numbers, chunk by chunk
    parts = [stream.push(mel[a:b]) for a, b in chunks] + [stream.finish()]

It reads the mel at the video frame rate, as the generator does: its output lines up
with the motion frames without resampling, and it costs a quarter of what 100 fps frames
would. Each 25 fps mel row already averages four 25 ms windows across its 40 ms, and the
first layer sees 7 rows (280 ms), enough for the closure-and-burst of a p.

Two things keep it usable live:
- bounded look-ahead: frame t depends on frames up to t + `lookahead` (3 frames, 120 ms)
  and on a fixed stretch of the past, never on anything later;
- running normalisation: each band is standardised by an exponentially weighted mean and
  variance of the frames so far (time constant `decay_s`), started from the training
  speech's statistics, instead of by the clip's own statistics, which only exist once the
  clip has ended. Quiet frames (pauses, noise) move the statistics ten times slower, so a
  long pause does not make the next word look loud.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np
import torch
from torch import nn

from vasa_core.device import pick_device
from vasa_core.errors import VasaError
from vasa_core.files import atomic_write, check_input

# The one list of classes; `vasa_core.training.encoder` maps phonemes onto it.
CLASSES = (
    "silence",
    "bilabial",  # p b m: the lips close
    "labiodental",  # f v: the lower lip meets the teeth
    "rounded vowel",
    "open vowel",
    "mid vowel",
    "close vowel",
    "other consonant",
)
SHIPPED = "encoder.safetensors"
FORMAT = "vasa-phonetic-encoder/1"  # what the metadata says a file is


@dataclass(frozen=True)
class EncoderConfig:
    n_mels: int = 80
    channels: int = 96
    dilations: tuple[int, ...] = (1, 2, 4, 8)  # of the causal blocks: 30 frames of past
    front_past: int = 3  # frames of past the first layer sees
    lookahead: int = 3  # frames of future anything depends on (120 ms at 25 fps)
    dropout: float = 0.1  # in training only
    members: int = 1  # networks trained alike from different seeds, heard together (`Ensemble`)
    fps: float = 25.0  # the frame rate of the mel it was trained on
    classes: tuple[str, ...] = CLASSES
    # Running normalisation: see the module docstring.
    decay_s: float = 3.0
    floor: float = -14.0  # log-mel floor: digital silence (-23) is no quieter than this
    quiet: float = 3.0  # a frame this far below the running level counts as a pause
    var_floor: float = 0.25
    clip: float = 8.0

    @property
    def past(self) -> int:
        """Frames of past one output depends on."""
        return self.front_past + 2 * sum(self.dilations)

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> EncoderConfig:
        values = dict(values)
        values["dilations"] = tuple(values["dilations"])
        values["classes"] = tuple(values["classes"])
        return cls(**values)


@dataclass
class RunningNorm:
    """Per-band running mean and variance; calling it standardises frames and moves on."""

    config: EncoderConfig
    mean: np.ndarray  # [n_mels] float64, the state
    var: np.ndarray

    def __call__(self, mel: np.ndarray) -> np.ndarray:
        c = self.config
        x = np.maximum(np.asarray(mel, np.float64), c.floor)
        rate = 1.0 - math.exp(-1.0 / (c.decay_s * c.fps))
        out = np.empty(x.shape, np.float32)
        for t in range(len(x)):
            delta = x[t] - self.mean
            # A pause, well below the running level, updates at a tenth of the rate.
            loud = x[t].mean() > self.mean.mean() - c.quiet
            w = rate if loud else 0.1 * rate
            self.mean = self.mean + w * delta
            self.var = (1.0 - w) * (self.var + w * delta**2)
            out[t] = (x[t] - self.mean) / np.sqrt(np.maximum(self.var, c.var_floor))
        return np.clip(out, -c.clip, c.clip)


class Block(nn.Module):
    """A causal residual block: a dilated convolution over the past, then a 1x1 mix."""

    def __init__(self, channels: int, dilation: int, dropout: float = 0.0):
        super().__init__()
        self.reach = 2 * dilation  # frames it eats from the start of its input
        self.norm = nn.LayerNorm(channels)
        self.conv = nn.Conv1d(channels, channels, 3, dilation=dilation)
        self.mix = nn.Conv1d(channels, channels, 1)
        self.drop = nn.Dropout(dropout)

    def forward(self, h: torch.Tensor) -> torch.Tensor:  # [B, C, T] -> [B, C, T - reach]
        y = self.norm(h.transpose(1, 2)).transpose(1, 2)
        y = self.mix(nn.functional.gelu(self.conv(nn.functional.gelu(y))))
        return h[:, :, self.reach :] + self.drop(y)


class EncoderNet(nn.Module):
    """Unpadded convolutions: an input of past + T + lookahead frames gives T outputs,
    output t depending on input frames t .. t + past + lookahead and nothing else, so that
    padding, chunking and causality are decided in one place (`Stream`)."""

    def __init__(self, config: EncoderConfig):
        super().__init__()
        self.config = config
        c = config.channels
        self.front = nn.Conv1d(config.n_mels, c, config.front_past + config.lookahead + 1)
        self.blocks = nn.ModuleList(Block(c, d, config.dropout) for d in config.dilations)
        self.norm = nn.LayerNorm(c)
        self.head = nn.Linear(c, len(config.classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # [B, T', n_mels] -> [B, T, K]
        h = self.front(x.transpose(1, 2))
        for block in self.blocks:
            h = block(h)
        return self.head(self.norm(h.transpose(1, 2)))


class Ensemble(nn.Module):
    """`config.members` networks of one design, heard together: their class probabilities
    multiplied and renormalised (the mean of their log-probabilities).

    Five networks trained alike from different random starts call 70-76% of the p/b/m of
    voices they never heard (mean 73%); heard together, 75.5% (ENCODER_CARD.md). Each errs
    on different frames of a new voice, and together they keep what they agree on. The
    product rather than the mean of the probabilities: where the members agree it stays as
    sure as one network (the generator learnt from one network's posteriors, and its lips
    close fully only from 0.8), where the mean would soften it (a p/b/m above 0.8 at 47%
    of centres, against 54% for one network and 56% for the product). The shipped
    encoder is still one network: the motion five of them drove closed no more p/b/m on
    the held-out voices (the card's "Tried, not adopted")."""

    def __init__(self, config: EncoderConfig, members: list[EncoderNet] | None = None):
        super().__init__()
        self.config = config
        if members is None:
            members = [EncoderNet(config) for _ in range(config.members)]
        if len(members) != config.members:
            raise ValueError(f"{len(members)} networks for an ensemble of {config.members}")
        self.members = nn.ModuleList(members)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # [B, T', n_mels] -> [B, T, K]
        logs = torch.stack([member(x).log_softmax(-1) for member in self.members])
        return logs.mean(dim=0).log_softmax(-1)


@dataclass
class PhoneticEncoder:
    """A trained encoder on a device, with its normalisation's starting statistics."""

    net: Ensemble
    mean: np.ndarray  # [n_mels] the running normalisation's warm start
    var: np.ndarray
    training: dict = field(default_factory=dict)  # how it was trained (metadata)

    @property
    def config(self) -> EncoderConfig:
        return self.net.config

    @property
    def device(self) -> torch.device:
        return next(self.net.parameters()).device

    def normaliser(self) -> RunningNorm:
        return RunningNorm(self.config, self.mean.astype(np.float64), self.var.astype(np.float64))

    def stream(self) -> Stream:
        return Stream(self)

    @torch.no_grad()
    def posteriors(self, mel: np.ndarray) -> np.ndarray:
        """[T, K] class probabilities for the log-mel [T, n_mels] of one whole clip (at the
        config's fps): the same numbers a stream gives it chunk by chunk."""
        stream = self.stream()
        return np.concatenate([stream.push(mel), stream.finish()])


class Stream:
    """Posteriors chunk by chunk. `push(mel)` returns the frames whose look-ahead has
    arrived (so lagging `lookahead` frames behind); `finish()` the rest, as if the audio
    went on with average frames (zeros after normalisation), as training pads a clip."""

    def __init__(self, encoder: PhoneticEncoder):
        self.encoder, self.norm = encoder, encoder.normaliser()
        c = encoder.config
        # Before the clip: `past` frames of zeros, the same padding training saw.
        self.buffer = torch.zeros(c.past, c.n_mels, device=encoder.device)
        self.finished = False

    @torch.no_grad()
    def push(self, mel: np.ndarray) -> np.ndarray:
        if self.finished:
            raise VasaError("this stream has finished; start another with encoder.stream()")
        mel = np.asarray(mel, np.float32).reshape(-1, self.encoder.config.n_mels)
        return self._run(torch.from_numpy(self.norm(mel)).to(self.buffer.device))

    @torch.no_grad()
    def finish(self) -> np.ndarray:
        pad = torch.zeros(self.encoder.config.lookahead, self.buffer.shape[1])
        out = self._run(pad.to(self.buffer.device))
        self.finished = True
        return out

    def _run(self, frames: torch.Tensor) -> np.ndarray:
        c = self.encoder.config
        self.buffer = torch.cat([self.buffer, frames])
        ready = len(self.buffer) - c.past - c.lookahead
        if ready <= 0:
            return np.zeros((0, len(c.classes)), np.float32)
        logits = self.encoder.net(self.buffer[None])[0]
        self.buffer = self.buffer[ready:]  # keep what the next frames still need
        return torch.softmax(logits, dim=-1).cpu().numpy()


def shipped_path() -> Path:
    return Path(str(resources.files("vasa_core.checkpoints").joinpath(SHIPPED)))


def save_encoder(path: str | os.PathLike, encoder: PhoneticEncoder) -> None:
    """Weights in safetensors; config, normalisation and training in its metadata."""
    from safetensors.torch import save

    meta = {
        "format": FORMAT,
        "config": json.dumps(encoder.config.as_dict()),
        "mean": json.dumps(np.asarray(encoder.mean, float).tolist()),
        "var": json.dumps(np.asarray(encoder.var, float).tolist()),
        "training": json.dumps(encoder.training),
    }
    weights = {k: v.detach().cpu().contiguous() for k, v in encoder.net.state_dict().items()}
    with atomic_write(path) as f:
        f.write(save(weights, metadata=meta))


def load_encoder(
    path: str | os.PathLike | None = None, device: torch.device | str | None = None
) -> PhoneticEncoder:
    """The encoder in `path` (default: the shipped one) on `device` (as `pick_device` reads
    it: None is auto), in eval mode."""
    from safetensors import safe_open

    path = check_input(path if path is not None else shipped_path(), "an encoder checkpoint")
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
            weights = {key: f.get_tensor(key) for key in f.keys()}
        if meta.get("format") != FORMAT:
            raise ValueError(f"its metadata says {meta.get('format')!r}, not {FORMAT!r}")
        config = EncoderConfig.from_dict(json.loads(meta["config"]))
        if config.classes != CLASSES:  # callers index the posteriors by CLASSES
            raise ValueError(f"its classes {config.classes} are not this kit's {CLASSES}")
        if not any(key.startswith("members.") for key in weights):
            weights = {f"members.0.{key}": value for key, value in weights.items()}  # one net
        net = Ensemble(config)
        net.load_state_dict(weights)
        mean, var = (np.array(json.loads(meta[k]), np.float64) for k in ("mean", "var"))
    except Exception as error:  # safetensors, json and torch each raise their own
        raise VasaError(f"{path}: not a phonetic encoder checkpoint ({error})") from None
    net.to(pick_device(device)).eval()
    return PhoneticEncoder(net, mean, var, json.loads(meta.get("training", "{}")))
