"""Speech with exact phoneme timings, offline: espeak-ng through its C API.

espeakng-loader ships libespeak-ng and its data (about 100 languages and many voice
variants). Initialised with phoneme events, espeak-ng reports every phoneme it speaks with
its position in the audio, so the timings are the synthesiser's own, not a guess.

    speech = synthesize("Hello there.", voice="en-us", rate=160, pitch=50)
    speech.samples, speech.rate, speech.phonemes  # [(symbol, start_s, end_s), ...]

Phonemes cover the audio end to end: silences are listed as "_".
"""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from vasa_core.errors import VasaError

SILENCE = "_"
_SYNCHRONOUS = 2  # AUDIO_OUTPUT_SYNCHRONOUS
_PHONEME_EVENTS, _PHONEME_IPA = 0x0001, 0x0002
_EVENT_END, _EVENT_PHONEME, _EVENT_MSG_TERMINATED = 5, 7, 6
_RATE, _PITCH = 1, 3  # espeak_PARAMETER
_CHARS_UTF8, _POS_CHARACTER = 1, 1
MAX_CHARACTERS = 5000

_lock = threading.Lock()
_engine = None


class _Id(ctypes.Union):
    _fields_ = [("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8)]


class _Event(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", _Id),
    ]


class _Voice(ctypes.Structure):
    _fields_ = [
        ("name", ctypes.c_char_p),
        ("languages", ctypes.c_char_p),
        ("identifier", ctypes.c_char_p),
        ("gender", ctypes.c_ubyte),
        ("age", ctypes.c_ubyte),
        ("variant", ctypes.c_ubyte),
        ("xx1", ctypes.c_ubyte),
        ("score", ctypes.c_int),
        ("spare", ctypes.c_void_p),
    ]


_CALLBACK = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event)
)


@dataclass
class Speech:
    samples: np.ndarray  # float32 mono
    rate: int
    phonemes: list[tuple[str, float, float]] = field(default_factory=list)
    voice: str = ""

    @property
    def seconds(self) -> float:
        return len(self.samples) / self.rate

    def phonemes_json(self) -> str:
        rows = [
            {"symbol": s, "start": round(a, 4), "end": round(b, 4)} for s, a, b in self.phonemes
        ]
        return json.dumps(rows, ensure_ascii=False, indent=1)


class _Engine:
    """The espeak-ng library, initialised once (it is a process-wide singleton)."""

    def __init__(self):
        import espeakng_loader

        self.lib = ctypes.CDLL(espeakng_loader.get_library_path())
        data = Path(espeakng_loader.get_data_path())
        if len(str(data)) > 100:  # espeak-ng truncates long data paths
            short = Path(tempfile.gettempdir()) / "vasa-espeak-ng-data"
            if not short.exists():
                shutil.copytree(data, short)
            data = short
        self.data = data
        self.lib.espeak_Initialize.restype = ctypes.c_int
        self.rate = self.lib.espeak_Initialize(
            _SYNCHRONOUS, 0, str(data.parent).encode(), _PHONEME_EVENTS | _PHONEME_IPA | 0x8000
        )
        if self.rate <= 0:
            raise VasaError("espeak-ng could not start (its data folder was not found)")
        self.lib.espeak_ListVoices.restype = ctypes.POINTER(ctypes.POINTER(_Voice))
        self.samples: list[np.ndarray] = []
        self.events: list[tuple[int, str]] = []
        self.callback = _CALLBACK(self._collect)  # keep a reference: C holds a raw pointer
        self.lib.espeak_SetSynthCallback(self.callback)

    def _collect(self, wav, count, events) -> int:
        if count > 0:
            self.samples.append(np.ctypeslib.as_array(wav, shape=(count,)).copy())
        i = 0
        while events[i].type != 0:
            event = events[i]
            if event.type == _EVENT_PHONEME:
                name = event.id.string.decode("utf-8", errors="ignore")
                self.events.append((event.audio_position, name))
            i += 1
        return 0

    def voices(self) -> list[str]:
        table = self.lib.espeak_ListVoices(None)
        names, i = [], 0
        while table[i]:
            names.append(table[i].contents.identifier.decode())
            i += 1
        return names

    def variants(self) -> list[str]:
        folder = Path(self.data) / "voices" / "!v"
        return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []

    def check_voice(self, voice: str) -> None:
        """espeak-ng quietly falls back to a default for unknown names; we say so instead."""
        language, _, variant = voice.partition("+")
        known = {v.split("/")[-1].lower() for v in self.voices()}
        if language.lower() not in known:
            raise VasaError(f"unknown voice {language!r}; `vasa tts --list-voices` lists them")
        if variant and variant not in self.variants():
            raise VasaError(f"unknown voice variant {variant!r}, e.g. f1-f5, m1-m8")

    def speak(self, text: str, voice: str, rate: int, pitch: int) -> tuple[np.ndarray, list]:
        self.check_voice(voice)
        if self.lib.espeak_SetVoiceByName(voice.encode()) != 0:
            raise VasaError(f"espeak-ng could not load the voice {voice!r}")
        self.lib.espeak_SetParameter(_RATE, int(rate), 0)
        self.lib.espeak_SetParameter(_PITCH, int(pitch), 0)
        self.samples, self.events = [], []
        data = text.encode("utf-8") + b"\0"
        status = self.lib.espeak_Synth(
            data, len(data), 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None
        )
        self.lib.espeak_Synchronize()
        if status != 0:
            raise VasaError(f"espeak-ng could not speak this text (error {status})")
        audio = np.concatenate(self.samples) if self.samples else np.zeros(0, np.int16)
        return audio.astype(np.float32) / 32768.0, list(self.events)


