"""The phonetic encoder's training data: utterances drawn as the corpus draws them, from
both synthesisers, augmented with their phoneme times kept exact, labelled frame by frame
with the encoder's classes; cached to a file, and cut into random windows."""

from __future__ import annotations

import json
import multiprocessing
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from vasa_core.audio import RATE, compute_features, festival, tts
from vasa_core.audio.encoder import (
    CLASSES,
    EncoderConfig,
    PhoneticEncoder,
)
from vasa_core.audio.load import to_mono
from vasa_core.data import corpus, text, visemes
from vasa_core.data.augment_speech import augment_speech
from vasa_core.errors import VasaError

WINDOW = 96  # frames a training window labels (3.8 s at 25 fps)
IGNORE = -100  # label of padding frames, which the loss skips


def phoneme_class(symbol: str) -> int:
    """The index in CLASSES of a phoneme (IPA, as `visemes` reads it)."""
    kind = visemes.kind(symbol)
    if kind in ("silence", "bilabial", "labiodental"):
        return CLASSES.index(kind)
    if kind == "consonant":
        return CLASSES.index("other consonant")
    if next(ch for ch in visemes.base(symbol) if ch in visemes.VOWELS) in visemes.ROUNDED:
        return CLASSES.index("rounded vowel")
    shape = {"open": "open", "open-mid": "mid", "mid": "mid", "close": "close"}
    return CLASSES.index(f"{shape[visemes.openness(symbol)]} vowel")


def frame_labels(phonemes: list, frames: int, fps: float) -> np.ndarray:
    """[frames] class of the phoneme at each frame's centre; silence where there is none."""
    labels = np.full(frames, CLASSES.index("silence"), np.int64)
    centres = (np.arange(frames) + 0.5) / fps
    for symbol, start, end in phonemes:
        labels[(centres >= start) & (centres < end)] = phoneme_class(symbol)
    return labels


# The lip gestures the motion needs at their centres, whatever their length.
OWNED = tuple(CLASSES.index(k) for k in ("labiodental", "bilabial"))


def owned_labels(phonemes: list, frames: int, fps: float) -> np.ndarray:
    """`frame_labels`, and besides: the frame holding the centre of each p b m (and f v) is
    labelled so. A p of 30 ms between two frame centres owns no frame by the centre rule
    and is never taught, yet the motion must close the lips at its centre
    (`eval.articulation` looks at that frame)."""
    labels = frame_labels(phonemes, frames, fps)
    for symbol, start, end in phonemes:
        kind = phoneme_class(symbol)
        at = int((start + end) / 2 * fps)
        if kind in OWNED and 0 <= at < frames:
            labels[at] = kind
    return labels


def centre_frames(phonemes: list, frames: int, fps: float, kind: int) -> np.ndarray:
    """The frame holding the centre of each phoneme of class `kind`."""
    at = [int((a + b) / 2 * fps) for s, a, b in phonemes if phoneme_class(s) == kind]
    return np.array([f for f in at if 0 <= f < frames], np.int64)


@dataclass
class Example:
    mel: np.ndarray  # [T, 80] log-mel, as compute_features gives it
    labels: np.ndarray  # [T] class indices (`frame_labels`)
    engine: str
    voice: str
    owned: np.ndarray | None = None  # [T] `owned_labels`

    def targets(self, labels: str) -> np.ndarray:
        """The labels of the rule named: "centre" (`frame_labels`) or "owned"."""
        return self.labels if labels == "centre" else self.owned


def augment_timed(samples: np.ndarray, phonemes: list, rng: np.random.Generator):
    """(augmented samples, phonemes retimed to them); `phonemes` cover the audio."""
    return augment_speech(samples, RATE, phonemes, rng)


def augmentation_name() -> str:
    return "augment_speech.augment_speech"


def cache_key(
    minutes: float, seed: int, fps: float, engines: tuple[str, ...], singing: float = 0.0
) -> str:
    """What a cache of training examples was made with (and holds: labels by both rules),
    so that a stale one is remade."""
    sung = f"-sung{singing}" if singing else ""
    return f"{minutes}-{seed}-{fps}-{','.join(engines)}-{augmentation_name()}-owned{sung}"


def _maybe_sing(speech, rng: np.random.Generator, share: float):
    """`corpus.maybe_sing`, and `speech` as it was where it has no vowel to hold."""
    try:
        return corpus.maybe_sing(speech, {}, rng, share)
    except VasaError:
        return speech


