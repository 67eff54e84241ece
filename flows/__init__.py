"""The conversation engine: plain values in, plain values out, no I/O.

The public surface is what ``__all__`` names; everything else is the engine's
own business and may change. Example::

    from flows import Engine, Incoming, State
    from knowledge import load_knowledge

    engine = Engine(load_knowledge())
    turn = engine.handle(State(), Incoming("console", "hola"))
    turn.replies[0].text, turn.state, turn.events

``flows`` imports nothing from ``bot``, FastAPI, SQLAlchemy, Twilio or
Telegram (``tests/test_boundaries.py``).
"""

from flows.engine import MESSAGES, Engine
from flows.render import Renderer
from flows.turn import (
    MAX_TEXT_LENGTH,
    Event,
    EventKind,
    Incoming,
    Location,
    Option,
    Reply,
    State,
    Turn,
)

__all__ = [
    "MAX_TEXT_LENGTH",
    "MESSAGES",
    "Engine",
    "Event",
    "EventKind",
    "Incoming",
    "Location",
    "Option",
    "Renderer",
    "Reply",
    "State",
    "Turn",
]