def _get_engine() -> _Engine:
    global _engine
    if _engine is None:
        _engine = _Engine()
    return _engine


def voices() -> list[str]:
    """Every espeak-ng voice (language or accent) by the name `synthesize` takes, e.g.
    'en-us'; add a variant with '+', e.g. 'en-us+f3' (see `variants()`)."""
    with _lock:
        return sorted({v.split("/")[-1].lower() for v in _get_engine().voices()})


def variants() -> list[str]:
    """Voice variants (speaker characters) that can follow a voice after '+'."""
    with _lock:
        return _get_engine().variants()


def synthesize(text: str, voice: str = "en-us", rate: int = 165, pitch: int = 50) -> Speech:
    """Speak `text`; `rate` in words per minute (80-450), `pitch` 0-100."""
    text = text.strip()
    if not text:
        raise VasaError("nothing to say: the text is empty")
    if len(text) > MAX_CHARACTERS:
        raise VasaError(f"the text has {len(text)} characters; at most {MAX_CHARACTERS}")
    if not 80 <= rate <= 450:
        raise VasaError(f"rate {rate} words per minute is outside 80-450")
    if not 0 <= pitch <= 100:
        raise VasaError(f"pitch {pitch} is outside 0-100")
    with _lock:
        engine = _get_engine()
        samples, events = engine.speak(text, voice, rate, pitch)
        sample_rate = engine.rate
    if samples.size == 0:
        raise VasaError("espeak-ng produced no audio for this text")
    return Speech(
        samples=samples,
        rate=sample_rate,
        phonemes=_timeline(events, len(samples) / sample_rate),
        voice=voice,
    )


def _timeline(events: list[tuple[int, str]], seconds: float) -> list[tuple[str, float, float]]:
    """Phoneme events (start in ms, symbol) to contiguous (symbol, start, end) in seconds."""
    marks = sorted((max(0.0, ms / 1000.0), _symbol(name)) for ms, name in events)
    rows: list[tuple[str, float, float]] = []
    cursor = 0.0
    for i, (start, symbol) in enumerate(marks):
        start = min(max(start, cursor), seconds)
        end = marks[i + 1][0] if i + 1 < len(marks) else seconds
        end = min(max(end, start), seconds)
        if start > cursor + 1e-6:
            rows.append((SILENCE, cursor, start))
        if end > start:
            if rows and rows[-1][0] == symbol == SILENCE:
                rows[-1] = (SILENCE, rows[-1][1], end)
            else:
                rows.append((symbol, start, end))
        cursor = max(cursor, end)
    if cursor < seconds - 1e-6:
        rows.append((SILENCE, cursor, seconds))
    return rows


def _symbol(name: str) -> str:
    """espeak's phoneme names; pauses (empty, '_', '_:', ...) become SILENCE."""
    name = name.strip()
    return SILENCE if not name or name.startswith("_") else name


def save_speech(speech: Speech, out: str | os.PathLike, phonemes: str | os.PathLike | None) -> None:
    """The WAV, and the phoneme timings if asked for, both written whole or neither."""
    import soundfile

    from vasa_core.files import atomic_writes

    with atomic_writes(out, *([phonemes] if phonemes else [])) as files:
        soundfile.write(files[0], speech.samples, speech.rate, format="WAV", subtype="PCM_16")
        if phonemes:
            files[1].write(speech.phonemes_json().encode())
