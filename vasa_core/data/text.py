"""A generator of varied sentences to speak: questions, lists, numbers, exclamations,
statements, in five languages, so the corpus hears many rhythms and intonations.

`utterance` gives text for espeak-ng's voices; `festival_utterance` for Festival's (English,
Italian, Russian, Finnish and Czech), mixing the templates with written sentences full of
lip closures (p b m) and open vowels, the moments where a mouth shows most whether it
follows the sound. `new_words_utterance` gives English sentences whose every word with a
p, b or m is in none of those: lip-sync on words never heard in training.
"""

from __future__ import annotations

import functools

import numpy as np

from vasa_core.audio import festival

WORDS = {
    "en": {
        "noun": "train river teacher garden computer window story coffee market bicycle "
        "mountain letter doctor kitchen museum".split(),
        "adj": "quiet bright strange lovely busy tiny famous careful sudden gentle".split(),
        "verb": "leave open arrive start close begin return change".split(),
        "name": "Maria Ben Priya Tom Aiko Omar Lena Paul".split(),
    },
    "de": {
        "noun": "Zug Garten Lehrer Fenster Kaffee Markt Berg Brief".split(),
        "adj": "ruhig hell seltsam schön klein berühmt".split(),
        "name": "Anna Jonas Lea Felix".split(),
    },
    "fr": {
        "noun": "train jardin fenêtre café marché montagne lettre musée".split(),
        "adj": "calme étrange joli petit célèbre doux".split(),
        "name": "Marie Luc Chloé Hugo".split(),
    },
    "es": {
        "noun": "tren jardín ventana café mercado montaña carta museo".split(),
        "adj": "tranquilo extraño bonito pequeño famoso suave".split(),
        "name": "Lucía Mateo Sofía Diego".split(),
    },
    "it": {
        "noun": "treno giardino finestra caffè mercato montagna lettera museo".split(),
        "adj": "tranquillo strano bello piccolo famoso dolce".split(),
        "name": "Giulia Marco Sara Luca".split(),
    },
}
TEMPLATES = {
    "en": [
        "What time does the {noun} {verb}?",
        "We need a {noun}, a {noun2} and a {noun3}.",
        "It costs {number} dollars and {small} cents.",
        "What a {adj} {noun}!",
        "{name} said the {noun} was {adj}.",
        "Is the {noun} really that {adj}?",
        "Please {verb} the {noun} before {number}.",
        "Wow, {name}, that is {adj}!",
        "My {noun} is {adj}, but your {noun2} is {adj2}.",
        "On day {small}, {name} saw {number} {noun}s near the {noun2}.",
    ],
    "de": [
        "Wann kommt der {noun}?",
        "{name} sagt, der {noun} ist {adj}.",
        "Das kostet {number} Euro!",
        "Wir brauchen {small} {noun} und einen {noun2}.",
    ],
    "fr": [
        "Quand part le {noun} ?",
        "{name} dit que le {noun} est {adj}.",
        "Ça coûte {number} euros !",
        "Il faut un {noun}, un {noun2} et un {noun3}.",
    ],
    "es": [
        "¿Cuándo sale el {noun}?",
        "{name} dice que el {noun} es {adj}.",
        "¡Cuesta {number} euros!",
        "Necesito un {noun}, un {noun2} y un {noun3}.",
    ],
    "it": [
        "Quando parte il {noun}?",
        "{name} dice che il {noun} è {adj}.",
        "Costa {number} euro!",
        "Serve un {noun}, un {noun2} e un {noun3}.",
    ],
}
VOICES = {
    "en": ["en-us", "en", "en-029", "en-gb-scotland", "en-us-nyc"],
    "de": ["de"],
    "fr": ["fr"],
    "es": ["es"],
    "it": ["it"],
}
LANGUAGE_WEIGHTS = {"en": 0.6, "de": 0.1, "fr": 0.1, "es": 0.1, "it": 0.1}
VARIANTS = ["", "+f1", "+f2", "+f3", "+f4", "+m1", "+m2", "+m3", "+m4", "+m5"]


