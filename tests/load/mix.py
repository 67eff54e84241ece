"""What simulated users say: a realistic mix, as multi-message conversations.

Shared by the load test and the benchmark so both exercise the same paths:
greetings, menu numbers (typed, or pressed as Telegram buttons), free text
with typos, city and consulate questions, a shared location now and then,
and the global words (menu, atrás, gracias). Each user's conversation starts
with a greeting and moves through menus, so the stored state is read and
written on every message.

Deterministic for a given seed, so two runs send the same messages::

    rng = random.Random(7)
    conversation(rng, 20)   # [Step(text='hola'), Step(text='2', button=True), ...]
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from flows import intents
from knowledge.text import normalise

GREETINGS = (
    "hola", "Hola buenas tardes", "buenos dias", "buenas noches", "holaa", "ola", "hi",
    "hello", "buenas", "hola necesito ayuda",
)  # fmt: skip
FREE_TEXT = (
    "q necesito pa entrar a peru siendo venezolano",
    "cuanto cuesta la visa humanitaria",
    "como pido refugio",
    "se me vencio el pasaporte q hago",
    "mi hijo esta irregular, tiene derecho a estudiar?",
    "como saco el carne de extranjeria",
    "el sis es gratis para extranjeros",
    "estoy embarazada y no tengo seguro",
    "me estan amenazando",
    "numero de la policia",
    "como denuncio violencia familiar",
    "what documents to enroll my kid in school in peru",
    "how do i apply for asylum",
    "how much does the humanitarian visa cost",
    "can i work while my asylum application is pending",
    "los antecedentes penales como los saco",
    "tengo calidad humanitaria, tengo q pagar el carne?",
    "a q edad entran a inicial",
    "q es cuna mas",
    "puedo trabajar con el carne de solicitante de refugio",
    "entre x trocha y nunca me sellaron nada",
    "q es el ptp",
    "necesito vacunar a mi bebe",
    "mi mama es adulta mayor, tiene seguro?",
    "como me afilio a essalud",
    "matricula escolar link",
    "diferencia entre asilo politico y refugio",
    "visa de trabajo requisitos",
    "mi esposo me pega",
    "y cuanto demora?",
)  # fmt: skip
CITY_QUESTIONS = (
    "ongs en trujillo", "ayuda en lima", "estoy en arequipa q ong me ayuda",
    "consulado en bogota", "tlf consulado machala", "vivo en piura, donde me ayudan",
    "chiclayo", "fundaciones en tumbes", "ngos in cusco", "i live in ica, who can help",
    "organizaciones en tacna", "quiero hablar con una persona, estoy en lima",
)  # fmt: skip
COMMANDS = ("menu", "atras", "gracias", "ayuda", "privacidad", "thanks")
#: Latitude, longitude of places people share their location from.
LOCATIONS = ((-8.11, -79.03), (-12.05, -77.04), (-3.57, -80.45), (-16.40, -71.54))


@dataclass(frozen=True)
class Step:
    """One message: text, or a shared location; ``button`` marks a menu number
    that a Telegram user would press rather than type."""

    text: str = ""
    button: bool = False
    location: tuple[float, float] | None = None
    kind: str = "text"


def with_typo(rng: random.Random, text: str) -> str:
    """Misspell one longer word the way thumbs do: swap, drop or double a letter."""
    words = text.split()
    long_words = [i for i, w in enumerate(words) if len(w) >= 5 and w.isalpha()]
    if not long_words:
        return text
    i = rng.choice(long_words)
    word, at = words[i], rng.randrange(1, len(words[i]) - 1)
    edit = rng.randrange(3)
    if edit == 0:
        word = word[: at - 1] + word[at] + word[at - 1] + word[at + 1 :]
    elif edit == 1:
        word = word[:at] + word[at + 1 :]
    else:
        word = word[:at] + word[at] + word[at:]
    words[i] = word
    return " ".join(words)


def _next_step(rng: random.Random) -> Step:
    roll = rng.random()
    if roll < 0.40:
        text = rng.choice(FREE_TEXT)
        return Step(with_typo(rng, text) if rng.random() < 0.5 else text, kind="free text")
    if roll < 0.65:
        return Step(str(rng.randint(1, 5)), button=rng.random() < 0.5, kind="number")
    if roll < 0.85:
        return Step(rng.choice(CITY_QUESTIONS), kind="city")
    if roll < 0.88:
        return Step(location=rng.choice(LOCATIONS), kind="location")
    return Step(rng.choice(COMMANDS), kind="command")


def _safe(step: Step) -> bool:
    # A load run must not delete its own users: it checks their state afterwards.
    norm = normalise(step.text)
    return not intents.is_delete_request(norm) and norm not in intents.YES


def conversation(rng: random.Random, length: int) -> list[Step]:
    """A greeting, a menu choice and a submenu choice, then ``length - 3`` mixed messages."""
    steps = [
        Step(rng.choice(GREETINGS), kind="greeting"),
        Step(str(rng.randint(1, 7)), button=True, kind="number"),
        Step(str(rng.randint(1, 4)), button=True, kind="number"),
    ]
    while len(steps) < length:
        step = _next_step(rng)
        if _safe(step):
            steps.append(step)
    return steps[:length]
