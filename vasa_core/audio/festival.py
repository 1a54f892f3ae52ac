"""Speech with phoneme timings from Festival, the corpus's second synthesiser.

A motion model trained on one synthesiser learns that synthesiser's sound. Festival's
diphone and unit-selection voices sound nothing like espeak-ng's formant voices, so the
corpus speaks with both (`vasa_core.data.corpus`). Festival runs as its own program
(Debian: `apt-get install festival festvox-kdlpc16k`): each call writes a short Scheme
script into a temporary folder and runs `festival --batch` on it, which saves the audio
(`utt.save.wave`) and festival's own segment end times (`utt.save.segs`).

    speech = synthesize("Bob made a map.", voice="en-ked")
    speech.samples, speech.rate, speech.phonemes  # [(symbol, start_s, end_s), ...]
    samples, rate, segments = speak("Bob made a map.", "en-ked")  # festival's own phones

Festival is deterministic: the same text and voice give the same samples, bit for bit.

Every voice has its own phone set (ARPAbet-like for English, SAMPA-like elsewhere); the
tables below turn each into the IPA symbols `vasa_core.data.visemes` reads, so "p b m"
close the lips whichever engine spoke them. Phonemes cover the audio end to end, pauses
as `tts.SILENCE`, and the vowel of a stressed syllable carries "ˈ" as espeak-ng marks it.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vasa_core.audio.tts import MAX_CHARACTERS, SILENCE, Speech
from vasa_core.errors import VasaError

STRESS = "ˈ"
# Festival's English lexicons (Debian festlex-cmu and festlex-poslex, both brought by
# festvox-kdlpc16k): the CMU pronouncing dictionary, and the words of the Wall Street
# Journal with their parts of speech. Together, the kit's source of real English words.
LEXICONS = (
    Path("/usr/share/festival/dicts/cmu/cmudict-0.4.out"),
    Path("/usr/share/festival/dicts/wsj.wp39.poslexR"),
)
TIMEOUT_S = 120.0  # a long utterance takes a few seconds; a stuck festival is a bug


@dataclass(frozen=True)
class Voice:
    name: str  # the kit's name for it, as `synthesize` takes it
    function: str  # the Scheme function that selects it in festival
    language: str  # ISO 639-1, as in vasa_core.data.text
    encoding: str  # the bytes festival's text analysis expects for this voice
    phone_set: str  # which table of PHONES maps its phones
    # "lexicon": the lexicon marks stressed syllables. "word": it does not (Czech keeps a
    # whole word as one syllable), and the language stresses each word's first syllable.
    stress: str
    package: str  # the Debian package that installs it


@dataclass
class Segment:
    phone: str  # festival's name for it
    end: float  # seconds
    syllable: str  # an id shared by the segments of one syllable
    stress: int  # that syllable's lexical stress, 0 for none
    vowel: bool  # festival's own phone feature vc


# What the voices of one language share: the encoding of their text, their phone set and
# where stress comes from. The encodings were tried one by one: the Finnish voices say
# "unknown character" for UTF-8 letters and read ISO-8859-1; Italian reads ISO-8859-1 too,
# Czech ISO-8859-2, and the Russian voice UTF-8 (as its proclaim_voice says).
LANGUAGES = {
    "en": ("iso-8859-1", "radio", "lexicon"),
    "it": ("iso-8859-1", "italian", "lexicon"),
    "ru": ("utf-8", "msu_ru", "lexicon"),
    "fi": ("iso-8859-1", "finnish", "lexicon"),
    "cs": ("iso-8859-2", "czech", "word"),
}


def _voice(name: str, function: str, package: str) -> Voice:
    language = name.split("-")[0]
    return Voice(name, function, language, *LANGUAGES[language], package)


VOICES = {
    v.name: v
    for v in (
        _voice("en-ked", "voice_ked_diphone", "festvox-kdlpc16k"),
        _voice("it-lp", "voice_lp_diphone", "festvox-italp16k"),
        _voice("it-pc", "voice_pc_diphone", "festvox-itapc16k"),
        _voice("ru-nsh", "voice_msu_ru_nsh_clunits", "festvox-ru"),
        _voice("fi-lj", "voice_suo_fi_lj_diphone", "festvox-suopuhe-lj"),
        _voice("fi-mv", "voice_hy_fi_mv_diphone", "festvox-suopuhe-mv"),
        _voice("cs-dita", "voice_czech_dita", "festvox-czech-dita"),
        _voice("cs-krb", "voice_czech_krb", "festvox-czech-krb"),
        _voice("cs-machac", "voice_czech_machac", "festvox-czech-machac"),
        _voice("cs-ph", "voice_czech_ph", "festvox-czech-ph"),
    )
}


def _table(pairs: str) -> dict[str, str]:
    """'festival=ipa festival=ipa ...' to a dict; '_' on the right is a pause."""
    return dict(pair.split("=", 1) for pair in pairs.split())


# Festival phone -> IPA, one table per phone set, each covering the set as festival defines
# it (PhoneSet.description; tests/test_festival.py checks). Long vowels keep "ː" and
# palatalised consonants "ʲ": visemes.base strips them, the symbols stay honest.
PHONES = {
    # English (ked): the "radio" set, ARPAbet in lower case. Vowel qualities as espeak-ng's
    # en-us writes them; syllabic el/em/en are their consonant with the syllabic mark.
    "radio": _table(
        "aa=ɑː ae=æ ah=ʌ ao=ɔː aw=aʊ ax=ə axr=ər ay=aɪ eh=ɛ er=ɜː ey=eɪ ih=ɪ iy=iː ow=oʊ "
        "oy=ɔɪ uh=ʊ uw=uː b=b ch=tʃ d=d dh=ð dx=ɾ el=l̩ em=m̩ en=n̩ f=f g=ɡ hh=h hv=ɦ "
        "jh=dʒ k=k l=l m=m n=n nx=n ng=ŋ p=p r=ɹ s=s sh=ʃ t=t th=θ v=v w=w y=j z=z zh=ʒ "
        "pau=_ h#=_ brth=_"
    ),
    # Italian (lp, pc): E O are the open e o; a trailing 1 marks the stressed vowel (the
    # syllable's stress says the same); J is gn, L gli, nf the n of "inferno" (labiodental).
    "italian": _table(
        "i=i e=e E=ɛ a=a o=o O=ɔ u=u i1=i e1=e E1=ɛ a1=a o1=o O1=ɔ u1=u j=j w=w "
        "p=p t=t k=k b=b d=d g=ɡ f=f s=s S=ʃ v=v z=z Z=ʒ ts=ts tS=tʃ dz=dz dZ=dʒ "
        "m=m n=n J=ɲ ng=ŋ nf=ɱ l=l L=ʎ r=r #=_"
    ),
    # Russian (nsh): doubled vowels are stressed, single ones reduced (a: the reduced a/o,
    # ae ay ur: the second degree of reduction); doubled consonants are the soft ones.
    "msu_ru": _table(
        "ii=i yy=ɨ uu=u ee=e oo=o aa=a a=ɐ e=e i=ɪ y=ɨ u=ʊ ae=ə ay=ɪ ur=ʊ "
        "p=p pp=pʲ b=b bb=bʲ t=t tt=tʲ d=d dd=dʲ k=k kk=kʲ g=ɡ gg=ɡʲ c=ts ch=tʃʲ "
        "f=f ff=fʲ v=v vv=vʲ s=s ss=sʲ z=z zz=zʲ sh=ʃ sch=ʃʲː zh=ʒ h=x hh=xʲ "
        "m=m mm=mʲ n=n nn=nʲ l=l ll=lʲ r=r rr=rʲ j=j pau=_"
    ),
    # Finnish (lj, mv): "@" is ä, "7" is ö, "&" a schwa; ":" makes a phone long. # and ##
    # are pauses (## a phrase break).
    "finnish": _table(
        "a=ɑ e=e i=i o=o u=u y=y @=æ 7=ø &=ə a:=ɑː e:=eː i:=iː o:=oː u:=uː y:=yː @:=æː 7:=øː "
        "p=p t=t k=k b=b d=d g=ɡ f=f T=θ s=s S=ʃ h=h v=ʋ m=m n=n N=ŋ l=l L=l r=r j=j w=w "
        "p:=pː t:=tː k:=kː b:=bː d:=dː g:=ɡː f:=fː T:=θː D:=ðː s:=sː z:=zː S:=ʃː Z:=ʒː "
        "h:=hː v:=ʋː m:=mː n:=nː N:=ŋː w:=wː l:=lː L:=lː r:=rː j:=jː ##=_ #=_"
    ),
    # Czech (dita, krb, machac, ph): "~" marks the háček letters, ":" a long vowel. "_" is
    # not a pause but the short glottal onset festival puts between two vowels (25 ms):
    # a glottal stop, so the mouth does not fall shut inside a word. n* is the n before k.
    "czech": _table(
        "a=a a:=aː e=ɛ e:=ɛː i=ɪ i:=iː o=o o:=oː u=u u:=uː b=b c=ts c~=tʃ ch=x d=d d~=ɟ "
        "dz=dz dz~=dʒ f=f g=ɡ h=ɦ j=j k=k l=l m=m n=n n*=ŋ n~=ɲ p=p r=r r~=r̝ r~*=r̝̊ "
        "s=s s~=ʃ t=t t~=c v=v z=z z~=ʒ _=ʔ #=_"
    ),
}

# One sentence per language that wakes most of its phones: the test of the tables, and
# `python -m vasa_core.audio.festival`'s sample.
SAMPLES = {
    "en": "Bob, my boy, maybe buy the blue vase? Few jokes, though, shock George at the zoo.",
    "it": "Il babbo compra gnocchi e aglio; lei vuole un'amaca blu, perciò zio Gigi paga.",
    "ru": "Мама, папа и бабушка поехали в парк; щенок жуёт мяч, а ёж пьёт чай.",
    "fi": "Äiti ja pappa ostavat pullaa; mökin öljy, sää ja Bob ovat hyviä, eikö?",
    "cs": "Babička a máma pekly buchty; ježek Ťapka dělá ňamňam, kůň říká hó.",
}


def installed() -> bool:
    """Is the festival program on PATH?"""
    return shutil.which("festival") is not None


def _lexicon_entries(path: Path) -> set[str]:
    """The words a festival lexicon lists (lines `("word" ...)`) that are plain lower-case
    spellings of 2-12 letters: no names, abbreviations or numbers."""
    if not path.is_file():
        raise VasaError(
            f"festival's English lexicon {path} is missing: "
            "apt-get install festlex-cmu festlex-poslex"
        )
    words = set()
    for line in path.read_text(encoding="iso-8859-1").splitlines():
        if line.startswith('("'):
            word = line[2 : line.index('"', 2)]
            if 2 <= len(word) <= 12 and word.isalpha() and word.isascii() and word.islower():
                words.add(word)
    return words


@functools.cache
def english_words() -> tuple[str, ...]:
    """English words, sorted: those in both of festival's English lexicons, so that each is
    written in newspaper text (the WSJ's) and has a dictionary pronunciation (the CMU's)."""
    cmu, wsj = (_lexicon_entries(path) for path in LEXICONS)
    return tuple(sorted(cmu & wsj))


def voices() -> list[str]:
    """The kit's festival voices by the names `synthesize` takes, e.g. 'en-ked'."""
    return list(VOICES)


