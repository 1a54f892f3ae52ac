"""A generator of varied sentences to speak: questions, lists, numbers, exclamations,
statements, in five languages, so the corpus hears many rhythms and intonations."""

from __future__ import annotations

import numpy as np

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
