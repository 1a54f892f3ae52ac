"""The synthetic corpus: (audio features, motion, controls) pairs with exact timing.

    vasa corpus --out DIR --minutes 60 --seed 0

Each clip: a generated utterance in one of five languages, spoken by a random espeak-ng
voice and variant at a random rate and pitch, augmented with its phoneme times kept exact
(data/augment_speech.py: pitch and formants, tempo, room, noise, telephone band, codec,
level), turned into what the generator hears per video frame (audio/condition.py: the
phonetic encoder's posteriors and the prosody), paired with a motion synthesised from its
phoneme timings (synth.py) under random controls.

With `engines=("espeak", "festival")` each clip draws its synthesiser too: Festival's
diphone and unit-selection voices (audio/festival.py) sound unlike espeak-ng's, so the
model cannot learn one synthesiser's sound in place of speech. Each clip records its
`engine` and `voice`; festival's clips come out the same bit for bit for the same seed.

With `singing=0.3` about three clips in ten are sung (data/singing.py): each vowel held
as a note of a melody, consonants at their spoken length, the phoneme times exact. The
motion comes from the same viseme rules on the sung times, so a held vowel holds the
mouth open. A sung clip records `sung: true` and its `notes` ([start_s, end_s, midi]); it
lasts about three times as long as spoken, so its share of the minutes is larger. The
choice draws from a stream of its own: with `singing=0` a seed gives the same corpus as
before singing joined, and the clips left spoken are the same whatever the share.

On disk, DIR holds shards `shard-0000.npz`, ... and `manifest.json` (seed, voices, sizes,
schema version). A shard stores its clips back to back: `features` [N, 12] float16,
`motion` [N, 22], `speech` [N], `clip_start` [C + 1] (row where each clip starts),
`valid` [N] (all true here; ingested videos mark frames without a face),
`controls` [C, 10], and `clips` (JSON: text, voice, phonemes, ...). The same seed gives the
same corpus, up to espeak-ng's own millisecond jitter. A failed build leaves no shard behind.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from vasa_core import schema
from vasa_core.audio import RATE, compute_features, festival
from vasa_core.audio.condition import DIM as CONDITION_DIM
from vasa_core.audio.condition import condition
from vasa_core.audio.encoder import PhoneticEncoder, load_encoder
from vasa_core.audio.load import to_mono
from vasa_core.audio.tts import Speech, synthesize
from vasa_core.data import text
from vasa_core.data.augment_speech import augment_speech
from vasa_core.data.singing import Sung, sing
from vasa_core.data.synth import synthesize_motion
from vasa_core.errors import VasaError
from vasa_core.files import reason
from vasa_core.motion import controls as ctl

FORMAT_VERSION = 2  # 2: features are the generator's condition (audio/condition.py)
SHARD_MINUTES = 5.0


@dataclass
class Clip:
    features: np.ndarray  # [T, CONDITION_DIM] what the generator hears
    motion: np.ndarray  # [T, DIM]
    speech: np.ndarray  # [T] bool
    controls: ctl.Controls
    info: dict  # text, voice, phonemes, ...
    samples: np.ndarray | None = None  # the audio, kept for plots and checks
    valid: np.ndarray | None = None  # [T] bool, for measured motion (ingest); None: all valid


# Voices never seen in training. Of festival's, one Czech voice (three others still teach
# Czech) and one Finnish voice (fi-mv still teaches Finnish): figures on them measure a new
# speaker of a known language, as the espeak-ng ones do. ked, the only English festival
# voice, and nsh, the only Russian one, stay in training, or the model would never hear
# festival's English or Russian.
HELD_OUT_VOICE_MARKS = ("+m5", "en-us-nyc", "cs-machac", "fi-lj")
EVAL_SEED = 99  # the seed of the evaluation clips: sentences never trained on
ENGINES = ("espeak", "festival")


def held_out(voice: str) -> bool:
    """Is this voice kept out of training (for validation and evaluation)?"""
    return any(mark in voice for mark in HELD_OUT_VOICE_MARKS)


def voice_group(voice: str) -> str:
    """The held-out voice a clip's voice belongs to (en-us-nyc+m5 counts under +m5), or
    the voice itself."""
    return next((m for m in HELD_OUT_VOICE_MARKS if m in voice), voice)


def evaluation_clips(
    count: int,
    voices: str = "held-out",
    seed: int = EVAL_SEED,
    engines: tuple[str, ...] = ("espeak",),
    singing: float = 0.0,
    words: str = "corpus",
):
    """`count` clips of sentences never trained on, spoken by voices held out of training
    ("held-out": what figures are reported on) or by training voices ("training": for
    choosing settings without looking at the held-out figures).

    `singing`: the share of them sung; at 1.0 every clip is the same sentence in the same
    voice as at 0.0, only sung, so a figure on song compares like with like. `words`:
    "corpus", the corpus's words in new sentences, or "new", English words never trained
    on (`text.NEW_WORDS`: its evaluation part for held-out voices, its validation part for
    training voices), spoken by espeak-ng."""
    engines, speakers = check_engines(engines)
    if words not in ("corpus", "new"):
        raise VasaError(f"words are the corpus's or new, not {words!r}")
    if words == "new" and engines != ("espeak",):
        raise VasaError("new words are spoken by espeak-ng's English voices: --engines espeak")
    sentences = {"corpus": "corpus", "new": "evaluation" if voices == "held-out" else "validation"}
    index = 0
    while count > 0:
        clip = make_clip(
            seed,
            index,
            keep_audio=True,
            engines=engines,
            festival_voices=speakers,
            singing=singing,
            sentences=sentences[words],
        )
        index += 1
        if held_out(clip.info["voice"]) == (voices == "held-out"):
            count -= 1
            yield clip


def random_controls(rng: np.random.Generator) -> ctl.Controls:
    emotion = str(rng.choice(ctl.EMOTIONS, p=[0.4, 0.15, 0.15, 0.15, 0.15]))
    return ctl.Controls(
        gaze_yaw=float(np.clip(rng.normal(0, 8), -25, 25)),
        gaze_pitch=float(np.clip(rng.normal(0, 5), -15, 15)),
        distance=float(rng.uniform(0.85, 1.2)),
        emotion=emotion,
        intensity=0.0 if emotion == "neutral" else float(rng.uniform(0.3, 1.0)),
        motion=float(rng.uniform(0.5, 1.5)),
    )


def check_engines(engines: tuple[str, ...]) -> tuple[tuple[str, ...], list[str]]:
    """The engines, checked, and the festival voices installed here (none without festival).

    A corpus speaks with the festival voices that are installed (the manifest lists them),
    so one voice's package is enough to start with."""
    engines = tuple(engines)
    unknown = sorted(set(engines) - set(ENGINES))
    if not engines or unknown:
        raise VasaError(f"unknown engine {', '.join(unknown) or '(none given)'}; use {ENGINES}")
    if "festival" not in engines:
        return engines, []
    speakers = festival.installed_voices()
    if not speakers:
        raise VasaError(
            "festival has none of the kit's voices: apt-get install festival festvox-kdlpc16k"
        )
    return engines, speakers