@functools.cache
def installed_voices() -> list[str]:
    """The kit's voices that festival finds here (asked once per process)."""
    if not installed():
        raise VasaError("festival is not installed: apt-get install festival festvox-kdlpc16k")
    with tempfile.TemporaryDirectory(prefix="vasa-festival-") as folder:
        (Path(folder) / "list.scm").write_text("(print (voice.list))\n")
        said = _call(Path(folder), "list.scm").stdout.decode(errors="replace")
    found = set(said.strip().strip("()").split())
    return [name for name, v in VOICES.items() if v.function.removeprefix("voice_") in found]


def voice_info(name: str) -> Voice:
    """The voice called `name`, or a VasaError that lists the known ones."""
    if name not in VOICES:
        raise VasaError(f"unknown festival voice {name!r}; known: {', '.join(VOICES)}")
    return VOICES[name]


def synthesize(text: str, voice: str = "en-ked", stretch: float = 1.0) -> Speech:
    """Speak `text` with a festival voice; `stretch` > 1 speaks slower (0.5-2, times the
    voice's own Duration_Stretch; the Russian unit-selection voice keeps the timing of its
    recordings whatever the stretch)."""
    info = voice_info(voice)
    if not 0.5 <= stretch <= 2.0:
        raise VasaError(f"stretch {stretch} is outside 0.5-2")
    samples, rate, segments = speak(text, voice, stretch)
    if samples.size == 0:
        raise VasaError(f"festival produced no audio for this text (voice {voice})")
    phonemes = _timeline(_symbols(segments, info), len(samples) / rate)
    return Speech(samples=samples, rate=rate, phonemes=phonemes, voice=voice)


