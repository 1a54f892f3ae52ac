"""Where the generated lips fail to close: what the phonetic encoder said at those p/b/m.

    PYTHONPATH=. .venv/bin/python benchmarks/closure_misses.py [--voices training]
        [--clips 30] [--checkpoint CKPT] [--singing SHARE] [--closure-guidance 0]

For every p/b/m centre of the clips (`articulation.centre_frames`), the generated mouth is
closed or not (`articulation.CLOSED_GAP`), and the encoder's bilabial posterior there is
the highest over the centre's frames. If the misses are centres the encoder did not call
bilabial, a better generator cannot close them: the encoder is the limit. The same
posterior at open-vowel centres shows what a lower threshold would cost.

The counter-error too: each stray closure (`articulation.stray_frames`: lips shut away
from every p/b/m and pause), the highest bilabial posterior over its frames, and what is
said at its first frame. Strays the encoder did not call bilabial (under the closure
pull's ramp) are the network's own; those it called are the encoder's or the pull's.
"""

from __future__ import annotations

import argparse
from collections import Counter

import numpy as np

from vasa_core.audio import compute_features
from vasa_core.audio.encoder import CLASSES
from vasa_core.cli.common import add_lip_options, lip_sampling
from vasa_core.data import corpus, visemes
from vasa_core.eval import metrics
from vasa_core.eval.articulation import CLOSED_GAP, centre_frames, stray_frames
from vasa_core.motion.generator import MotionGenerator
from vasa_core.settings import Sampling

BILABIAL = CLASSES.index("bilabial")
QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9)


def said_at(phonemes, time: float) -> str:
    """What is said at `time`: a viseme kind, or a vowel's openness ("open vowel", ...)."""
    for symbol, start, end in phonemes:
        if start <= time < end:
            kind = visemes.kind(symbol)
            return f"{visemes.openness(symbol)} vowel" if kind == "vowel" else kind
    return "silence"


def collect(
    generator: MotionGenerator,
    clips: int,
    voices: str,
    singing: float = 0.0,
    sampling: Sampling | None = None,
) -> tuple[dict[str, np.ndarray], Counter]:
    """Per p/b/m centre, closed or missed: (posterior, opening); per open vowel the same;
    per stray closure ("stray"): (posterior, lowest opening); and a count of what is said
    at the strays. `singing`: the share of the clips sung; `sampling`: the defaults where
    None."""
    sampling = sampling or Sampling()
    found: dict[str, list] = {"closed": [], "missed": [], "open vowel": [], "stray": []}
    stray_at: Counter = Counter()
    engines = ("espeak", "festival")
    for clip in corpus.evaluation_clips(clips, voices, engines=engines, singing=singing):
        features = compute_features(clip.samples)
        heard = generator.listen(features)[:, BILABIAL]
        opening = metrics.mouth_opening(generator.generate(features, clip.controls, 0, sampling))
        phonemes, frames = clip.info["phonemes"], features.frames
        for near in centre_frames(phonemes, features.fps, frames, "bilabial"):
            kind = "closed" if opening[near].min() < CLOSED_GAP else "missed"
            found[kind].append((heard[near].max(), opening[near].min()))
        for near in centre_frames(phonemes, features.fps, frames, "open"):
            found["open vowel"].append((heard[near].max(), opening[near].max()))
        for a, b in metrics.runs_of(stray_frames(opening, phonemes, features.fps)):
            found["stray"].append((heard[a:b].max(), opening[a:b].min()))
            stray_at[said_at(phonemes, (a + 0.5) / features.fps)] += 1
    return {kind: np.array(rows).reshape(-1, 2) for kind, rows in found.items()}, stray_at


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--voices", choices=("held-out", "training"), default="training")
    parser.add_argument("--clips", type=int, default=30)
    parser.add_argument("--checkpoint")
    parser.add_argument("--singing", type=float, default=0.0, help="share of clips sung")
    add_lip_options(parser)
    args = parser.parse_args()
    sampling = lip_sampling(parser, args)
    generator = MotionGenerator(args.checkpoint, "cpu")
    found, stray_at = collect(generator, args.clips, args.voices, args.singing, sampling)
    closed, missed = len(found["closed"]), len(found["missed"])
    print(
        f"{args.voices} voices, closure guidance {sampling.closure_guidance}: "
        f"p/b/m closed {closed} of {closed + missed}"
    )
    print(f"bilabial posterior at quantiles {QUANTILES}, and the median mouth opening:")
    for kind, rows in found.items():
        if len(rows):
            print(
                f"  {kind:<11} {np.round(np.quantile(rows[:, 0], QUANTILES), 3)}"
                f"  opening {np.median(rows[:, 1]):.3f} face widths"
            )
    for threshold in (0.1, 0.2, 0.3, 0.5):
        print(
            f"  posterior > {threshold}: {np.mean(found['missed'][:, 0] > threshold):.0%} of the"
            f" misses, {np.mean(found['open vowel'][:, 0] > threshold):.0%} of the open vowels,"
            f" {np.mean(found['stray'][:, 0] > threshold):.0%} of the {len(found['stray'])}"
            " stray closures"
        )
    print("said at the stray closures' first frames:")
    for said, count in stray_at.most_common():
        print(f"  {said:<16} {count}")


if __name__ == "__main__":
    main()
