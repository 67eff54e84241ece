"""Every ranking signal, fitted once per knowledge base.

Fitting reads only the knowledge (questions, keywords, titles, texts, the
safety examples and the intents' examples; the danger reader only the safety
examples and the frozen ordinary messages, with a vocabulary of its own) and
takes about a second; the result is cached by the content it was fitted on, so the many engines a
test run builds over the same knowledge share one set of models.

Example::

    models = fit_models(kb)
    vector = models.vectorise("q es el sis")
    models.examples.score(vector)        # {"topic:sis": 0.81, ...}
    models.danger.read("ya no aguanto mas")
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from flows.scoring.bm25 import BM25
from flows.scoring.danger import DangerClassifier, readings
from flows.scoring.examples import ExampleIndex
from flows.scoring.features import Vector, Vectoriser
from knowledge.base import KnowledgeBase


@dataclass
class Models:
    vectoriser: Vectoriser
    bm25: BM25
    examples: ExampleIndex
    danger: DangerClassifier

    def vectorise(self, norm: str) -> Vector:
        return self.vectoriser.transform(norm, normalised=True)


def examples_of(kb: KnowledgeBase) -> dict[str, list[str]]:
    """How people ask for each target: its questions, keywords and titles."""
    found: dict[str, list[str]] = {}
    for topic in kb.topics.values():
        found[f"topic:{topic.id}"] = [*topic.keywords.all(), topic.title.es, topic.title.en]
    for org in kb.organisations.values():
        names = [org.name, *([org.short_name] if org.short_name else [])]
        found[f"org:{org.id}"] = [*org.keywords.all(), *names]
    for consulate in kb.consulates.values():
        found[f"consulate:{consulate.id}"] = list(consulate.keywords.all())
    for ident, said in kb.questions.items():
        target = kb.target_of(ident)
        if target:
            found[target] = [*found.get(target, []), *said.all()]
    for intent, said in kb.intent_examples.items():
        found[f"intent:{intent}"] = said.all()
    return found


def documents_of(kb: KnowledgeBase, examples: dict[str, list[str]]) -> dict[str, str]:
    """Each target's BM25 document: its examples, title twice, text and items."""
    documents = {target: " ".join(texts) for target, texts in examples.items()}
    for topic in kb.topics.values():
        target = f"topic:{topic.id}"
        parts = [topic.title.es, topic.title.en, topic.text.es, topic.text.en]
        parts += [text for item in topic.items for text in (item.es, item.en)]
        documents[target] = " ".join([documents.get(target, ""), *parts])
    for org in kb.organisations.values():
        target = f"org:{org.id}"
        documents[target] += f" {org.description.es} {org.description.en}"
    return documents


def fit_models(kb: KnowledgeBase) -> Models:
    examples = examples_of(kb)
    documents = documents_of(kb, examples)
    # A message in Portuguese, French or Creole is read through its glossary
    # (Engine.handle); examples in those languages are trained that way too.
    read = readings(kb)
    danger_examples = {
        k.id: [r for t in k.examples.all() for r in read(t)] for k in kb.safety.kinds
    }
    danger_patterns = {k.id: k.patterns.all() for k in kb.safety.kinds}
    # Stories about papers, school and health that the danger reader must not alarm on:
    # safety.yaml's own (read like the examples), and a frozen sample of example questions
    # (danger_ordinary.yaml), never the live ones, so that editing
    # knowledge/data/questions/ cannot move it.
    ordinary = [r for t in kb.safety.ordinary.all() for r in read(t)] + kb.danger_ordinary
    key = hashlib.sha256(
        json.dumps([examples, documents, danger_examples, danger_patterns, ordinary]).encode()
    ).hexdigest()
    return _fit(key, examples, documents, danger_examples, danger_patterns, ordinary)


#: Models already fitted, by the hash of what they were fitted on.
_FITTED: dict[str, Models] = {}


def _fit(
    key: str,
    examples: dict[str, list[str]],
    documents: dict[str, str],
    danger_examples: dict[str, list[str]],
    danger_patterns: dict[str, list[str]],
    ordinary: list[str],
) -> Models:
    if key in _FITTED:
        return _FITTED[key]
    from knowledge.text import normalise

    danger_texts = [t for items in danger_examples.values() for t in items] + ordinary
    # The rankers and the danger reader each have their own vocabulary: editing the example
    # questions cannot move a safety figure, and editing safety.yaml cannot move which
    # topic a question gets (it did: 330 new danger examples cost the tuned set a case).
    vectoriser = Vectoriser.fit([t for items in examples.values() for t in items])
    danger_vectoriser = Vectoriser.fit(danger_texts)

    def vectorise_danger(norm: str) -> Vector:
        return danger_vectoriser.transform(norm, normalised=True)

    danger = DangerClassifier.fit(
        {k: [normalise(t) for t in v] for k, v in danger_examples.items()},
        [normalise(t) for t in ordinary],
        {k: [normalise(p) for p in v] for k, v in danger_patterns.items()},
        vectorise_danger,
        features=danger_vectoriser.size,
    )
    models = Models(vectoriser, BM25.fit(documents), ExampleIndex.fit(examples, vectoriser), danger)
    if len(_FITTED) >= 4:  # a process sees one knowledge base, tests a few
        _FITTED.clear()
    _FITTED[key] = models
    return models
