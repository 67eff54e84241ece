"""One row per person, keyed by a pseudonym: the engine's state and the flood window.

:func:`lock` takes the row for the rest of the transaction, so two messages
from one person are handled one after the other, on every worker: ``FOR
UPDATE`` on PostgreSQL; on SQLite ``BEGIN IMMEDIATE`` (see
:mod:`bot.database`) already holds the database's single write lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, select, update

from bot.limits import FloodWindow
from bot.storage.tables import CONVERSATIONS, INSERTS, dialect
from flows.turn import State


@dataclass
class NewConversation:
    """A person's row just created: the same fields a stored row is read with."""

    state: dict[str, Any]
    updated_at: datetime
    window_start: datetime | None = None
    window_count: int = 0


def lock(connection: Connection, pseudonym: str, channel: str, now: datetime) -> Any:
    """The person's row (``state``, ``updated_at``, ``window_start``, ``window_count``),
    locked until commit; created, as a :class:`NewConversation`, if new."""
    name = dialect(connection)
    row = connection.execute(_LOAD[name], {"p": pseudonym}).first()
    if row is not None:
        return row
    values = {
        "pseudonym": pseudonym,
        "channel": channel,
        "state": {},
        "version": 0,
        "created_at": now,
        "updated_at": now,
        "window_start": None,
        "window_count": 0,
    }
    if connection.execute(_CREATE[name], values).first() is None:
        # Another worker created it a moment ago (and has committed): take theirs, locked.
        return connection.execute(_LOAD[name], {"p": pseudonym}).one()
    return NewConversation(state={}, updated_at=now)


def save(
    connection: Connection, pseudonym: str, state: State, now: datetime, window: FloodWindow
) -> None:
    """The person's new state and flood window, written once per message."""
    connection.execute(
        _SAVE,
        {
            "p": pseudonym,
            "state": state.to_dict(),
            "now": now,
            "window_start": window.start,
            "window_count": window.count,
        },
    )


def save_state(connection: Connection, pseudonym: str, state: State) -> None:
    """The state a greeting leaves; not a message, so neither ``updated_at`` nor the
    window moves."""
    connection.execute(_SAVE_STATE, {"p": pseudonym, "state": state.to_dict()})


_COLUMNS = select(
    CONVERSATIONS.c.state,
    CONVERSATIONS.c.updated_at,
    CONVERSATIONS.c.window_start,
    CONVERSATIONS.c.window_count,
).where(CONVERSATIONS.c.pseudonym == bindparam("p"))

_LOAD = {"postgresql": _COLUMNS.with_for_update(), "sqlite": _COLUMNS}

_CREATE = {
    name: dialect_insert(CONVERSATIONS)
    .on_conflict_do_nothing(index_elements=["pseudonym"])
    .returning(CONVERSATIONS.c.pseudonym)
    for name, dialect_insert in INSERTS.items()
}

_SAVE = (
    update(CONVERSATIONS)
    .where(CONVERSATIONS.c.pseudonym == bindparam("p"))
    .values(
        state=bindparam("state", type_=CONVERSATIONS.c.state.type),
        version=CONVERSATIONS.c.version + 1,
        updated_at=bindparam("now"),
        window_start=bindparam("window_start"),
        window_count=bindparam("window_count"),
    )
)

_SAVE_STATE = (
    update(CONVERSATIONS)
    .where(CONVERSATIONS.c.pseudonym == bindparam("p"))
    .values(
        state=bindparam("state", type_=CONVERSATIONS.c.state.type),
        version=CONVERSATIONS.c.version + 1,
    )
)
