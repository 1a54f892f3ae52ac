"""The phonetic encoder's model card, ENCODER_CARD.md: what it is, how it was made (the
commands and their wall times), and its figures on voices it never heard."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np

from vasa_core.audio.encoder import (
    CLASSES,
)
from vasa_core.data import corpus
from vasa_core.training.encoder_data import WINDOW


def _score_rows(report: dict) -> list[str]:
    rows = [
        "| | clips | frames | accuracy | balanced accuracy | bilabial recall "
        "| p/b/m centres called | majority |"
    ]
    rows.append("|---|---:|---:|---:|---:|---:|---:|---:|")
    groups = [("all", report["all"])]
    groups += [(f"engine {k}", v) for k, v in report["engine"].items()]
    groups += [(f"voice {k}", v) for k, v in report["voice"].items()]
    for name, s in groups:
        rows.append(
            f"| {name} | {s['clips']} | {s['frames']} | {s['accuracy']:.3f} | "
            f"{s['balanced_accuracy']:.3f} | {s['bilabial_recall']:.3f} | "
            f"{s['pbm_centres']:.3f} of {s['pbm']} | {s['majority']:.3f} |"
        )
    return rows


def _confusion_rows(confusion: list[list[int]]) -> list[str]:
    """The confusion matrix as percentages of each true class (rows sum to 100)."""
    short = [c.replace(" vowel", "").replace("other ", "") for c in CLASSES]
    rows = ["| true \\ predicted | " + " | ".join(short) + " | frames |"]
    rows.append("|---" + "|---:" * (len(CLASSES) + 1) + "|")
    for name, counts in zip(CLASSES, np.array(confusion), strict=True):
        share = 100 * counts / max(counts.sum(), 1)
        rows.append(f"| {name} | " + " | ".join(f"{p:.0f}" for p in share) + f" | {counts.sum()} |")
    return rows


LIMITS = """\
- It has heard two synthesisers only (espeak-ng's formant voices and festival's diphone
  voices), augmented; no human speech. How far that carries to real voices is not measured
  here: the held-out voices are new speakers of the same synthesisers.
