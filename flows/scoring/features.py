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
    vector = vectoriser.transform("komo saco el sis")   # Vector(index=[…], value=[…])
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
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


@dataclass(frozen=True)
class Vector:
    """A sparse vector: feature indices (ascending) and their weights."""

    index: np.ndarray
    value: np.ndarray

    def __bool__(self) -> bool:
        return bool(len(self.index))


EMPTY = Vector(np.zeros(0, dtype=np.int64), np.zeros(0))


@dataclass
class Vectoriser:
    """TF-IDF over word features and character n-grams, one block each.

    ``char_weight`` is the share of the character block in a vector's length;
    both blocks are unit vectors before they are mixed. Vectors of recent
    messages are cached: the danger reader and the rankers ask for the same ones.
    """

    vocabulary: dict[str, int] = field(default_factory=dict)
    idf: np.ndarray = field(default_factory=lambda: np.zeros(0))
    char_weight: float = 0.5
    _grams: dict[str, tuple[int, ...]] = field(default_factory=dict, repr=False)
    _cache: dict[str, Vector] = field(default_factory=dict, repr=False)

    @classmethod
    def fit(cls, texts: Iterable[str], char_weight: float = 0.5) -> Vectoriser:
        frequency: Counter[str] = Counter()
        total = 0
        for text in texts:
            norm = normalise(text)
            total += 1
            frequency.update({f"w:{f}" for f in word_features(norm)})
            frequency.update({f"c:{f}" for f in char_features(norm)})
        vectoriser = cls(char_weight=char_weight)
        idf = []
        for feature, count in sorted(frequency.items()):
            vectoriser.vocabulary[feature] = len(idf)
            idf.append(math.log((1 + total) / (1 + count)) + 1.0)
        vectoriser.idf = np.array(idf)
        return vectoriser

    @property
    def size(self) -> int:
        return len(self.idf)

    def _char_index(self, word: str) -> tuple[int, ...]:
        found = self._grams.get(word)
        if found is None:
            if len(self._grams) > 50_000:  # bound memory against random input
                self._grams.clear()
            get = self.vocabulary.get
            found = tuple(i for g in char_features(word) if (i := get(f"c:{g}")) is not None)
            self._grams[word] = found
        return found

    def _block(self, indices: list[int]) -> tuple[np.ndarray, np.ndarray]:
        if not indices:
            return EMPTY.index, EMPTY.value
        unique, counts = np.unique(np.array(indices, dtype=np.int64), return_counts=True)
        weights = (1.0 + np.log(counts)) * self.idf[unique]
        return unique, weights / np.linalg.norm(weights)

    def transform(self, text: str, normalised: bool = False) -> Vector:
        """The text's vector; features never seen in ``fit`` are ignored."""
        norm = text if normalised else normalise(text)
        cached = self._cache.get(norm)
        if cached is not None:
            return cached
        get = self.vocabulary.get
        words = [i for f in word_features(norm) if (i := get(f"w:{f}")) is not None]
        chars = [i for word in norm.split() for i in self._char_index(word)]
        word_index, word_weight = self._block(words)
        char_index, char_weight = self._block(chars)
        a, b = math.sqrt(1.0 - self.char_weight), math.sqrt(self.char_weight)
        # Features are numbered in sorted order, so every "c:…" comes before every "w:…":
        # the character block then the word block is already in ascending order.
        vector = Vector(
            np.concatenate([char_index, word_index]),
            np.concatenate([b * char_weight, a * word_weight]),
        )
        if len(self._cache) > 2048:
            self._cache.clear()
        self._cache[norm] = vector
        return vector
