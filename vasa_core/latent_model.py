"""A face latent that is learned, not written down: VASA-1's split, in miniature.

VASA-1 encodes a face image into appearance, identity, head pose and facial dynamics with
separate encoders, and makes the parts mean what their names say by training: it swaps
pose and dynamics between frames of one person's video, and asks codes to agree across
people. vasa-kit's stage 1 writes the split down by hand instead (`vasa_core.face`). This
module learns one, small enough to train in a minute on a laptop CPU, on frames the kit's
own renderer draws, so that every frame's true pose and expression is known and the
learned codes can be measured against them. Notebook 06 teaches it.

- data: `sample_factors`, `make_grid` render every identity under every combination of a
  set of head poses and a set of expressions (a `FaceGrid`), as small crops;
- model: `FaceAutoencoder`, one conv encoder with three heads (identity, pose, dynamics
  codes) and a decoder that paints an image from the three codes;
- losses: `reconstruction_loss`, `swap_loss` (VASA-1's swap within one identity),
  `cross_identity_loss` (the motion codes of two faces under the same motion agree),
  `split_loss` (pose and expression taken from two different frames), `losses`; the
  pixel losses can count most where expression changes the picture (`expression_weights`,
  `pixel_loss`);
- training: `sample_batch`, `train_step`, `train`;
- measures: `codes_of`, `probe_r2`, `probe_accuracy`, `disentanglement`.

Identities are the three example portraits, each also mirrored and also desaturated: twelve
arrangements of pixels, not twelve people (a real model needs thousands of people).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from PIL import Image
from torch import nn
from torch.nn import functional as F

from vasa_core import examples, schema

SIZE = 48  # side of the training crops in pixels
RENDER_SIZE = 256  # the renderer's frames, before cropping and shrinking
POSE_FACTORS: tuple[str, ...] = ("yaw", "pitch", "roll")
# "blink" closes both eyes together (blink_left = blink_right), so a mirrored face keeps it.
DYNAMICS_FACTORS: tuple[str, ...] = ("jaw_open", "smile", "blink", "brow_raise")
FACTORS: tuple[str, ...] = POSE_FACTORS + DYNAMICS_FACTORS
# Ranges of the known factors, as seen in the picture. The angles are absolute and stay
# inside `schema.reach` of every example portrait (their own pitch runs from -7 to +3).
POSE_RANGE = np.array([[-15.0, 15.0], [-12.0, 4.0], [-12.0, 12.0]])
DYNAMICS_RANGE = np.array([[0.0, 0.7], [0.0, 1.0], [0.0, 1.0], [0.0, 1.0]])
VARIANTS: tuple[str, ...] = ("", "mirrored", "grey", "mirrored, grey")
CROP = 1.5  # side of the crop about the face, in face widths
CROP_RAISE = 0.1  # the crop's centre above the landmarks' middle, in face widths
CODES: tuple[str, ...] = ("identity", "pose", "dynamics")


# ------------------------------------------------------------------------------ data


@dataclass
class FaceGrid:
    """Every identity rendered under every (pose, expression) pair.

    `images[i, p, e]` is identity `i` with head pose `poses[p]` and expression
    `expressions[e]`, as seen in the picture (a mirrored identity was rendered with the
    mirrored motion, then flipped, so its picture shows the same angles as the others).
    """

    images: np.ndarray  # [I, P, E, S, S, 3] uint8
    poses: np.ndarray  # [P, 3] yaw, pitch, roll in degrees
    expressions: np.ndarray  # [E, 4] jaw_open, smile, blink, brow_raise
    names: tuple[str, ...]  # the identities' names, [I]

    @property
    def shape(self) -> tuple[int, int, int]:
        """(identities, poses, expressions)."""
        return self.images.shape[:3]

    def factors(self, p: np.ndarray, e: np.ndarray) -> np.ndarray:
        """The known factors [N, 7] (`FACTORS`) of frames with pose `p` and expression `e`."""
        return np.concatenate([self.poses[p], self.expressions[e]], axis=1)

    def frames(self, i, p, e) -> torch.Tensor:
        """Frames [N, 3, S, S] float in 0..1 for index arrays (or ints) `i`, `p`, `e`."""
        pixels = torch.from_numpy(self.images[i, p, e])
        if pixels.ndim == 3:
            pixels = pixels[None]
        return pixels.permute(0, 3, 1, 2).float().div_(255.0)

    def all_frames(self) -> tuple[torch.Tensor, np.ndarray, np.ndarray]:
        """Every frame [I*P*E, 3, S, S], its identity index [N] and its factors [N, 7]."""
        n_id, n_pose, n_expr = self.shape
        i, p, e = (a.ravel() for a in np.meshgrid(*map(np.arange, self.shape), indexing="ij"))
        return self.frames(i, p, e), i, self.factors(p, e)


def sample_factors(
    n_poses: int, n_expressions: int, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Random head poses [n_poses, 3] and expressions [n_expressions, 4], uniform in
    `POSE_RANGE` and `DYNAMICS_RANGE`; about one expression in three has open eyes."""
    rng = np.random.default_rng(seed)
    poses = rng.uniform(POSE_RANGE[:, 0], POSE_RANGE[:, 1], size=(n_poses, len(POSE_FACTORS)))
    low, high = DYNAMICS_RANGE[:, 0], DYNAMICS_RANGE[:, 1]
    expressions = rng.uniform(low, high, size=(n_expressions, len(DYNAMICS_FACTORS)))
    blink = DYNAMICS_FACTORS.index("blink")
    expressions[rng.random(n_expressions) < 0.35, blink] = 0.0
    return poses, expressions


