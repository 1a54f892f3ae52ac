"""Training the phonetic encoder (`vasa_core.audio.encoder`) on speech with exact phoneme
times, made here by both of the kit's synthesisers, and measuring it on voices it never
heard.

    python -m vasa_core.training.encoder --out vasa_core/checkpoints/encoder.safetensors \\
        [--minutes 240] [--steps 4500] [--seed 0] [--cache FILE.npz] [--compare OLD.safetensors]

1. data: random utterances as the corpus draws them (`corpus.speak`: text, voice, rate,
   pitch; festival's voices stretched), espeak-ng and festival in turn; half the espeak-ng
   ones re-spoken with any of espeak-ng's speaker variants, for more speakers than the
   corpus's ten. Voices the corpus holds out are never used. Each utterance gets the
   corpus's pauses around it and an augmentation (`vasa_core.data.augment_speech`, which
   keeps phoneme times exact); frame t is labelled with the class of the phoneme at its
   centre, and besides ("owned" labels) the frame holding the centre of each p b m f v
   with that class, so that a closure shorter than a frame is taught where the motion is
   measured.
2. training: random windows of 96 frames, cross-entropy weighted by 1 / sqrt(class
   frequency), the bilabial class's twice more (closures are rare, short and matter
   most: a missed one leaves the mouth open on a p), AdamW with a cosine schedule.
3. evaluation: the corpus's evaluation clips (`corpus.evaluation_clips`: sentences never
   trained on, augmented as the corpus augments) of the held-out voices, both engines;
   frame accuracy, balanced accuracy, bilabial recall, the share of p/b/m centres called
   bilabial, per engine and voice, and the confusion matrix (and with `--compare`, an
   earlier encoder's figures on the same clips), written with the commands and wall times
   to ENCODER_CARD.md.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from vasa_core.audio import RATE, compute_features
from vasa_core.audio.encoder import (
    CLASSES,
    EncoderConfig,
    EncoderNet,
    Ensemble,
    PhoneticEncoder,
    load_encoder,
    save_encoder,
)
from vasa_core.audio.features import hz_to_mel, mel_edges_hz
from vasa_core.data import corpus
from vasa_core.files import check_output
from vasa_core.training.encoder_card import write_card
from vasa_core.training.encoder_data import (
    BABBLE_FROM,
    IGNORE,
    SUNG_FROM,
    VALIDATION_VOICES,
    VARIANTS_FROM,
    VOCABULARY_FROM,
    Example,
    Windows,
    augmentation_name,
    build_examples,
    cache_key,
    centre_frames,
    frame_labels,
    load_examples,
    save_examples,
    speech_statistics,
    validation_set,
    validation_voice,
)


def class_weights(
    examples: list[Example], power: float = 0.5, labels: str = "centre", bilabial: float = 1.0
) -> torch.Tensor:
    """1 / frequency ** power per class, the bilabial one times `bilabial` (a missed
    closure costs the face more than a closure too many), scaled to average 1 over the
    training frames of the label rule `labels`."""
    counts = np.bincount(
        np.concatenate([e.targets(labels) for e in examples]), minlength=len(CLASSES)
    )
    weights = (counts + 1.0) ** -power
    weights[CLASSES.index("bilabial")] *= bilabial
    return torch.tensor(weights * counts.sum() / (weights * counts).sum(), dtype=torch.float32)


def mask_bands(x: torch.Tensor, rng: torch.Generator, widest: int = 10) -> torch.Tensor:
    """Each window with a random run of up to `widest` mel bands blanked (SpecAugment's
    frequency mask): no single band can be what a class is recognised by."""
    size, bands = len(x), x.shape[-1]
    width = torch.randint(widest + 1, (size, 1), generator=rng)
    start = (torch.rand(size, 1, generator=rng) * (bands - width)).long()
    band = torch.arange(bands)[None]
    keep = (band < start) | (band >= start + width)
    return x * keep[:, None, :]


@dataclass(frozen=True)
class Augment:
    """What `fit` does to each training window's normalised log-mel on the fly, besides
    the band mask (`mask_bands`, always): each a different speaker or channel at no cost
    in speech to make. Zero turns one off."""

    warp: float = 0.0  # frequencies scaled by a factor up to 1 + warp or down to 1 / (1 + warp)
    # On top of that, each formant region moved by a factor of its own, up to 1 + this.
    formant_warp: float = 0.0
    tilt: float = 0.0  # a smooth EQ curve of up to this many standard deviations
    time_masks: int = 0  # runs of frames blanked
    time_width: int = 3  # the longest such run, in frames

    def on(self) -> bool:
        return bool(self.warp or self.formant_warp or self.tilt or self.time_masks)


def _speech_rows(x: torch.Tensor) -> torch.Tensor:
    """[size, T, 1]: the rows that are not the zero padding around a clip."""
    return (x.abs().sum(dim=-1, keepdim=True) > 0).to(x.dtype)


# Where a uniform tube as long as a man's vocal tract (17.5 cm) resonates: the regions of
# F1 to F4, which a speaker's own anatomy moves by different factors.
FORMANT_REGIONS_HZ = (500.0, 1500.0, 2500.0, 3500.0)


def warp_bands(
    x: torch.Tensor, rng: torch.Generator, most: float, formants: float = 0.0
) -> torch.Tensor:
    """Each window's spectrum stretched or squeezed along frequency (vocal-tract-length
    perturbation): what band b shows is what the window had at its frequency divided by a
    factor, read between bands by linear interpolation. A longer or shorter vocal tract
    moves every formant by about the same factor, up to 1 + `most`. With `formants`, the
    factor also varies along frequency: drawn apart at each of FORMANT_REGIONS_HZ (up to
    1 + `formants`, on top) and interpolated between them, kept monotonic, so that F2 can
    move less or more than F1, as speakers differ (and espeak-ng's variants, which move
    each formant by a percentage and an offset of its own)."""
    if most == 0 and formants == 0:
        return x  # the interpolation below is exact only up to the mel round trip
    size, bands = len(x), x.shape[-1]
    hz = mel_edges_hz(n_mels=bands)[1:-1]

    def draw(count: int, amount: float) -> np.ndarray:
        log = (2 * torch.rand(size, count, generator=rng, dtype=torch.float64) - 1).numpy()
        return log * math.log1p(amount)

    log_factor = draw(1, most)
    if formants:
        regions = draw(len(FORMANT_REGIONS_HZ), formants)
        log_factor = log_factor + np.stack([np.interp(hz, FORMANT_REGIONS_HZ, r) for r in regions])
    centres = torch.from_numpy(hz_to_mel(hz))
    # A source that goes back down would fold the spectrum over itself.
    source = np.maximum.accumulate(hz_to_mel(hz[None] / np.exp(log_factor)), axis=1)
    at = ((torch.from_numpy(source) - centres[0]) / (centres[1] - centres[0])).clamp(0, bands - 1)
    low = at.floor().long().clamp(max=bands - 2)
    frac = (at - low).to(x.dtype)[:, None, :]
    rows = x.shape[1]
    below = torch.gather(x, 2, low[:, None, :].expand(-1, rows, -1))
    above = torch.gather(x, 2, (low + 1)[:, None, :].expand(-1, rows, -1))
    return below + frac * (above - below)


def tilt_bands(x: torch.Tensor, rng: torch.Generator, most: float) -> torch.Tensor:
    """Each window coloured by a smooth random EQ: a tilt and two broad bumps across the
    bands, of up to `most` standard deviations each (a microphone, a room, a voice
    brighter or darker than any the normalisation started from); padding stays zero."""
    size, bands = len(x), x.shape[-1]
    u = torch.linspace(0.0, 1.0, bands, dtype=x.dtype)
    shapes = torch.stack([2 * u - 1, torch.cos(math.pi * 2 * u), torch.cos(math.pi * 3 * u)])
    amounts = (2 * torch.rand(size, 3, generator=rng, dtype=x.dtype) - 1) * most
    return x + (amounts @ shapes)[:, None, :] * _speech_rows(x)


def mask_times(x: torch.Tensor, rng: torch.Generator, count: int, widest: int) -> torch.Tensor:
    """`count` runs of up to `widest` frames blanked in each window (SpecAugment's time
    mask): a class must be told from its context too, not only its own frames."""
    size, rows = len(x), x.shape[1]
    keep = torch.ones(size, rows, dtype=torch.bool)
    frame = torch.arange(rows)[None]
    for _ in range(count):
        width = torch.randint(widest + 1, (size, 1), generator=rng)
        start = (torch.rand(size, 1, generator=rng) * (rows - width)).long()
        keep &= (frame < start) | (frame >= start + width)
    return x * keep[:, :, None]


def augment_windows(x: torch.Tensor, rng: torch.Generator, augment: Augment) -> torch.Tensor:
    """`augment` applied to a batch of windows [size, T, n_mels]."""
    if augment.warp or augment.formant_warp:
        x = warp_bands(x, rng, augment.warp, augment.formant_warp)
    if augment.tilt:
        x = tilt_bands(x, rng, augment.tilt)
    if augment.time_masks:
        x = mask_times(x, rng, augment.time_masks, augment.time_width)
    return x


def fit(
    net: EncoderNet,
    windows: Windows,
    steps: int,
    seed: int = 0,
    weights: torch.Tensor | None = None,
    lr: float = 3e-3,
    batch: int = 32,
    progress: bool = False,
    augment: Augment = Augment(),  # noqa: B008 (frozen dataclass)
) -> list[float]:
    """Train one network (a member of `encoder.net`) in place for `steps` steps; the loss
    of each step. `augment` draws from a stream of its own, so that without it training is
    what it was."""
    net, device = net.train(), next(net.parameters()).device
    optimizer = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=0.01)
    warmup = min(100, steps // 10 + 1)

    def schedule(step: int) -> float:  # a short warm-up, then a cosine down to 5%
        if step < warmup:
            return (step + 1) / warmup
        return 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * (step - warmup) / (steps - warmup)))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
    weights = None if weights is None else weights.to(device)
    rng, losses, started = torch.Generator().manual_seed(seed), [], time.time()
    augment_rng = torch.Generator().manual_seed(seed + 1)
    for step in range(steps):
        x, y = windows.batch(batch, rng)
        if augment.on():  # before the band mask, which blanks what they made
            x = augment_windows(x, augment_rng, augment)
        logits = net(mask_bands(x, rng).to(device))
        loss = torch.nn.functional.cross_entropy(
            logits.reshape(-1, logits.shape[-1]),
            y.to(device).reshape(-1),
            weights,
            ignore_index=IGNORE,
        )
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        losses.append(loss.item())
        if progress and (step + 1) % 250 == 0:
            recent = np.mean(losses[-250:])
            print(
                f"step {step + 1}/{steps}  loss {recent:.3f}  {time.time() - started:.0f} s",
                flush=True,
            )
    net.eval()
    return losses


def new_encoder(examples: list[Example], config: EncoderConfig, device, seed: int = 0):
    """An untrained encoder whose normalisation starts from these examples' speech; member
    i of its ensemble starts from seed + i (member 0 is what a single network was)."""
    members = []
    for i in range(config.members):
        torch.manual_seed(seed + i)
        members.append(EncoderNet(config))
    mean, var = speech_statistics(examples, config)
    return PhoneticEncoder(Ensemble(config, members).to(device), mean, var)


def fit_members(encoder: PhoneticEncoder, windows: Windows, steps: int, seed: int = 0, **options):
    """Train each member of the ensemble as `fit` trains one, member i from seed + i (its
    windows and augmentation drawn anew); each member's losses."""
    losses = []
    for i, member in enumerate(encoder.net.members):
        if options.get("progress") and len(encoder.net.members) > 1:
            print(f"member {i + 1} of {len(encoder.net.members)}", flush=True)
        losses.append(fit(member, windows, steps, seed + i, **options))
    encoder.net.eval()
    return losses


def final_loss(losses: list[list[float]]) -> float:
    """The training loss at the end: the last 100 steps, averaged over the members."""
    return float(np.mean([np.mean(member[-100:]) for member in losses]))


def scores(labels: np.ndarray, predicted: np.ndarray) -> dict:
    """Frame accuracy, balanced accuracy (the mean recall of the classes present),
    bilabial recall, and the confusion matrix (rows: truth, columns: prediction)."""
    k = len(CLASSES)
    confusion = np.bincount(labels * k + predicted, minlength=k * k).reshape(k, k)
    truth = confusion.sum(axis=1)
    recall = np.diag(confusion) / np.maximum(truth, 1)
    bilabial = CLASSES.index("bilabial")
    return {
        "frames": int(len(labels)),
        "accuracy": float((labels == predicted).mean()) if len(labels) else float("nan"),
        "balanced_accuracy": float(recall[truth > 0].mean()) if truth.any() else float("nan"),
        "bilabial_recall": float(recall[bilabial]) if truth[bilabial] else float("nan"),
        "majority": float(truth.max() / max(truth.sum(), 1)),
        "confusion": confusion.tolist(),
    }


@dataclass
class Heard:
    """One evaluation clip, measured once for any number of encoders."""

    engine: str
    voice: str  # its voice group (`corpus.voice_group`)
    mel: np.ndarray  # [T, n_mels] log-mel
    phonemes: list