def sentence(rng: np.random.Generator, language: str) -> str:
    words = WORDS[language]
    english = WORDS["en"]

    def pick(kind: str) -> str:
        return str(rng.choice(words.get(kind, english[kind])))

    template = str(rng.choice(TEMPLATES[language]))
    return template.format(
        noun=pick("noun"),
        noun2=pick("noun"),
        noun3=pick("noun"),
        adj=pick("adj"),
        adj2=pick("adj"),
        verb=pick("verb"),
        name=pick("name"),
        number=int(rng.integers(2, 2000)),
        small=int(rng.integers(1, 30)),
    )


def utterance(rng: np.random.Generator) -> tuple[str, str, str]:
    """(text of one to three sentences, language, espeak-ng voice with variant)."""
    languages = list(LANGUAGE_WEIGHTS)
    language = str(rng.choice(languages, p=list(LANGUAGE_WEIGHTS.values())))
    count = int(rng.integers(1, 4))
    text = " ".join(sentence(rng, language) for _ in range(count))
    voice = str(rng.choice(VOICES[language])) + str(rng.choice(VARIANTS))
    return text, language, voice


# Written sentences, many p b m and open vowels in each. For Russian, Finnish and Czech
# they are all there is: a word's ending changes with its role in the sentence, so a
# template's slots would make ungrammatical speech. English and Italian mix in templates.
SENTENCES = {
    "en": [
        "Bob packed a map and a big pot of jam.",
        "My mom bought bananas at the market.",
        "Pam, please pass me the paper bag.",
        "The baby lamb sleeps by the barn.",
        "Maybe we can park by the palm tree?",
        "Put the apples in the blue basket.",
        "Ben made pancakes for breakfast.",
        "A brown moth flapped past the lamp.",
        "Bring both maps back by Monday!",
        "Would you pass the pepper, Mum?",
        "Abby bumped her arm on the cabin door.",
        "Have you met my brother's happy puppy?",
    ],
    "it": [
        "Mamma prepara la pasta per il pranzo.",
        "Il bambino mangia una mela matura.",
        "Papà porta le patate al mercato.",
        "Bravo, Paolo! Hai vinto la partita.",
        "La barca blu parte dal porto alle nove.",
        "Marta compra il pane e il burro.",
        "Abbiamo bevuto un caffè a Bologna.",
        "Per favore, apri la porta della camera.",
        "Il mare è calmo e la spiaggia è bella.",
        "Chi ha mangiato tutta la marmellata?",
        "Piove, prendi l'ombrello prima di uscire!",
        "La mamma abbraccia il bambino.",
    ],
    "ru": [
        "Папа купил большой арбуз.",
        "Бабушка печёт пироги с мясом.",
        "Мы пойдём в парк после обеда.",
        "Мама, где моя белая панама?",
        "Собака бежит по мокрой траве.",
        "Брат пьёт молоко с мёдом.",
        "Пожалуйста, подвинь эту банку.",
        "В парке много белых берёз.",
        "Пётр играет на барабане.",
        "Бабочка села на большой мак.",
        "Как прекрасно пахнут эти булочки!",
        "Почему ты не позвонил маме?",
        "Мальчик бросил мяч в окно.",
        "Мы поплыли на маленькой лодке.",
    ],
    "fi": [
        "Pappa paistaa pannukakkuja.",
        "Mummo ja Matti menivät markkinoille.",
        "Äiti ostaa banaaneja ja omenoita.",
        "Pieni poika pelaa palloa pihalla.",
        "Mikä ihana aamu!",
        "Muista ottaa sateenvarjo mukaan.",
        "Pekka maalaa punaista taloa.",
        "Metsässä on paljon mustikoita.",
        "Milloin juna saapuu Tampereelle?",
        "Paula juo mehua ja syö pullaa.",
        "Tämä kahvi on aivan liian kuumaa.",
        "Pappa ja minä menemme saunaan.",
    ],
    "cs": [
        "Máma peče buchty s mákem.",
        "Babička má malou bílou kočku.",
        "Pavel jede autobusem do Brna.",
        "Podej mi prosím ten papír.",
        "Bára pije mléko z modrého hrnku.",
        "Na mostě stojí pán s deštníkem.",
        "Půjdeme zítra na pivo?",
        "Marek hraje na bubny v kapele.",
        "Mami, kde je můj batoh?",
        "Pes běží po parku za míčem.",
        "Petra koupila banány a jablka.",
        "To je ale krásná malá vesnice!",
    ],
}
FESTIVAL_LANGUAGE_WEIGHTS = {"en": 0.4, "it": 0.15, "ru": 0.15, "fi": 0.15, "cs": 0.15}