def motion_row(own: np.ndarray, pose: np.ndarray, expression: np.ndarray, mirrored: bool):
    """A schema motion row [DIM] for a portrait whose own motion is `own`: the given angles
    (negated yaw and roll for a face that is flipped afterwards), the portrait's place and
    size, and the given expression with every other dynamics channel at rest."""
    motion = schema.neutral()
    motion[schema.POSE] = own[schema.POSE]
    yaw, pitch, roll = pose
    sign = -1.0 if mirrored else 1.0
    motion[schema.index("yaw")] = sign * yaw
    motion[schema.index("pitch")] = pitch
    motion[schema.index("roll")] = sign * roll
    jaw, smile, blink, brow = expression
    for name, value in (
        ("jaw_open", jaw),
        ("smile", smile),
        ("blink_left", blink),
        ("blink_right", blink),
        ("brow_raise", brow),
    ):
        motion[schema.index(name)] = value
    return motion


def _crop_box(renderer, own: np.ndarray) -> tuple[int, int, int]:
    """(left, top, side) of a square about the face in the renderer's frames: `CROP` face
    widths across, centred `CROP_RAISE` face widths above the landmarks' middle."""
    points = renderer.landmarks(own)[0, :, :2]
    side = int(round(min(CROP * renderer.face_width, RENDER_SIZE)))
    cx, cy = points.mean(axis=0)
    cy -= CROP_RAISE * renderer.face_width
    left = int(np.clip(round(cx - side / 2), 0, RENDER_SIZE - side))
    top = int(np.clip(round(cy - side / 2), 0, RENDER_SIZE - side))
    return left, top, side


def _shrink(frames: np.ndarray, box: tuple[int, int, int], size: int) -> np.ndarray:
    left, top, side = box
    return np.stack(
        [
            np.asarray(
                Image.fromarray(f[top : top + side, left : left + side]).resize(
                    (size, size), Image.Resampling.BOX
                )
            )
            for f in frames
        ]
    )


def _grey(frames: np.ndarray, amount: float = 0.8) -> np.ndarray:
    """Colours pulled `amount` of the way to their luminance."""
    x = frames.astype(np.float32)
    luma = x @ np.array([0.299, 0.587, 0.114], np.float32)
    return np.clip(x + amount * (luma[..., None] - x), 0, 255).round().astype(np.uint8)


