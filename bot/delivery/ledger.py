"""The delivery ledger: one row per platform message id (Twilio's ``MessageSid``,
Telegram's ``update_id``, the web chat's scoped message id).

The key is inserted last in a message's transaction (one statement, no
savepoint): a retry waits on the person's row while the original runs, then
finds the key taken, and its whole attempt is rolled back. Replies that the
channel sends after the commit are kept with the key until it confirms them
(:data:`MARK_SENT`); a retry taken by a later server run gets them again.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, select, update

from bot.storage.tables import DELIVERIES, INSERTS, aware, dialect
from flows.turn import Option, Reply

log = logging.getLogger("pana.delivery")

#: A retry younger than this is taken to be racing the original, which is still sending.
RESEND_AFTER = timedelta(seconds=2)
#: Platform ids are cut to the column's length.
ID_LENGTH = 128


def take(
    connection: Connection,
    channel: str,
    delivery_id: str,
    pseudonym: str,
    now: datetime,
    generation: str,
    unsent: Sequence[Reply] | None,
) -> bool:
    """Insert the delivery key; False when it was already taken (a retry).

    ``unsent``: replies the channel has yet to send, kept until it confirms;
    None means they go out with the commit. ``generation``: the server run
    taking it (see :func:`unsent_replies`).
    """
    values: dict[str, Any] = {
        "channel": channel,
        "delivery_id": delivery_id[:ID_LENGTH],
        "pseudonym": pseudonym,
        "created_at": now,
        "generation": generation,
        "replies": None,
        "sent_at": now,
    }
    if unsent is not None:
        values["replies"] = [_reply_to_json(r) for r in unsent] or None
        values["sent_at"] = None if unsent else now
    return connection.execute(_TAKE[dialect(connection)], values).first() is not None


def unsent_replies(
    connection: Connection, channel: str, delivery_id: str, now: datetime, generation: str
) -> list[Reply]:
    """The stored answer to a retried delivery whose reply never went out.

    Only when the original's server run is gone (a crash and restart): a
    retry taken by the same run (``generation``) is racing the original, which
    is still sending or has sent. Across separately started instances, a
    retry younger than :data:`RESEND_AFTER` is taken to be racing too.
    """
    columns = DELIVERIES.c
    row = connection.execute(
        select(columns.replies, columns.sent_at, columns.generation, columns.created_at).where(
            columns.channel == channel, columns.delivery_id == delivery_id[:ID_LENGTH]
        )
    ).first()
    if row is None or row.sent_at is not None or not row.replies:
        return []
    if row.generation == generation:
        return []
    if now - (aware(row.created_at) or now) < RESEND_AFTER:
        return []
    log.warning("resending an answer that was never confirmed sent", extra={"channel": channel})
    return [_reply_from_json(r) for r in row.replies]


def release(connection: Connection, channel: str, delivery_id: str) -> None:
    """The replies could not be sent: let the platform's retry have them, even in this run."""
    connection.execute(
        update(DELIVERIES)
        .where(
            DELIVERIES.c.channel == channel,
            DELIVERIES.c.delivery_id == delivery_id[:ID_LENGTH],
            DELIVERIES.c.sent_at.is_(None),
        )
        .values(generation=None)
    )


def mark_sent(connection: Connection, sent: Sequence[dict[str, Any]]) -> None:
    """Record replies as sent (``{"c": channel, "d": delivery id, "now": when}`` each):
    forget them, and answer retries with silence. One statement for all."""
    connection.execute(_MARK_SENT, list(sent))


def _reply_to_json(reply: Reply) -> dict[str, Any]:
    options = [[o.key, o.label] for o in reply.options]
    return {
        "text": reply.text,
        "short": reply.short,
        "options": options,
        "feedback": reply.feedback,
    }


def _reply_from_json(data: dict[str, Any]) -> Reply:
    options = tuple(Option(str(k), str(label)) for k, label in data.get("options") or ())
    return Reply(
        str(data.get("text", "")), options, data.get("short"), bool(data.get("feedback", False))
    )


_TAKE = {
    name: dialect_insert(DELIVERIES)
    .on_conflict_do_nothing(index_elements=["channel", "delivery_id"])
    .returning(DELIVERIES.c.id)
    for name, dialect_insert in INSERTS.items()
}

_MARK_SENT = (
    update(DELIVERIES)
    .where(DELIVERIES.c.channel == bindparam("c"), DELIVERIES.c.delivery_id == bindparam("d"))
    .values(sent_at=bindparam("now"), replies=None)
)
