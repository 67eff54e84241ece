"""BM25 over the stems of each entry's document.

An entry's document is its title (twice), keywords, example questions, text
and items, in both languages. BM25 rewards a message for sharing rare stems
with an entry, saturates repeated words and forgives long documents, so a
story that mentions "pasaporte", "trabajo" and "salir" finds the entries that
speak of those things even when no keyword phrase is complete.

Example::

    bm25 = BM25.fit({"topic:sis": "sis seguro integral de salud ..."})
    bm25.score("q seguro me cubre")   # {"topic:sis": 2.1, ...}
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

from flows.scoring.features import stems
from knowledge.text import normalise

K1, B = 1.2, 0.75
#: Terms in about a third of all documents or more ("venezolano", "peru") are skipped:
#: they say little about which entry is meant and their postings are the longest.
MIN_IDF = 0.3


@dataclass
class BM25:
    postings: dict[str, list[tuple[str, float]]] = field(default_factory=dict)
    idf: dict[str, float] = field(default_factory=dict)

    @classmethod
    def fit(cls, documents: dict[str, str]) -> BM25:
        counted = {target: Counter(stems(normalise(text))) for target, text in documents.items()}
        average = sum(sum(c.values()) for c in counted.values()) / max(1, len(counted))
        index = cls()
        frequency: Counter[str] = Counter()
        for target, counts in counted.items():
            length = sum(counts.values())
            frequency.update(counts.keys())
            for term, tf in counts.items():
                weight = tf * (K1 + 1) / (tf + K1 * (1 - B + B * length / (average or 1)))
                index.postings.setdefault(term, []).append((target, weight))
        total = len(counted)
        index.idf = {
            term: math.log(1 + (total - n + 0.5) / (n + 0.5)) for term, n in frequency.items()
        }
        return index

    def score(self, norm: str) -> dict[str, float]:
        """Each entry sharing a stem with the normalised message, and its BM25 score."""
        scores: dict[str, float] = {}
        for term in set(stems(norm)):
            idf = self.idf.get(term)
            if idf is None or idf < MIN_IDF:
                continue
            for target, weight in self.postings[term]:
                scores[target] = scores.get(target, 0.0) + idf * weight
        return scores