def make_grid(
    poses: np.ndarray,
    expressions: np.ndarray,
    names: Sequence[str] = examples.NAMES,
    variants: Sequence[str] = VARIANTS,
    size: int = SIZE,
    faces: dict | None = None,
) -> FaceGrid:
    """Render each portrait in `names` under every pose x expression with
    `vasa_core.render.Renderer` (256 px), crop about the face and shrink to `size`; then
    make each variant (`""`, `"mirrored"`, `"grey"`, `"mirrored, grey"`). `faces` may hold
    FaceLatents already analysed, by name."""
    from vasa_core.face import analyze
    from vasa_core.render import Renderer

    pairs = [(p, e) for p in range(len(poses)) for e in range(len(expressions))]
    images, labels = [], []
    for name in names:
        face = (faces or {}).get(name) or analyze(examples.load(name), name=name)
        renderer = Renderer(face, size=RENDER_SIZE)
        own = face.motion
        box = _crop_box(renderer, own)
        rendered = {}
        for mirrored in sorted({"mirrored" in v for v in variants}):
            rows = np.stack([motion_row(own, poses[p], expressions[e], mirrored) for p, e in pairs])
            crops = _shrink(renderer.render(rows), box, size)
            if mirrored:
                crops = crops[:, :, ::-1]
            rendered[mirrored] = crops.reshape(len(poses), len(expressions), size, size, 3)
        for variant in variants:
            crops = rendered["mirrored" in variant]
            if "grey" in variant:
                crops = _grey(crops)
            images.append(np.ascontiguousarray(crops))
            labels.append(f"{name} ({variant})" if variant else name)
    return FaceGrid(np.stack(images), np.asarray(poses), np.asarray(expressions), tuple(labels))


# ----------------------------------------------------------------------------- model


@dataclass(frozen=True)
class Config:
    """Sizes of the autoencoder. The pose and dynamics codes are narrow on purpose: a code
    with little room has no space left for what it is not meant to carry."""

    size: int = SIZE
    width: int = 16  # channels of the first conv layer (doubling twice)
    identity_dim: int = 16
    pose_dim: int = 4
    dynamics_dim: int = 6


@dataclass
class Codes:
    """The three codes of a batch of frames, each [N, dim]."""

    identity: torch.Tensor
    pose: torch.Tensor
    dynamics: torch.Tensor

    def motion(self) -> torch.Tensor:
        """Pose and dynamics together [N, pose_dim + dynamics_dim]."""
        return torch.cat([self.pose, self.dynamics], dim=1)


def _block(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 4, 2, 1), nn.GroupNorm(8, c_out), nn.SiLU())


def _up(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Upsample(scale_factor=2, mode="nearest"),
        nn.Conv2d(c_in, c_out, 3, 1, 1),
        nn.GroupNorm(8, c_out),
        nn.SiLU(),
    )


class FaceAutoencoder(nn.Module):
    """A frame -> (identity, pose, dynamics) -> frame autoencoder.

    Encoder: four stride-2 conv blocks (48 -> 3 px), then one linear head per code. The
    heads share the conv trunk (VASA-1 has separate encoders; a shared trunk is cheaper and
    the losses, not the wiring, decide what each head carries). Decoder: the three codes,
    concatenated, to a 3 x 3 feature map, three upsampling conv blocks to 24 px, a sub-pixel
    conv to 48 px, and a sigmoid. The
    motion codes are also fed to every decoder block (as per-channel scale and shift), so
    the picture can follow them at every resolution.
    """

    def __init__(self, config: Config = Config()):
        super().__init__()
        self.config = config
        w = config.width
        chans = [3, w, 2 * w, 4 * w, 4 * w]
        self.trunk = nn.Sequential(*[_block(a, b) for a, b in zip(chans, chans[1:], strict=False)])
        flat = 4 * w * (config.size // 16) ** 2
        self.heads = nn.ModuleDict(
            {
                "identity": nn.Linear(flat, config.identity_dim),
                "pose": nn.Linear(flat, config.pose_dim),
                "dynamics": nn.Linear(flat, config.dynamics_dim),
            }
        )
        code = config.identity_dim + config.pose_dim + config.dynamics_dim
        motion = config.pose_dim + config.dynamics_dim
        self.start = nn.Linear(code, flat)
        ups = [4 * w, 4 * w, 2 * w, w]  # 3 -> 6 -> 12 -> 24 px (at 48 px)
        self.ups = nn.ModuleList([_up(a, b) for a, b in zip(ups, ups[1:], strict=False)])
        self.films = nn.ModuleList([nn.Linear(motion, 2 * b) for b in ups[1:]])
        # the last doubling as a sub-pixel conv: 12 channels at 24 px become 3 at 48 px
        self.out = nn.Sequential(nn.Conv2d(w, 12, 3, 1, 1), nn.PixelShuffle(2))

    def encode(self, frames: torch.Tensor) -> Codes:
        """Codes of frames [N, 3, S, S] in 0..1."""
        h = self.trunk(frames * 2 - 1).flatten(1)
        return Codes(*(self.heads[name](h) for name in CODES))

    def decode(
        self, identity: torch.Tensor, pose: torch.Tensor, dynamics: torch.Tensor
    ) -> torch.Tensor:
        """Frames [N, 3, S, S] in 0..1 from the three codes."""
        w, side = self.config.width, self.config.size // 16
        motion = torch.cat([pose, dynamics], dim=1)
        h = self.start(torch.cat([identity, motion], dim=1)).view(-1, 4 * w, side, side)
        for up, film in zip(self.ups, self.films, strict=True):
            h = up(h)
            scale, shift = film(motion)[:, :, None, None].chunk(2, dim=1)
            h = h * (1 + scale) + shift
        return torch.sigmoid(self.out(h))

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        """Reconstruct frames [N, 3, S, S]."""
        codes = self.encode(frames)
        return self.decode(codes.identity, codes.pose, codes.dynamics)


# ---------------------------------------------------------------------------- losses


def expression_weights(grid: FaceGrid, emphasis: float) -> torch.Tensor:
    """Per-identity pixel weights [I, 1, S, S] that count most where expression changes the
    picture, measured on `grid` itself (pass the training grid, never the test grid).

    Why: a mouth or an eyelid is a few pixels of a 48 px crop, so in a plain mean squared
    error the expression is a small share of the loss, smaller than the blur the decoder
    is still busy with, and the model never learns it. For each identity this takes every
    pixel's spread across the grid's expressions at one pose, averaged over poses and
    colour channels and divided by its mean over the picture (1 on average); the weight is
    `1 + emphasis` times that, scaled to average 1 again, so it only moves the pixel
    error's attention, not its size. `emphasis` 0 gives uniform weights.
    """
    pixels = torch.from_numpy(grid.images).float().div_(255.0)  # [I, P, E, S, S, 3]
    spread = pixels.std(dim=2).mean(dim=(1, 4))  # [I, S, S]
    spread = spread / spread.mean(dim=(1, 2), keepdim=True)
    return ((1.0 + emphasis * spread) / (1.0 + emphasis))[:, None]


def pixel_loss(decoded: torch.Tensor, target: torch.Tensor, weight: torch.Tensor | None = None):
    """The mean squared pixel error, each pixel counted `weight` [N, 1, S, S] times (from
    `expression_weights`, picked by each target's identity); plain MSE without weights."""
    if weight is None:
        return F.mse_loss(decoded, target)
    return (weight * (decoded - target).pow(2)).mean()


def reconstruction_loss(
    model: FaceAutoencoder, frames: torch.Tensor, weight: torch.Tensor | None = None
) -> torch.Tensor:
    """Encode and decode the same frames: the (weighted) mean squared pixel error."""
    return pixel_loss(model(frames), frames, weight)


def swap_loss(
    model: FaceAutoencoder,
    frame_a: torch.Tensor,
    frame_b: torch.Tensor,
    weight: torch.Tensor | None = None,
):
    """VASA-1's swap, within one identity: decode the identity code of frame A with the
    pose and dynamics codes of frame B (same person, another pose and expression); the
    result must be frame B. The identity code then cannot carry pose or expression: frame
    A's would be wrong for B."""
    a, b = model.encode(frame_a), model.encode(frame_b)
    return pixel_loss(model.decode(a.identity, b.pose, b.dynamics), frame_b, weight)


def code_disagreement(mi: torch.Tensor, mj: torch.Tensor) -> torch.Tensor:
    """How far apart paired codes `mi[k]`, `mj[k]` [N, dim] lie, relative to how far apart
    the codes of different frames of the batch lie (`mi` against itself shifted by one),
    so that shrinking every code towards zero does not count as agreeing."""
    same = (mi - mj).pow(2).sum(1).mean()
    spread = (mi - mi.roll(1, dims=0)).pow(2).sum(1).mean()
    return same / (spread + 1e-6)


def cross_identity_loss(model: FaceAutoencoder, frame_i: torch.Tensor, frame_j: torch.Tensor):
    """Cross-identity consistency: frames of two different identities under the same pose
    and expression should get the same pose and dynamics codes (`code_disagreement` of
    their motion codes)."""
    return code_disagreement(model.encode(frame_i).motion(), model.encode(frame_j).motion())


def split_loss(
    model: FaceAutoencoder,
    frame_id: torch.Tensor,
    frame_pose: torch.Tensor,
    frame_dynamics: torch.Tensor,
    target: torch.Tensor,
    weight: torch.Tensor | None = None,
) -> torch.Tensor:
    """The swap taken two steps further: identity from one frame of the target's face,
    pose from a frame of another face with the target's head pose (another expression),
    dynamics from a frame of a third face with the target's expression (another pose); the
    result must be the target. Pose and dynamics codes then carry nothing of the face they
    came from, and pose is kept apart from dynamics, which swapping both together cannot
    do. It needs frames that share exactly one factor, which a renderer gives and a video
    does not."""
    identity = model.encode(frame_id).identity
    pose = model.encode(frame_pose).pose
    dynamics = model.encode(frame_dynamics).dynamics
    return pixel_loss(model.decode(identity, pose, dynamics), target, weight)


@dataclass(frozen=True)
class Weights:
    """How much each loss counts; 0 switches it off (and skips its work). `expression` is
    not a loss: it is the `emphasis` of `expression_weights`, how much more the pixel
    losses count where expression changes the picture (0, the default: every pixel
    alike)."""

    reconstruction: float = 1.0
    swap: float = 1.0
    cross_identity: float = 0.1
    split: float = 1.0
    expression: float = 0.0


RECONSTRUCTION_ONLY = Weights(swap=0.0, cross_identity=0.0, split=0.0)


def losses(model: FaceAutoencoder, batch: dict[str, torch.Tensor], weights: Weights = Weights()):
    """Each loss of a batch (from `sample_batch`) by name, and their weighted sum "total".

    The same losses as the functions above, computed together: every frame is encoded once
    and every decoded picture comes out of one decoder call (a third of the work)."""
    target = batch["target"]
    n = len(target)
    names = ["target"]
    names += ["same_identity"] if weights.swap or weights.split else []
    names += ["same_motion"] if weights.cross_identity else []
    names += ["same_pose", "same_expression"] if weights.split else []
    codes = model.encode(torch.cat([batch[name] for name in names]))
    part = {
        name: Codes(*(getattr(codes, c)[k * n : (k + 1) * n] for c in CODES))
        for k, name in enumerate(names)
    }
    t = part["target"]
    wanted = {"reconstruction": (t.identity, t.pose, t.dynamics)} if weights.reconstruction else {}
    if weights.swap:
        wanted["swap"] = (part["same_identity"].identity, t.pose, t.dynamics)
    if weights.split:
        who, pose, dyn = part["same_identity"], part["same_pose"], part["same_expression"]
        wanted["split"] = (who.identity, pose.pose, dyn.dynamics)
    parts: dict[str, torch.Tensor] = {}
    if wanted:
        decoded = model.decode(*(torch.cat(c) for c in zip(*wanted.values(), strict=True)))
        for k, name in enumerate(wanted):
            parts[name] = pixel_loss(decoded[k * n : (k + 1) * n], target, batch.get("weight"))
    if weights.cross_identity:
        parts["cross_identity"] = code_disagreement(t.motion(), part["same_motion"].motion())
    parts["total"] = sum(getattr(weights, name) * value for name, value in parts.items())
    return parts


# -------------------------------------------------------------------------- training


def sample_batch(grid: FaceGrid, size: int, generator: np.random.Generator):
    """A batch of `size` targets (identity i, pose p, expression e) and, for each:

    - `same_identity`: identity i under another pose and expression;
    - `same_motion`: another identity under pose p and expression e;
    - `same_pose`: another identity, pose p, another expression;
    - `same_expression`: another identity, expression e, another pose;

    each [size, 3, S, S], plus the indices `i`, `p`, `e`.
    """
    n_id, n_pose, n_expr = grid.shape
    g = generator
    i, p, e = (
        g.integers(n_id, size=size),
        g.integers(n_pose, size=size),
        g.integers(n_expr, size=size),
    )

    def other(index, n):  # a different index, uniform over the rest
        return (index + g.integers(1, n, size=size)) % n

    return {
        "target": grid.frames(i, p, e),
        "same_identity": grid.frames(i, other(p, n_pose), other(e, n_expr)),
        "same_motion": grid.frames(other(i, n_id), p, e),
        "same_pose": grid.frames(other(i, n_id), p, other(e, n_expr)),
        "same_expression": grid.frames(other(i, n_id), other(p, n_pose), e),
        "i": torch.from_numpy(i),
        "p": torch.from_numpy(p),
        "e": torch.from_numpy(e),
    }


def train_step(
    model: FaceAutoencoder,
    optimizer: torch.optim.Optimizer,
    batch: dict[str, torch.Tensor],
    weights: Weights = Weights(),
) -> dict[str, float]:
    """One optimiser step on the weighted sum of the losses; the losses as floats."""
    model.train()
    parts = losses(model, batch, weights)
    optimizer.zero_grad()
    parts["total"].backward()
    optimizer.step()
    return {name: float(value.detach()) for name, value in parts.items()}


@dataclass
class History:
    """The losses of a run, one entry per logged step, and its wall-clock seconds."""

    steps: list[int] = field(default_factory=list)
    losses: dict[str, list[float]] = field(default_factory=dict)
    seconds: float = 0.0

    def add(self, step: int, values: dict[str, float]) -> None:
        self.steps.append(step)
        for name, value in values.items():
            self.losses.setdefault(name, []).append(value)


def train(
    grid: FaceGrid,
    steps: int,
    weights: Weights = Weights(),
    config: Config = Config(),
    batch: int = 32,
    lr: float = 2e-3,
    seed: int = 0,
    every: int = 10,
    progress: Callable[[int, dict[str, float]], None] | None = None,
) -> tuple[FaceAutoencoder, History]:
    """Train a fresh `FaceAutoencoder` for `steps` steps on `grid`; the learning rate falls
    along a cosine to a tenth. With `weights.expression` the pixel losses are weighted by
    `expression_weights` of `grid`, the training grid. Losses are averaged over each
    `every` steps into the history; `progress(step, averaged)` is called with each average.
    """
    torch.manual_seed(seed)
    model = FaceAutoencoder(config)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda k: 0.1 + 0.9 * 0.5 * (1 + np.cos(np.pi * min(k / max(steps, 1), 1.0)))
    )
    rng = np.random.default_rng(seed)
    pixel_weights = expression_weights(grid, weights.expression) if weights.expression else None
    history, pending = History(), []
    start = time.perf_counter()
    for step in range(1, steps + 1):
        frames = sample_batch(grid, batch, rng)
        if pixel_weights is not None:
            frames["weight"] = pixel_weights[frames["i"]]
        pending.append(train_step(model, optimizer, frames, weights))
        schedule.step()
        if step % every == 0 or step == steps:
            mean = {k: float(np.mean([p[k] for p in pending])) for k in pending[0]}
            history.add(step, mean)
            pending = []
            if progress is not None:
                progress(step, mean)
    history.seconds = time.perf_counter() - start
    model.eval()
    return model, history


