"""Deleting: one person on request ("borrar mis datos"), and everyone's old rows on a timer.

After either, :func:`bot.database.checkpoint` runs once the transaction has
committed, so on SQLite the deleted rows leave the write-ahead log at once.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, delete
from sqlalchemy import Engine as Database

from bot.database import checkpoint
from bot.handoff import store as handoff_store
from bot.inbox.accounts import purge_sessions
from bot.storage.tables import ADMIN_SESSIONS, CONVERSATIONS, DELIVERIES, PROBES, QUESTIONS


def forget(connection: Connection, pseudonym: str) -> None:
    """Delete everything tied to one person: their conversation and delivery records."""
    connection.execute(delete(CONVERSATIONS).where(CONVERSATIONS.c.pseudonym == pseudonym))
    connection.execute(delete(DELIVERIES).where(DELIVERIES.c.pseudonym == pseudonym))


def purge_expired(
    database: Database,
    older_than_days: int,
    now: datetime | None = None,
    handoff_days: int = 30,
) -> dict[str, int]:
    """Delete conversations, delivery records and unanswered questions older than
    ``older_than_days`` (conversations: unused that long), and expired dashboard
    sessions, in a transaction of its own; the counts removed (``pana purge``, and
    every 6 hours inside the server). Hand-offs closed more than ``handoff_days``
    ago go with their messages (``HANDOFF_RETENTION_DAYS``)."""
    now = now or datetime.now(UTC)
    with database.begin() as connection:
        removed = purge(connection, now - timedelta(days=older_than_days), now)
        handoffs = handoff_store.purge(connection, handoff_days, now)
        purge_sessions(connection, now)
    if handoffs:
        removed["handoffs"] = handoffs
    if any(removed.values()):
        checkpoint(database)
    return removed


def purge(connection: Connection, cutoff: datetime, now: datetime) -> dict[str, int]:
    """Delete conversations unused since ``cutoff``, delivery records and unanswered
    questions from before it, and dashboard sessions expired by ``now``; the counts
    removed of the first three."""
    conversations = connection.execute(
        delete(CONVERSATIONS).where(CONVERSATIONS.c.updated_at < cutoff)
    )
    deliveries = connection.execute(delete(DELIVERIES).where(DELIVERIES.c.created_at < cutoff))
    questions = connection.execute(delete(QUESTIONS).where(QUESTIONS.c.created_at < cutoff))
    connection.execute(delete(ADMIN_SESSIONS).where(ADMIN_SESSIONS.c.expires_at < now))
    connection.execute(delete(PROBES).where(PROBES.c.checked_at < cutoff))
    return {
        "conversations": conversations.rowcount,
        "deliveries": deliveries.rowcount,
        "questions": questions.rowcount,
    }
