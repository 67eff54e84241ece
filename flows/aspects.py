"""Aspects: the one thing a follow-up asks about the last answer.

"¿y cuánto cuesta?" after the carné de extranjería asks for its *cost*; the
answer is the carné's facts that speak of cost, not the whole entry again.
Which words ask for an aspect, and which words mark a fact as being about
it, are data (``aspects:`` in ``knowledge/data/intents.yaml``).

Example::

    aspects = AspectReader(kb)
    aspects.asked("y cuanto cuesta")            # "cost"
    aspects.facts(kb.topics["carne-extranjeria"], "cost", "es")   # ["Costo: S/ 49.80 …"]
"""

from __future__ import annotations

import re

from knowledge.base import KnowledgeBase
from knowledge.schema import Topic
from knowledge.text import normalise

#: A follow-up is short: longer messages are new questions...
MAX_FOLLOW_UP_WORDS = 10
#: ...unless it opens like one ("y cuánto me va a costar eso? ahorita estoy sin un sol").
MAX_OPENED_FOLLOW_UP_WORDS = 16
FOLLOW_UP_OPENINGS = frozenset({"y", "e", "and", "pero", "entonces", "but", "so"})


class AspectReader:
    def __init__(self, kb: KnowledgeBase) -> None:
        self.asks = sorted(
            ((f" {normalise(p)} ", aspect) for aspect, a in kb.aspects.items() for p in a.asks),
            key=lambda item: -len(item[0]),
        )
        #: Every word that takes part in asking for an aspect.
        self.words = frozenset(w for phrase, _ in self.asks for w in phrase.split())
        self.outside = {
            aspect: tuple(f" {normalise(w)} " for w in a.outside)
            for aspect, a in kb.aspects.items()
        }
        self.marks = {
            aspect: tuple(normalise(m) if m != "s/" else m for m in a.marks)
            for aspect, a in kb.aspects.items()
        }

    def asked(self, norm: str, any_length: bool = False) -> str | None:
        """The aspect a message asks about, if any (longest phrase wins). Only a short
        message is a follow-up; ``any_length`` reads a question of any length."""
        words = norm.split()
        opened = bool(words) and words[0] in FOLLOW_UP_OPENINGS
        longest = MAX_OPENED_FOLLOW_UP_WORDS if opened else MAX_FOLLOW_UP_WORDS
        if not any_length and len(words) > longest:
            return None
        padded = f" {norm} "
        return next((aspect for phrase, aspect in self.asks if phrase in padded), None)

    def outside_sources(self, norm: str) -> bool:
        """ "¿cuánto cobra un abogado por el divorcio?": an aspect asked of someone whose
        terms the sources do not give (a lawyer's fee, not the official fee)."""
        aspect = self.asked(norm, any_length=True)
        padded = f" {norm} "
        return aspect is not None and any(w in padded for w in self.outside.get(aspect, ()))

    def facts(self, topic: Topic, aspect: str, lang: str) -> list[str]:
        """The topic's text and items (in ``lang``) that speak of ``aspect``."""
        marks = self.marks.get(aspect, ())
        if not marks:
            return []

        def speaks_of_it(es: str, en: str) -> bool:
            words = f" {normalise(es)} {normalise(en)} "
            raw = f"{es.lower()} {en.lower()}"
            return any((m in raw) if m == "s/" else (f" {m}" in words) for m in marks)

        # The text first, sentence by sentence (both languages have the same sentences):
        # it holds the topic's own rule ("es gratis si…"); the items add the cases.
        found = []
        spanish, english = sentences(topic.text.es), sentences(topic.text.en)
        if len(spanish) == len(english):
            pairs = zip(spanish, english, strict=True)
            found = [es if lang == "es" else en for es, en in pairs if speaks_of_it(es, en)]
        return found + [item.get(lang) for item in topic.items if speaks_of_it(item.es, item.en)]


def sentences(text: str) -> list[str]:
    """A paragraph's sentences ("Lo emite Migraciones. Es gratis si…")."""
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+(?=[A-ZÁÉÍÓÚÑ¿¡])", text) if s.strip()]
