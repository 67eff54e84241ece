"""Similarity to the example questions: how close is a message to how people
asked for each entry?

Each example (an entry's questions, keywords and titles) is a TF-IDF vector
of stems and character n-grams (:class:`flows.scoring.features.Vectoriser`);
an entry scores the cosine of its closest example. Character n-grams make it
robust to typos ("pasaprote", "refujio") and to word forms.

Example::

    examples = ExampleIndex.fit({"topic:sis": ["que es el sis", "seguro gratis"]}, vectoriser)
    examples.score(vectoriser.transform("q es el sis"))   # {"topic:sis": 1.0}
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix

from flows.scoring.features import Vector, Vectoriser


@dataclass
class ExampleIndex:
    matrix: csr_matrix  # examples x features
    owners: np.ndarray  # example -> target position
    targets: tuple[str, ...]

    @classmethod
    def fit(cls, examples: dict[str, list[str]], vectoriser: Vectoriser) -> ExampleIndex:
        targets = tuple(examples)
        data: list[float] = []
        columns: list[int] = []
        pointers = [0]
        owners: list[int] = []
        for position, target in enumerate(targets):
            for text in examples[target]:
                vector = vectoriser.transform(text)
                if not vector:
                    continue
                columns += vector.keys()
                data += vector.values()
                pointers.append(len(columns))
                owners.append(position)
        shape = (len(owners), len(vectoriser.idf))
        matrix = csr_matrix((data, columns, pointers), shape=shape)
        return cls(matrix.tocsc(), np.array(owners), targets)

    def score(self, vector: Vector, limit: int = 8) -> dict[str, float]:
        """The ``limit`` entries with the closest examples, and their cosine."""
        if not vector:
            return {}
        columns = np.fromiter(vector.keys(), dtype=np.int64)
        values = np.fromiter(vector.values(), dtype=float)
        similarity = self.matrix[:, columns] @ values
        best = np.zeros(len(self.targets))
        np.maximum.at(best, self.owners, similarity)
        top = np.argsort(-best)[:limit]
        return {self.targets[i]: float(best[i]) for i in top if best[i] > 0}
