"""The hand-off rows: written from the person's side and from the staff's side.

Every function takes an open connection inside its caller's transaction: the
helpline's one transaction per message (:func:`record_turn`), or the inbox's
per request. Text and addresses go in sealed (:mod:`bot.handoff.sealing`) and
come out opened only for the inbox and the senders.

Statuses of an outgoing message, the outbox's life cycle::

    pending ─▶ sending ─▶ queued / sent ─▶ delivered ─▶ read      (Twilio's callbacks)
       ▲                     └──▶ failed / undelivered (with Twilio's error)
     held (WhatsApp's 24-hour window is closed; released when the person writes)
    web chat: queued until the page fetches it, then delivered
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Connection, Table, and_, delete, func, insert, select, update

from bot.handoff.sealing import Sealer
from bot.models import Handoff, HandoffMessage, Staff
from bot.storage.tables import aware
from flows.turn import Event, State

HANDOFFS = cast(Table, Handoff.__table__)
MESSAGES = cast(Table, HandoffMessage.__table__)
STAFF = cast(Table, Staff.__table__)

#: WhatsApp lets a business send free text this long after the person's last message.
WHATSAPP_WINDOW = timedelta(hours=24)
#: Outgoing statuses in the order they happen; a late callback never moves one back.
PROGRESS = ("held", "pending", "sending", "queued", "sent", "delivered", "read")
FINAL_FAILURES = ("failed", "undelivered", "cancelled")
#: Still to go out: the address is kept until none is left.
UNSENT = ("held", "pending", "sending")
#: Outcome tags a conversation is closed with.
OUTCOMES = ("resolved", "referred", "no_reply", "other", "person_left")


class Conflict(Exception):
    """Another staff member holds the conversation (the inbox answers 409)."""

    def __init__(self, holder: str) -> None:
        super().__init__(holder)
        self.holder = holder


@dataclass(frozen=True)
class Outgoing:
    """A message the outbox is to send, opened for the sender."""

    id: int
    handoff_id: int
    channel: str
    kind: str
    text: str
    address: dict[str, str]
    org: str
    sending_since: datetime | None


# -- the person's side (inside the helpline's transaction) ---------------------------------


def record_turn(
    connection: Connection,
    sealer: Sealer,
    pseudonym: str,
    channel: str,
    events: Iterable[Event],
    state: State,
    reply_to: Mapping[str, str] | None,
    now: datetime,
) -> None:
    """Open, feed or close the person's hand-off as the turn's events say.

    ``state`` is the state before the turn (its last topic and city are the
    context staff see); ``reply_to`` the platform address, stored sealed.
    """
    for event in events:
        if event.kind == "handoff_open":
            _open(connection, sealer, pseudonym, channel, event.value, state, reply_to, now)
        elif event.kind == "handoff_message":
            _person_wrote(connection, sealer, pseudonym, event.value, reply_to, now)
        elif event.kind == "handoff_end":
            close_open(connection, pseudonym, "person_left", now)


def _open(
    connection: Connection,
    sealer: Sealer,
    pseudonym: str,
    channel: str,
    org: str,
    state: State,
    reply_to: Mapping[str, str] | None,
    now: datetime,
) -> None:
    close_open(connection, pseudonym, "other", now)  # never two open at once
    connection.execute(
        insert(HANDOFFS),
        {
            "pseudonym": pseudonym,
            "channel": channel,
            "org": org,
            "status": "waiting",
            "address": _sealed_address(sealer, reply_to),
            "topic": state.last,
            "city": state.city,
            "opened_at": now,
            "last_inbound_at": now,
        },
    )


def _sealed_address(sealer: Sealer, reply_to: Mapping[str, str] | None) -> str | None:
    return sealer.seal(json.dumps(dict(reply_to))) if reply_to else None


def open_handoff(connection: Connection, pseudonym: str) -> Any:
    """The person's open hand-off row, or None."""
    return connection.execute(
        select(HANDOFFS)
        .where(HANDOFFS.c.pseudonym == pseudonym, HANDOFFS.c.status != "closed")
        .order_by(HANDOFFS.c.id.desc())
        .limit(1)
    ).first()