def _respeak(
    speech: tts.Speech, info: dict, rng: np.random.Generator, always: bool = False
) -> tuple:
    """Half the espeak-ng utterances (`always`: all of them) again, with a speaker variant
    drawn from all of espeak-ng's (the corpus draws ten): more speakers to learn that
    speakers differ."""
    if info["engine"] != "espeak" or (not always and rng.random() < 0.5):
        return speech, info
    names = [v for v in tts.variants() if " " not in v]
    voice = info["voice"].split("+")[0] + "+" + str(rng.choice(names))
    if corpus.held_out(voice):
        return speech, info
    again = tts.synthesize(info["text"], voice=voice, rate=info["rate"], pitch=info["pitch"])
    return again, info | {"voice": voice}


def training_example(
    seed: int,
    index: int,
    fps: float,
    voices: list[str],
    singing: float = 0.0,
    respoken: bool = False,
    sentences: str = "corpus",
) -> Example | None:
    """Utterance `index` for training (None where its voice is held out); `voices`: the
    festival voices to speak with (none: espeak-ng only); `singing`: the share sung;
    `respoken`: an espeak-ng utterance always re-spoken by a speaker variant; `sentences`:
    the corpus's, or "babble", made-up words (`text.babble_utterance`), or "vocabulary",
    real English words in a row (`text.vocabulary_utterance`), said by espeak-ng."""
    # Streams of their own (the 7), apart from those of the corpus's clips of this seed;
    # the fifth, for singing, leaves the first four (and a corpus without song) as before.
    streams = np.random.SeedSequence([seed, index, 7]).spawn(5)
    rng, variant_rng, audio_rng, engine_rng, sing_rng = (np.random.default_rng(s) for s in streams)
    engine = "festival" if voices and engine_rng.random() < 0.5 else "espeak"
    if sentences != "corpus":
        engine = "espeak"
    speech, info = corpus.speak(engine, rng, voices, sentences)
    speech, info = _respeak(speech, info, variant_rng, always=respoken)
    if corpus.held_out(info["voice"]):
        return None
    speech = _maybe_sing(speech, sing_rng, singing)
    samples = to_mono(speech.samples, speech.rate, max_seconds=None)
    # Pauses around it as in the corpus (and as in any recording).
    lead, tail = rng.uniform(0.1, 0.6), rng.uniform(0.2, 0.8)
    samples = np.concatenate([np.zeros(int(lead * RATE)), samples, np.zeros(int(tail * RATE))])
    timed = [("_", 0.0, lead)] + [(s, a + lead, b + lead) for s, a, b in speech.phonemes]
    timed.append(("_", timed[-1][2], len(samples) / RATE))  # augmenting keeps them covering
    samples, timed = augment_timed(samples.astype(np.float32), timed, audio_rng)
    mel = compute_features(samples, fps=fps).mel
    labels, owned = (rule(timed, len(mel), fps) for rule in (frame_labels, owned_labels))
    return Example(mel, labels, engine, info["voice"], owned)


def _example_job(job: tuple) -> Example | None:
    return training_example(*job)


# Voices of the training set kept out of training in comparison runs (`--validate`), to
# choose settings by how they carry to a speaker never heard without ever looking at the
# held-out voices: one espeak-ng variant and one accent (like +m5 and en-us-nyc), and two
# festival voices whose languages other voices still teach (like cs-machac and fi-lj).
VALIDATION_VOICES = ("+m3", "en-gb-scotland", "it-pc", "cs-krb")
VALIDATION_FESTIVAL = ("cs-krb", "it-pc")


def validation_voice(voice: str) -> bool:
    return any(mark in voice for mark in VALIDATION_VOICES)


@dataclass
class Spoken:
    """One validation utterance: what the encoder hears and the true phonemes."""

    engine: str
    voice: str  # the validation voice it counts under (a mark of VALIDATION_VOICES)
    mel: np.ndarray  # [T, 80]
    phonemes: list  # [(symbol, start_s, end_s), ...] of the augmented audio


def _espeak_validation_voice(voice: str, language: str, rng: np.random.Generator) -> str:
    """A corpus-drawn espeak-ng voice moved onto a validation voice: English half the time
    in the en-gb-scotland accent (with the drawn variant), otherwise the drawn language
    with variant m3; never a held-out voice."""
    base, _, variant = voice.partition("+")
    if language == "en" and rng.random() < 0.5:
        variant = "" if corpus.held_out("+" + variant) else variant
        return "en-gb-scotland" + (f"+{variant}" if variant else "")
    base = "en-us" if corpus.held_out(base) else base
    return f"{base}+m3"


