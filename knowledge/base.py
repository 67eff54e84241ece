"""The loaded knowledge base: every entry, indexed by id, ready for questions.

The engine in ``flows/`` only ever sees a :class:`KnowledgeBase`; it never
reads files. Load one with :func:`knowledge.loader.load_knowledge`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from knowledge.schema import (
    City,
    Consulate,
    Menu,
    Organisation,
    Service,
    SourceDocument,
    Text,
    Topic,
)


@dataclass
class KnowledgeBase:
    """All knowledge, by kind and id.

    Example::

        kb = load_knowledge()
        kb.topics["sis-gratuito"].title.get("es")
        kb.organisations_in("trujillo")
    """

    topics: dict[str, Topic] = field(default_factory=dict)
    organisations: dict[str, Organisation] = field(default_factory=dict)
    consulates: dict[str, Consulate] = field(default_factory=dict)
    cities: dict[str, City] = field(default_factory=dict)
    services: dict[str, Service] = field(default_factory=dict)
    menus: dict[str, Menu] = field(default_factory=dict)
    sources: dict[str, SourceDocument] = field(default_factory=dict)
    messages: dict[str, Text] = field(default_factory=dict)
    #: Where each entry was read from, ``"kind:id" -> "path"``, for error reports.
    origins: dict[str, str] = field(default_factory=dict)

    def message(self, key: str, lang: str, **values: object) -> str:
        """A bot text from the messages table, in ``lang``, with ``{values}`` filled in."""
        text = self.messages[key].get(lang)
        return text.format(**values) if values else text

    def organisations_in(self, city_id: str) -> list[Organisation]:
        """Organisations that cover ``city_id``, in the order the files list them."""
        return [org for org in self.organisations.values() if city_id in org.cities]

    def covered_cities(self) -> list[City]:
        """Cities where at least one organisation works."""
        covered = {c for org in self.organisations.values() for c in org.cities}
        return [city for cid, city in self.cities.items() if cid in covered]

    def consulates_in(self, city_id: str) -> list[Consulate]:
        return [c for c in self.consulates.values() if c.city == city_id]

    def entry_count(self) -> int:
        return len(self.topics) + len(self.organisations) + len(self.consulates)
