"""BM25 over the stems of each entry's document.

An entry's document is its title (twice), keywords, example questions, text
and items, in both languages. BM25 rewards a message for sharing rare stems
with an entry, saturates repeated words and forgives long documents, so a
story that mentions "pasaporte", "trabajo" and "salir" finds the entries that
speak of those things even when no keyword phrase is complete.

Postings are numpy arrays, gathered and summed in a few calls, so a message
costs little even when a stem is in thousands of entries.

Example::

    bm25 = BM25.fit({"topic:sis": "sis seguro integral de salud ..."})
    bm25.score("q seguro me cubre")   # {"topic:sis": 2.1, ...}
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

import numpy as np

from flows.scoring.features import stems
from knowledge.text import normalise

K1, B = 1.2, 0.75
#: Terms in about two thirds of all documents or more say little about which entry is meant.
MIN_IDF = 0.3


@dataclass
class BM25:
    terms: dict[str, int]  # stem -> its row
    starts: np.ndarray  # row -> first posting
    documents: np.ndarray  # posting -> document number
    weights: np.ndarray  # posting -> idf x saturated term frequency
    targets: tuple[str, ...]

    @classmethod
    def fit(cls, documents: dict[str, str]) -> BM25:
        targets = tuple(documents)
        counted = [Counter(stems(normalise(documents[t]))) for t in targets]
        average = sum(sum(c.values()) for c in counted) / max(1, len(counted))
        frequency: Counter[str] = Counter()
        for counts in counted:
            frequency.update(counts.keys())
        total = len(counted)
        idf = {t: math.log(1 + (total - n + 0.5) / (n + 0.5)) for t, n in frequency.items()}
        postings: dict[str, list[tuple[int, float]]] = {}
        for number, counts in enumerate(counted):
            length = sum(counts.values())
            for term, tf in counts.items():
                if idf[term] < MIN_IDF:
                    continue
                saturated = tf * (K1 + 1) / (tf + K1 * (1 - B + B * length / (average or 1)))
                postings.setdefault(term, []).append((number, idf[term] * saturated))
        terms = {term: row for row, term in enumerate(sorted(postings))}
        rows = [postings[term] for term in sorted(postings)]
        starts = np.cumsum([0, *(len(r) for r in rows)])
        flat = [p for r in rows for p in r]
        return cls(
            terms,
            starts,
            np.array([d for d, _ in flat], dtype=np.int64),
            np.array([w for _, w in flat]),
            targets,
        )

    def score(self, norm: str, limit: int = 8) -> dict[str, float]:
        """The ``limit`` entries sharing the most weight with the message, and their score."""
        rows = np.array(
            sorted({r for t in stems(norm) if (r := self.terms.get(t)) is not None}),
            dtype=np.int64,
        )
        if not len(rows):
            return {}
        begin, end = self.starts[rows], self.starts[rows + 1]
        lengths = end - begin
        positions = np.repeat(begin - np.cumsum(lengths) + lengths, lengths)
        positions = positions + np.arange(int(lengths.sum()))
        scores = np.bincount(
            self.documents[positions], weights=self.weights[positions], minlength=len(self.targets)
        )
        count = min(limit, len(scores))
        top = np.argpartition(-scores, count - 1)[:count]
        return {self.targets[i]: float(scores[i]) for i in top if scores[i] > 0}