def _person_wrote(
    connection: Connection,
    sealer: Sealer,
    pseudonym: str,
    text: str,
    reply_to: Mapping[str, str] | None,
    now: datetime,
) -> None:
    row = open_handoff(connection, pseudonym)
    if row is None:
        return
    connection.execute(
        insert(MESSAGES),
        {
            "handoff_id": row.id,
            "direction": "in",
            "kind": "text",
            "body": sealer.seal(text),
            "created_at": now,
        },
    )
    changes: dict[str, Any] = {"last_inbound_at": now}
    if reply_to:
        changes["address"] = _sealed_address(sealer, reply_to)
    connection.execute(update(HANDOFFS).where(HANDOFFS.c.id == row.id).values(**changes))
    # The window is open again: replies held for it go out now.
    connection.execute(
        update(MESSAGES)
        .where(MESSAGES.c.handoff_id == row.id, MESSAGES.c.status == "held")
        .values(status="pending")
    )


def close_open(connection: Connection, pseudonym: str, outcome: str, now: datetime) -> None:
    """Close the person's open hand-off, if any (they left, or a new one opens)."""
    row = open_handoff(connection, pseudonym)
    if row is not None:
        close(connection, row.id, outcome, now)


def close(connection: Connection, handoff_id: int, outcome: str, now: datetime) -> None:
    """Mark closed. Replies held for WhatsApp's window are cancelled (it will not open
    again for them); the address goes as soon as nothing is left to send: at once, or
    right after the replies and the closing notice already on their way."""
    connection.execute(
        update(MESSAGES)
        .where(MESSAGES.c.handoff_id == handoff_id, MESSAGES.c.status == "held")
        .values(status="cancelled")
    )
    connection.execute(
        update(HANDOFFS)
        .where(HANDOFFS.c.id == handoff_id)
        .values(status="closed", closed_at=now, outcome=outcome, claimed_by=None)
    )
    drop_address_if_done(connection, handoff_id)


def drop_address_if_done(connection: Connection, handoff_id: int) -> None:
    """Delete a closed hand-off's address once no message is left to send."""
    unsent = select(MESSAGES.c.id).where(
        MESSAGES.c.handoff_id == handoff_id, MESSAGES.c.status.in_(UNSENT)
    )
    connection.execute(
        update(HANDOFFS)
        .where(
            HANDOFFS.c.id == handoff_id,
            HANDOFFS.c.status == "closed",
            ~unsent.exists(),
        )
        .values(address=None)
    )


def forget(connection: Connection, pseudonym: str) -> None:
    """ "borrar mis datos": the person's hand-offs and every message in them."""
    ids = select(HANDOFFS.c.id).where(HANDOFFS.c.pseudonym == pseudonym)
    connection.execute(delete(MESSAGES).where(MESSAGES.c.handoff_id.in_(ids)))
    connection.execute(delete(HANDOFFS).where(HANDOFFS.c.pseudonym == pseudonym))


def purge(connection: Connection, retention_days: int, now: datetime) -> int:
    """Delete hand-offs closed more than ``retention_days`` ago, with their messages, and
    any address still on a closed hand-off whose last message left long ago."""
    cutoff = now - timedelta(days=retention_days)
    old = select(HANDOFFS.c.id).where(HANDOFFS.c.status == "closed", HANDOFFS.c.closed_at < cutoff)
    connection.execute(delete(MESSAGES).where(MESSAGES.c.handoff_id.in_(old)))
    removed = connection.execute(
        delete(HANDOFFS).where(HANDOFFS.c.status == "closed", HANDOFFS.c.closed_at < cutoff)
    ).rowcount
    # A notice that never went out must not keep an address for ever.
    connection.execute(
        update(HANDOFFS)
        .where(HANDOFFS.c.status == "closed", HANDOFFS.c.closed_at < now - timedelta(days=1))
        .values(address=None)
    )
    return removed


