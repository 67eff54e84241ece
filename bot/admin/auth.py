"""Who may see the dashboard: whoever knows ``ADMIN_TOKEN``.

Logging in trades the token for a session cookie (``Secure``, ``HttpOnly``,
``SameSite=Strict``, path ``/admin``) holding an expiry time, a random
session id and an HMAC of both keyed by the token. The session id's hash is
stored in ``admin_sessions``; logging out deletes it, so the same cookie is
refused from then on. The token itself never travels again, and changing
``ADMIN_TOKEN`` logs everybody out. With no token configured the dashboard
does not exist (404).

Guessing is slowed twice: per client address (as ``FORWARDED_ALLOW_IPS``
lets the app see it) and for all addresses together, so a guesser who
changes address on every try is still held to a few tries a minute.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from datetime import UTC, datetime

from fastapi import HTTPException, Request, Response
from sqlalchemy import delete, insert, select

from bot.inbox import accounts
from bot.limits import LoginLimits
from bot.models import AdminSession
from bot.runtime import Runtime

COOKIE = "pana_admin"
#: The inbox's session cookie: a coordinator's opens the dashboard too.
STAFF_COOKIE = "pana_staff"
SESSION_SECONDS = 12 * 3600


def enabled(runtime: Runtime, request: Request | None = None) -> None:
    """404 unless ``ADMIN_TOKEN`` is set or the request carries a staff session (a
    coordinator's, checked by :func:`logged_in`): an unconfigured dashboard is not there."""
    if not runtime.settings.admin_token and not (request and request.cookies.get(STAFF_COOKIE)):
        raise HTTPException(404)


def token_matches(runtime: Runtime, offered: str) -> bool:
    """True when ``offered`` is the admin token (compared in constant time)."""
    expected = runtime.settings.admin_token.encode()
    return bool(expected) and hmac.compare_digest(offered.encode(), expected)


def _signature(token: str, expires: int, session_id: str) -> str:
    message = f"pana-admin:{expires}:{session_id}".encode()
    return hmac.new(token.encode(), message, hashlib.sha256).hexdigest()


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def _session_id(request: Request, runtime: Runtime, now: float) -> str | None:
    """The cookie's session id when the cookie is well signed and unexpired."""
    token = runtime.settings.admin_token
    expires_text, _, rest = request.cookies.get(COOKIE, "").partition(".")
    session_id, _, signature = rest.partition(".")
    if not token or not expires_text.isdigit() or not session_id:
        return None
    expires = int(expires_text)
    if expires < now:
        return None
    if not hmac.compare_digest(signature, _signature(token, expires, session_id)):
        return None
    return session_id


def logged_in(request: Request, runtime: Runtime, now: float | None = None) -> bool:
    """True when the request's session cookie is valid and its session was not ended, or
    it carries the inbox session of a coordinator (staff who also see the dashboard).

    Reads the database: call it off the event loop.
    """
    moment = now or time.time()
    session_id = _session_id(request, runtime, moment)
    if session_id is None:
        return _coordinator(request, runtime)
    with runtime.reader.connect() as connection:
        expires_at = connection.scalar(
            select(AdminSession.expires_at).where(AdminSession.id_hash == _hash(session_id))
        )
    if expires_at is None:
        return False
    if expires_at.tzinfo is None:
        expires_at = expires_at.replace(tzinfo=UTC)
    return expires_at.timestamp() >= moment


def _coordinator(request: Request, runtime: Runtime) -> bool:
    with runtime.database.connect() as connection:
        staff = accounts.session_member(connection, request.cookies.get(STAFF_COOKIE, ""))
    return staff is not None and staff.role == "coordinator"


def start_session(response: Response, runtime: Runtime, now: float | None = None) -> None:
    """Store a new session and set its cookie on ``response`` (call it off the event loop)."""
    expires = int(now or time.time()) + SESSION_SECONDS
    session_id = secrets.token_urlsafe(32)
    with runtime.database.begin() as connection:
        connection.execute(
            insert(AdminSession),
            {"id_hash": _hash(session_id), "expires_at": datetime.fromtimestamp(expires, UTC)},
        )
    signature = _signature(runtime.settings.admin_token, expires, session_id)
    response.set_cookie(
        COOKIE,
        f"{expires}.{session_id}.{signature}",
        max_age=SESSION_SECONDS,
        path="/admin",
        secure=True,
        httponly=True,
        samesite="strict",
    )


def end_session(request: Request, response: Response, runtime: Runtime) -> None:
    """Delete the request's session, so its cookie no longer opens anything, and the cookie.

    Call it off the event loop.
    """
    session_id = _session_id(request, runtime, time.time())
    if session_id is not None:
        with runtime.database.begin() as connection:
            connection.execute(
                delete(AdminSession).where(AdminSession.id_hash == _hash(session_id))
            )
    response.delete_cookie(COOKIE, path="/admin", secure=True, httponly=True, samesite="strict")


def allow_attempt(request: Request) -> bool:
    """Count one login attempt from the request's address and in all; False past either limit."""
    address = request.client.host if request.client else "unknown"
    limits: LoginLimits = request.app.state.login_limits["admin"]
    return limits.allow(address)