def hear(clips, fps: float) -> list[Heard]:
    """The features and phonemes of corpus clips (with audio and phonemes)."""
    return [
        Heard(
            clip.info["engine"],
            corpus.voice_group(clip.info["voice"]),
            compute_features(clip.samples, fps=fps).mel,
            clip.info["phonemes"],
        )
        for clip in clips
    ]


def evaluate(encoder: PhoneticEncoder, clips) -> dict:
    """Scores over corpus clips (or `hear`'s of them): all, per engine, per voice. Frames
    are labelled by the centre rule, as always; `pbm_centres` is the share of p/b/m whose
    centre's frame is called bilabial, each p/b/m counting once, which is what
    `eval.articulation` asks of the motion there."""
    fps = encoder.config.fps
    heard = [c if isinstance(c, Heard) else hear([c], fps)[0] for c in clips]
    bilabial = CLASSES.index("bilabial")
    rows = []  # (engine, voice group, labels, predictions, called bilabial at centres)
    for clip in heard:
        predicted = encoder.posteriors(clip.mel).argmax(axis=1)
        frames = len(predicted)
        labels = frame_labels(clip.phonemes, frames, fps)
        at = centre_frames(clip.phonemes, frames, fps, bilabial)
        rows.append((clip.engine, clip.voice, labels, predicted, predicted[at] == bilabial))

    def over(keep) -> dict:
        chosen = [r for r in rows if keep(r)]
        result = scores(
            np.concatenate([r[2] for r in chosen]), np.concatenate([r[3] for r in chosen])
        )
        centres = np.concatenate([r[4] for r in chosen])
        pbm = float(centres.mean()) if len(centres) else float("nan")
        return result | {"clips": len(chosen), "pbm_centres": pbm, "pbm": len(centres)}

    engines = sorted({r[0] for r in rows})
    voices = sorted({r[1] for r in rows})
    return {
        "all": over(lambda r: True),
        "engine": {e: over(lambda r, e=e: r[0] == e) for e in engines},
        "voice": {v: over(lambda r, v=v: r[1] == v) for v in voices},
    }


