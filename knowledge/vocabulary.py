"""What people say, as data: example questions per entry, and danger.

These files teach Pana to understand; nothing in them is shown as an answer
except each danger kind's ``reply`` and its numbers' labels.

``knowledge/data/questions/<area>.yaml``::

    questions:
      sis:                       # a topic, organisation or consulate id
        es: ["q es el sis y quien lo puede sacar", ...]
        en: ["what is SIS health insurance", ...]

``knowledge/data/safety.yaml``::

    safety:
      kinds:
        - id: trafficking
          title: {es: "Trata de personas", en: "Human trafficking"}
          numbers: ["1818", "105"]      # the fitting numbers, first one first
          topic: trata-de-personas      # the help topic shown after them
          services: [violencia]         # organisations that help with it
          reply: {es: "...", en: "..."} # one warm sentence
          examples: {es: [...], en: [...]}
          patterns: {es: ["no me deja salir"], en: [...]}   # certain on their own
      ordinary: {es: [...], en: [...]}  # alarming-looking messages that are not danger
      numbers:
        - number: "1818"
          label: {es: "...", en: "..."}
          source: "gob.pe/institucion/mininter/noticias/325032"
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from knowledge.schema import Keywords, Strict, Text

KindId = str


class HelpNumber(Strict):
    """A public help number and what it is for."""

    number: str = Field(pattern=r"^\d{3,4}$")
    #: The option to choose in the line's menu ("113, opción 5").
    press: int | None = None
    label: Text
    #: Where the number was published (outlet or page, and date).
    source: str | dict[str, Any] = ""
    #: For editors only, never shown.
    notes: str | None = None

    def dial(self, lang: str) -> str:
        """ "113, opción 5": what to dial, in the user's language."""
        if self.press is None:
            return self.number
        return f"{self.number}, {'option' if lang == 'en' else 'opción'} {self.press}"


class DangerKind(Strict):
    id: KindId = Field(pattern=r"^[a-z_]+$")
    title: Text
    #: Help numbers that fit this danger, most fitting first (see ``numbers``).
    numbers: list[str] = Field(default_factory=list)
    #: The help topic shown after the numbers.
    topic: str | None = None
    #: Service tags of organisations that help with this kind of danger.
    services: list[str] = Field(default_factory=list)
    reply: Text
    examples: Keywords
    patterns: Keywords = Field(default_factory=Keywords)


class Safety(Strict):
    kinds: list[DangerKind] = Field(default_factory=list)
    ordinary: Keywords = Field(default_factory=Keywords)
    numbers: list[HelpNumber] = Field(default_factory=list)

    def kind(self, kind_id: str) -> DangerKind | None:
        return next((k for k in self.kinds if k.id == kind_id), None)

    def number(self, number: str) -> HelpNumber | None:
        return next((n for n in self.numbers if n.number == number), None)


class OtherLanguage(Strict):
    """A language Pana reads but answers in Spanish, with a notice in that language."""

    notice: str = Field(min_length=1)
    #: Frequent words of that language that are rare in Spanish and English.
    markers: list[str] = Field(min_length=5)
    #: Text translated to Spanish before understanding ("lekol" -> "colegio").
    glossary: dict[str, str] = Field(default_factory=dict)


class Aspect(Strict):
    """One aspect a follow-up can ask about (cost, duration, documents…)."""

    label: Text
    #: How people ask for it ("cuanto cuesta", "how much").
    asks: list[str] = Field(min_length=1)
    #: Text that show a fact is about it ("s/", "gratis"); empty: contacts only.
    marks: list[str] = Field(default_factory=list)
    #: Who, when named, makes the question one the sources cannot answer: the sources give
    #: official fees, not what a lawyer, a "tramitador" or a private clinic charges.
    outside: list[str] = Field(default_factory=list)


class ForeignOffices(Strict):
    """Words that tell "consulado de Venezuela en Lima" from "consulado del Perú en Quito"."""

    office_words: list[str] = Field(min_length=1)
    home_words: list[str] = Field(min_length=1)
    #: Country word -> the topic about that country's offices in Peru, or None (no data).
    countries: dict[str, str | None] = Field(default_factory=dict)