def festival_sentence(rng: np.random.Generator, language: str) -> str:
    """A written sentence, or for a language with templates half the time a templated one."""
    if language in TEMPLATES and rng.random() < 0.5:
        return sentence(rng, language)
    return str(rng.choice(SENTENCES[language]))


def festival_utterance(
    rng: np.random.Generator, voices: list[str] | None = None
) -> tuple[str, str, str]:
    """(text of one to three sentences, language, festival voice) with one of `voices`
    (default: all the kit knows). Languages keep FESTIVAL_LANGUAGE_WEIGHTS among the
    voices given, whatever number of voices each has."""
    voices = sorted(voices if voices is not None else festival.VOICES)
    languages = [festival.voice_info(v).language for v in voices]
    weights = np.array([FESTIVAL_LANGUAGE_WEIGHTS[x] / languages.count(x) for x in languages])
    voice = str(rng.choice(voices, p=weights / weights.sum()))
    language = festival.VOICES[voice].language
    count = int(rng.integers(1, 4))
    text = " ".join(festival_sentence(rng, language) for _ in range(count))
    return text, language, voice


# English sentences for measuring lip-sync on words never trained on: no word of theirs
# spelt with p, b or m is in WORDS, TEMPLATES or SENTENCES, nor in the other part. The
# "validation" part is for choosing settings, the "evaluation" part for the reported figures.
NEW_WORDS = {
    "validation": [
        "Kim pumped air into the rubber tyres.",
        "The probe thumped into a stump.",
        "Abe compared the cheap ribbons.",
        "Grandpa grows a jumbo melon.",
        "Mabel spilled a cup of lemonade.",
        "The zombie limped toward the campfire.",
        "Hamilton ambled along the steep slope.",
        "Bobby blamed the pump for the leak.",
        "A nimble mouse nibbled the crumbs.",
        "The submarine dipped beneath the waves.",
        "Pete wiped the sample plates clean.",
        "Rebecca swept the porch at home.",
        "Combine the noodles with the ham.",
        "The mob cheered when the bomb squad arrived.",
        "Pamela tapped the drum with a broom.",
        "Cobwebs hung in the damp basement.",
    ],
    "evaluation": [
        "Tim keeps a purple umbrella in the cupboard.",
        "The plumber fixed a pipe above the bathtub.",
        "Robert hoped the vampire film would be superb.",
        "Sam grabbed a pumpkin from the empty wagon.",
        "A humble bumblebee buzzed near the pebbles.",
        "Pablo's puppet wore a pink cap.",
        "Jump up and grab the rope, Emma!",
        "The shop above the piano is closed.",
        "Bill dropped his keys in the bubbly soup.",
        "Imagine a simple riddle with a tiny twist.",
        "Mike played baseball with his stepdad.",
        "Empty the bin and sweep the ramp.",
        "Gabriel swam along the lumpy boulders.",
        "Pour some maple syrup on the plum pudding.",
        "The robot stumbled and kept improving.",
        "Amber painted a bamboo temple.",
    ],
}


def new_words_utterance(rng: np.random.Generator, part: str) -> tuple[str, str, str]:
    """(one or two sentences of NEW_WORDS[part], "en", espeak-ng English voice with
    variant), drawn as `utterance` draws its voices."""
    count = int(rng.integers(1, 3))
    text = " ".join(str(rng.choice(NEW_WORDS[part])) for _ in range(count))
    voice = str(rng.choice(VOICES["en"])) + str(rng.choice(VARIANTS))
    return text, "en", voice


