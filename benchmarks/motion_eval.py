"""Evaluate a motion checkpoint on voices and sentences it never saw, against the corpus's
own motion and the rule-based baseline.

    .venv/bin/python benchmarks/motion_eval.py [--checkpoint CKPT] [--encoder ENC] [--clips 30]
        [--json] [--plot PNG] [--engines espeak,festival] [--singing SHARE] [--words new]
        [--voices held-out|training|validation] [--lip-audio-guidance G] [--closure-ramp A,B]

Eval clips come from a corpus seed never used for training (99), keeping only the voices
held out of training (`vasa_core.data.corpus.HELD_OUT_VOICE_MARKS`). The share of p/b/m
centres with the lips closed is also given voice by voice, since the target holds on every
held-out voice, not on their average, and pooled by held-out voice (`corpus.voice_group`:
en-us-nyc+m5 counts under +m5), with the blinks' rate, peak closure and duration there.
`--words new`: English sentences whose p/b/m words were never trained on
(`vasa_core.data.text.NEW_WORDS`), for how far the lip-sync carries past the corpus's
small vocabulary.
"""

from __future__ import annotations

import argparse
import itertools
import json

import numpy as np

from vasa_core import schema
from vasa_core.audio import compute_features
from vasa_core.cli.common import add_lip_options, lip_sampling
from vasa_core.data import corpus, visemes
from vasa_core.errors import VasaError
from vasa_core.eval import metrics
from vasa_core.eval.articulation import articulation, held_notes, pooled_closure, pooled_strays
from vasa_core.motion.baseline import baseline_motion
from vasa_core.motion.controls import Controls
from vasa_core.motion.generator import MotionGenerator
from vasa_core.settings import Sampling
from vasa_core.training.encoder_data import validation_voice


def eval_clips(
    count: int, voices: str, engines: tuple[str, ...], singing: float, words: str = "corpus"
):
    """`count` clips of the evaluation sentences: spoken by the held-out voices, by training
    voices, or by the phonetic encoder's validation voices ("validation": training voices
    that an encoder trained with `--validate` never heard, where settings that depend on
    how sure the encoder is of a new speaker are chosen; give that encoder as --encoder)."""
    if voices != "validation":
        yield from corpus.evaluation_clips(
            count, voices, engines=engines, singing=singing, words=words
        )
        return
    found = corpus.evaluation_clips(
        10**9, "training", engines=engines, singing=singing, words=words
    )
    yield from itertools.islice((c for c in found if validation_voice(c.info["voice"])), count)


def join_jump(motion, window: int) -> float:
    """Mean |velocity| of mouth and pose where one window hands over to the next, divided
    by elsewhere (windows advance by `window` frames)."""
    key = [schema.index(n) for n in ("yaw", "pitch", "roll", "jaw_open")]
    speed = np.abs(np.diff(motion[:, key], axis=0)).mean(axis=1)
    joins = np.arange(window - 1, len(speed), window)
    others = np.setdiff1d(np.arange(len(speed)), joins)
    return float(speed[joins].mean() / (speed[others].mean() + 1e-9)) if len(joins) else 1.0