def phone_set(voice: str) -> dict[str, bool]:
    """Every phone of the voice's phone set as festival itself defines it: is it a vowel?"""
    script = (
        '(mapcar (lambda (p) (format t "%s %s\\n" (car p) (cadr p)))'
        " (car (cdr (assoc 'phones (PhoneSet.description '(phones))))))"
    )
    with tempfile.TemporaryDirectory(prefix="vasa-festival-") as folder:
        said = _festival(Path(folder), voice_info(voice), script)
    return {phone: vc == "+" for phone, vc in (line.split() for line in said.splitlines())}


def inventory(texts: list[str], voice: str) -> Counter:
    """How often the voice speaks each of its phones in `texts`."""
    return Counter(segment.phone for text in texts for segment in speak(text, voice)[2])


# The script scales the voice's own pace (ked speaks at 1.1, the others at 1), speaks, saves
# the audio and the segments' end times, and writes one line per segment with what
# utt.save.segs leaves out: its syllable, that syllable's stress, and whether it is a vowel.
_SCRIPT = """
(Parameter.set 'Duration_Stretch (* {stretch:.4f} (or (Parameter.get 'Duration_Stretch) 1)))
(set! utt (SynthText "{text}"))
(utt.save.wave utt "speech.wav" 'riff)
(utt.save.segs utt "speech.segs")
(set! out (fopen "features.txt" "w"))
(mapcar
  (lambda (seg)
    (format out "%s %s %s\\n"
      (item.feat seg "R:SylStructure.parent.id")
      (item.feat seg "R:SylStructure.parent.stress")
      (item.feat seg "ph_vc")))
  (utt.relation.items utt 'Segment))
(fclose out)
"""


