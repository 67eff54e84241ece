"""The shape of the knowledge files, as pydantic models.

Every YAML file under ``knowledge/data/`` is a mapping with one or more of
these top-level keys, each holding a list (or, for ``messages``, a mapping):

``topics``, ``organisations``, ``consulates``, ``cities``, ``services``,
``menus``, ``sources``, ``messages``.

The models check what a single entry can check on its own (a phone number is
well-formed, a link is http(s), both languages are present). Checks that need
the whole knowledge base (duplicate ids, unknown cities, menus that point
nowhere) live in :mod:`knowledge.check`.

Example (a topic)::

    topics:
      - id: sis-gratuito
        area: health
        title: {es: "SIS Gratuito", en: "Free SIS"}
        text:
          es: "Seguro de salud gratuito para personas sin otro seguro."
          en: "Free health insurance for people with no other insurance."
        links:
          - url: https://www.gob.pe/130-afiliarme-al-sis-gratuito
        keywords: {es: [sis, seguro gratis], en: [free insurance]}
        source: {seed: 000_648fd1a782a4e687.txt, heading: "Salud"}
        as_of: 2022-02-08
"""

from __future__ import annotations

import functools
import re
from datetime import date
from typing import Annotated, Literal

import phonenumbers
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from knowledge.targets import TARGET_PATTERN

LANGUAGES: tuple[str, ...] = ("es", "en")
Language = Literal["es", "en"]

#: Knowledge areas. Each has a submenu and an accuracy figure in ``pana eval``.
AREAS: tuple[str, ...] = (
    "entry",  # visas and entering Peru, consulates
    "status",  # migratory status (calidad migratoria), carné, PTP
    "asylum",  # refuge, asylum, regularising one's movement, embassy
    "health",  # SIS, EsSalud, vaccination, elderly care
    "education",  # school, enrolment, Cuna Más
    "protection",  # violence, trafficking, emergency numbers
    "ngos",  # organisations that help, by city
)
Area = Literal["entry", "status", "asylum", "health", "education", "protection", "ngos"]

#: Words that steer a question to a requirement, plan or service
#: (see ``Topic.audience``).
AUDIENCES: tuple[str, ...] = (
    "child",  # menores de edad
    "baby",  # bebés, menores de 5 / 3 años
    "pregnant",  # embarazadas
    "disability",  # discapacidad
    "violence",  # violencia, abuso
    "elderly",  # adultos mayores
    "adult",  # mayores de 18
    "worker",  # trabajadores, independientes, emprendedores
    "student",
    "lgbti",
)

Slug = Annotated[str, Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=80)]
E164 = re.compile(r"^\+[1-9]\d{6,14}$")
SHORT_CODE = re.compile(r"^\d{3,5}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$", re.IGNORECASE)