- Festival's Czech and Finnish held-out voices read the same dozen written sentences the
  training voices read (festival's text has no templates in those languages), so their
  figures measure a new voice more than new words.
- Labels are the synthesisers' own phoneme times, one class per 40 ms frame: a frame
  across a boundary is labelled by one side only. Vowel classes follow
  `vasa_core.data.visemes` (a diphthong counts as its first vowel).
- espeak-ng's p/b/m are its weak spot: many of its b and p last under 30 ms, and those
  are called bilabial least often, on training voices as on held-out ones.
- Normalisation is running, per band, started from the training speech: the first second
  of a very quiet or strongly coloured recording is normalised less well than the rest.
  Log-mel below -14 (digital silence) is raised to -14.
"""


def _wrap(*parts: str) -> str:
    """One paragraph of the card, wrapped as the rest of the kit's Markdown is."""
    return textwrap.fill(" ".join(p for p in parts if p), width=88, break_on_hyphens=False)


LABELS = {
    "centre": "the phoneme at each frame's centre",
    "owned": "the phoneme at each frame's centre, and besides, each p b m (and f v) at the "
    "frame holding its own centre, so that one shorter than a frame still owns one",
}


def write_card(
    path: Path, run: dict, held: dict, seen: dict, speed: dict, before: dict | None = None
) -> None:
    """ENCODER_CARD.md: what the encoder is, how it was made, what it scores; with
    `before` (an earlier encoder's scores on the same held-out clips, and its "path"), the
    two side by side. The hand-written sections of the card it replaces are kept."""
    kept = hand_written(path.read_text()) if path.is_file() else {}
    c, took = run["config"], run["seconds"]
    frames = ", ".join(f"{k} {v}" for k, v in zip(CLASSES, run["class_frames"], strict=True))
    weight = run.get("bilabial_weight", 1.0)
    blocks = [
        "# Phonetic encoder: `encoder.safetensors`",
        _wrap(
            "Per-frame posteriors over",
            ", ".join(CLASSES),
            f"from the 80-band log-mel of `vasa_core.audio.features` at {c['fps']:g} fps",
            f"(`vasa_core.audio.encoder`). {_networks(c.get('members', 1), run['parameters'])}",
            f"a first layer over {c['front_past']} past and {c['lookahead']}",
            f"future frames, then causal residual blocks dilated {list(c['dilations'])}",
            f"({c['past']} frames of past in all); look-ahead {c['lookahead']} frames",
            f"({1000 * c['lookahead'] / c['fps']:.0f} ms). Its input is standardised by a",
            f"running per-band mean and variance (time constant {c['decay_s']:g} s, pauses",
            "counting a tenth) started from the training speech's, so that it runs live,",
            "chunk by chunk, with the same numbers as on a whole clip.",
        ),
        "## Data",
        _wrap(
            f"{run['minutes']:.1f} minutes of generated speech ({run['clips']} utterances:",
            f"{run['engine_clips']}), drawn as the corpus draws them (seed {run['seed']}),",
            _on_top(run),
            "half the espeak-ng ones re-spoken by any of its speaker variants, augmented by",
            f"`vasa_core.data.{run['augmentation']}`. Never the held-out voices",
            f"({', '.join(corpus.HELD_OUT_VOICE_MARKS)}). Labels: the synthesisers' own",
            f"phoneme times, {LABELS[run.get('labels', 'centre')]}. Training frames: {frames}.",
            "Loss: cross-entropy weighted by 1 / sqrt(class frequency)"
            + (f", the bilabial class's times {weight:g}." if weight != 1 else "."),
        ),
        "## Reproduce",
        f"```\n{run['command']}\n```",
        _wrap(
            f"Wall time on this machine ({run['machine']} over the last 15 minutes):",
            f"{took['total']:.0f} s in all: data {took['data']:.0f} s, training",
            f"{took['training']:.0f} s ({run['steps']} steps of {run['batch']} windows of",
            f"{WINDOW} frames{', each member' if c.get('members', 1) > 1 else ''}),",
            f"evaluation {took['evaluation']:.0f} s. Final training loss",
            f"{run['final_loss']:.3f}. The tests: `python -m pytest tests/test_encoder.py`.",
            "`--cache` keeps the speech it makes, and the song, the variants' speech, the",
            "babble and the vocabulary beside it, for later runs to read"
            + (f"; `{before['path']}`: the encoder this one replaced." if before else "."),
        ),
        *kept.get(HAND_WRITTEN[0], []),
        *_figures(held, seen, speed),
        *_comparison(held, before),
        *kept.get(HAND_WRITTEN[1], []),
        "## Limits",
        LIMITS,
    ]
    path.write_text("\n\n".join(blocks))


# The card's sections that people write (the history of choices, what the motion made of
# the encoder), in the order they stand: a new card keeps them where they were.
HAND_WRITTEN = ("## How the settings were chosen", "## The motion with it")


def hand_written(card: str) -> dict[str, list[str]]:
    """The hand-written sections of `card` (a heading of HAND_WRITTEN up to the next
    "## " heading), each as its heading and body."""
    kept, current = {}, None
    for line in card.splitlines():
        if line.startswith("## "):
            current = line if line in HAND_WRITTEN else None
        if current is not None:
            kept.setdefault(current, []).append(line)
    return {head: ["\n".join(lines).strip()] for head, lines in kept.items()}


# What the card says of each kind of speech made on top of the --minutes, in its order.
ON_TOP = (
    ("sung_minutes", "of those minutes sung as the corpus sings, sentences of their own"),
    (
        "variant_minutes",
        "more of espeak-ng sentences of their own, every one spoken by one of its speaker"
        " variants (`--variant-minutes`)",
    ),
    (
        "babble_minutes",
        "more of made-up words said by espeak-ng (`--babble-minutes`,"
        " `text.babble_utterance`), every consonant beside every vowel",
    ),
    (
        "vocabulary_minutes",
        "more of real English words in a row said by espeak-ng (`--vocabulary-minutes`,"
        " `text.vocabulary_utterance`: festival's English lexicons less the new-word"
        " evaluation's words)",
    ),
)


def _on_top(run: dict) -> str:
    """The speech made on top of the --minutes, as the card says it."""
    said = [f"{run[key]:g} {what}" for key, what in ON_TOP if run.get(key)]
    return "; ".join(said) + "; of all of it," if said else ""


def _networks(members: int, parameters: int) -> str:
    """What the card says the encoder is: one network, or an ensemble of them."""
    if members == 1:
        return f"A convolutional network of {parameters:,} parameters:"
    return (
        f"An ensemble of {members} convolutional networks whose probabilities are multiplied,"
        f" {parameters:,} parameters in all, trained alike from seeds seed .. seed +"
        f" {members - 1}; each:"
    )


def _figures(held: dict, seen: dict, speed: dict) -> list[str]:
    return [
        "## On held-out voices",
        _wrap(
            f"The corpus's evaluation clips (`corpus.evaluation_clips`, seed {corpus.EVAL_SEED}:",
            "sentences never trained on, augmented as the corpus augments) spoken by voices",
            "never trained on (a clip of en-us-nyc+m5 counts under +m5). Majority: the share",
            "of the commonest class, what always guessing it scores. Balanced accuracy: the",
            "mean recall of the classes. Frames are labelled by the centre rule whatever",
            "the training labels. P/b/m centres called: the share of p/b/m whose centre's",
            "frame is called bilabial, each counting once, the frame where",
            "`vasa_core.eval.articulation` asks the motion to close the lips.",
        ),
        "\n".join(_score_rows(held)),
        "Confusion on the held-out voices, % of each true class (rows sum to 100):",
        "\n".join(_confusion_rows(held["all"]["confusion"])),
        "For reference, the same on training voices (new sentences), used to choose settings:",
        "\n".join(_score_rows(seen)[: 3 + len(seen["engine"])]),
        "## Speed",
        _wrap(
            f"10 s of audio on this CPU: the encoder {1000 * speed['encoder']:.1f} ms, the mel",
            f"it reads (`compute_features`) {1000 * speed['features']:.1f} ms (medians of 5).",
        ),
    ]


def _comparison(held: dict, before: dict | None) -> list[str]:
    """The earlier encoder against this one on the same held-out clips."""
    if before is None:
        return []
    rows = ["| | bilabial recall, before → now | p/b/m centres called | balanced accuracy |"]
    rows.append("|---|---:|---:|---:|")
    groups = [("all", "all", None)]
    groups += [(f"engine {k}", "engine", k) for k in held["engine"]]
    groups += [(f"voice {k}", "voice", k) for k in held["voice"]]
    for name, kind, key in groups:
        a = before[kind] if key is None else before[kind][key]
        b = held[kind] if key is None else held[kind][key]
        rows.append(
            f"| {name} | {a['bilabial_recall']:.3f} → {b['bilabial_recall']:.3f} | "
            f"{a['pbm_centres']:.3f} → {b['pbm_centres']:.3f} | "
            f"{a['balanced_accuracy']:.3f} → {b['balanced_accuracy']:.3f} |"
        )
    return [
        "## Against the encoder before",
        _wrap(
            f"`{before['path']}` (read as it was before this one replaced it) on the same",
            "held-out clips as above:",
        ),
        "\n".join(rows),
    ]
