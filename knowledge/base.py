"""The loaded knowledge base: every entry, indexed by id, ready for questions.

The engine in ``flows/`` only ever sees a :class:`KnowledgeBase`; it never
reads files. Load one with :func:`knowledge.loader.load_knowledge`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from knowledge.handoff import HandoffDesk
from knowledge.schema import (
    City,
    Consulate,
    Keywords,
    Menu,
    Organisation,
    Service,
    SourceDocument,
    Text,
    Topic,
)
from knowledge.targets import TARGET_KINDS
from knowledge.vocabulary import Aspect, ForeignOffices, OtherLanguage, Safety


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
    #: Example questions per target (``topic:sis``), to train understanding.
    questions: dict[str, Keywords] = field(default_factory=dict)
    #: Ordinary messages the danger reader learns from besides ``safety.ordinary``: a
    #: frozen sample of example questions, so editing the questions leaves it unchanged.
    danger_ordinary: list[str] = field(default_factory=list)
    #: Danger kinds and help numbers; empty when no ``safety.yaml`` is loaded.
    safety: Safety = field(default_factory=Safety)
    #: Examples per intent (``greeting``, ``out_of_scope``, ``repair``…).
    intent_examples: dict[str, Keywords] = field(default_factory=dict)
    #: Languages read but answered in Spanish, with their notice.
    other_languages: dict[str, OtherLanguage] = field(default_factory=dict)
    #: Aspects a follow-up can ask about, in the order they are tried.
    aspects: dict[str, Aspect] = field(default_factory=dict)
    #: The service tag kept per area when only the city changes ("¿y en Arequipa?").
    area_services: dict[str, str] = field(default_factory=dict)
    #: Other countries' offices in Peru, told apart from Peru's consulates abroad.
    foreign_offices: ForeignOffices | None = None
    #: When partner organisations answer a hand-off, and how fast.
    handoff: HandoffDesk = field(default_factory=HandoffDesk)
    #: Where each entry was read from, ``"kind:id" -> "path"``, for error reports.
    origins: dict[str, str] = field(default_factory=dict)

    def target_of(self, ident: str) -> str | None:
        """``topic:sis`` for ``sis``: the kind of entry an id names, if any."""
        for kind, table in (
            ("topic", self.topics),
            ("org", self.organisations),
            ("consulate", self.consulates),
        ):
            if ident in table:
                return f"{kind}:{ident}"
        return None

    def has_target(self, target: str) -> bool:
        """Whether ``target`` (``topic:sis``, ``list:ngos``) names something here, by
        :data:`~knowledge.targets.TARGET_KINDS`."""
        kind, _, ident = target.partition(":")
        spec = TARGET_KINDS.get(kind)
        if spec is None:
            return False
        return ident in getattr(self, spec.table) if spec.table else ident in spec.ids

    def area_of(self, target: str) -> str | None:
        """The area of a topic, organisation or consulate target; None for the rest."""
        kind, _, ident = target.partition(":")
        spec = TARGET_KINDS.get(kind)
        if spec is not None and spec.area is not None:
            return spec.area
        topic = self.topics.get(ident) if kind == "topic" else None
        return topic.area if topic is not None else None

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
