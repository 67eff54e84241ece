"""A multinomial logistic regression on sparse vectors, in numpy.

Why not scikit-learn: importing it costs about 110 MB and 3 s in every
worker, more than the whole rest of Pana; this model is a few dozen lines,
trains on our few thousand examples in well under a second, and scores one
message in microseconds. Training is deterministic (fixed seed).

Example::

    a, b = vectoriser.transform("me pega"), vectoriser.transform("la visa")
    model = LinearClassifier.fit([a, b], ["danger", "none"], features=vectoriser.size)
    model.probabilities(a)["danger"] > 0.5
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from flows.scoring.features import Vector


@dataclass
class LinearClassifier:
    labels: tuple[str, ...]
    #: features x labels: one feature's weights for every label side by side, so a
    #: message's few features are a few contiguous rows (not one scattered column
    #: per label, which cost a cache miss each).
    weights: np.ndarray
    bias: np.ndarray  # labels

    @classmethod
    def fit(
        cls,
        vectors: Sequence[Vector],
        labels: Sequence[str],
        features: int,
        epochs: int = 30,
        rate: float = 0.5,
        decay: float = 1e-4,
        seed: int = 7,
    ) -> LinearClassifier:
        """Stochastic gradient descent on the cross-entropy, with weight decay."""
        names = tuple(sorted(set(labels)))
        position = {name: i for i, name in enumerate(names)}
        weights = np.zeros((features, len(names)))
        bias = np.zeros(len(names))
        rows = [(v.index, v.value) for v in vectors]
        targets = np.array([position[label] for label in labels])
        order = np.random.default_rng(seed).permutation
        for epoch in range(epochs):
            step = rate / (1.0 + epoch / 5)
            shrink = 1.0 - step * decay
            for i in order(len(rows)):
                index, value = rows[i]
                logits = weights[index].T @ value + bias
                probs = np.exp(logits - logits.max())
                probs /= probs.sum()
                probs[targets[i]] -= 1.0
                weights[index] = weights[index] * shrink - step * np.outer(value, probs)
                bias -= step * probs
        return cls(names, weights, bias)

    def probabilities(self, vector: Vector) -> dict[str, float]:
        """Each label's probability for one vector."""
        if vector:
            # The rows, seen as labels x features, are laid out as ``w[:, index]`` of a
            # labels x features matrix would be: the same product, the same bits.
            logits = self.weights[vector.index].T @ vector.value + self.bias
        else:
            logits = self.bias.copy()
        probs = np.exp(logits - logits.max())
        probs /= probs.sum()
        return dict(zip(self.labels, probs.tolist(), strict=True))
