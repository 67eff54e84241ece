"""Knowledge past its review age, as a to-do list for the people who edit it.

A count ("122 entries are old") is nothing anyone can act on. Here the entries
are grouped the way an editor works through them: by the source document the
facts came from (read it again, or find its newer edition), then by area, with
the file to open for each.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from bot.admin.tables import Table
from bot.admin.words import words
from flows.render import Renderer
from knowledge import KnowledgeBase
from knowledge.schema import AREAS, Entry

#: The knowledge base's table of each kind of entry, as ``kb.origins`` names it.
_TABLES = {"topic": "topics", "organisation": "organisations", "consulate": "consulates"}


@dataclass(frozen=True)
class StaleEntry:
    """One knowledge entry past its review age."""

    kind: str
    id: str
    title: str
    file: str
    as_of: date
    age: int


@dataclass(frozen=True)
class StaleArea:
    """The entries of one area that one document gave: the files to open and what to check."""

    area: str
    files: tuple[str, ...]
    entries: tuple[StaleEntry, ...]


@dataclass(frozen=True)
class StaleDocument:
    """A source document whose facts need checking again, area by area."""

    source: str
    title: str
    areas: tuple[StaleArea, ...]

    @property
    def count(self) -> int:
        return sum(len(area.entries) for area in self.areas)


def stale_knowledge(
    kb: KnowledgeBase, stale_after_days: int, today: date, lang: str = "es"
) -> list[StaleDocument]:
    """Entries older than ``stale_after_days``, by source document, then area, named in ``lang``.

    The document with the oldest facts comes first; areas follow the main menu's
    order; within an area, the oldest entry first. Each entry names its file
    (``knowledge/data/health/sis.yaml``).
    """
    w = words(lang)
    names = Renderer(kb)
    entries: list[tuple[Entry, str, str, str]] = [
        *((t, "topic", t.area, t.title.get(lang)) for t in kb.topics.values()),
        *((o, "organisation", "ngos", o.name) for o in kb.organisations.values()),
        *(
            (c, "consulate", "entry", names.consulate_title(c, lang))
            for c in kb.consulates.values()
        ),
    ]
    found: dict[str, dict[str, list[StaleEntry]]] = {}
    for entry, kind, area, title in entries:
        age = (today - entry.as_of).days
        if age <= stale_after_days:
            continue
        file = kb.origins.get(f"{_TABLES[kind]}:{entry.id}", "")
        stale = StaleEntry(w[f"kind_{kind}"], entry.id, title, file, entry.as_of, age)
        found.setdefault(entry.source.seed, {}).setdefault(area, []).append(stale)
    documents = []
    for seed, by_area in found.items():
        areas = []
        for area in sorted(by_area, key=lambda a: AREAS.index(a) if a in AREAS else len(AREAS)):
            listed = sorted(by_area[area], key=lambda e: (e.as_of, e.title))
            name = names.title_of(f"menu:{area}", lang) if area in kb.menus else area
            areas.append(StaleArea(name, tuple(sorted({e.file for e in listed})), tuple(listed)))
        document = kb.sources.get(seed)
        title = document.title.get(lang) if document else seed
        documents.append(StaleDocument(seed, title, tuple(areas)))
    return sorted(
        documents, key=lambda d: (min(e.as_of for a in d.areas for e in a.entries), d.source)
    )


def stale_table(documents: list[StaleDocument], stale_after_days: int, lang: str) -> Table:
    """The to-do list as one flat table, for the CSV: one row per entry."""
    w = words(lang)
    rows = [
        (
            document.title,
            area.area,
            entry.file,
            entry.kind,
            entry.id,
            entry.title,
            entry.as_of.isoformat(),
            entry.age,
        )
        for document in documents
        for area in document.areas
        for entry in area.entries
    ]
    headers = ("source", "area", "file", "kind", "id", "title", "as_of", "age")
    return Table(
        "stale", w["stale"].format(days=stale_after_days), tuple(w[h] for h in headers), rows
    )
