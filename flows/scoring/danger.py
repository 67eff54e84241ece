"""Is this person in danger, and of what kind?

A linear classifier over word and character n-grams, trained at start-up on
``knowledge/data/safety.yaml``: example messages per kind of danger, most of
them indirect ("el señor me quitó el pasaporte y no me deja salir"), and
ordinary messages that mention police, work, children or money without any
danger, so that it learns the difference. A long story is also read in
overlapping windows, so a danger told in the middle is not diluted by the
rest. A few unambiguous phrases per kind (``patterns``) are certain on their
own.

Example::

    danger = DangerClassifier.fit(kb.safety, vectoriser)
    danger.read("ya no aguanto mas, quisiera dormirme y no despertar")
    # [Danger(kind='suicide', confidence=0.93)]
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flows.language import LanguageGuesser
from flows.scoring.features import Vector
from flows.scoring.linear import LinearClassifier
from knowledge.base import KnowledgeBase
from knowledge.text import normalise

ORDINARY = "none"
#: Words per window when a long message is read in parts, and the step between windows.
WINDOW, STEP = 14, 7
#: Weight decay: stronger than the topic default, so that a single word ("pasaporte",
#: "policia") cannot carry a message into danger (safety_dev: false alarms 6.8 -> 2.8%).
DECAY = 1e-3
#: How many times each danger example is seen per epoch of training.
REPEAT = 1
#: A window of a long message is a part read out of context: its reading counts this much.
WINDOW_TRUST = 0.8
#: A window counts in full only when the whole message gives danger at least this much of
#: its probability, and in proportion below: "dos niños, uno de 5 y otro de 11" read alone
#: sounds like a lost child, but not inside a question about a visa. A danger told in the
#: middle of a story still leaves that much in the whole (safety_dev: recall unchanged;
#: tuned and development conversation sets: 16 -> 14 alarms on ordinary questions).
WINDOW_CONTEXT = 0.15
#: Confidence given to a kind whose pattern the message contains.
PATTERN_CONFIDENCE = 0.99


@dataclass(frozen=True)
class Danger:
    kind: str
    confidence: float


@dataclass
class DangerClassifier:
    model: LinearClassifier
    patterns: dict[str, tuple[str, ...]]
    vectorise: Callable[[str], Vector]

    @classmethod
    def fit(
        cls,
        examples: dict[str, list[str]],
        ordinary: list[str],
        patterns: dict[str, list[str]],
        vectorise: Callable[[str], Vector],
        features: int,
    ) -> DangerClassifier:
        """``examples``: kind -> messages; ``vectorise`` takes a normalised text."""
        # Danger examples are few next to the ordinary messages: each counts REPEAT
        # times, so that the rare class is not drowned.
        texts = [(text, kind) for kind, items in examples.items() for text in items] * REPEAT
        texts += [(text, ORDINARY) for text in ordinary]
        vectors = [vectorise(text) for text, _ in texts]
        labels = [kind for _, kind in texts]
        model = LinearClassifier.fit(vectors, labels, features, decay=DECAY)
        padded = {kind: tuple(f" {p} " for p in items) for kind, items in patterns.items()}
        return cls(model, padded, vectorise)

    def read(self, norm: str, floor: float = 0.2) -> list[Danger]:
        """Kinds of danger in a normalised message, most confident first.

        Only kinds at least ``floor`` confident are returned; an ordinary
        message returns ``[]``.
        """
        best: dict[str, float] = {}
        padded = f" {norm} "
        for kind, phrases in self.patterns.items():
            if any(p in padded for p in phrases):
                best[kind] = PATTERN_CONFIDENCE
        parts = windows(norm)
        whole = self.model.probabilities(self.vectorise(parts[0]))
        context = min(1.0, (1.0 - whole[ORDINARY]) / WINDOW_CONTEXT)
        for number, part in enumerate(parts):
            probs = self.model.probabilities(self.vectorise(part)) if number else whole
            trust = WINDOW_TRUST * context if number else 1.0
            for kind, p in probs.items():
                if kind != ORDINARY and p * trust > best.get(kind, 0.0):
                    best[kind] = p * trust
        found = [Danger(k, round(p, 3)) for k, p in best.items() if p >= floor]
        return sorted(found, key=lambda d: -d.confidence)


def windows(norm: str) -> list[str]:
    """The whole message, and for a long one its overlapping windows of words."""
    words = norm.split()
    if len(words) <= WINDOW + 2:
        return [norm]
    parts = [" ".join(words[i : i + WINDOW]) for i in range(0, len(words) - STEP, STEP)]
    return [norm, *parts]


def readings(kb: KnowledgeBase) -> Callable[[str], list[str]]:
    """How the engine may read a training text: normalised and, when it is in
    Portuguese, French or Creole, also translated word by word through that
    language's glossary (``other_languages`` in ``intents.yaml``), as
    ``Engine.handle`` does with such a message. "meu marido me bate" then trains
    the words a Spanish message has ("me pega"); the untranslated form stays, for a
    message too short or too mixed to be recognised as that language."""
    languages = LanguageGuesser(kb)

    def read(text: str) -> list[str]:
        norm = normalise(text)
        translated = languages.in_spanish(norm)[1]
        return [norm, translated] if translated != norm else [norm]

    return read
