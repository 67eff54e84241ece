"""Checks for the understanding data: questions, safety, intents and aspects.

What would otherwise fail (or quietly misroute someone) at run time is caught
by ``pana kb check``: a question list for an entry that does not exist, a
danger kind whose help topic or number is missing, a required intent without
examples.
"""

from __future__ import annotations

from knowledge.base import KnowledgeBase
from knowledge.problems import Problem
from knowledge.text import normalise

#: Intents the engine answers; each needs examples in ``intents.yaml``.
REQUIRED_INTENTS = ("greeting", "thanks", "goodbye", "out_of_scope", "repair")
#: Each danger kind needs this many examples to be learnt, and ordinary ones to contrast.
MIN_DANGER_EXAMPLES = 40
MIN_ORDINARY = 200


def check_vocabulary(kb: KnowledgeBase) -> list[Problem]:
    return [*_questions(kb), *_safety(kb), *_intents(kb)]


def _questions(kb: KnowledgeBase) -> list[Problem]:
    problems = []
    for ident, said in kb.questions.items():
        where = kb.origins.get(f"questions:{ident}", "knowledge/data/questions")
        if kb.target_of(ident) is None:
            problems.append(
                Problem(
                    where, f"questions.{ident}", "no topic, organisation or consulate has this id"
                )
            )
        elif not said.all():
            problems.append(Problem(where, f"questions.{ident}", "no questions"))
    return problems


def _safety(kb: KnowledgeBase) -> list[Problem]:
    where = kb.origins.get("safety", "knowledge/data/safety.yaml")
    safety = kb.safety
    if not safety.kinds:
        return [Problem(where, "safety", "no danger kinds: the danger classifier cannot learn")]
    problems = []
    known_numbers = {n.number for n in safety.numbers}
    for kind in safety.kinds:
        at = f"safety.kinds ({kind.id})"
        if len(kind.examples.all()) < MIN_DANGER_EXAMPLES:
            problems.append(Problem(where, at, f"fewer than {MIN_DANGER_EXAMPLES} examples"))
        if kind.topic and kind.topic not in kb.topics:
            problems.append(Problem(where, f"{at}.topic", f"unknown topic {kind.topic!r}"))
        for number in kind.numbers:
            if number not in known_numbers:
                problems.append(
                    Problem(where, f"{at}.numbers", f"{number} is not in safety.numbers")
                )
        for service in kind.services:
            if service not in kb.services:
                problems.append(Problem(where, f"{at}.services", f"unknown service {service!r}"))
        ordinary = {normalise(t) for t in safety.ordinary.all()}
        for pattern in kind.patterns.all():
            if any(f" {normalise(pattern)} " in f" {t} " for t in ordinary):
                problems.append(
                    Problem(where, f"{at}.patterns", f"{pattern!r} appears in an ordinary message")
                )
    if len(safety.ordinary.all()) < MIN_ORDINARY:
        problems.append(Problem(where, "safety.ordinary", f"fewer than {MIN_ORDINARY} messages"))
    return problems


def _intents(kb: KnowledgeBase) -> list[Problem]:
    where = "knowledge/data/intents.yaml"
    problems = [
        Problem(where, f"intents.{name}", "missing: the engine needs examples for it")
        for name in REQUIRED_INTENTS
        if not kb.intent_examples.get(name) or not kb.intent_examples[name].all()
    ]
    for area, service in kb.area_services.items():
        if service not in kb.services:
            problems.append(Problem(where, f"area_services.{area}", f"unknown service {service!r}"))
    return problems
