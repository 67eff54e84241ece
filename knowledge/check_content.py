"""Checks of what users read: every fact dated and sourced, links and numbers safe
to use, news-sourced facts named as such. (That consulate answers, as the engine
renders them, carry their update line is checked by :mod:`bot.knowledge_check`.)

These rules keep the corrections of issue 13 from coming back; each names the
file, the entry and the field, like the other checks. See docs/knowledge.md.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from urllib.parse import urlparse

import phonenumbers

from knowledge.base import KnowledgeBase
from knowledge.problems import Problem
from knowledge.schema import SHORT_CODE, Consulate, Entry, Organisation, Phone, Source, Topic
from knowledge.text import normalise

#: The facts file on migration rules after the seeds (CPP, expulsion, 2025 formalisation).
MIGRATION_FACTS = "peru-migration-rules-2021-2025.md"
#: Keywords that bring people in an irregular situation to a topic (normalised words;
#: a trailing ``*`` matches any ending).
IRREGULAR_KEYWORDS = (
    "trocha", "paso no habilitado", "entrada irregular", "entrada ilegal", "estoy irregular",
    "situacion irregular", "situacion ilegal", "regulariz*", "ptp", "cpp", "irregular entry",
    "entered irregularly", "i am irregular", "irregular situation", "regularis*",
)  # fmt: skip
BARE_IP = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$")
#: An outlet or site named in a facts-file reference ("larepublica.pe", "gob.pe/...").
OUTLET = re.compile(r"\b(?:[a-z0-9-]+\.)+(?:pe|com|net|org)\b", re.IGNORECASE)


def _answerable(kb: KnowledgeBase) -> Iterable[tuple[str, Entry]]:
    for kind in ("topics", "organisations", "consulates"):
        for entry in getattr(kb, kind).values():
            yield kind, entry


def visible_texts(entry: Entry, lang: str) -> list[str]:
    """Every text of ``entry`` a user can read in ``lang`` (titles, texts, items,
    the update line, phone labels and notes, link labels)."""
    texts = [entry.update.get(lang)] if entry.update else []
    if isinstance(entry, Topic):
        texts += [entry.title.get(lang), entry.text.get(lang)]
        texts += [item.get(lang) for item in entry.items]
        texts += [link.label.get(lang) for link in entry.links if link.label]
    if isinstance(entry, Organisation):
        texts += [entry.description.get(lang)]
        texts += [t.get(lang) for t in (entry.serves, entry.type) if t]
    if isinstance(entry, (Topic, Organisation, Consulate)):
        for phone in entry.phones:
            texts += [t.get(lang) for t in (phone.label, phone.note) if t]
    return texts


def source_date(kb: KnowledgeBase, source: Source) -> date | None:
    """The date a cited source gives: its reference's publication date, else its document's."""
    if source.published:
        return source.published
    document = kb.sources.get(source.seed)
    return document.as_of if document else None


def _check_dates(kb: KnowledgeBase) -> list[Problem]:
    """An entry cannot hold as of a date later than its source's; a fact older than
    the answer's date must carry its own year, or it reads as newer than it is."""
    problems = []
    for kind, entry in _answerable(kb):
        where = _origin(kb, kind, entry.id)
        for index, source in enumerate((entry.source, *entry.also_sources)):
            field = "source" if index == 0 else f"also_sources[{index - 1}]"
            document = kb.sources.get(source.seed)
            if source.published and document and source.published > document.as_of:
                problems.append(
                    Problem(
                        where,
                        f"{kind} ({entry.id}).{field}.published",
                        f"{source.published} is later than {source.seed}'s as_of "
                        f"{document.as_of}: the file cannot cite what it had not seen",
                    )
                )
            given = source_date(kb, source)
            if given is None:
                continue
            if index == 0 and entry.as_of > given:
                problems.append(
                    Problem(
                        where,
                        f"{kind} ({entry.id}).as_of",
                        f"{entry.as_of} is later than its source's date {given} "
                        f"({source.reference or source.seed}): use the source's date",
                    )
                )
            if index > 0 and given.year < entry.as_of.year:
                year = str(given.year)
                for lang in ("es", "en"):
                    if not any(year in text for text in visible_texts(entry, lang)):
                        problems.append(
                            Problem(
                                where,
                                f"{kind} ({entry.id}).{field}",
                                f"its facts date from {given}, before the entry's as_of "
                                f"{entry.as_of}, but no {lang} text says {year}: date them",
                            )
                        )
    return problems


