"""Checks that need the whole knowledge base, gathered in :func:`validate`.

Single-entry checks (phone format, links, both languages) are in the schema;
references between entries are here; checks of what users read (dates,
links, numbers, news-sourced facts) are in :mod:`knowledge.check_content`,
and of the understanding data in :mod:`knowledge.check_vocabulary`. Checks
that need the code (the messages it says, answers as it renders them) are
added by ``pana kb check`` (:mod:`bot.knowledge_check`).
"""

from __future__ import annotations

from collections.abc import Iterable

from knowledge.base import KnowledgeBase
from knowledge.check_content import content_problems
from knowledge.check_vocabulary import check_vocabulary
from knowledge.problems import Problem
from knowledge.schema import AREAS, Entry
from knowledge.search import index_words
from knowledge.text import normalise


def _origin(kb: KnowledgeBase, kind: str, entry_id: str) -> str:
    return kb.origins.get(f"{kind}:{entry_id}", "knowledge/data")


def _check_sources(kb: KnowledgeBase, kind: str, entries: Iterable[Entry]) -> list[Problem]:
    problems = []
    for entry in entries:
        for source in (entry.source, *entry.also_sources):
            if source.seed not in kb.sources:
                problems.append(
                    Problem(
                        _origin(kb, kind, entry.id),
                        f"{kind} ({entry.id}).source.seed",
                        f"unknown source {source.seed!r}; list it under 'sources:'",
                    )
                )
    return problems


def _check_places(kb: KnowledgeBase) -> list[Problem]:
    problems = []
    for org in kb.organisations.values():
        where = _origin(kb, "organisations", org.id)
        for city in org.cities:
            if city not in kb.cities:
                problems.append(
                    Problem(where, f"organisations ({org.id}).cities", f"unknown city {city!r}")
                )
        for tag in org.services:
            if tag not in kb.services:
                problems.append(
                    Problem(
                        where, f"organisations ({org.id}).services", f"unknown service tag {tag!r}"
                    )
                )
    for consulate in kb.consulates.values():
        if consulate.city not in kb.cities:
            problems.append(
                Problem(
                    _origin(kb, "consulates", consulate.id),
                    f"consulates ({consulate.id}).city",
                    f"unknown city {consulate.city!r}",
                )
            )
    codes: dict[str, str] = {}
    for org in kb.organisations.values():
        if org.code in codes:
            problems.append(
                Problem(
                    _origin(kb, "organisations", org.id),
                    f"organisations ({org.id}).code",
                    f"code {org.code!r} is already used by {codes[org.code]}",
                )
            )
        codes[org.code] = org.id
    return problems


def _check_menus(kb: KnowledgeBase) -> list[Problem]:
    problems = []
    if "main" not in kb.menus:
        problems.append(Problem("knowledge/data", "menus", "there is no menu with id 'main'"))
    for menu in kb.menus.values():
        where = _origin(kb, "menus", menu.id)
        for index, option in enumerate(menu.options):
            if not kb.has_target(option.target):
                problems.append(
                    Problem(
                        where,
                        f"menus ({menu.id}).options[{index}].target",
                        f"{option.target!r} points nowhere",
                    )
                )
    for area in AREAS:
        if area not in kb.menus:
            problems.append(
                Problem("knowledge/data", "menus", f"area {area!r} has no menu with id {area!r}")
            )
    return problems


def _check_related(kb: KnowledgeBase) -> list[Problem]:
    return [
        Problem(
            _origin(kb, "topics", topic.id),
            f"topics ({topic.id}).related",
            f"unknown topic {rel!r}",
        )
        for topic in kb.topics.values()
        for rel in topic.related
        if rel not in kb.topics
    ]


def _entries_with_keywords(kb: KnowledgeBase) -> Iterable[tuple[str, Entry]]:
    for kind in ("topics", "organisations", "consulates"):
        for entry in getattr(kb, kind).values():
            yield kind, entry


def _check_keyword_collisions(kb: KnowledgeBase) -> list[Problem]:
    """A keyword that, once common words are dropped, is another entry's keyword.

    "where to get sis" is just "sis" to the matcher; if another entry owns
    "sis", the two would tie and the bot would have to ask which one.
    """
    owners: dict[frozenset[str], set[str]] = {}
    for _, entry in _entries_with_keywords(kb):
        for keyword in entry.keywords.all():
            owners.setdefault(index_words(normalise(keyword)), set()).add(entry.id)
    problems = []
    for kind, entry in _entries_with_keywords(kb):
        for keyword in entry.keywords.all():
            words = index_words(normalise(keyword))
            reduced = len(normalise(keyword).split()) > len(words)
            others = owners.get(words, set()) - {entry.id}
            if reduced and others:
                problems.append(
                    Problem(
                        _origin(kb, kind, entry.id),
                        f"{kind} ({entry.id}).keywords",
                        f"{keyword!r} means just {' '.join(sorted(words))!r} to the matcher, "
                        f"which already leads to {sorted(others)[0]}: make it more specific",
                    )
                )
    return problems


def _check_handoff(kb: KnowledgeBase) -> list[Problem]:
    """Every partner desk names a known organisation, once, and known cities."""
    where = "knowledge/data/handoff.yaml"
    problems, seen = [], set()
    for index, desk in enumerate(kb.handoff.partners):
        field = f"handoff.partners[{index}]"
        if desk.org not in kb.organisations:
            problems.append(Problem(where, field, f"unknown organisation {desk.org!r}"))
        if desk.org in seen:
            problems.append(Problem(where, field, f"{desk.org!r} is listed twice"))
        seen.add(desk.org)
        problems += [
            Problem(where, field, f"unknown city {city!r}")
            for city in desk.cities
            if city not in kb.cities
        ]
    problems += [
        Problem(where, "handoff.numbers", f"{number} is not in safety.yaml's numbers")
        for number in kb.handoff.numbers
        if kb.safety.kinds and kb.safety.number(number) is None
    ]
    return problems


def validate(kb: KnowledgeBase, required: Iterable[str] = ()) -> list[Problem]:
    """Every problem in ``kb``, loaded by :func:`knowledge.loader.load_files`; empty when
    all is well. ``required``: the keys of the messages the code says, each of which
    must be in the messages table."""
    problems: list[Problem] = []
    for kind in ("topics", "organisations", "consulates"):
        problems += _check_sources(kb, kind, getattr(kb, kind).values())
    problems += _check_places(kb)
    problems += _check_menus(kb)
    problems += _check_related(kb)
    problems += _check_keyword_collisions(kb)
    problems += check_vocabulary(kb)
    problems += _check_handoff(kb)
    problems += content_problems(kb)
    problems += [
        Problem("knowledge/data/messages.yaml", f"messages.{key}", "missing message")
        for key in dict.fromkeys(required)
        if key not in kb.messages
    ]
    return problems