# Made-up words, syllable by syllable, for a phonetic encoder to hear every consonant
# beside every vowel rather than in the corpus's few dozen words; espeak-ng reads them by
# each language's own spelling rules, and its phoneme times label them as they are said.
ONSETS = (
    "p b m p b m f v t d n k g s l r h w j pl bl pr br sp tr dr kr gr st sk fl fr"
).split() + [""] * 4
NUCLEI = "a e i o u a e i o u ai au ei oi ee oo".split()
CODAS = [""] * 10 + "m n p b t k s l r mp mb nt st ps ms".split()


def babble_word(rng: np.random.Generator) -> str:
    """A made-up word of one to three syllables."""
    syllables = int(rng.integers(1, 4))
    parts = [str(rng.choice(ONSETS)) + str(rng.choice(NUCLEI)) for _ in range(syllables)]
    return "".join(parts) + str(rng.choice(CODAS))


def _said(words: list[str], rng: np.random.Generator) -> str:
    """Words as one sentence: a comma now and then, a question or an exclamation."""
    if len(words) > 5 and rng.random() < 0.5:
        words[int(rng.integers(2, len(words) - 2))] += ","
    return " ".join(words).capitalize() + str(rng.choice([".", ".", "?", "!"]))


def babble_utterance(rng: np.random.Generator) -> tuple[str, str, str]:
    """(three to ten made-up words, with a comma, a question or an exclamation now and
    then; a language; an espeak-ng voice of it with variant), drawn as `utterance` draws
    its language and voice."""
    languages = list(LANGUAGE_WEIGHTS)
    language = str(rng.choice(languages, p=list(LANGUAGE_WEIGHTS.values())))
    text = _said([babble_word(rng) for _ in range(int(rng.integers(3, 11)))], rng)
    voice = str(rng.choice(VOICES[language])) + str(rng.choice(VARIANTS))
    return text, language, voice


def _new_lip_words() -> set[str]:
    """NEW_WORDS' words spelt with p, b or m, lower case, without punctuation."""
    said = " ".join(s for part in NEW_WORDS.values() for s in part).replace("'s", "")
    words = {w.strip(".,!?;:'\"").lower() for w in said.split()}
    return {w for w in words if set(w) & set("pbm")}


@functools.cache
def vocabulary() -> tuple[str, ...]:
    """Real English words to speak (festival's lexicons: `festival.english_words`), less
    every word near one of NEW_WORDS' with a p, b or m, so that those stay never heard:
    the same word, or one that begins the other, both of three letters or more (pump,
    pumped)."""
    kept_out = _new_lip_words()
    stems = {w[:n] for w in kept_out for n in range(3, len(w) + 1)}

    def near(word: str) -> bool:
        begun = any(word[:n] in kept_out for n in range(3, len(word) + 1))
        return word in kept_out or word in stems or begun

    return tuple(w for w in festival.english_words() if not near(w))


def vocabulary_utterance(rng: np.random.Generator) -> tuple[str, str, str]:
    """(four to ten words of `vocabulary` in a row, punctuated as `babble_utterance`; "en";
    an espeak-ng English voice with variant): a phonetic encoder hears thousands of real
    words, each said as espeak-ng's English rules and dictionary say it."""
    words = vocabulary()
    chosen = [str(words[i]) for i in rng.integers(0, len(words), int(rng.integers(4, 11)))]
    voice = str(rng.choice(VOICES["en"])) + str(rng.choice(VARIANTS))
    return _said(chosen, rng), "en", voice


def espeak_utterance(rng: np.random.Generator, sentences: str = "corpus") -> tuple[str, str, str]:
    """(text, language, espeak-ng voice with variant) of `sentences`: the corpus's
    (`utterance`), "babble" (`babble_utterance`), "vocabulary" (`vocabulary_utterance`)
    or a part of NEW_WORDS."""
    if sentences == "corpus":
        return utterance(rng)
    if sentences == "babble":
        return babble_utterance(rng)
    if sentences == "vocabulary":
        return vocabulary_utterance(rng)
    return new_words_utterance(rng, sentences)
