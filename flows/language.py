"""Which language a message is in: Spanish or English (or one answered in Spanish).

Short messages are hard ("sis", "piura"), so the guess only changes the
user's language when the words say so: function words ("the", "que") and
the words that appear in only one language of the knowledge base's own
keywords and titles ("insurance" vs "seguro").
"""

from __future__ import annotations

import re
from collections.abc import Callable

from flows import intents
from knowledge.base import KnowledgeBase
from knowledge.search import STOPWORDS
from knowledge.text import normalise

_WORD = re.compile(r"[a-z]{3,}")


def _vocabulary(texts: list[str]) -> set[str]:
    """The words of ``texts``, and the singular of each plural: a misspelling is corrected
    to one form ("requirments" -> "requirement") while the titles may use the other."""
    words = {w for text in texts for w in _WORD.findall(normalise(text))}
    return words | {w[:-1] for w in words if len(w) > 4 and w.endswith("s")}


def _name_parts(name: str) -> set[str]:
    """A name and its parts: "Venelca - Venezolanos en Ica" is also written "venelca" or
    "venezolanos en ica"."""
    parts = {name, *re.split(r"\s[-–:]\s|[()]", name)}
    return {normalise(p) for p in parts if p.strip()}


class LanguageGuesser:
    """Guesses ``es``/``en`` from marker words; None when the text does not say."""

    def __init__(self, kb: KnowledgeBase) -> None:
        spanish: list[str] = []
        english: list[str] = []
        for topic in kb.topics.values():
            spanish += [*topic.keywords.es, topic.title.es]
            english += [*topic.keywords.en, topic.title.en]
        for entry in (*kb.organisations.values(), *kb.consulates.values()):
            spanish += entry.keywords.es
            english += entry.keywords.en
        for message in kb.messages.values():
            spanish.append(message.es)
            english.append(message.en)
        # Names ("Corazones para Todos", "Mag-The Bay") say nothing about the user's language.
        self.names = sorted(
            {
                part
                for org in kb.organisations.values()
                for n in (org.name, org.short_name or "")
                for part in _name_parts(n)
            }
            | {normalise(c.name) for c in kb.cities.values()},
            key=len,
            reverse=True,
        )
        self.names = [n for n in self.names if n]
        es_words, en_words = _vocabulary(spanish), _vocabulary(english)
        self.english = (en_words - es_words) | intents.ENGLISH_MARKERS
        self.spanish = (es_words - en_words) | intents.SPANISH_MARKERS
        # Words both lists claim say nothing.
        shared = self.english & self.spanish
        self.english -= shared - intents.ENGLISH_MARKERS
        self.spanish -= shared - intents.SPANISH_MARKERS
        # Portuguese, French, Creole: only their words that Spanish and English lack.
        known = es_words | en_words | intents.SPANISH_MARKERS | intents.ENGLISH_MARKERS | STOPWORDS
        self.others = {
            code: frozenset(normalise(m) for m in language.markers) - known
            for code, language in kb.other_languages.items()
        }
        self.glossaries = {code: lang.glossary for code, lang in kb.other_languages.items()}

    def other_language(self, normalised: str) -> str | None:
        """A language Pana answers in Spanish (``pt``, ``fr``, ``ht``), when the
        message has at least two of its words and they are a fifth of it."""
        words = normalised.split()
        best, hits = None, 1
        for code, markers in self.others.items():
            found = sum(w in markers for w in words)
            if found > hits and 5 * found >= len(words):
                best, hits = code, found
        return best

    def in_spanish(self, normalised: str) -> tuple[str | None, str]:
        """The other language a message is in, if any, and the message translated word by
        word through its glossary ("meu marido me bate" -> "mi esposo me pega")."""
        other = self.other_language(normalised)
        if other is None:
            return None, normalised
        glossary = self.glossaries[other]
        return other, " ".join(glossary.get(w, w) for w in normalised.split())

    def guess(
        self, normalised: str, correct: Callable[[str], str | None] | None = None
    ) -> str | None:
        """The message's language; ``correct`` maps a misspelled word to a known one."""
        padded = f" {normalised} "
        for name in self.names:
            if f" {name} " in padded:
                padded = padded.replace(f" {name} ", " ")
        words = padded.split()
        if correct:
            # A typo ("requirments") counts as the word it corrects to.
            words = [
                w if w in self.english or w in self.spanish else (correct(w) or w) for w in words
            ]
        english = sum(intents.STRONG_MARKERS.get(w, 1) for w in words if w in self.english)
        spanish = sum(intents.STRONG_MARKERS.get(w, 1) for w in words if w in self.spanish)
        if english > spanish:
            return "en"
        if spanish > english:
            return "es"
        return None