def _check_links(kb: KnowledgeBase) -> list[Problem]:
    """Plain-http and bare-IP links need a reason in ``notes``; a bare IP also a
    warning users can read (its label starts with ⚠️)."""
    problems = []
    for kind, entry in _answerable(kb):
        for index, link in enumerate(getattr(entry, "links", [])):
            host = (urlparse(link.url).hostname or "").removeprefix("www.")
            where = f"{kind} ({entry.id}).links[{index}]"
            bare_ip = bool(BARE_IP.match(host))
            if (bare_ip or link.url.startswith("http://")) and host not in (entry.notes or ""):
                problems.append(
                    Problem(
                        _origin(kb, kind, entry.id),
                        where,
                        f"{link.url} is {'a bare IP address' if bare_ip else 'plain http'}: "
                        f"say why it is kept in the entry's notes (name {host})",
                    )
                )
            labels = (link.label.es, link.label.en) if link.label else ()
            if bare_ip and not (labels and all(text.startswith("⚠️") for text in labels)):
                problems.append(
                    Problem(
                        _origin(kb, kind, entry.id),
                        f"{where}.label",
                        f"{link.url} is a bare IP address, not an official site: its label "
                        "must warn users (start with ⚠️, in both languages)",
                    )
                )
    return problems


def _valid_number(phone: Phone) -> bool:
    if SHORT_CODE.match(phone.number):
        return True
    return phonenumbers.is_valid_number(phonenumbers.parse(phone.number, None))


def _check_phones(kb: KnowledgeBase) -> list[Problem]:
    """A number phonenumbers does not recognise is shown only with a note to users;
    a short help line (105, 1818) needs its own reference naming where it was published."""
    problems = []
    for kind, entry in _answerable(kb):
        references = [s.reference or "" for s in (entry.source, *entry.also_sources)]
        for index, phone in enumerate(getattr(entry, "phones", [])):
            where = f"{kind} ({entry.id}).phones[{index}]"
            if not _valid_number(phone) and phone.note is None:
                problems.append(
                    Problem(
                        _origin(kb, kind, entry.id),
                        where,
                        f"{phone.number} is not a valid number for its country (phonenumbers): "
                        "keep the source's digits and add a `note` telling users why",
                    )
                )
            if SHORT_CODE.match(phone.number) and not any(
                re.match(rf"{phone.number}\b", reference) for reference in references
            ):
                problems.append(
                    Problem(
                        _origin(kb, kind, entry.id),
                        where,
                        f"help line {phone.number} has no source reference of its own "
                        f"(add one starting '{phone.number}: outlet, date')",
                    )
                )
    return problems


def _check_news_facts(kb: KnowledgeBase) -> list[Problem]:
    """Facts from the facts files (news outlets, gob.pe pages) name their outlet and
    date where users read them: the files are not official documents."""
    problems = []
    for kind, entry in _answerable(kb):
        for source in (entry.source, *entry.also_sources):
            if not source.seed.endswith(".md") or not source.reference:
                continue
            named = [*OUTLET.findall(source.reference)]
            named += [str(source.published.year)] if source.published else []
            for lang in ("es", "en"):
                visible = " ".join(visible_texts(entry, lang)).lower()
                missing = [name for name in named if name.lower() not in visible]
                if missing:
                    problems.append(
                        Problem(
                            _origin(kb, kind, entry.id),
                            f"{kind} ({entry.id}).source ({source.reference})",
                            f"no {lang} text names {', '.join(missing)}: say where "
                            "and when a news-sourced fact was published",
                        )
                    )
    return problems


def _reached_when_irregular(topic: Topic) -> bool:
    for keyword in topic.keywords.all():
        words = normalise(keyword).split()
        for marker in IRREGULAR_KEYWORDS:
            if marker.endswith("*") and any(w.startswith(marker[:-1]) for w in words):
                return True
            if f" {marker} " in f" {' '.join(words)} ":
                return True
    return False


def _check_irregular_topics(kb: KnowledgeBase) -> list[Problem]:
    """Topics people in an irregular situation reach must give the rules after the
    seeds (the migration facts file) and say plainly what they risk (expulsion)."""
    problems = []
    for topic in kb.topics.values():
        if not _reached_when_irregular(topic):
            continue
        where = _origin(kb, "topics", topic.id)
        seeds = {s.seed for s in (topic.source, *topic.also_sources)}
        if MIGRATION_FACTS not in seeds:
            problems.append(
                Problem(
                    where,
                    f"topics ({topic.id}).also_sources",
                    f"its keywords bring people in an irregular situation here: cite "
                    f"{MIGRATION_FACTS} (the rules after the seeds)",
                )
            )
        for lang, stem in (("es", "expuls"), ("en", "expel")):
            visible = normalise(" ".join(visible_texts(topic, lang)))
            if stem not in visible and "expulsion" not in visible:
                problems.append(
                    Problem(
                        where,
                        f"topics ({topic.id}).text.{lang}",
                        "its keywords bring people in an irregular situation here: say "
                        "plainly what the sources say about expulsion",
                    )
                )
    return problems


def _origin(kb: KnowledgeBase, kind: str, entry_id: str) -> str:
    return kb.origins.get(f"{kind}:{entry_id}", "knowledge/data")


def content_problems(kb: KnowledgeBase) -> list[Problem]:
    """Every problem in what users read; empty when all is well."""
    problems: list[Problem] = []
    problems += _check_dates(kb)
    problems += _check_links(kb)
    problems += _check_phones(kb)
    problems += _check_news_facts(kb)
    problems += _check_irregular_topics(kb)
    return problems
