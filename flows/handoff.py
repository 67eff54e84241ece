"""A person when the bot is not enough: the offer, consent, and the bot's silence after.

Pure, like the rest of ``flows``: which organisations have staff to answer
(:attr:`Incoming.staffed`) and the time (:attr:`Incoming.now`) come in with
the message; storage turns the events into an inbox conversation.

1. **Offer.** "hablar con una persona", a second "eso no" in a row, or the
   line after a danger answer names the partner organisation that serves the
   person's city (or any partner), its hours and usual wait, and asks for
   consent in plain words. Nothing is stored yet.
2. **Consent.** "1"/"sí" opens the hand-off (event ``handoff_open``); "2"/"no"
   keeps nothing. Anything else is read as an ordinary message.
3. **Open.** The bot stays silent: every message becomes a
   ``handoff_message`` event for the inbox. Only "menu"/"salir" (leave),
   "borrar mis datos" and "stop" are still the bot's, and a message that
   describes danger still gets the fitting numbers at once: nobody may be
   reading yet, and safety outranks silence.
4. **Close.** Staff close it from the inbox (:meth:`Handoffs.ended`) or the
   person leaves; the bot answers again.

Example::

    handoffs = Handoffs(kb)
    org = handoffs.partner(State(city="lima"), Incoming("web", "persona", staffed=("ocasiven",)))
    turn = handoffs.offer(State(), org, now=None)      # the consent question
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from flows import intents
from flows.turn import Event, Incoming, Location, Option, Reply, State, Turn
from knowledge.base import KnowledgeBase
from knowledge.schema import Organisation

#: Messages this module says, from the messages table (``handoff.yaml``).
MESSAGES = (
    "handoff_offer", "handoff_closed_now", "handoff_yes", "handoff_no", "handoff_open",
    "handoff_open_closed", "handoff_in_danger", "handoff_declined", "handoff_left",
    "handoff_ended", "handoff_transferred", "handoff_media", "handoff_danger_offer",
    "handoff_repair_offer", "handoff_reminder",
)  # fmt: skip


def asks_for_person(norm: str) -> bool:
    """ "quiero hablar con una persona", "persona", "talk to a human"."""
    if norm in intents.PERSON_WORDS or intents.contains_phrase(norm, intents.PERSON):
        return True
    short = len(norm.split()) <= intents.PERSON_SHORT_WORDS
    return short and intents.contains_phrase(norm, intents.PERSON_IF_SHORT)


def leaves(norm: str) -> bool:
    """ "menu" or "salir": the person ends the hand-off."""
    return norm in intents.MENU or norm in intents.EXIT


class Handoffs:
    """Offers, consent and what a message becomes while a person reads."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self.desk = kb.handoff

    # -- who answers --------------------------------------------------------------

    def cities_of(self, org: Organisation) -> list[str]:
        desk = self.desk.desk(org.id)
        return desk.cities if desk and desk.cities else org.cities

    def is_open(self, org_id: str, now: datetime | None) -> bool | None:
        """Whether ``org_id`` is within its hours at ``now``; None when the time is unknown."""
        if now is None:
            return None
        return self.desk.hours_of(org_id).is_open(self.desk.local(now))

    def partner(
        self, state: State, incoming: Incoming, city: str | None = None
    ) -> Organisation | None:
        """The organisation to offer: one that serves the person's city if any does, one
        open now before one that is closed; None when no organisation has staff."""
        staffed = [self.kb.organisations[o] for o in incoming.staffed if o in self.kb.organisations]
        place = city or state.city
        serving = [o for o in staffed if place in self.cities_of(o)] if place else []
        candidates = serving or staffed
        open_now = [o for o in candidates if self.is_open(o.id, incoming.now)]
        return (open_now or candidates or [None])[0]

    def name(self, org_id: str | None) -> str:
        org = self.kb.organisations.get(org_id or "")
        return (org.short_name or org.name) if org else ""

    # -- the offer and consent ---------------------------------------------------------

    def offer(self, state: State, org: Organisation, now: datetime | None) -> Turn:
        """The consent question for ``org``: who will read, hours, wait, and 1 Sí / 2 No."""
        lang = state.lang
        closed = self.is_open(org.id, now) is False
        text = self.kb.message(
            "handoff_offer",
            lang,
            org=self.name(org.id),
            hours=self.desk.hours_of(org.id).describe(lang),
            wait=self.desk.wait_of(org.id).get(lang),
            closed=self.kb.message("handoff_closed_now", lang) if closed else "",
        )
        options = (
            Option("1", self.kb.message("handoff_yes", lang)),
            Option("2", self.kb.message("handoff_no", lang)),
        )
        new = replace(state, awaiting="consent", offered=org.id, options=(), alternatives=())
        return Turn(new, [Reply(text, options)])

    def consent(self, state: State, norm: str, now: datetime | None) -> Turn | None:
        """The answer to the consent question; None when the message is not one."""
        lang, org = state.lang, state.offered
        if norm in intents.CONSENT_NO or org not in self.kb.organisations:
            cleared = replace(state, awaiting=None, offered=None)
            if norm not in intents.CONSENT_NO:
                return None
            return Turn(cleared, [Reply(self.kb.message("handoff_declined", lang))])
        if norm not in intents.CONSENT_YES:
            return None
        new = replace(state, awaiting=None, offered=None, handoff=org, options=(), trail=())
        name = self.name(org)
        if self.is_open(org, now) is False:
            hours = self.desk.hours_of(org).describe(lang)
            text = self.kb.message("handoff_open_closed", lang, org=name, hours=hours)
            text = f"{text}\n\n{self.numbers(lang)}"
        else:
            text = self.kb.message("handoff_open", lang, org=name)
        return Turn(new, [Reply(text)], [Event("handoff_open", org)])

    def numbers(self, lang: str) -> str:
        """ "If you are in danger now" and the desk's help numbers, one line each."""
        lines = [self.kb.message("handoff_in_danger", lang)]
        for number in self.desk.numbers:
            known = self.kb.safety.number(number)
            if known is not None:
                lines.append(f"📞 *{known.dial(lang)}*: {known.label.get(lang)}")
        return "\n".join(lines)

    # -- while a person reads -----------------------------------------------------------

    def relay(self, state: State, incoming: Incoming, text: str) -> Turn:
        """A message for the inbox: no reply, unless it carries nothing staff can read."""
        if incoming.location is not None:
            return Turn(state, (), [Event("handoff_message", _place(incoming.location))])
        if not text.strip():
            if incoming.has_media:
                message = self.kb.message("handoff_media", state.lang, org=self.name(state.handoff))
                return Turn(state, [Reply(message)])
            return Turn(state)
        return Turn(state, (), [Event("handoff_message", text.strip())])

    def reminder(self, state: State) -> Turn:
        """A page opened again during a hand-off: who reads, and how to leave."""
        text = self.kb.message("handoff_reminder", state.lang, org=self.name(state.handoff))
        return Turn(state, [Reply(text)])

    def left(self, state: State) -> tuple[State, str, Event]:
        """The person said "menu" or "salir": the state without the hand-off, the
        line that says so, and the event that closes it in the inbox."""
        org = state.handoff or ""
        line = self.kb.message("handoff_left", state.lang, org=self.name(org))
        return replace(state, handoff=None), line, Event("handoff_end", org)

    def ended(self, state: State) -> Turn:
        """Staff closed the conversation: the person is told, and the bot answers again."""
        org = state.handoff
        new = replace(state, handoff=None, awaiting=None, offered=None, options=())
        return Turn(new, [Reply(self.kb.message("handoff_ended", state.lang, org=self.name(org)))])

    def transferred(self, state: State, org: str) -> Turn:
        """Staff passed the conversation to another partner organisation."""
        new = replace(state, handoff=org)
        text = self.kb.message("handoff_transferred", state.lang, org=self.name(org))
        return Turn(new, [Reply(text)])


def _place(location: Location) -> str:
    return f"📍 {location.latitude:.5f}, {location.longitude:.5f}"