# -------------------------------------------------------------------------- measures


@torch.no_grad()
def codes_of(
    model: FaceAutoencoder, frames: torch.Tensor, batch: int = 256
) -> dict[str, np.ndarray]:
    """The three codes of many frames, by name, as arrays [N, dim]."""
    model.eval()
    out: dict[str, list[np.ndarray]] = {name: [] for name in CODES}
    for start in range(0, len(frames), batch):
        codes = model.encode(frames[start : start + batch])
        for name in CODES:
            out[name].append(getattr(codes, name).numpy())
    return {name: np.concatenate(parts) for name, parts in out.items()}


def _ridge(x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray, alpha: float):
    """Ridge regression fitted on the train set (features standardised on it), predicted
    on the test set."""
    mean, std = x_train.mean(0), x_train.std(0) + 1e-8
    a, b = (x_train - mean) / std, (x_test - mean) / std
    a, b = np.c_[a, np.ones(len(a))], np.c_[b, np.ones(len(b))]
    penalty = alpha * np.eye(a.shape[1])
    penalty[-1, -1] = 0.0
    weights = np.linalg.solve(a.T @ a + penalty, a.T @ y_train)
    return b @ weights


def probe_r2(x_train, y_train, x_test, y_test, alpha: float = 10.0) -> np.ndarray:
    """R² per column of `y` of a linear probe (ridge) from codes `x`, fitted on the train
    frames and scored on the test frames: 1 is read perfectly, 0 no better than the mean."""
    predicted = _ridge(x_train, y_train, x_test, alpha)
    residual = ((y_test - predicted) ** 2).sum(0)
    total = ((y_test - y_test.mean(0)) ** 2).sum(0)
    return 1.0 - residual / total


