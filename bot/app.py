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

import anyio
import anyio.to_thread
from fastapi import FastAPI, HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, OperationalError
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from bot import admin, logs
from bot.channels import telegram, twilio, web
from bot.handoff.store import Conflict
from bot.helpline import Busy
from bot.inbox import api as inbox_api
from bot.inbox import pages as inbox_pages
from bot.limits import KeyedRateLimiter, LoginLimits
from bot.migrate import upgrade
from bot.runtime import Runtime, RuntimeDep, build_runtime
from bot.settings import Settings
from bot.storage.retention import purge_expired
from knowledge import KnowledgeBase

log = logging.getLogger("pana.app")
#: Messages this module says itself, from the messages table.
MESSAGES = ("busy",)
PURGE_EVERY_SECONDS = 6 * 3600


class RequestBodyGuard:
    """Refuse request bodies over ``max_bytes`` (413) or slower than ``read_seconds`` (408).

    Both before anything parses them. The deadline counts from the moment the
    request's headers arrived, so a client trickling its body a byte at a time
    holds a worker for ``read_seconds`` at most.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, read_seconds: float) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.read_seconds = read_seconds

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
        complete = False
        deadline = anyio.current_time() + self.read_seconds

        async def guarded_receive() -> Message:
            nonlocal seen, complete
            if complete:  # after the body: waiting for a disconnect may take any time
                return await receive()
            with anyio.move_on_after(deadline - anyio.current_time()):
                message = await receive()
                if message["type"] == "http.request":
                    seen += len(message.get("body", b""))
                    complete = not message.get("more_body", False)
                    if seen > self.max_bytes:
                        # An HTTPException, because FastAPI passes those on from a body read.
                        raise HTTPException(413, "request body too large")
                return message
            log.info("request body not received in time", extra={"path": scope.get("path")})
            raise HTTPException(408, "request body not received in time")

        await self.app(scope, guarded_receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = JSONResponse({"detail": "request body too large"}, status_code=413)
        await response(scope, receive, send)


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
            settings = runtime.settings
            removed = await run_in_threadpool(
                purge_expired,
                runtime.database,
                settings.retention_days,
                handoff_days=settings.handoff_retention_days,
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
        runtime.outbox.start()
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
            await run_in_threadpool(runtime.outbox.stop)
            runtime.helpline.close()
            runtime.dispose()

    # In production nobody needs the API's map: the docs and the schema are not served.
    documented = not settings.production
    app = FastAPI(
        title="Pana",
        summary="Helpline bot for migrants in Peru: WhatsApp, SMS, Telegram and web chat.",
        version="0.1.0",
        lifespan=lifespan,
        docs_url="/docs" if documented else None,
        redoc_url="/redoc" if documented else None,
        openapi_url="/openapi.json" if documented else None,
    )
    app.state.runtime = runtime
    app.state.web_limiter = KeyedRateLimiter(settings.web_messages_per_minute)
    # Guessing passwords is slowed per door: the dashboard's token, the staff's logins.
    app.state.login_limits = {"admin": LoginLimits(), "inbox": LoginLimits()}
    app.state.telegram_bot = (
        telegram.make_bot(settings.telegram_bot_token, settings.telegram_api_base_url)
        if settings.telegram_enabled
        else None
    )
    app.add_middleware(
        RequestBodyGuard,
        max_bytes=settings.max_body_bytes,
        read_seconds=settings.body_read_seconds,
    )
    if settings.forwarded_allow_ips:
        # Only a proxy listed here may say who the client is (X-Forwarded-For); anyone
        # else could pick a fresh address per request and escape every per-address limit.
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.forwarded_allow_ips)

    @app.exception_handler(OperationalError)
    @app.exception_handler(DBAPIError)
    async def database_unavailable(request: Request, exc: Exception) -> JSONResponse:
        # A 5xx makes Twilio use its fallback URL and Telegram retry; nothing was half-written
        # because each message is one transaction.
        log.error("database unavailable: %s", type(exc).__name__)
        return JSONResponse({"detail": "database unavailable"}, status_code=503)

    @app.exception_handler(Busy)
    async def busy(request: Request, exc: Exception) -> JSONResponse:
        # Nothing was stored: Twilio's fallback URL answers now, and a retry is answered.
        detail = runtime.kb.message("busy", "es")
        return JSONResponse({"detail": detail}, status_code=503, headers={"Retry-After": "60"})

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: Exception) -> JSONResponse:
        # FastAPI's own 422 echoes the input, which fails to serialise when it holds NaN or
        # Infinity (a 500); where, what and why is enough, and repeats no user text.
        errors = exc.errors() if isinstance(exc, RequestValidationError) else []
        detail = [
            {
                "loc": [part if isinstance(part, int | str) else str(part) for part in e["loc"]],
                "msg": str(e.get("msg", "")),
                "type": str(e.get("type", "")),
            }
            for e in errors
        ]
        return JSONResponse({"detail": detail}, status_code=422)

    app.add_exception_handler(Conflict, inbox_api.conflict)

    @app.exception_handler(ClientDisconnect)
    async def client_gone(request: Request, exc: Exception) -> Response:
        # The client hung up mid-body: nobody to answer, nothing to log but a line.
        log.info("client disconnected before sending its request", extra={"path": request.url.path})
        return Response(status_code=400)

    @app.get("/healthz", tags=["operations"])
    async def healthz(runtime: RuntimeDep) -> JSONResponse:
        """200 when the database takes a write and reads it back, and the knowledge is loaded."""
        problem = await run_in_threadpool(runtime.database_problem)
        database = problem is None
        body: dict[str, Any] = {
            "status": problem or "ok",
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
    app.include_router(inbox_api.router)
    app.include_router(inbox_pages.router)
    return app