def check_share(singing: float) -> None:
    """The share of clips to sing must be a share: 0 to 1."""
    if not 0 <= singing <= 1:
        raise VasaError(f"singing is the share of clips sung, 0 to 1, not {singing}")


def make_clip(
    seed: int,
    index: int = 0,
    fps: float = 25.0,
    keep_audio: bool = False,
    engines: tuple[str, ...] = ("espeak",),
    festival_voices: list[str] | None = None,
    singing: float = 0.0,
    encoder: PhoneticEncoder | None = None,
    sentences: str = "corpus",
) -> Clip:
    """Clip `index` of the corpus with `seed`: a random utterance, its augmented audio's
    features, and a motion to go with it.

    Each part draws from its own random stream, so the text, voice, controls and every
    random choice are the same in every run. espeak-ng itself jitters a little from call
    to call (its voice source, and phoneme times by about a millisecond), so audio and
    timings are reproduced up to that jitter. The engine, when there is a choice, draws
    from a fifth stream: an espeak-ng clip is the same clip whatever the other engines.
    Whether to sing (with chance `singing`) and the song draw from a sixth (spawning six
    streams gives the same first five as spawning five). `encoder`: the phonetic encoder
    whose posteriors the features hold (None: the shipped one). `sentences`: "corpus", or
    a part of `text.NEW_WORDS`, English words never trained on (espeak-ng only).
    """
    streams = np.random.SeedSequence([seed, index]).spawn(6)
    rng, audio_rng, control_rng, motion_rng, engine_rng, sing_rng = (
        np.random.default_rng(s) for s in streams
    )
    engine = engines[0] if len(engines) == 1 else str(engine_rng.choice(engines))
    speech, info = speak(engine, rng, festival_voices, sentences)
    speech = maybe_sing(speech, info, sing_rng, singing)
    samples = to_mono(speech.samples, speech.rate, max_seconds=None)
    # A little silence around the utterance, as in any recording.
    lead, tail = rng.uniform(0.1, 0.6), rng.uniform(0.2, 0.8)
    samples = np.concatenate([np.zeros(int(lead * RATE)), samples, np.zeros(int(tail * RATE))])
    timed = [("_", 0.0, lead)] + [(s, a + lead, b + lead) for s, a, b in speech.phonemes]
    timed.append(("_", timed[-1][2], len(samples) / RATE))
    plain = len(samples)
    samples, phonemes = augment_speech(samples.astype(np.float32), RATE, timed, audio_rng)
    phonemes = _merge_silences(phonemes)
    speed = plain / len(samples)  # the tempo change: times scaled by 1 / speed
    if isinstance(speech, Sung):  # the notes move with the phonemes: lead, then tempo
        info["notes"] = [
            [round((a + lead) / speed, 4), round((b + lead) / speed, 4), m]
            for a, b, m in speech.notes
        ]
    features = compute_features(samples, fps=fps)
    controls = random_controls(control_rng)
    motion = synthesize_motion(phonemes, features, controls, motion_rng)
    info |= {
        "speed": speed,
        "seconds": len(samples) / RATE,
        "phonemes": phonemes,
        "controls": controls.as_dict(),
    }
    return Clip(
        condition(features, encoder or shipped_encoder()),
        motion,
        features.speech,
        controls,
        info,
        samples if keep_audio else None,
    )


