"""One YAML file's content: the entries of :mod:`knowledge.schema` and the
understanding data of :mod:`knowledge.vocabulary`, under their top-level keys."""

from __future__ import annotations

from pydantic import Field, model_validator

from knowledge.handoff import HandoffDesk
from knowledge.schema import (
    City,
    Consulate,
    Keywords,
    Menu,
    Organisation,
    Service,
    SourceDocument,
    Strict,
    Text,
    Topic,
)
from knowledge.vocabulary import Aspect, ForeignOffices, OtherLanguage, Safety


class KnowledgeFile(Strict):
    """One YAML file's content."""

    topics: list[Topic] = Field(default_factory=list)
    organisations: list[Organisation] = Field(default_factory=list)
    consulates: list[Consulate] = Field(default_factory=list)
    cities: list[City] = Field(default_factory=list)
    services: list[Service] = Field(default_factory=list)
    menus: list[Menu] = Field(default_factory=list)
    sources: list[SourceDocument] = Field(default_factory=list)
    messages: dict[str, Text] = Field(default_factory=dict)
    #: Example questions per entry id (``knowledge/data/questions/``).
    questions: dict[str, Keywords] = Field(default_factory=dict)
    #: Ordinary messages for the danger reader, frozen apart from the example questions
    #: (``knowledge/data/danger_ordinary.yaml``).
    danger_ordinary: list[str] = Field(default_factory=list)
    #: Danger kinds, their examples and help numbers (``knowledge/data/safety.yaml``).
    safety: Safety | None = None
    #: Examples per intent: small talk, out of scope, repair (``intents.yaml``).
    intents: dict[str, Keywords] = Field(default_factory=dict)
    #: Languages answered in Spanish with a notice (``intents.yaml``).
    other_languages: dict[str, OtherLanguage] = Field(default_factory=dict)
    #: Aspects a follow-up can ask about (``intents.yaml``).
    aspects: dict[str, Aspect] = Field(default_factory=dict)
    #: The service tag kept for each area when only the city changes (``intents.yaml``).
    area_services: dict[str, str] = Field(default_factory=dict)
    #: Other countries' offices in Peru (``intents.yaml``).
    foreign_offices: ForeignOffices | None = None
    #: Partner organisations' hours and wait for a hand-off (``handoff.yaml``).
    handoff: HandoffDesk | None = None

    @model_validator(mode="after")
    def _not_empty(self) -> KnowledgeFile:
        if not any(
            (
                self.questions,
                self.danger_ordinary,
                self.safety,
                self.intents,
                self.other_languages,
                self.aspects,
                self.area_services,
                self.foreign_offices,
                self.handoff,
                self.topics,
                self.organisations,
                self.consulates,
                self.cities,
                self.services,
                self.menus,
                self.sources,
                self.messages,
            )
        ):
            raise ValueError("the file holds no knowledge")
        return self
