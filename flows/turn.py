"""The plain values the engine takes and returns.

A channel turns a Twilio form, a Telegram update or a web-chat request into
an :class:`Incoming`; :meth:`flows.engine.Engine.handle` returns a
:class:`Turn` with the user's new :class:`State`, the :class:`Reply` texts to
send, and :class:`Event` records for storage and statistics. Nothing here
does I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import KW_ONLY, asdict, dataclass, fields, replace
from datetime import date, datetime
from typing import Any, Literal

Channel = Literal["whatsapp", "sms", "telegram", "web", "console"]

#: Longest text the engine reads; longer messages are cut (a story fits easily).
MAX_TEXT_LENGTH = 1000


@dataclass(frozen=True)
class Location:
    latitude: float
    longitude: float


@dataclass(frozen=True)
class Incoming:
    """One message from a user, as any channel delivers it.

    Example::

        Incoming(channel="whatsapp", text="hola")
        Incoming(channel="telegram", location=Location(-8.11, -79.03))
    """

    channel: Channel
    text: str = ""
    location: Location | None = None
    #: The message carried a photo, voice note or file (which the bot cannot read).
    has_media: bool = False
    #: The language the user's app is set to, when the channel knows (Telegram).
    language_hint: str | None = None
    #: Today's date where the user is; used to flag answers that may be out of date.
    today: date | None = None
    #: The moment the message arrived (aware), to tell whether a partner is open now.
    now: datetime | None = None
    #: Organisations whose staff can take a hand-off (ids): the helpline fills it in.
    staffed: tuple[str, ...] = ()


@dataclass(frozen=True)
class State:
    """What the engine remembers about one user between messages.

    Stored as JSON with the user's conversation row (``bot.storage.conversations``).
    Holds no personal data: no phone number, name or message text.
    """

    lang: str = "es"
    #: The menu the user is in (for context and "atrás").
    menu: str | None = None
    #: Targets that the numbers 1..n select right now (a menu or a question).
    options: tuple[str, ...] = ()
    #: Menus visited, for "atrás".
    trail: tuple[str, ...] = ()
    #: The last thing answered (``topic:sis-gratuito``), for follow-ups.
    last: str | None = None
    #: The city the user mentioned last, to narrow NGO answers.
    city: str | None = None
    #: What the last reply asked for: ``city`` or ``delete`` confirmation.
    awaiting: str | None = None
    #: The privacy notice has been shown.
    welcomed: bool = False
    #: The user said "stop": the bot sends nothing unprompted.
    opted_out: bool = False
    #: The kind of danger last answered (``trafficking``): follow-ups stay in safety mode.
    danger: str | None = None
    #: The service last asked for ("salud"), kept when only the city changes.
    service: str | None = None
    #: Other readings of the last question, best first, offered if the user says "eso no".
    alternatives: tuple[str, ...] = ()
    #: The organisation whose staff read this conversation now (an open hand-off).
    handoff: str | None = None
    #: The organisation offered for a hand-off, while consent is awaited.
    offered: str | None = None
    #: "Eso no" said this many times in a row: the second time, a person is offered.
    repairs: int = 0

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["options"] = list(self.options)
        data["trail"] = list(self.trail)
        data["alternatives"] = list(self.alternatives)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> State:
        """Rebuild a state, ignoring unknown or malformed fields (old versions)."""
        if not isinstance(data, dict):
            return cls()
        known = {f.name for f in fields(cls)}
        clean = {k: v for k, v in data.items() if k in known}
        for key in ("options", "trail", "alternatives"):
            value = clean.get(key, ())
            clean[key] = tuple(str(v) for v in value) if isinstance(value, list | tuple) else ()
        try:
            return replace(cls(), **clean)
        except TypeError:
            return cls()


@dataclass(frozen=True)
class Option:
    """A numbered choice; Telegram shows it as a button whose data is ``key``."""

    key: str
    label: str


@dataclass(frozen=True)
class Reply:
    """One message to send. ``short`` is the SMS form: a line and the link."""

    text: str
    options: tuple[Option, ...] = ()
    short: str | None = None
    #: The answer can be rated: channels with buttons (Telegram) add 👍 / 👎.
    feedback: bool = False


EventKind = Literal[
    "answered",  # value: the target answered (topic:…, org:…, list:ngos:trujillo); aspect
    "referral",  # value: organisation id whose flyer code the user sent
    "unanswered",  # value: the message text (scrubbed before storage)
    "near_miss",  # value: the message text; targets: the readings nearly matched, best first
    "delete_user",  # the user confirmed deletion of their data
    "opt_out",
    "danger",  # value: the kind of danger answered (never the text)
    "danger_check",  # value: a possible kind; the user was asked whether they are in danger
    "out_of_scope",  # value: the message text (scrubbed before storage)
    "low_confidence",  # value: the message text; targets: the target answered
    "feedback",  # value: the target rated; rating: "up" or "down"
    "handoff_open",  # value: the organisation id; the person consented
    "handoff_message",  # value: the person's text, for the staff inbox (stored encrypted)
    "handoff_end",  # value: the organisation id; the person left the hand-off
]


@dataclass(frozen=True)
class Event:
    """Something a turn did that storage and statistics record (never the reply itself).

    The fields after ``value`` are keyword-only: ``Event("answered", target, aspect="cost")``.
    """

    kind: EventKind
    value: str = ""
    _: KW_ONLY
    #: answered: the aspect a follow-up asked about ("cost", "contact"); "" for a whole answer.
    aspect: str = ""
    #: feedback: "up" or "down".
    rating: Literal["up", "down", ""] = ""
    #: near_miss: the readings nearly matched, best first; low_confidence: the target answered.
    targets: tuple[str, ...] = ()


@dataclass(frozen=True, init=False)
class Turn:
    """The engine's answer to one :class:`Incoming`: immutable, like its parts.

    ``replies`` and ``events`` are tuples; any sequence given to the constructor
    (or to :func:`dataclasses.replace`) is frozen into one.
    """

    state: State
    replies: tuple[Reply, ...] = ()
    events: tuple[Event, ...] = ()

    def __init__(
        self, state: State, replies: Iterable[Reply] = (), events: Iterable[Event] = ()
    ) -> None:
        object.__setattr__(self, "state", state)
        object.__setattr__(self, "replies", tuple(replies))
        object.__setattr__(self, "events", tuple(events))