def probe_accuracy(x_train, labels_train, x_test, labels_test, alpha: float = 10.0) -> float:
    """Share of test frames whose identity a linear probe (ridge on one-hot labels) from
    codes `x` names correctly."""
    classes = int(max(labels_train.max(), labels_test.max())) + 1
    scores = _ridge(x_train, np.eye(classes)[labels_train], x_test, alpha)
    return float((scores.argmax(1) == labels_test).mean())


def disentanglement(model: FaceAutoencoder, train: FaceGrid, test: FaceGrid) -> dict:
    """How well the codes separate the factors, on frames of poses and expressions the
    model never saw (`test`), with linear probes fitted on `train`'s frames.

    Returns {"r2": {code: {factor: R²}}, "identity_accuracy": {code: share},
    "chance": 1 / identities}: pose should be readable from the pose code and not from the
    identity code, the identity from the identity code and not from the motion codes.
    """
    x_train, id_train, y_train = train.all_frames()
    x_test, id_test, y_test = test.all_frames()
    c_train, c_test = codes_of(model, x_train), codes_of(model, x_test)
    r2, accuracy = {}, {}
    for name in CODES:
        scores = probe_r2(c_train[name], y_train, c_test[name], y_test)
        r2[name] = dict(zip(FACTORS, map(float, scores), strict=True))
        accuracy[name] = probe_accuracy(c_train[name], id_train, c_test[name], id_test)
    return {"r2": r2, "identity_accuracy": accuracy, "chance": 1.0 / train.shape[0]}


