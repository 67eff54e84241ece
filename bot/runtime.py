"""Everything a running server shares: settings, knowledge, engine, database, helpline.

Built once by :func:`build_runtime` and kept on ``app.state.runtime``; the
CLI builds the same thing for ``pana chat`` and ``pana eval``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine as DatabaseEngine
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from bot.database import make_engine, make_sessions
from bot.helpline import Helpline
from bot.settings import Settings
from flows.engine import Engine
from knowledge import KnowledgeBase, load_knowledge


@dataclass
class Runtime:
    settings: Settings
    kb: KnowledgeBase
    engine: Engine
    database: DatabaseEngine
    sessions: sessionmaker[Session]
    helpline: Helpline

    def database_ok(self) -> bool:
        try:
            with self.database.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception:
            return False
        return True


def build_engine(settings: Settings, kb: KnowledgeBase | None = None) -> Engine:
    kb = kb or load_knowledge()
    return Engine(kb, settings.stale_after_days, settings.retention_days)


def build_runtime(settings: Settings, kb: KnowledgeBase | None = None) -> Runtime:
    engine = build_engine(settings, kb)
    database = make_engine(settings.database_url)
    sessions = make_sessions(database)
    helpline = Helpline(
        engine,
        database,
        settings.secret_key,
        settings.user_messages_per_minute,
        settings.global_messages_per_minute,
    )
    return Runtime(settings, engine.kb, engine, database, sessions, helpline)


def get_runtime(request: Request) -> Runtime:
    """FastAPI dependency: the app's runtime."""
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