class Strict(BaseModel):
    """Base model: unknown fields are errors, so typos in field names show up."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Text(Strict):
    """A text in every language the bot speaks. Both are required."""

    es: str = Field(min_length=1)
    en: str = Field(min_length=1)

    def get(self, lang: str) -> str:
        """Return the text in ``lang``, falling back to Spanish."""
        return self.en if lang == "en" else self.es


class Keywords(Strict):
    """Words and phrases people use for an entry, per language.

    Include everyday words, slang and common misspellings ("papeles",
    "carnet", "sis gratis", "seguro"). Matching ignores case and accents.
    """

    es: list[str] = Field(default_factory=list)
    en: list[str] = Field(default_factory=list)

    def all(self) -> list[str]:
        return [*self.es, *self.en]


class Source(Strict):
    """Where a fact comes from: a file in ``shared/seeds`` or ``shared/facts``."""

    seed: str = Field(min_length=5)
    heading: str = Field(min_length=1)
    #: For facts gathered from other public sources (news, gob.pe pages): the outlet
    #: and the date, as the facts file gives them ("larepublica.pe, 7 Oct 2022").
    reference: str | None = None
    #: The publication date ``reference`` gives (the latest, when it cites several);
    #: left out when the facts file gives none. Never later than the file's ``as_of``.
    published: date | None = None


class Phone(Strict):
    """A phone number.

    ``number`` is E.164 (``+582122619389``) or, for Peru's short public help
    lines, the short code itself (``100``). It is shown formatted the way
    people dial it from Peru (see :func:`display_phone`).
    """

    number: str
    label: Text | None = None
    #: True for numbers that also take WhatsApp messages.
    whatsapp: bool = False
    #: Shown to users under the number: why it may not work as written (a number
    #: in an old format, kept as the source gives it). ``pana kb check`` requires
    #: one on every number phonenumbers does not recognise as valid.
    note: Text | None = None

    @field_validator("number")
    @classmethod
    def _well_formed(cls, value: str) -> str:
        if SHORT_CODE.match(value):
            return value
        if not E164.match(value):
            raise ValueError(f"phone {value!r} is not E.164 (+<country><number>) nor a short code")
        try:
            parsed = phonenumbers.parse(value, None)
        except phonenumbers.NumberParseException as exc:
            raise ValueError(f"phone {value!r} cannot be parsed: {exc}") from exc
        if not phonenumbers.is_possible_number(parsed):
            raise ValueError(f"phone {value!r} has an impossible length for its country")
        return value

    @property
    def display(self) -> str:
        return display_phone(self.number)


@functools.lru_cache(maxsize=4096)
def display_phone(number: str) -> str:
    """Format a stored number the way a person dials it.

    >>> display_phone("+582122619389")
    '+58 212-2619389'
    >>> display_phone("100")
    '100'
    """
    if SHORT_CODE.match(number):
        return number
    parsed = phonenumbers.parse(number, None)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


class Link(Strict):
    url: str
    label: Text | None = None

    @field_validator("url")
    @classmethod
    def _http(cls, value: str) -> str:
        if not re.match(r"^https?://[^\s/$.?#][^\s]*$", value):
            raise ValueError(f"link {value!r} is not an http(s) URL")
        return value


def _check_email(value: str) -> str:
    if not EMAIL.match(value):
        raise ValueError(f"e-mail {value!r} is malformed")
    return value


Email = Annotated[str, AfterValidator(_check_email)]


class Entry(Strict):
    """Fields every answerable entry shares: identity, keywords, provenance."""

    id: Slug
    keywords: Keywords = Field(default_factory=Keywords)
    source: Source
    #: Further sources, e.g. a later document that updates this entry.
    also_sources: list[Source] = Field(default_factory=list)
    #: The date the facts hold as of (the source's date).
    as_of: date
    #: Where a later source changed this entry: what changed, shown to users.
    update: Text | None = None
    #: For editors only, never shown: doubts, reconstruction choices.
    notes: str | None = None


class AgeRange(Strict):
    """Ages in whole years, both ends included; ``max`` absent: no upper limit."""

    min: int = Field(ge=0, le=120)
    max: int | None = Field(default=None, ge=0, le=120)

    @model_validator(mode="after")
    def _ordered(self) -> AgeRange:
        if self.max is not None and self.max < self.min:
            raise ValueError(f"ages: max {self.max} is below min {self.min}")
        return self

    def includes(self, age: int) -> bool:
        return self.min <= age and (self.max is None or age <= self.max)


class Topic(Entry):
    """An answer about one subject: a visa, a health plan, a right.

    Rendered as: title, text, items (as a list), phones, e-mails, links,
    the update line if any, and the source line.
    """

    area: Area
    title: Text
    text: Text
    items: list[Text] = Field(default_factory=list)
    links: list[Link] = Field(default_factory=list)
    phones: list[Phone] = Field(default_factory=list)
    emails: list[Email] = Field(default_factory=list)
    audience: list[str] = Field(default_factory=list)
    #: Ids of topics offered as "see also" after this answer.
    related: list[str] = Field(default_factory=list)
    #: Ages in years the topic is for, as its source gives them: ``{min: 0, max: 2}`` for
    #: "menores de 3 años". "¿y para mi hija de 3 años?" then moves to the related topic
    #: whose ages include 3.
    ages: AgeRange | None = None

    @field_validator("audience")
    @classmethod
    def _known_audience(cls, values: list[str]) -> list[str]:
        unknown = [v for v in values if v not in AUDIENCES]
        if unknown:
            raise ValueError(f"unknown audience {unknown}; use one of {list(AUDIENCES)}")
        return values


class Organisation(Entry):
    """A non-governmental organisation that helps migrants."""

    #: Short code printed on flyers for referral tracking, e.g. ``OCASIVEN``.
    code: str = Field(pattern=r"^[A-Z0-9]{3,20}$")
    name: str
    #: Acronym or short name people use ("TAGL", "SJS").
    short_name: str | None = None
    description: Text
    contact_person: str | None = None
    phones: list[Phone] = Field(default_factory=list)
    emails: list[Email] = Field(default_factory=list)
    links: list[Link] = Field(default_factory=list)
    #: Social accounts: network name -> handle or URL (``instagram: "@ocasiven"``).
    social: dict[str, str] = Field(default_factory=dict)
    #: City ids from the cities table; ``nacional`` is not a city: list them.
    cities: list[str] = Field(default_factory=list)
    #: Service tag ids from the services table.
    services: list[str] = Field(default_factory=list)
    #: Whom it serves, in plain words.
    serves: Text | None = None
    #: Kind of organisation (association, foundation, faith-based, ...).
    type: Text | None = None


class Consulate(Entry):
    """A Peruvian consulate abroad where the humanitarian visa is processed."""

    city: str
    country: str = Field(pattern=r"^[A-Z]{2}$")
    phones: list[Phone] = Field(min_length=1)
    emails: list[Email] = Field(default_factory=list)


class City(Strict):
    """A city or region people may name, with coordinates for shared locations."""

    id: Slug
    name: str
    country: str = Field(pattern=r"^[A-Z]{2}$")
    #: Peruvian region (departamento) for Peruvian cities.
    region: str | None = None
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    #: Other spellings people use, misspellings included ("truji", "gayakil").
    aliases: list[str] = Field(default_factory=list)


class Service(Strict):
    """A service tag used on organisations (``legal``, ``health``, ...)."""

    id: Slug
    label: Text
    keywords: Keywords = Field(default_factory=Keywords)


class MenuOption(Strict):
    label: Text
    #: ``menu:<id>``, ``topic:<id>``, ``org:<id>``, ``consulate:<id>``,
    #: ``service:<id>`` (organisations offering it), ``city:<id>`` (organisations there),
    #: ``list:ngos`` (organisations by city) or ``list:consulates``: a kind of
    #: :data:`knowledge.targets.TARGET_KINDS`.
    target: str = Field(pattern=TARGET_PATTERN)


class Menu(Strict):
    """A numbered menu. The menu with id ``main`` is the greeting menu."""

    id: Slug
    title: Text
    options: list[MenuOption] = Field(min_length=1, max_length=12)
    keywords: Keywords = Field(default_factory=Keywords)


class SourceDocument(Strict):
    """A source document, named by its file in ``shared/seeds`` or ``shared/facts``."""

    id: str = Field(pattern=r"^[A-Za-z0-9_.-]+\.(txt|md)$")
    title: Text
    publisher: str
    #: The date the document's facts hold as of.
    as_of: date