def staffed_organisations(connection: Connection) -> tuple[str, ...]:
    """Organisations with at least one active staff account: the partners."""
    rows = connection.execute(select(STAFF.c.org).where(STAFF.c.active).distinct())
    return tuple(sorted(row.org for row in rows))


# -- the outbox ---------------------------------------------------------------------


def queue_outgoing(
    connection: Connection,
    sealer: Sealer,
    handoff_id: int,
    channel: str,
    text: str,
    now: datetime,
    *,
    kind: str = "text",
    staff_id: int | None = None,
    key: str | None = None,
    held: bool = False,
) -> int:
    """Add a message for the person; the web chat's wait for the page to fetch them."""
    status = "held" if held else ("queued" if channel == "web" else "pending")
    result = connection.execute(
        insert(MESSAGES).returning(MESSAGES.c.id),
        {
            "handoff_id": handoff_id,
            "direction": "out",
            "kind": kind,
            "body": sealer.seal(text),
            "created_at": now,
            "staff_id": staff_id,
            "status": status,
            "key": key,
        },
    )
    return int(result.scalar_one())


def note(
    connection: Connection,
    sealer: Sealer,
    handoff_id: int,
    event: str,
    now: datetime,
    **names: str,
) -> None:
    """A line for staff only: ``event`` (``claimed``, ``transferred``, ``closed``) and the
    names it needs (``name``, ``to``, ``outcome``), which the page words in its language."""
    connection.execute(
        insert(MESSAGES),
        {
            "handoff_id": handoff_id,
            "direction": "note",
            "kind": event,
            "body": sealer.seal(json.dumps(names)),
            "created_at": now,
        },
    )


#: A note in English, for API clients that do not word notes themselves.
NOTE_TEXT = {
    "claimed": "claimed by {name}",
    "transferred": "{name} → {to}",
    "closed": "closed by {name}: {outcome}",
}


def note_text(event: str, names: Mapping[str, str]) -> str:
    return NOTE_TEXT.get(event, event).format_map({"name": "", "to": "", "outcome": "", **names})


def take_next(
    connection: Connection, sealer: Sealer, now: datetime, stale_before: datetime
) -> Outgoing | None:
    """Claim the oldest message to send: a pending one, or one whose sender vanished
    while ``sending`` (since before ``stale_before``), which the caller checks with the
    platform before sending again. Atomic across workers: one claim wins."""
    pending = and_(MESSAGES.c.direction == "out", MESSAGES.c.status == "pending")
    stale = and_(
        MESSAGES.c.direction == "out",
        MESSAGES.c.status == "sending",
        MESSAGES.c.sending_since < stale_before,
    )
    for condition in (stale, pending):
        row = connection.execute(
            select(MESSAGES, HANDOFFS.c.channel, HANDOFFS.c.address, HANDOFFS.c.org)
            .join(HANDOFFS, HANDOFFS.c.id == MESSAGES.c.handoff_id)
            .where(condition)
            .order_by(MESSAGES.c.id)
            .limit(1)
        ).first()
        if row is None:
            continue
        claimed = connection.execute(
            update(MESSAGES)
            .where(MESSAGES.c.id == row.id, condition)
            .values(status="sending", sending_since=now)
        )
        if claimed.rowcount != 1:
            return None  # another worker took it first
        address = json.loads(sealer.open(row.address)) if row.address else {}
        return Outgoing(
            id=row.id,
            handoff_id=row.handoff_id,
            channel=row.channel,
            kind=row.kind,
            text=sealer.open(row.body),
            address=address,
            org=row.org,
            sending_since=aware(row.sending_since) if row.status == "sending" else None,
        )
    return None


def mark(
    connection: Connection,
    message_id: int,
    status: str,
    provider_id: str | None = None,
    error: str | None = None,
) -> None:
    """Record what the platform said about a message the outbox sent."""
    values: dict[str, Any] = {"status": status, "error": error}
    if provider_id:
        values["provider_id"] = provider_id
    connection.execute(update(MESSAGES).where(MESSAGES.c.id == message_id).values(**values))
    handoff_id = connection.scalar(select(MESSAGES.c.handoff_id).where(MESSAGES.c.id == message_id))
    if handoff_id is not None:
        drop_address_if_done(connection, handoff_id)


