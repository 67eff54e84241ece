"""The FastAPI application: ``create_app()`` wires settings, storage and channels.

Routes only translate; the conversation lives in ``flows``. Example::

    app = create_app(Settings(database_url="sqlite:///data/test.db"))
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, OperationalError
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot import admin, logs
from bot.channels import telegram, twilio, web
from bot.limits import KeyedRateLimiter
from bot.migrate import upgrade
from bot.runtime import Runtime, RuntimeDep, build_runtime
from bot.settings import Settings
from knowledge import KnowledgeBase

log = logging.getLogger("pana.app")
PURGE_EVERY_SECONDS = 6 * 3600


class BodySizeLimit:
    """Refuse request bodies over ``max_bytes`` with 413, before anything parses them."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        try:
            declared = int(headers.get(b"content-length", b"0") or 0)
        except ValueError:
            declared = 0
        if declared > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        seen = 0

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise _TooLarge
            return message

        try:
            await self.app(scope, limited_receive, send)
        except _TooLarge:
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = JSONResponse({"detail": "request body too large"}, status_code=413)
        await response(scope, receive, send)


class _TooLarge(Exception):
    pass


async def _migrate_when_possible(runtime: Runtime, every_seconds: float = 5.0) -> None:
    while True:
        await asyncio.sleep(every_seconds)
        try:
            await run_in_threadpool(upgrade, runtime.database)
        except (OperationalError, DBAPIError):
            continue
        log.info("database reachable again: migrations applied")
        return


async def _purge_periodically(runtime: Runtime) -> None:
    while True:
        await asyncio.sleep(PURGE_EVERY_SECONDS)
        try:
            removed = await run_in_threadpool(
                runtime.helpline.purge, runtime.settings.retention_days
            )
            log.info("retention purge", extra=removed)
        except Exception:
            log.exception("retention purge failed")


def create_app(settings: Settings | None = None, kb: KnowledgeBase | None = None) -> FastAPI:
    """Build the app. Migrations run, and the Telegram bot opens, at startup."""
    settings = settings or Settings()
    logs.configure(settings.log_level)
    runtime = build_runtime(settings, kb)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Every blocking call (Helpline.receive above all) shares this pool.
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.worker_threads
        migrator = None
        try:
            await run_in_threadpool(upgrade, runtime.database)
        except (OperationalError, DBAPIError):
            # Start anyway: /healthz says 503 and the Twilio fallback still answers.
            log.error("database unavailable at start; migrations will be retried")
            migrator = asyncio.create_task(_migrate_when_possible(runtime))
        purger = asyncio.create_task(_purge_periodically(runtime))
        bot = app.state.telegram_bot
        try:
            yield
        finally:
            for task in (purger, migrator):
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
            if bot is not None:
                with contextlib.suppress(Exception):
                    await bot.shutdown()
            runtime.helpline.close()
            runtime.database.dispose()

    app = FastAPI(
        title="Pana",
        summary="Helpline bot for migrants in Peru: WhatsApp, SMS, Telegram and web chat.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    app.state.web_limiter = KeyedRateLimiter(settings.web_messages_per_minute)
    app.state.telegram_bot = (
        telegram.make_bot(settings.telegram_bot_token, settings.telegram_api_base_url)
        if settings.telegram_enabled
        else None
    )
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)

    @app.exception_handler(OperationalError)
    @app.exception_handler(DBAPIError)
    async def database_unavailable(request: Request, exc: Exception) -> JSONResponse:
        # A 5xx makes Twilio use its fallback URL and Telegram retry; nothing was half-written
        # because each message is one transaction.
        log.error("database unavailable: %s", type(exc).__name__)
        return JSONResponse({"detail": "database unavailable"}, status_code=503)

    @app.get("/healthz", tags=["operations"])
    async def healthz(runtime: RuntimeDep) -> JSONResponse:
        """200 when the database answers and the knowledge base is loaded."""
        database = await run_in_threadpool(runtime.database_ok)
        body: dict[str, Any] = {
            "status": "ok" if database else "database unavailable",
            "database": database,
            "knowledge": {
                "topics": len(runtime.kb.topics),
                "organisations": len(runtime.kb.organisations),
                "consulates": len(runtime.kb.consulates),
            },
        }
        return JSONResponse(body, status_code=200 if database else 503)

    app.include_router(twilio.router)
    app.include_router(telegram.router)
    app.include_router(web.router)
    app.include_router(admin.router)
    return app