def validation_example(
    index: int, fps: float, with_festival: bool, sung: bool = False, new_words: bool = False
) -> Spoken:
    """Utterance `index` of the validation set: sentences drawn from the evaluation seed
    (never the training one), spoken (or, `sung`, sung) by a validation voice, with pauses
    and augmentation as in training; `new_words`: English sentences of the validation part
    of `text.NEW_WORDS`, words never trained on, said by espeak-ng."""
    streams = np.random.SeedSequence([corpus.EVAL_SEED, index, 7]).spawn(5)
    rng, voice_rng, audio_rng, engine_rng, sing_rng = (np.random.default_rng(s) for s in streams)
    engine = "festival" if with_festival and engine_rng.random() < 0.5 else "espeak"
    if new_words:
        engine = "espeak"
    if engine == "espeak":
        words, language, voice = text.espeak_utterance(rng, "validation" if new_words else "corpus")
        rate, pitch = int(rng.integers(120, 230)), int(rng.integers(25, 80))
        voice = _espeak_validation_voice(voice, language, voice_rng)
        speech = tts.synthesize(words, voice=voice, rate=rate, pitch=pitch)
    else:
        words, language, voice = text.festival_utterance(rng, list(VALIDATION_FESTIVAL))
        stretch = round(float(rng.uniform(0.8, 1.3)), 3)
        speech = festival.synthesize(words, voice=voice, stretch=stretch)
    speech = _maybe_sing(speech, sing_rng, 1.0 if sung else 0.0)
    samples = to_mono(speech.samples, speech.rate, max_seconds=None)
    lead, tail = rng.uniform(0.1, 0.6), rng.uniform(0.2, 0.8)
    samples = np.concatenate([np.zeros(int(lead * RATE)), samples, np.zeros(int(tail * RATE))])
    timed = [("_", 0.0, lead)] + [(s, a + lead, b + lead) for s, a, b in speech.phonemes]
    timed.append(("_", timed[-1][2], len(samples) / RATE))
    samples, timed = augment_timed(samples.astype(np.float32), timed, audio_rng)
    mark = next(m for m in VALIDATION_VOICES if m in voice)
    return Spoken(engine, mark, compute_features(samples, fps=fps).mel, timed)


def _validation_job(job: tuple) -> Spoken:
    return validation_example(*job)


def validation_set(
    path: Path | None,
    espeak: int,
    festival_clips: int,
    fps: float,
    workers: int = 1,
    sung: bool = False,
    new_words: bool = False,
) -> list[Spoken]:
    """`espeak` and `festival_clips` validation utterances (see `validation_example`), read
    from the .npz `path` where it holds them, else made (and kept there)."""
    key = f"{espeak}-{festival_clips}-{fps}-{','.join(VALIDATION_VOICES)}-{augmentation_name()}"
    key += ("-sung" if sung else "") + ("-new-words" if new_words else "")
    if path is not None and Path(path).is_file():
        with np.load(path) as data:
            if str(data["key"]) == key:
                s, mel = data["starts"], data["mel"]
                said = zip(
                    s[:-1], s[1:], data["engines"], data["voices"], data["phonemes"], strict=True
                )
                return [
                    Spoken(str(e), str(v), mel[a:b].astype(np.float32), json.loads(str(p)))
                    for a, b, e, v, p in said
                ]
    wanted = {"espeak": espeak, "festival": festival_clips}
    spoken, index = [], 0
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        while any(wanted.values()):
            jobs = [
                (i, fps, festival_clips > 0, sung, new_words)
                for i in range(index, index + 16 * workers)
            ]
            index += len(jobs)
            for one in pool.imap(_validation_job, jobs):
                if wanted[one.engine] > 0:
                    wanted[one.engine] -= 1
                    spoken.append(one)
    if path is not None:
        np.savez(
            path,
            mel=np.concatenate([s.mel for s in spoken]).astype(np.float16),
            starts=np.cumsum([0] + [len(s.mel) for s in spoken]),
            engines=np.array([s.engine for s in spoken]),
            voices=np.array([s.voice for s in spoken]),
            phonemes=np.array([json.dumps(s.phonemes) for s in spoken]),
            key=np.array(key),
        )
    return spoken