def record_status(connection: Connection, provider_id: str, status: str, error: str | None) -> bool:
    """A Twilio status callback: move the message forward (never back); False if unknown."""
    row = connection.execute(
        select(MESSAGES.c.id, MESSAGES.c.status).where(MESSAGES.c.provider_id == provider_id)
    ).first()
    if row is None:
        return False
    if status not in PROGRESS and status not in FINAL_FAILURES:
        return True
    current = row.status or ""
    if current in FINAL_FAILURES:
        return True
    if (
        status in PROGRESS
        and current in PROGRESS
        and PROGRESS.index(status) <= PROGRESS.index(current)
    ):
        return True
    connection.execute(
        update(MESSAGES).where(MESSAGES.c.id == row.id).values(status=status, error=error)
    )
    return True


def as_sent(kind: str, text: str, org_name: str) -> str:
    """What the person reads: a staff reply carries its organisation's name; notices don't."""
    return f"*{org_name}*: {text}" if kind == "text" else text


def fetch_for_web(
    connection: Connection, sealer: Sealer, pseudonym: str
) -> list[tuple[str, str, str]]:
    """The web chat's waiting messages, oldest first, as (kind, text, organisation id);
    marked delivered as they are handed over."""
    ids = select(HANDOFFS.c.id).where(HANDOFFS.c.pseudonym == pseudonym)
    rows = connection.execute(
        select(
            MESSAGES.c.id, MESSAGES.c.body, MESSAGES.c.kind, MESSAGES.c.handoff_id, HANDOFFS.c.org
        )
        .join(HANDOFFS, HANDOFFS.c.id == MESSAGES.c.handoff_id)
        .where(
            MESSAGES.c.handoff_id.in_(ids),
            MESSAGES.c.direction == "out",
            MESSAGES.c.status == "queued",
        )
        .order_by(MESSAGES.c.id)
    ).all()
    if rows:
        connection.execute(
            update(MESSAGES)
            .where(MESSAGES.c.id.in_([r.id for r in rows]))
            .values(status="delivered")
        )
        for handoff_id in {r.handoff_id for r in rows}:
            drop_address_if_done(connection, handoff_id)
    return [(r.kind, sealer.open(r.body), r.org) for r in rows]


def unanswered(connection: Connection, handoff_ids: list[int]) -> dict[int, tuple[int, datetime]]:
    """Per hand-off, the person's messages after the last reply to them: how many, and
    when the oldest arrived (the waiting time staff see)."""
    if not handoff_ids:
        return {}
    last_out = (
        select(MESSAGES.c.handoff_id, func.max(MESSAGES.c.id).label("last"))
        .where(MESSAGES.c.direction == "out", MESSAGES.c.handoff_id.in_(handoff_ids))
        .group_by(MESSAGES.c.handoff_id)
        .subquery()
    )
    rows = connection.execute(
        select(MESSAGES.c.handoff_id, func.count(), func.min(MESSAGES.c.created_at))
        .select_from(MESSAGES)
        .outerjoin(last_out, last_out.c.handoff_id == MESSAGES.c.handoff_id)
        .where(
            MESSAGES.c.handoff_id.in_(handoff_ids),
            MESSAGES.c.direction == "in",
            (last_out.c.last.is_(None)) | (MESSAGES.c.id > last_out.c.last),
        )
        .group_by(MESSAGES.c.handoff_id)
    ).all()
    return {row[0]: (int(row[1]), row[2]) for row in rows}


def last_message_times(connection: Connection, handoff_ids: list[int]) -> dict[int, datetime]:
    """Per hand-off, when its last message (either way) was written."""
    if not handoff_ids:
        return {}
    rows = connection.execute(
        select(MESSAGES.c.handoff_id, func.max(MESSAGES.c.created_at))
        .where(MESSAGES.c.handoff_id.in_(handoff_ids), MESSAGES.c.direction != "note")
        .group_by(MESSAGES.c.handoff_id)
    ).all()
    return {row[0]: row[1] for row in rows}