def summary_table(measure: dict) -> str:
    """The disentanglement measure as a text table: R² of each factor from each code, and
    the identity probe's accuracy."""
    head = f"{'code':<10}" + "".join(f"{f:>11}" for f in FACTORS) + f"{'identity':>10}"
    lines = [head, "-" * len(head)]
    for name in CODES:
        row = "".join(f"{measure['r2'][name][f]:>11.2f}" for f in FACTORS)
        lines.append(f"{name:<10}{row}{measure['identity_accuracy'][name]:>9.0%}")
    lines.append(
        f"(R² of each known factor; identity: probe accuracy, chance {measure['chance']:.0%})"
    )
    return "\n".join(lines)


@torch.no_grad()
def swap(model: FaceAutoencoder, identity_frames: torch.Tensor, driving_frames: torch.Tensor):
    """Every identity frame [A] driven by every driving frame [B]: frames [A, B, 3, S, S]
    with the identity code of the first and the pose and dynamics codes of the second."""
    model.eval()
    who, how = model.encode(identity_frames), model.encode(driving_frames)
    a, b = len(identity_frames), len(driving_frames)
    identity = who.identity[:, None].expand(a, b, -1).reshape(a * b, -1)
    pose = how.pose[None].expand(a, b, -1).reshape(a * b, -1)
    dynamics = how.dynamics[None].expand(a, b, -1).reshape(a * b, -1)
    return model.decode(identity, pose, dynamics).view(a, b, *identity_frames.shape[1:])


def to_pixels(frames: torch.Tensor) -> np.ndarray:
    """Frames [..., 3, S, S] in 0..1 as uint8 images [..., S, S, 3]."""
    return (frames.clamp(0, 1) * 255).round().byte().movedim(-3, -1).numpy()
