"""A knowledge base grown to N entries with synthetic topics, for the scaling curve.

The synthetic topics look like real ones to the search index: titles and
keywords mix the domain's common words (visa, permiso, salud, colegio…),
which make posting lists long, with made-up words, which make the
vocabulary (and so typo correction) grow with the number of entries. They
are validated by the same pydantic models as the shipped files.

    kb = grow(load_knowledge(), 10_000)
    kb.entry_count()   # 10000
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date

from knowledge.base import KnowledgeBase
from knowledge.schema import AREAS, Keywords, Link, Source, Text, Topic

DOMAIN_ES = (
    "visa", "permiso", "carne", "salud", "seguro", "colegio", "trabajo", "refugio", "residencia",
    "pasaporte", "tramite", "requisitos", "costo", "cita", "certificado", "documento", "menor",
    "familia", "empleo", "hospital", "vacuna", "matricula", "denuncia", "consulado", "multa",
)  # fmt: skip
DOMAIN_EN = (
    "visa", "permit", "card", "health", "insurance", "school", "work", "refuge", "residence",
    "passport", "procedure", "requirements", "cost", "appointment", "certificate", "document",
    "minor", "family", "job", "hospital", "vaccine", "enrolment", "report", "consulate", "fine",
)  # fmt: skip
SYLLABLES = (
    "ka", "ro", "mi", "tu", "sa", "le", "no", "pi", "ba", "de", "fu", "ga", "ja", "lo", "ve",
    "zi", "qui", "che", "rra", "llo", "tre", "bla", "dor", "nes",
)  # fmt: skip
SOURCE = Source(seed="synthetic.txt", heading="Synthetic entries for benchmarks")


def _made_up_word(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(3, 4)))


def synthetic_topic(rng: random.Random, number: int) -> Topic:
    """One plausible topic: domain words plus made-up words, in both languages."""
    made_up = [_made_up_word(rng) for _ in range(3)]
    pick = rng.randrange(len(DOMAIN_ES))
    es, en = DOMAIN_ES[pick], DOMAIN_EN[pick]
    other = rng.randrange(len(DOMAIN_ES))
    sentence_es = " ".join(rng.choice(DOMAIN_ES + tuple(made_up)) for _ in range(30))
    sentence_en = " ".join(rng.choice(DOMAIN_EN + tuple(made_up)) for _ in range(30))
    return Topic(
        id=f"synthetic-{number}",
        area=rng.choice(AREAS),  # type: ignore[arg-type]  # AREAS lists the Area values
        title=Text(es=f"{es.capitalize()} {made_up[0]}", en=f"{en.capitalize()} {made_up[0]}"),
        text=Text(es=sentence_es, en=sentence_en),
        items=[Text(es=f"{DOMAIN_ES[other]} {w}", en=f"{DOMAIN_EN[other]} {w}") for w in made_up],
        links=[Link(url=f"https://www.gob.pe/synthetic/{number}")],
        keywords=Keywords(
            es=[f"{es} {made_up[0]}", f"{made_up[1]} {DOMAIN_ES[other]}", made_up[2]],
            en=[f"{en} {made_up[0]}", f"{made_up[1]} {DOMAIN_EN[other]}"],
        ),
        source=SOURCE,
        as_of=date(2024, 1, 1),
    )


def grow(kb: KnowledgeBase, entries: int, seed: int = 11) -> KnowledgeBase:
    """A copy of ``kb`` with synthetic topics added until it holds ``entries`` entries."""
    rng = random.Random(seed)
    missing = max(0, entries - kb.entry_count())
    topics = dict(kb.topics)
    for number in range(missing):
        topic = synthetic_topic(rng, number)
        topics[topic.id] = topic
    return replace(kb, topics=topics)