def inference_seconds(encoder: PhoneticEncoder, seconds: float = 10.0) -> dict:
    """Median wall time of the encoder (and of the mel it reads) on `seconds` of audio."""
    samples = np.random.default_rng(0).standard_normal(int(seconds * RATE)).astype(np.float32)
    times = {"features": [], "encoder": []}
    for _ in range(5):
        started = time.perf_counter()
        features = compute_features(samples * 0.1, fps=encoder.config.fps)
        middle = time.perf_counter()
        encoder.posteriors(features.mel)
        times["features"].append(middle - started)
        times["encoder"].append(time.perf_counter() - middle)
    return {k: float(np.median(v)) for k, v in times.items()}


def _cached(cache: Path | None, key: str, make) -> list:
    """Examples read from the .npz `cache` where it was made with the settings `key`
    names, else made by `make()` (and kept there)."""
    if cache and cache.is_file():
        with np.load(cache) as data:
            same = str(data["key"]) == key
        if same:
            return load_examples(cache)
    examples = make()
    if cache:
        save_examples(cache, examples, key)
    return examples


def examples_for(args: argparse.Namespace, engines: tuple[str, ...], fps: float) -> list:
    """The training examples: from `--cache` where it was made with the same settings."""
    key = cache_key(args.minutes, args.seed, fps, engines, args.singing)
    return _cached(
        Path(args.cache) if args.cache else None,
        key,
        lambda: build_examples(args.minutes, args.seed, fps, engines, args.workers, args.singing),
    )


