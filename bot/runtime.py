"""Everything a running server shares: settings, knowledge, engine, databases, helpline.

Built once by :func:`build_runtime` and kept on ``app.state.runtime``; the
CLI builds the same thing for ``pana chat`` and ``pana eval``.
"""

from __future__ import annotations

import contextlib
import ctypes
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine as Database
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session, sessionmaker

from bot.database import make_database, make_reader, make_sessions, opened_file_is_configured
from bot.handoff.desk import Desk
from bot.handoff.outbox import Outbox
from bot.handoff.sealing import Sealer
from bot.handoff.senders import Sender, TelegramSender, TwilioSender
from bot.helpline import Helpline
from bot.models import HealthProbe
from bot.settings import Settings
from flows.engine import Engine
from knowledge import KnowledgeBase, load_knowledge


@dataclass
class Runtime:
    settings: Settings
    kb: KnowledgeBase
    engine: Engine
    database: Database
    sessions: sessionmaker[Session]
    helpline: Helpline
    #: Read-only connections for the dashboard: they never hold up a message.
    reader: Database
    read_sessions: sessionmaker[Session]
    #: The staff inbox's operations, and the thread that sends their replies.
    desk: Desk
    outbox: Outbox

    def database_problem(self) -> str | None:
        """None when the database takes a write and gives it back; otherwise what is wrong.

        A probe row is written and committed, then read back and deleted in a
        second transaction: a read-only or full database fails the first, a
        database that loses what it was given fails the second. On SQLite the
        file the server has open must also still be the file at the configured
        path (not deleted, not replaced).
        """
        probe = secrets.token_hex(16)
        try:
            with self.database.begin() as connection:
                if not opened_file_is_configured(connection):
                    return "the database file was deleted or replaced while the server ran"
                connection.execute(
                    insert(HealthProbe), {"id": probe, "checked_at": datetime.now(UTC)}
                )
            with self.database.begin() as connection:
                found = connection.scalar(select(HealthProbe.id).where(HealthProbe.id == probe))
                connection.execute(delete(HealthProbe).where(HealthProbe.id == probe))
        except Exception as exc:
            return f"database unavailable ({type(exc).__name__})"
        return None if found == probe else "the probe row written was not read back"

    def database_ok(self) -> bool:
        return self.database_problem() is None

    def dispose(self) -> None:
        self.reader.dispose()
        self.database.dispose()


def build_engine(settings: Settings, kb: KnowledgeBase | None = None) -> Engine:
    kb = kb or load_knowledge()
    return Engine(
        kb, settings.stale_after_days, settings.retention_days, settings.handoff_retention_days
    )


def release_free_memory() -> None:
    """Give the memory freed after fitting the models back to the system (glibc keeps it
    otherwise): about 17 MB per worker, which keeps one under 200 MB. A no-op elsewhere."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def build_runtime(settings: Settings, kb: KnowledgeBase | None = None) -> Runtime:
    engine = build_engine(settings, kb)
    release_free_memory()
    database = make_database(settings.database_url)
    reader = make_reader(settings.database_url)
    helpline = Helpline(
        engine,
        database,
        settings.secret_key,
        settings.user_messages_per_minute,
        settings.global_messages_per_minute,
        sealer=Sealer(settings.handoff_secret),
    )
    outbox = Outbox(
        database,
        helpline.sealer,
        senders(settings),
        engine.handoffs.name,
        stale_after=timedelta(seconds=settings.outbox_stale_seconds),
    )
    desk = Desk(
        database,
        helpline.sealer,
        engine,
        template_configured=bool(settings.twilio_reply_template_sid),
        wake=outbox.wake,
    )
    return Runtime(
        settings,
        engine.kb,
        engine,
        database,
        make_sessions(database),
        helpline,
        reader,
        make_sessions(reader),
        desk,
        outbox,
    )


def senders(settings: Settings) -> dict[str, Sender]:
    """A sender per channel that is configured to send replies on its own."""
    found: dict[str, Sender] = {}
    if settings.twilio_account_sid and settings.twilio_auth_token:
        base = settings.public_base_url.rstrip("/")
        twilio = TwilioSender(
            settings.twilio_account_sid,
            settings.twilio_auth_token,
            settings.twilio_api_base_url,
            status_callback=f"{base}/webhooks/twilio/status" if base else None,
            template_sid=settings.twilio_reply_template_sid,
        )
        found["whatsapp"] = found["sms"] = twilio
    if settings.telegram_bot_token:
        found["telegram"] = TelegramSender(
            settings.telegram_bot_token, settings.telegram_api_base_url
        )
    return found


def get_runtime(request: Request) -> Runtime:
    """FastAPI dependency: the app's runtime."""
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