@lru_cache(maxsize=1)
def shipped_encoder() -> PhoneticEncoder:
    """The shipped phonetic encoder on the CPU, loaded once per process."""
    return load_encoder(device="cpu")


def speak(
    engine: str,
    rng: np.random.Generator,
    festival_voices: list[str] | None,
    sentences: str = "corpus",
) -> tuple[Speech, dict]:
    """A random utterance spoken by `engine`, and what to record of it; `sentences`: the
    corpus's, "babble" (made-up words) or a part of `text.NEW_WORDS` (both espeak-ng only).

    The espeak-ng branch draws exactly what it always has, in the same order, so a seed
    gives the same espeak-ng corpus as before festival joined."""
    if engine == "espeak":
        words, language, voice = text.espeak_utterance(rng, sentences)
        rate, pitch = int(rng.integers(120, 230)), int(rng.integers(25, 80))
        speech = synthesize(words, voice=voice, rate=rate, pitch=pitch)
        voicing = {"rate": rate, "pitch": pitch}
    else:
        voices = festival_voices if festival_voices is not None else festival.installed_voices()
        words, language, voice = text.festival_utterance(rng, voices)
        stretch = round(float(rng.uniform(0.8, 1.3)), 3)  # a slower or quicker speaker
        speech = festival.synthesize(words, voice=voice, stretch=stretch)
        voicing = {"stretch": stretch}
    info = {"text": words, "language": language, "engine": engine, "voice": voice}
    return speech, info | voicing


def maybe_sing(speech: Speech, info: dict, rng: np.random.Generator, share: float) -> Speech:
    """`speech`, sung with chance `share` (then `info` says so). With `share` 0 nothing is
    drawn at all, so no stream moves."""
    check_share(share)
    if share == 0 or rng.random() >= share:
        return speech
    info["sung"] = True
    return sing(speech, rng)


def _merge_silences(phonemes: list[tuple[str, float, float]]) -> list[tuple[str, float, float]]:
    """Join neighbouring pauses into one and drop empty entries."""
    out: list[tuple[str, float, float]] = []
    for symbol, start, end in phonemes:
        if end <= start:
            continue
        if out and symbol == out[-1][0] == "_":
            out[-1] = ("_", out[-1][1], end)
        else:
            out.append((symbol, start, end))
    return out