def evaluate(
    checkpoint=None,
    clips: int = 30,
    sampling: Sampling = Sampling(),  # noqa: B008 (frozen dataclass)
    voices: str = "held-out",
    plot: str | None = None,
    device=None,
    engines: tuple[str, ...] = ("espeak",),
    singing: float = 0.0,
    encoder=None,
    words: str = "corpus",
) -> dict:
    """`encoder`: the phonetic encoder the generator listens through (a checkpoint path;
    None: the shipped one). The clips, and the corpus truth, are the same whatever it is.
    `words`: the corpus's, or "new" (see `corpus.evaluation_clips`)."""
    generator = MotionGenerator(checkpoint, device, encoder)

    def sample(features, controls, seed):
        return generator.generate(features, controls, seed, sampling)

    rows = {"truth": [], "model": [], "baseline": []}
    extra, by_voice, blinks = {}, {}, {}
    example = None
    stride = generator.window - min(sampling.overlap, generator.window // 2)
    for clip in eval_clips(clips, voices, engines, singing, words):
        features = compute_features(clip.samples)
        motions = {
            "truth": clip.motion,
            "model": sample(features, clip.controls, 0),
            "baseline": baseline_motion(features),
        }
        if example is None:
            example = (clip, features, motions)
        for name, motion in motions.items():
            rows[name].append(_articulation(motion, clip, features))
        by_voice.setdefault(clip.info["voice"], []).append(rows["model"][-1])
        shapes = metrics.blink_shapes(motions["model"], features.fps)
        group = blinks.setdefault(corpus.voice_group(clip.info["voice"]), [[], 0.0])
        group[0].append(shapes)
        group[1] += features.frames / features.fps / 60
        figures = _control_figures(sample, features, clip.controls, motions["model"], stride)
        figures["seed_sync_diff"] = abs(
            figures.pop("other_seed_sync") - rows["model"][-1]["lip_sync_correlation"]
        )
        for key, value in figures.items():
            extra.setdefault(key, []).append(value)
    report = {}
    for name, values in rows.items():
        report[name] = {k: round(float(np.nanmean([v[k] for v in values])), 3) for k in values[0]}
        for key in ("av_offset_frames", "offset_frames"):
            report[name][f"abs_{key}"] = round(float(np.mean([abs(v[key]) for v in values])), 2)
        report[name]["bilabial_closed"] = round(pooled_closure(values)[0], 3)
        # Pooled over the clips' speech, not a mean of clips' rates (short clips are noisy).
        report[name]["stray_closures_per_minute"] = round(pooled_strays(values), 1)
        vowels = sum(v["vowels"] for v in values)
        report[name]["vowels_shut"] = round(sum(v["vowels_shut"] for v in values) / vowels, 4)
        for key in ("stray_closures", "speech_seconds", "vowels"):
            report[name].pop(key)
        if "held" in report[name]:  # pooled over the notes, as the p/b/m are
            notes = [(v["held"], v["held_notes"]) for v in values if v.get("held_notes")]
            if notes:
                share, count = np.array(notes).T
                report[name]["held"] = round(float(np.average(share, weights=count)), 3)
                report[name]["held_notes"] = int(count.sum())
    report["controls"] = {k: round(float(np.nanmean(v)), 3) for k, v in extra.items()}
    report["model_bilabial_closed_by_voice"] = {}
    for voice, voice_rows in sorted(by_voice.items()):
        share, count = pooled_closure(voice_rows)
        report["model_bilabial_closed_by_voice"][voice] = {
            "closed": round(share, 3),
            "bilabials": count,
        }
    report["model_by_voice_group"] = _by_group(by_voice, blinks)
    report["clips"] = clips
    report["training"] = generator.training.get("steps")
    report["encoder"] = encoder or "shipped"
    if plot:
        save_plot(plot, *example)
    return report


def _by_group(by_voice: dict, blinks: dict) -> dict:
    """Per voice group: p/b/m closed, and the blinks pooled over its clips (a short clip
    has a blink or none, so a rate per clip says little): per minute, the lowest and
    median peak closure, the shortest and longest time past half closed in ms."""
    rows = {}
    for voice, voice_rows in by_voice.items():
        rows.setdefault(corpus.voice_group(voice), []).extend(voice_rows)
    out = {}
    for group, (shapes, minutes) in sorted(blinks.items()):
        shapes = np.concatenate(shapes)
        share, count = pooled_closure(rows[group])
        out[group] = {"closed": round(share, 3), "bilabials": count, "blinks": len(shapes)}
        out[group]["stray_closures_per_minute"] = round(pooled_strays(rows[group]), 1)
        out[group]["blinks_per_minute"] = round(len(shapes) / minutes, 1)
        if len(shapes):
            peak, seconds = shapes.T
            out[group] |= {
                "blink_peak_min": round(float(peak.min()), 3),
                "blink_peak_median": round(float(np.median(peak)), 3),
                "blink_ms_min": round(1000 * float(seconds.min())),
                "blink_ms_max": round(1000 * float(seconds.max())),
            }
    return out


def _articulation(motion, clip, features) -> dict:
    """The motion's summary figures, and its articulation at the clip's phoneme times (the
    loudness correlation also rewards a mouth that just follows loudness)."""
    row = metrics.summary(motion, features)
    opening = metrics.mouth_opening(motion)
    row |= articulation(opening, clip.info["phonemes"], features.fps)
    if "notes" in clip.info:  # a sung clip: does the mouth hold its notes open?
        row |= held_notes(opening, clip.info["notes"], features.fps)
    return row


def _control_figures(sample, features, controls, model, stride: int) -> dict:
    """How the model follows its controls and seeds on one clip."""
    gaze = model[:, [schema.index("gaze_yaw"), schema.index("gaze_pitch")]].mean(axis=0)
    scale = model[:, schema.index("scale")].mean()
    steady = (controls.gaze_yaw, controls.gaze_pitch, controls.distance)
    neutral = sample(features, Controls(*steady), 0)
    happy = sample(features, Controls(*steady, "happy", 1.0), 0)
    other = sample(features, controls, 1)
    return {
        "gaze_error": float(np.abs(gaze - [controls.gaze_yaw, controls.gaze_pitch]).max()),
        "distance_error": float(abs(scale / controls.distance - 1)),
        "happy_smile_shift": float((happy - neutral)[:, schema.index("smile")].mean()),
        "join_ratio": join_jump(model, stride),
        "seed_yaw_corr": float(np.corrcoef(model[:, 0], other[:, 0])[0, 1]),
        "other_seed_sync": metrics.summary(other, features)["lip_sync_correlation"],
    }


def save_plot(path: str, clip, features, motions: dict) -> None:
    """Loudness, mouth opening and head pose of one clip: corpus truth, model, baseline."""
    from matplotlib.figure import Figure

    seconds = np.arange(features.frames) / features.fps
    fig = Figure(figsize=(12, 8), layout="constrained")
    loud, mouth, yaw, pitch = fig.subplots(4, 1, sharex=True)
    loud.plot(seconds, np.where(features.speech, features.loudness, np.nan), color="0.3")
    loud.set_ylabel("loudness (dB)\nspeech frames")
    voice = clip.info["voice"]
    which = "held-out" if corpus.held_out(voice) else "training"
    loud.set_title(f'{which} voice {voice}: "{clip.info.get("text", "")[:90]}"', fontsize=10)
    style = {
        "truth": ("corpus truth", "0.55", 3.0),
        "model": ("model", "C3", 1.4),
        "baseline": ("baseline", "C0", 1.0),
    }
    for name, motion in motions.items():
        label, colour, width = style[name]
        mouth.plot(seconds, metrics.mouth_opening(motion), color=colour, lw=width, label=label)
        for axis, channel in ((yaw, "yaw"), (pitch, "pitch")):
            if name != "baseline":
                axis.plot(seconds, motion[:, schema.index(channel)], color=colour, lw=width)
    for s, a, b in clip.info["phonemes"]:
        if visemes.kind(s) == "bilabial":
            mouth.axvspan(a, b, color="C2", alpha=0.2, lw=0)
    mouth.set_ylabel("mouth opening\n(face widths)")
    mouth.legend(loc="upper right", fontsize=8, title="green: p, b, m", title_fontsize=8)
    yaw.set_ylabel("yaw (deg)")
    pitch.set_ylabel("pitch (deg)")
    pitch.set_xlabel("seconds")
    fig.savefig(path, dpi=90)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint")
    parser.add_argument(
        "--encoder", help="phonetic encoder checkpoint the model listens through (default: shipped)"
    )
    parser.add_argument("--clips", type=int, default=30)
    defaults = Sampling()
    parser.add_argument("--steps", type=int, default=defaults.steps)
    parser.add_argument("--audio-guidance", type=float, default=defaults.audio_guidance)
    parser.add_argument("--head-temperature", type=float, default=defaults.head_temperature)
    parser.add_argument("--smooth-frames", type=float, default=defaults.smooth_frames)
    add_lip_options(parser)
    parser.add_argument("--engines", default="espeak", help="espeak, festival or both")
    parser.add_argument("--singing", type=float, default=0.0, help="share of clips sung")
    parser.add_argument(
        "--words",
        choices=("corpus", "new"),
        default="corpus",
        help="the corpus's words in new sentences, or English words never trained on",
    )
    parser.add_argument("--device", default="auto", help="cpu, cuda or auto")
    parser.add_argument(
        "--voices",
        choices=("held-out", "training", "validation"),
        default="held-out",
        help="training or validation voices: for choosing settings without looking at the "
        "held-out report (validation: see eval_clips)",
    )
    parser.add_argument("--plot", metavar="PNG", help="curves of the first clip")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    sampling = lip_sampling(
        parser,
        args,
        steps=args.steps,
        audio_guidance=args.audio_guidance,
        head_temperature=args.head_temperature,
        smooth_frames=args.smooth_frames,
    )
    engines = tuple(args.engines.split(","))
    try:
        report = evaluate(
            args.checkpoint,
            args.clips,
            sampling,
            args.voices,
            args.plot,
            args.device,
            engines,
            args.singing,
            args.encoder,
            args.words,
        )
    except VasaError as error:
        raise SystemExit(f"motion_eval: error: {error}") from None
    if args.json:
        print(json.dumps(report, indent=2))
        return
    keys = list(report["truth"])
    print(f"{'':10}" + "".join(f"{k[:14]:>16}" for k in keys))
    for name in ("truth", "model", "baseline"):
        print(f"{name:10}" + "".join(f"{report[name][k]:>16.3f}" for k in keys))
    print("controls and seeds:", report["controls"])
    print("model's p/b/m closed, voice by voice:")
    for voice, row in report["model_bilabial_closed_by_voice"].items():
        print(f"  {voice:24} {row['closed']:6.1%} of {row['bilabials']}")
    print("pooled by voice group: p/b/m closed; blinks per minute, peak, ms past half closed:")
    for group, row in report["model_by_voice_group"].items():
        shape = (
            f"lowest peak {row['blink_peak_min']:.2f}, median {row['blink_peak_median']:.2f}, "
            f"{row['blink_ms_min']}-{row['blink_ms_max']} ms"
            if row["blinks"]
            else "no whole blink"
        )
        print(
            f"  {group:24} {row['closed']:6.1%} of {row['bilabials']:<4}"
            f"{row['blinks_per_minute']:5.1f}/min ({row['blinks']}), {shape}; "
            f"stray closures {row['stray_closures_per_minute']}/min"
        )


if __name__ == "__main__":
    main()