def speak(text: str, voice: str, stretch: float = 1.0) -> tuple[np.ndarray, int, list[Segment]]:
    """Festival's own answer, before any mapping: the samples, their rate and its segments."""
    import soundfile

    info = voice_info(voice)
    text = _check_text(text)
    quoted = text.replace("\\", "\\\\").replace('"', '\\"')  # a Scheme string
    with tempfile.TemporaryDirectory(prefix="vasa-festival-") as name:
        folder = Path(name)
        _festival(folder, info, _SCRIPT.format(stretch=stretch, text=quoted))
        samples, rate = soundfile.read(folder / "speech.wav", dtype="float32")
        ends = _read_segs(folder / "speech.segs", info.encoding)
        features = (folder / "features.txt").read_text(info.encoding).splitlines()
    if len(features) != len(ends):
        raise VasaError(f"festival listed {len(ends)} segments but {len(features)} features")
    segments = []
    for (phone, end), line in zip(ends, features, strict=True):
        syllable, stress, vowel = line.split()
        segments.append(Segment(phone, end, syllable, int(float(stress)), vowel == "+"))
    return samples, int(rate), segments


def _check_text(text: str) -> str:
    text = text.strip()
    if not text:
        raise VasaError("nothing to say: the text is empty")
    if len(text) > MAX_CHARACTERS:
        raise VasaError(f"the text has {len(text)} characters; at most {MAX_CHARACTERS}")
    return text