def sung_examples_for(args: argparse.Namespace, engines: tuple[str, ...], fps: float) -> list:
    """`--sung-minutes` of utterances sung on top of the speech (sentences of their own),
    kept beside `--cache`."""
    if not args.sung_minutes:
        return []
    key = cache_key(args.sung_minutes, args.seed, fps, engines, 1.0) + f"-from{SUNG_FROM}"
    return _cached(
        Path(args.cache).with_suffix(".sung.npz") if args.cache else None,
        key,
        lambda: build_examples(
            args.sung_minutes, args.seed, fps, engines, args.workers, 1.0, first=SUNG_FROM
        ),
    )


def _espeak_on_top(args, minutes: float, fps: float, name: str, first: int, **options) -> list:
    """`minutes` of espeak-ng speech on top, from utterance `first` on (sentences of their
    own), made by `build_examples` with `options`, kept beside `--cache` as `.{name}.npz`."""
    if not minutes:
        return []
    key = cache_key(minutes, args.seed, fps, ("espeak",))
    return _cached(
        Path(args.cache).with_suffix(f".{name}.npz") if args.cache else None,
        f"{key}-{name}-from{first}",
        lambda: build_examples(
            minutes, args.seed, fps, ("espeak",), args.workers, first=first, **options
        ),
    )


def variant_examples_for(args: argparse.Namespace, fps: float) -> list:
    """`--variant-minutes` of espeak-ng utterances, each re-spoken by one of its speaker
    variants."""
    return _espeak_on_top(args, args.variant_minutes, fps, "variants", VARIANTS_FROM, respoken=True)


def babble_examples_for(args: argparse.Namespace, fps: float) -> list:
    """`--babble-minutes` of made-up words said by espeak-ng."""
    return _espeak_on_top(args, args.babble_minutes, fps, "babble", BABBLE_FROM, sentences="babble")


def vocabulary_examples_for(args: argparse.Namespace, fps: float) -> list:
    """`--vocabulary-minutes` of real English words in a row said by espeak-ng."""
    return _espeak_on_top(
        args, args.vocabulary_minutes, fps, "vocabulary", VOCABULARY_FROM, sentences="vocabulary"
    )


def all_examples(args: argparse.Namespace, engines: tuple[str, ...], fps: float) -> list:
    """The speech, then the song, the variants' speech, the babble and the vocabulary on
    top."""
    return (
        examples_for(args, engines, fps)
        + sung_examples_for(args, engines, fps)
        + variant_examples_for(args, fps)
        + babble_examples_for(args, fps)
        + vocabulary_examples_for(args, fps)
    )