# Where the utterances sung on top of the speech start (`build_examples(first=...)`): far
# past any speech utterance's index, so that they are sentences of their own.
SUNG_FROM = 1_000_000
VARIANTS_FROM = 2_000_000  # the first utterance of `--variant-minutes`, after the song's
BABBLE_FROM = 3_000_000  # the first of `--babble-minutes`
VOCABULARY_FROM = 4_000_000  # the first of `--vocabulary-minutes`


def build_examples(
    minutes: float,
    seed: int,
    fps: float,
    engines: tuple[str, ...],
    workers: int = 2,
    singing: float = 0.0,
    first: int = 0,
    respoken: bool = False,
    sentences: str = "corpus",
) -> list[Example]:
    """At least `minutes` of training speech (`singing` of it sung; `respoken`: every
    espeak-ng utterance by a speaker variant; `sentences`: see `training_example`), made
    by `workers` processes from utterance `first` on."""
    _, speakers = corpus.check_engines(engines)
    speakers = [v for v in speakers if not corpus.held_out(v)]
    examples, index, seconds = [], first, 0.0
    # spawn, not fork: the parent may already run torch's thread pool.
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        while seconds < minutes * 60:
            jobs = [
                (seed, i, fps, speakers, singing, respoken, sentences)
                for i in range(index, index + 16 * workers)
            ]
            index += len(jobs)
            for example in pool.imap(_example_job, jobs):
                if example is not None and seconds < minutes * 60:
                    examples.append(example)
                    seconds += len(example.labels) / fps
    return examples


def save_examples(path: Path, examples: list[Example], key: str = "") -> None:
    starts = np.cumsum([0] + [len(e.labels) for e in examples])
    np.savez(
        path,
        mel=np.concatenate([e.mel for e in examples]).astype(np.float16),
        labels=np.concatenate([e.labels for e in examples]).astype(np.int8),
        owned=np.concatenate([e.owned for e in examples]).astype(np.int8),
        starts=starts,
        engines=np.array([e.engine for e in examples]),
        voices=np.array([e.voice for e in examples]),
        key=np.array(key),
    )


def load_examples(path: Path) -> list[Example]:
    with np.load(path) as data:
        s, mel, labels = data["starts"], data["mel"], data["labels"]
        owned = data["owned"]
        return [
            Example(
                mel[a:b].astype(np.float32),
                labels[a:b].astype(np.int64),
                e,
                v,
                owned[a:b].astype(np.int64),
            )
            for a, b, e, v in zip(s[:-1], s[1:], data["engines"], data["voices"], strict=True)
        ]


def speech_statistics(examples: list[Example], config: EncoderConfig) -> tuple:
    """Per-band mean and variance of the (floored) mel of speech frames: the running
    normalisation's warm start, so that its first frames are already about right."""
    silence = CLASSES.index("silence")
    x = np.concatenate([np.maximum(e.mel[e.labels != silence], config.floor) for e in examples])
    return x.mean(axis=0).astype(np.float64), x.var(axis=0).astype(np.float64)


class Windows:
    """Random training windows over the normalised clips, laid end to end with the same
    zero padding the encoder's stream uses (past before, look-ahead and more after)."""

    def __init__(
        self,
        encoder: PhoneticEncoder,
        examples: list[Example],
        window: int = WINDOW,
        labels: str = "centre",
    ):
        c = encoder.config
        self.window, self.past, self.span = window, c.past, c.past + window + c.lookahead
        inputs, targets, starts = [], [], []
        at = 0
        for e in examples:
            after = c.lookahead + max(0, window - len(e.labels))
            inputs += [np.zeros((c.past, c.n_mels)), encoder.normaliser()(e.mel)]
            inputs.append(np.zeros((after, c.n_mels)))
            targets += [np.full(c.past, IGNORE), e.targets(labels), np.full(after, IGNORE)]
            # Windows may start at any frame that leaves a full window inside the clip.
            starts.append(at + np.arange(max(1, len(e.labels) - window + 1)))
            at += c.past + len(e.labels) + after
        self.inputs = torch.from_numpy(np.concatenate(inputs).astype(np.float32))
        self.labels = torch.from_numpy(np.concatenate(targets).astype(np.int64))
        self.starts = torch.from_numpy(np.concatenate(starts))

    def batch(self, size: int, rng: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """(inputs [size, past + W + lookahead, n_mels], labels [size, W])."""
        pick = self.starts[torch.randint(len(self.starts), (size,), generator=rng)]
        rows = pick[:, None] + torch.arange(self.span)[None]
        return self.inputs[rows], self.labels[rows[:, self.past : self.past + self.window]]