def build(
    out: str | os.PathLike,
    minutes: float,
    seed: int = 0,
    fps: float = 25.0,
    progress: bool = True,
    engines: tuple[str, ...] = ("espeak",),
    singing: float = 0.0,
) -> Path:
    """Write a corpus of at least `minutes` of audio to `out`; returns the manifest path.

    `engines`: the synthesisers, ("espeak",) or ("espeak", "festival"); with several, each
    clip draws one evenly. `singing`: the share of clips sung (0 to 1)."""
    from tqdm import tqdm

    if minutes <= 0:
        raise VasaError(f"--minutes must be positive, not {minutes}")
    engines, speakers = check_engines(engines)  # before any folder is made
    check_share(singing)
    work = start_folder(out)
    started = time.time()
    shards, voices, frames, count, pending = [], set(), 0, 0, []
    try:
        with tqdm(total=round(minutes * 60), unit="s", desc="corpus", disable=not progress) as bar:
            seconds = 0.0
            while seconds < minutes * 60 or pending:
                if seconds < minutes * 60:
                    index = count + len(pending)
                    clip = make_clip(seed, index, fps, False, engines, speakers, singing)
                    pending.append(clip)
                    voices.add(clip.info["voice"])
                    seconds += clip.info["seconds"]
                    bar.update(round(seconds) - bar.n)
                full = sum(len(c.motion) for c in pending) / fps >= SHARD_MINUTES * 60
                if full or seconds >= minutes * 60:
                    shards.append(write_shard(work, len(shards), pending))
                    frames += sum(len(c.motion) for c in pending)
                    count += len(pending)
                    pending = []
        return finish_folder(
            work,
            out,
            shards,
            source="synthetic",
            seed=seed,
            fps=fps,
            minutes=frames / fps / 60,
            frames=frames,
            clips=count,
            voices=sorted(voices),
            engines=list(engines),
            **({"festival_voices": speakers} if speakers else {}),
            **({"singing": singing} if singing else {}),
            build_seconds=round(time.time() - started, 1),
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


def start_folder(out: str | os.PathLike) -> Path:
    """Check that `out` is new or empty and make a hidden work folder inside it.

    Shards are written there and moved into place only with the manifest, at the end, so
    a build that fails or is interrupted leaves nothing behind (the caller removes it).
    """
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise VasaError(f"{out}: exists and is not empty; choose a new folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=".building-", dir=out))
    except OSError as error:
        raise VasaError(f"{out}: cannot write here ({error.strerror})") from None


def finish_folder(work: Path, out: str | os.PathLike, shards: list[str], **facts) -> Path:
    """Write the manifest and move it and the shards from `work` into `out`."""
    out = Path(out)
    manifest = {
        "format_version": FORMAT_VERSION,
        "schema_version": schema.SCHEMA_VERSION,
        "channels": list(schema.NAMES),
        "controls": ctl.DIM,
        "emotions": list(ctl.EMOTIONS),
        "feature_dim": CONDITION_DIM,
        "shards": shards,
    } | facts
    manifest["minutes"] = round(manifest["minutes"], 3)
    (work / "manifest.json").write_text(json.dumps(manifest, indent=2))
    for name in [*shards, "manifest.json"]:
        os.replace(work / name, out / name)
    return out / "manifest.json"


def write_shard(folder: Path, index: int, clips: list[Clip]) -> str:
    """Clips back to back in one .npz; `valid` marks frames whose motion was measured."""
    name = f"shard-{index:04d}.npz"
    starts = np.cumsum([0] + [len(c.motion) for c in clips])
    clip_info = [
        c.info | {"phonemes": [[s, round(a, 4), round(b, 4)] for s, a, b in c.info["phonemes"]]}
        for c in clips
    ]
    np.savez(
        folder / name,
        features=np.concatenate([c.features for c in clips]).astype(np.float16),
        motion=np.concatenate([c.motion for c in clips]).astype(np.float32),
        speech=np.concatenate([c.speech for c in clips]),
        valid=np.concatenate(
            [np.ones(len(c.motion), bool) if c.valid is None else c.valid for c in clips]
        ),
        clip_start=starts.astype(np.int64),
        controls=np.stack([c.controls.vector() for c in clips]),
        clips=np.array(json.dumps(clip_info, ensure_ascii=False)),
    )
    return name


def load(folder: str | os.PathLike) -> tuple[dict, list[dict]]:
    """The manifest and every shard's arrays (clips parsed from JSON)."""
    folder = Path(folder)
    if not folder.is_dir():
        kind = "a file, not a corpus folder" if folder.exists() else "no such corpus folder"
        raise VasaError(f"{folder}: {kind}")
    try:
        manifest = json.loads((folder / "manifest.json").read_text())
    except FileNotFoundError:
        raise VasaError(
            f"{folder}: not a corpus (no manifest.json; `vasa corpus` or `vasa ingest` makes one)"
        ) from None
    except (OSError, ValueError) as error:
        cause = reason(error) if isinstance(error, OSError) else f"not valid JSON: {error}"
        raise VasaError(f"{folder}: not a corpus (manifest.json: {cause})") from None
    if manifest.get("format_version") != FORMAT_VERSION:
        raise VasaError(
            f"{folder}: a corpus of format {manifest.get('format_version')}, this version reads "
            f"{FORMAT_VERSION} (its features are the phonetic encoder's); build it again"
        )
    if manifest.get("schema_version") != schema.SCHEMA_VERSION:
        raise VasaError(f"{folder}: made for motion schema v{manifest.get('schema_version')}")
    shards = []
    for name in manifest["shards"]:
        with np.load(folder / name, allow_pickle=False) as data:
            shard = {key: data[key] for key in data.files}
        shard["clips"] = json.loads(str(shard["clips"]))
        shards.append(shard)
    return manifest, shards