def _festival(folder: Path, voice: Voice, body: str) -> str:
    """Run `body` in festival in `folder`, after selecting `voice`; what festival printed."""
    if not installed():
        raise VasaError(f"festival is not installed: apt-get install festival {voice.package}")
    try:
        (folder / "speak.scm").write_bytes(f"({voice.function})\n{body}".encode(voice.encoding))
    except UnicodeEncodeError as error:
        bad = error.object[error.start : error.end]
        raise VasaError(
            f"festival voice {voice.name} reads {voice.encoding}, which cannot write {bad!r}"
        ) from None
    done = _call(folder, "speak.scm")
    said = (done.stdout + done.stderr).decode(voice.encoding, errors="replace")
    if f"unbound variable : {voice.function}" in said:
        raise VasaError(
            f"festival voice {voice.name} is not installed: apt-get install {voice.package}"
        )
    if done.returncode != 0:
        last = [line.strip() for line in said.splitlines() if line.strip()][-2:]
        raise VasaError(f"festival failed (exit {done.returncode}): {' / '.join(last)}")
    return done.stdout.decode(voice.encoding, errors="replace")


def _call(folder: Path, script: str) -> subprocess.CompletedProcess:
    """festival --batch on `script` in `folder`, its output captured."""
    try:
        return subprocess.run(
            ["festival", "--batch", script],
            cwd=folder,
            capture_output=True,
            stdin=subprocess.DEVNULL,
            timeout=TIMEOUT_S,
        )
    except subprocess.TimeoutExpired:
        raise VasaError(f"festival did not finish within {TIMEOUT_S:.0f} s") from None


def _read_segs(path: Path, encoding: str) -> list[tuple[str, float]]:
    """utt.save.segs: a header that ends with a line '#', then 'end 100 phone' lines."""
    lines = path.read_text(encoding).splitlines()
    body = lines[lines.index("#") + 1 :]
    return [(parts[2], float(parts[0])) for parts in (line.split() for line in body) if parts]


def _symbols(segments: list[Segment], voice: Voice) -> list[tuple[str, float]]:
    """Festival's segments to (IPA symbol, end). The first vowel of a stressed syllable gets
    espeak-ng's stress mark "ˈ", on which the corpus's head nods (data/synth.py)."""
    table = PHONES[voice.phone_set]
    marked: set[str] = set()
    out = []
    for segment in segments:
        if segment.phone not in table:
            raise VasaError(f"festival voice {voice.name} spoke {segment.phone!r}, not mapped")
        symbol = table[segment.phone]
        stressed = segment.stress > 0 or voice.stress == "word"
        if stressed and segment.vowel and segment.syllable not in marked:
            marked.add(segment.syllable)
            symbol = STRESS + symbol
        out.append((symbol, segment.end))
    return out


def _timeline(ends: list[tuple[str, float]], seconds: float) -> list[tuple[str, float, float]]:
    """(symbol, end) in order to contiguous (symbol, start, end) over exactly `seconds`.

    Festival's last segment ends a few milliseconds before the audio does (or, for the
    Russian voice, after it): the end is clamped to the audio and any rest is a pause."""
    rows: list[tuple[str, float, float]] = []
    cursor = 0.0
    for symbol, end in ends + [(SILENCE, seconds)]:
        end = min(max(end, cursor), seconds)
        if end <= cursor:
            continue
        if rows and rows[-1][0] == symbol == SILENCE:
            rows[-1] = (SILENCE, rows[-1][1], end)
        else:
            rows.append((symbol, cursor, end))
        cursor = end
    return rows


def main() -> None:
    """Print every voice's phones in its sample sentence, with their IPA, and any not mapped."""
    for name, voice in VOICES.items():
        heard = inventory([SAMPLES[voice.language]], name)
        table = PHONES[voice.phone_set]
        print(f"{name} ({voice.function}, {len(heard)} phones):")
        print("  " + " ".join(f"{p}={table.get(p, '?')}x{n}" for p, n in sorted(heard.items())))
        missing = sorted(set(heard) - set(table))
        if missing:
            print(f"  NOT MAPPED: {' '.join(missing)}")


if __name__ == "__main__":
    main()