def _non_negative(what: str):
    """An argparse type: a finite number, not negative (infinitely many minutes would never
    finish being made; an infinite warp reads no band at all)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = -1.0
        if not 0 <= value < math.inf:  # False for NaN too
            raise argparse.ArgumentTypeError(f"{text!r} is not {what} (0 or more)")
        return value

    return parse


def augment_of(args: argparse.Namespace) -> Augment:
    """The window augmentation the command line asks for."""
    return Augment(args.warp, args.formant_warp, args.tilt, args.time_masks, args.time_width)


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m vasa_core.training.encoder")
    parser.add_argument("--out", required=True, help="the .safetensors to write")
    parser.add_argument("--minutes", type=float, default=240.0, help="of training speech")
    parser.add_argument("--steps", type=int, default=4500, help="per member")
    parser.add_argument(
        "--members", type=int, default=1, help="networks heard together, each trained --steps"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--engines", default="espeak,festival")
    parser.add_argument(
        "--singing", type=float, default=0.0, help="share of the training utterances sung"
    )
    for flag, what, explained in (
        ("--sung-minutes", "a number of minutes", "of song besides the --minutes"),
        (
            "--variant-minutes",
            "a number of minutes",
            "of espeak-ng speech besides, every utterance by a speaker variant",
        ),
        ("--warp", "a warp", "frequency warp of each window, up to 1 + this"),
        (
            "--formant-warp",
            "a warp",
            "each formant region's own warp on top of --warp, up to 1 + this",
        ),
        ("--tilt", "an amount", "random EQ of each window, in standard deviations"),
        ("--babble-minutes", "a number of minutes", "of made-up words said by espeak-ng besides"),
        (
            "--vocabulary-minutes",
            "a number of minutes",
            "of real English words in a row said by espeak-ng besides",
        ),
    ):
        parser.add_argument(flag, type=_non_negative(what), default=0.0, help=explained)
    parser.add_argument(
        "--labels",
        default="owned",
        choices=("centre", "owned"),
        help="training labels: the phoneme at each frame's centre, or that and besides "
        "p b m f v at the frame holding their centre",
    )
    parser.add_argument(
        "--bilabial-weight",
        type=float,
        default=2.0,
        help="the bilabial class's loss weight, times its 1/sqrt(frequency)",
    )
    parser.add_argument("--time-masks", type=int, default=0, help="frame runs blanked a window")
    parser.add_argument("--time-width", type=int, default=3, help="frames each run, at most")
    parser.add_argument(
        "--validate",
        action="store_true",
        help="a comparison run: train without the validation voices "
        f"({', '.join(VALIDATION_VOICES)}), score on them only (never the held-out voices), "
        "print the scores and write no card",
    )
    parser.add_argument("--val-cache", help="an .npz to keep the validation speech in")
    parser.add_argument("--val-log", help="a .jsonl the --validate scores are appended to")
    parser.add_argument("--eval-clips", type=int, default=60, help="per set of voices")
    parser.add_argument("--workers", type=int, default=2, help="processes making speech")
    parser.add_argument(
        "--threads", type=int, help="torch's CPU threads (default: torch's own choice)"
    )
    parser.add_argument("--cache", help="an .npz to keep the training speech in")
    parser.add_argument(
        "--compare", help="an earlier encoder checkpoint to score on the same held-out clips"
    )
    parser.add_argument("--card", help="the model card (default: ENCODER_CARD.md beside --out)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    out = check_output(args.out, ".safetensors", "encoder checkpoint")
    engines = tuple(args.engines.split(","))
    config = EncoderConfig(members=args.members)
    device, clock = torch.device("cpu"), {"start": time.time()}
    examples = all_examples(args, engines, config.fps)
    clock["data"] = time.time()
    if args.threads:  # on a shared machine, fewer threads than cores can be much faster
        torch.set_num_threads(args.threads)
    print(f"{len(examples)} utterances, {sum(len(e.labels) for e in examples)} frames")
    if args.validate:
        examples = [e for e in examples if not validation_voice(e.voice)]
    encoder = new_encoder(examples, config, device, args.seed)
    windows = Windows(encoder, examples, labels=args.labels)
    weights = class_weights(examples, labels=args.labels, bilabial=args.bilabial_weight)
    augment = augment_of(args)
    losses = fit_members(
        encoder, windows, args.steps, args.seed, weights=weights, progress=True, augment=augment
    )
    clock["training"] = time.time()
    if args.validate:
        validate(args, encoder, examples, losses, config)
        return
    # Heard once: espeak-ng's samples depend on what the process spoke before, so clips made
    # twice can differ, and a comparison must score the same ones.
    clips = hear(corpus.evaluation_clips(args.eval_clips, "held-out", engines=engines), config.fps)
    held = evaluate(encoder, clips)
    seen = evaluate(encoder, corpus.evaluation_clips(args.eval_clips, "training", engines=engines))
    before = None
    if args.compare:
        before = evaluate(load_encoder(args.compare, device="cpu"), clips) | {"path": args.compare}
    clock["evaluation"] = time.time()
    run = describe(args, examples, encoder, losses, clock)
    encoder.training = run | {"held_out": {k: held[k] for k in ("all", "engine")}}
    save_encoder(out, encoder)
    card = Path(args.card) if args.card else out.with_name("ENCODER_CARD.md")
    write_card(card, run, held, seen, inference_seconds(encoder), before)
    print(
        f"held-out voices: accuracy {held['all']['accuracy']:.3f}, balanced "
        f"{held['all']['balanced_accuracy']:.3f}, bilabial recall "
        f"{held['all']['bilabial_recall']:.3f}; wrote {out} and {card}"
    )


def validate(args, encoder, examples, losses, config) -> None:
    """A comparison run's scores on the validation voices, printed (and appended to
    `--val-log`); the checkpoint is saved for a closer look, no card is written."""
    spoken = validation_set(args.val_cache, 200, 80, config.fps, args.workers)
    heard = [Heard(s.engine, s.voice, s.mel, s.phonemes) for s in spoken]
    report = evaluate(encoder, heard)
    summary = {
        "run": args.out,
        "steps": args.steps,
        "labels": args.labels,
        "bilabial_weight": args.bilabial_weight,
        "augment": vars(augment_of(args)),
        "training_utterances": len(examples),
        "final_loss": round(final_loss(losses), 4),
    }
    for name, group in [("all", report["all"])] + [
        (f"{kind} {k}", v) for kind in ("engine", "voice") for k, v in report[kind].items()
    ]:
        summary[name] = brief(group)
    # The same voices singing (fewer: song is slower to make), cached beside the speech.
    sung_cache = Path(args.val_cache).with_suffix(".sung.npz") if args.val_cache else None
    sung = validation_set(sung_cache, 80, 32, config.fps, args.workers, sung=True)
    summary["sung"] = brief(
        evaluate(encoder, [Heard(s.engine, s.voice, s.mel, s.phonemes) for s in sung])["all"]
    )
    # Words never trained on (`text.NEW_WORDS`), said by the same espeak-ng voices.
    new_cache = Path(args.val_cache).with_suffix(".new-words.npz") if args.val_cache else None
    new = validation_set(new_cache, 120, 0, config.fps, args.workers, new_words=True)
    summary["new_words"] = brief(
        evaluate(encoder, [Heard(s.engine, s.voice, s.mel, s.phonemes) for s in new])["all"]
    )
    line = json.dumps(summary)
    print(line)
    if args.val_log:
        with open(args.val_log, "a") as f:
            f.write(line + "\n")
    save_encoder(check_output(args.out, ".safetensors", "encoder checkpoint"), encoder)


def brief(group: dict) -> dict:
    """The figures a comparison is chosen by, of one group of `evaluate`."""
    confusion = np.array(group["confusion"])
    open_vowel, bilabial = CLASSES.index("open vowel"), CLASSES.index("bilabial")
    vowels = [CLASSES.index(k) for k in CLASSES if k.endswith("vowel")]
    called = confusion[vowels, bilabial].sum() / max(confusion[vowels].sum(), 1)
    return {
        "pbm_centres": round(group["pbm_centres"], 4),
        "pbm": group["pbm"],
        "bilabial_recall": round(group["bilabial_recall"], 4),
        "balanced_accuracy": round(group["balanced_accuracy"], 4),
        "accuracy": round(group["accuracy"], 4),
        "open_called_bilabial": round(
            confusion[open_vowel, bilabial] / max(confusion[open_vowel].sum(), 1), 4
        ),
        "vowels_called_bilabial": round(float(called), 4),
    }


def describe(args, examples: list[Example], encoder: PhoneticEncoder, losses, clock) -> dict:
    """How the encoder was made, for its metadata and card."""
    import platform

    marks = ["start", "data", "training", "evaluation"]
    seconds = {b: clock[b] - clock[a] for a, b in zip(marks, marks[1:], strict=False)}
    engines = [e.engine for e in examples]
    labels = np.concatenate([e.targets(args.labels) for e in examples])
    options = {
        "--members": args.members != 1,
        "--labels": args.labels != "owned",
        "--bilabial-weight": args.bilabial_weight != 2.0,
        "--engines": args.engines != "espeak,festival",
        "--singing": args.singing != 0.0,
        "--sung-minutes": args.sung_minutes != 0.0,
        "--variant-minutes": args.variant_minutes != 0.0,
        "--babble-minutes": args.babble_minutes != 0.0,
        "--vocabulary-minutes": args.vocabulary_minutes != 0.0,
        "--warp": args.warp != 0.0,
        "--formant-warp": args.formant_warp != 0.0,
        "--tilt": args.tilt != 0.0,
        "--time-masks": args.time_masks != 0,
        "--time-width": args.time_masks != 0 and args.time_width != 3,
        "--threads": args.threads,
        "--cache": args.cache,
        "--compare": args.compare,
    }
    command = (
        f"python -m vasa_core.training.encoder --out {args.out} --minutes {args.minutes:g} "
        f"--steps {args.steps} --seed {args.seed}"
    ) + "".join(f" {k} {getattr(args, k[2:].replace('-', '_'))}" for k, on in options.items() if on)
    return {
        "command": command,
        "config": encoder.config.as_dict() | {"past": encoder.config.past},
        "parameters": sum(p.numel() for p in encoder.net.parameters()),
        "minutes": len(labels) / encoder.config.fps / 60,
        "clips": len(examples),
        "sung_minutes": args.sung_minutes,
        "variant_minutes": args.variant_minutes,
        "babble_minutes": args.babble_minutes,
        "vocabulary_minutes": args.vocabulary_minutes,
        "engine_clips": ", ".join(f"{e} {engines.count(e)}" for e in sorted(set(engines))),
        "class_frames": np.bincount(labels, minlength=len(CLASSES)).tolist(),
        "labels": args.labels,
        "bilabial_weight": args.bilabial_weight,
        "augmentation": augmentation_name(),
        "window_augment": vars(augment_of(args)),
        "seed": args.seed,
        "steps": args.steps,
        "batch": 32,
        "final_loss": final_loss(losses),
        "seconds": seconds | {"total": clock["evaluation"] - clock["start"]},
        # The load over the last 15 minutes says whether other jobs shared the cores.
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"torch on {torch.get_num_threads()} thread(s), load average {os.getloadavg()[2]:.1f}",
        "held_out_voices": list(corpus.HELD_OUT_VOICE_MARKS),
    }


if __name__ == "__main__":
    main()
