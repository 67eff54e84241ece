"""Similarity to the example questions: how close is a message to how people
asked for each entry?

Each example (an entry's questions, keywords and titles) is a TF-IDF vector
of stems and character n-grams (:class:`flows.scoring.features.Vectoriser`);
an entry scores the cosine of its closest example. Character n-grams make it
robust to typos ("pasaprote", "refujio") and to word forms.

The examples are stored by feature (for each feature, the examples that have
it and its weight there), so a message costs in proportion to the examples
sharing its features, gathered with a few numpy calls.

Example::

    examples = ExampleIndex.fit({"topic:sis": ["que es el sis", "seguro gratis"]}, vectoriser)
    examples.score(vectoriser.transform("q es el sis"))   # {"topic:sis": 1.0}
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from flows.scoring.features import Vector, Vectoriser

#: Past this many examples (about 3,000 entries), taking each target's best over the
#: examples a message touched is cheaper than a pass over all of them; below, dearer.
MANY_EXAMPLES = 20_000
#: A feature shared by more examples than this is left out of the postings however many
#: examples there are: on the shipped knowledge ``common`` leaves out more (its longest
#: list has 820), but at 10,000 entries features this common held over half of all
#: postings, and a word that common tells little about which entry is meant.
MAX_POSTINGS = 1_000


@dataclass
class ExampleIndex:
    starts: np.ndarray  # feature -> first position in ``examples``/``weights``
    examples: np.ndarray  # example number of each posting
    weights: np.ndarray  # the feature's weight in that example
    first_example: np.ndarray  # target position -> its first example (targets are contiguous)
    targets: tuple[str, ...]
    size: int  # number of examples
    owner: np.ndarray  # example number -> its target position

    @classmethod
    def fit(
        cls, examples: dict[str, list[str]], vectoriser: Vectoriser, common: float = 0.15
    ) -> ExampleIndex:
        """Index the examples. Features in more than ``common`` of them (" de", "que ")
        are left out of the postings: they weigh little and would cost the most."""
        rows: list[Vector] = []
        targets: list[str] = []
        first: list[int] = []
        for target, texts in examples.items():
            vectors = [v for v in (vectoriser.transform(t) for t in texts) if v]
            if vectors:
                targets.append(target)
                first.append(len(rows))
                rows += vectors
        features = np.concatenate([r.index for r in rows]) if rows else np.zeros(0, np.int64)
        numbers = np.concatenate([np.full(len(r.index), n) for n, r in enumerate(rows)] or [[]])
        weights = np.concatenate([r.value for r in rows]) if rows else np.zeros(0)
        frequency = np.bincount(features, minlength=vectoriser.size)
        kept = frequency[features] <= max(1, min(common * len(rows), MAX_POSTINGS))
        features, numbers, weights = features[kept], numbers[kept], weights[kept]
        order = np.argsort(features, kind="stable")
        counts = np.bincount(features, minlength=vectoriser.size)
        starts = np.concatenate([[0], np.cumsum(counts)])
        sizes = np.diff([*first, len(rows)])
        return cls(
            starts,
            numbers[order].astype(np.int64),
            weights[order],
            np.array(first, dtype=np.int64),
            tuple(targets),
            len(rows),
            np.repeat(np.arange(len(targets), dtype=np.int64), sizes),
        )

    def score(self, vector: Vector, limit: int = 8) -> dict[str, float]:
        """The ``limit`` entries with the closest examples, and their cosine."""
        if not vector or not self.targets:
            return {}
        begin, end = self.starts[vector.index], self.starts[vector.index + 1]
        lengths = end - begin
        total = int(lengths.sum())
        if total == 0:
            return {}
        # Positions of every posting of the message's features, in one array.
        shift = np.repeat(begin - np.cumsum(lengths) + lengths, lengths)
        positions = shift + np.arange(total)
        similarity = np.bincount(
            self.examples[positions],
            weights=self.weights[positions] * np.repeat(vector.value, lengths),
            minlength=self.size,
        )
        count = min(limit, len(self.targets))
        if self.size <= MANY_EXAMPLES:
            best = np.maximum.reduceat(similarity, self.first_example)
            top = np.argpartition(-best, count - 1)[:count]
            return {self.targets[i]: float(best[i]) for i in top if best[i] > 0}
        # Only the examples the message touched can score (weights are positive):
        # each touched target's best example, without a pass over every example.
        touched = np.flatnonzero(similarity)
        owners = self.owner[touched]
        first = np.flatnonzero(np.diff(owners, prepend=-1))
        found, best = owners[first], np.maximum.reduceat(similarity[touched], first)
        if len(found) <= count:
            return {self.targets[t]: b for t, b in zip(found.tolist(), best.tolist(), strict=True)}
        edge = -np.partition(-best, [count - 1, count])[[count - 1, count]]
        if edge[0] == edge[1]:
            # A tie at the edge of the top: chosen among all targets, as it always was.
            every = np.zeros(len(self.targets))
            every[found] = best
            top = np.argpartition(-every, count - 1)[:count]
            return {self.targets[i]: float(every[i]) for i in top if every[i] > 0}
        top = np.argpartition(-best, count - 1)[:count]
        return {self.targets[found[i]]: float(best[i]) for i in top.tolist()}
