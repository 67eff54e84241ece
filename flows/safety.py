"""What a person in danger gets: the fitting numbers first, then help.

The danger classifier (:mod:`flows.scoring.danger`) says which kind of danger a
message describes; this module turns that into replies, all from
``knowledge/data/safety.yaml``:

1. the numbers that fit the danger, each with one line on what it is for;
2. one warm sentence that does not judge;
3. the help topic for that kind (Línea 113 for suicidal thoughts, trafficking,
   extortion…);
4. organisations of the person's city that help with it, or the offer to find
   them and to talk to a person.

Never a list of unrelated topics, and never "no estoy seguro" alone.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from flows.render import Renderer
from flows.scoring.danger import Danger
from flows.turn import Event, Reply, State, Turn
from knowledge.base import KnowledgeBase
from knowledge.schema import Organisation
from knowledge.vocabulary import DangerKind

#: A danger this confident is answered as danger, before anything else.
DANGER_ANSWER = 0.45
#: Between this and DANGER_ANSWER, the person is asked gently whether they are in danger.
DANGER_CHECK = 0.28
#: Areas whose topics may follow the numbers when the message asks for them clearly.
PROTECTIVE_AREAS = frozenset({"protection", "asylum"})
#: A second kind is answered too when it is at least this confident (threats and violence).
SECOND_KIND = 0.6
#: How many of the kind's numbers the gentle check names: a medium reading is the least
#: sure of its kind too, and both numbers fit it (child abuse: 100 and 1818).
CHECK_NUMBERS = 2
#: How two numbers are joined in the gentle check ("llama al 100 o al 1818").
EITHER = {"es": " o al ", "en": " or "}


class SafetyAnswers:
    def __init__(self, kb: KnowledgeBase, render: Renderer) -> None:
        self.kb = kb
        self.render = render

    def kinds(self, dangers: list[Danger]) -> list[DangerKind]:
        """The kinds to answer: the most confident, and a second one if also clear."""
        chosen = []
        for rank, danger in enumerate(dangers[:2]):
            kind = self.kb.safety.kind(danger.kind)
            if kind and (rank == 0 or danger.confidence >= SECOND_KIND):
                chosen.append(kind)
        return chosen

    def numbers_reply(self, kinds: list[DangerKind], lang: str) -> Reply:
        numbers: list[str] = []
        for kind in kinds:
            numbers += [n for n in kind.numbers if n not in numbers]
        lines = [self.kb.message("danger_first", lang)] if numbers else []
        for number in numbers:
            known = self.kb.safety.number(number)
            dial = known.dial(lang) if known else number
            lines.append(f"📞 *{dial}*: {known.label.get(lang)}" if known else f"📞 *{dial}*")
        lines += ["", kinds[0].reply.get(lang)] if lines else [kinds[0].reply.get(lang)]
        short = " ".join(f"{n}" for n in numbers) + f" {kinds[0].reply.get(lang)}"
        return Reply("\n".join(lines).strip(), short=short.strip())

    def answer(
        self,
        state: State,
        dangers: list[Danger],
        today: date | None = None,
        asked: str | None = None,
    ) -> Turn:
        """The safety answer; the state stays in safety mode for follow-ups.

        ``asked`` is a protection topic the message also asks about clearly ("si
        vuelvo me matan, ¿puedo quedarme?" → humanitarian status); it replaces the
        kind's usual help topic. Any other topic waits: safety comes first.
        """
        lang = state.lang
        kinds = self.kinds(dangers)
        main = kinds[0]
        replies = [self.numbers_reply(kinds, lang)]
        events = [Event("danger", kind.id) for kind in kinds]
        last = None
        topic = asked or main.topic
        if topic and topic in self.kb.topics:
            replies.append(self.render.topic(self.kb.topics[topic], lang, today))
            last = f"topic:{topic}"
            events.append(Event("answered", last))
        orgs, offer = self.organisations(state, main)
        replies.append(offer)
        new = replace(
            state,
            danger=main.id,
            last=last,
            options=tuple(f"org:{o.id}" for o in orgs),
            awaiting=None if orgs or state.city else "city",
            alternatives=(),
        )
        return Turn(new, replies, events)

    def organisations(self, state: State, kind: DangerKind) -> tuple[list[Organisation], Reply]:
        """Organisations of the user's city that help with this danger, or the offer."""
        lang = state.lang
        city = self.kb.cities.get(state.city or "")
        if city and kind.services:
            orgs = [
                o for o in self.kb.organisations_in(city.id) if set(o.services) & set(kind.services)
            ]
            if orgs:
                intro = self.kb.message("danger_orgs", lang, city=city.name)
                return orgs, self.render.organisations(intro, orgs, lang)
        return [], Reply(self.kb.message("danger_person", lang))

    def check_line(self, dangers: list[Danger], lang: str) -> str:
        """A gentle question for a possible danger ("¿Estás en peligro ahora?…")."""
        kind = self.kb.safety.kind(dangers[0].kind)
        numbers = kind.numbers[:CHECK_NUMBERS] if kind and kind.numbers else ("105",)
        either = EITHER.get(lang, EITHER["es"])
        return self.kb.message("danger_check", lang, number=either.join(numbers))
