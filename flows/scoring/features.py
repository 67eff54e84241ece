"""Text features shared by the signals: stems, stem pairs and character n-grams.

Texts are normalised first (:func:`knowledge.text.normalise`), so accents,
"q"/"xq" and letter runs are already folded. Stems come from the Snowball
Spanish stemmer (pure Python, shipped in its wheel): "pasaportes" and
"pasaporte" meet, and so do "quitaron" and "quitar". English words go
through it too; that is consistent for messages and knowledge alike.

:class:`Vectoriser` turns texts into sparse TF-IDF vectors with two blocks,
word features and character n-grams, each of unit length, so that a story and
a two-word question compare on the same scale::

    vectoriser = Vectoriser.fit(["como saco el sis", "visa humanitaria"])
    vector = vectoriser.transform("komo saco el sis")   # {feature index: weight}
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

import snowballstemmer

from knowledge.text import normalise

#: Words too common to say anything about a topic or a danger.
FUNCTION_WORDS = frozenset(
    """
    a al algo ante con como cual de del el ella ellos en entre es esa ese eso esta este esto
    fue ha la las le les lo los me mi mis muy ni nos o para pero por que se si su sus te tu
    tus un una uno unos unas y ya yo the an of to in on for and or is are am be my i you
    your it its this that with at by as
    """.split()
)

_stemmer = snowballstemmer.stemmer("spanish")

#: Sparse vector: feature index -> weight.
Vector = dict[int, float]


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """The Snowball stem of a normalised word ("pasaportes" -> "pasaport")."""
    return _stemmer.stemWord(word) if len(word) > 3 else word


def stems(norm: str) -> list[str]:
    """Stems of the content words of a normalised text, in order."""
    return [stem(w) for w in norm.split() if w not in FUNCTION_WORDS]


def word_features(norm: str) -> list[str]:
    """Stems and neighbouring stem pairs ("no me deja salir" -> "dej sal")."""
    found = stems(norm)
    return [*found, *(f"{a} {b}" for a, b in itertools.pairwise(found))]


def char_features(norm: str, sizes: tuple[int, ...] = (3, 4, 5)) -> list[str]:
    """Character n-grams inside word boundaries: robust to typos ("pasaprote")."""
    grams = []
    for word in norm.split():
        padded = f" {word} "
        for size in sizes:
            grams += [padded[i : i + size] for i in range(max(1, len(padded) - size + 1))]
    return grams


def _weighted(counts: Counter[str], vocabulary: dict[str, int], idf: list[float]) -> Vector:
    vector: Vector = {}
    for feature, count in counts.items():
        index = vocabulary.get(feature)
        if index is not None:
            vector[index] = (1.0 + math.log(count)) * idf[index]
    norm = math.sqrt(sum(v * v for v in vector.values())) or 1.0
    return {i: v / norm for i, v in vector.items()}


@dataclass
class Vectoriser:
    """TF-IDF over word features and character n-grams, one block each.

    ``char_weight`` is the share of the character block in a vector's length;
    both blocks are unit vectors before they are mixed.
    """

    vocabulary: dict[str, int] = field(default_factory=dict)
    idf: list[float] = field(default_factory=list)
    char_weight: float = 0.5

    @classmethod
    def fit(cls, texts: Iterable[str], char_weight: float = 0.5) -> Vectoriser:
        documents = [cls.features(normalise(t)) for t in texts]
        frequency: Counter[str] = Counter()
        for words, chars in documents:
            frequency.update(set(words) | set(chars))
        vectoriser = cls(char_weight=char_weight)
        total = len(documents) or 1
        for feature, count in sorted(frequency.items()):
            vectoriser.vocabulary[feature] = len(vectoriser.idf)
            vectoriser.idf.append(math.log((1 + total) / (1 + count)) + 1.0)
        return vectoriser

    @staticmethod
    def features(norm: str) -> tuple[list[str], list[str]]:
        return [f"w:{f}" for f in word_features(norm)], [f"c:{f}" for f in char_features(norm)]

    def transform(self, text: str, normalised: bool = False) -> Vector:
        """The text's vector; features never seen in ``fit`` are ignored."""
        norm = text if normalised else normalise(text)
        words, chars = self.features(norm)
        word_part = _weighted(Counter(words), self.vocabulary, self.idf)
        char_part = _weighted(Counter(chars), self.vocabulary, self.idf)
        a, b = math.sqrt(1.0 - self.char_weight), math.sqrt(self.char_weight)
        vector = {i: a * v for i, v in word_part.items()}
        for i, v in char_part.items():
            vector[i] = vector.get(i, 0.0) + b * v
        return vector
