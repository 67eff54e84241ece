"""The tables as SQLAlchemy Core sees them, and what differs between SQLite and PostgreSQL.

Storage is SQLAlchemy Core, a handful of statements per message with no ORM
unit of work: the ORM cost more CPU per message than the engine and the web
framework together (docs/performance.md). Statements are built once, at
import: building one costs more than running it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Connection, Table
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from bot.models import (
    AdminSession,
    Conversation,
    DailyCount,
    Delivery,
    HealthProbe,
    UnansweredQuestion,
)

CONVERSATIONS = cast(Table, Conversation.__table__)
DELIVERIES = cast(Table, Delivery.__table__)
COUNTS = cast(Table, DailyCount.__table__)
QUESTIONS = cast(Table, UnansweredQuestion.__table__)
ADMIN_SESSIONS = cast(Table, AdminSession.__table__)
PROBES = cast(Table, HealthProbe.__table__)

#: ``INSERT … ON CONFLICT`` is spelled by each dialect's own ``insert``.
INSERTS: dict[str, Any] = {"postgresql": postgresql_insert, "sqlite": sqlite_insert}


def dialect(connection: Connection) -> str:
    """``postgresql`` or ``sqlite``: the key of the per-dialect statements."""
    return "postgresql" if connection.dialect.name == "postgresql" else "sqlite"


def aware(moment: datetime | None) -> datetime | None:
    """SQLite returns naive datetimes; treat them as UTC."""
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment
