"""Who may see the dashboard: whoever knows ``ADMIN_TOKEN``.

Logging in trades the token for a session cookie (``Secure``, ``HttpOnly``,
``SameSite=Strict``, path ``/admin``) holding an expiry time and an HMAC of
it keyed by the token. The token itself never travels again, and changing
``ADMIN_TOKEN`` logs everybody out. With no token configured the dashboard
does not exist (404).
"""

from __future__ import annotations

import hashlib
import hmac
import time

from fastapi import HTTPException, Request, Response

from bot.limits import KeyedRateLimiter
from bot.runtime import Runtime

COOKIE = "pana_admin"
SESSION_SECONDS = 12 * 3600
#: Wrong guesses allowed per client address and minute.
LOGIN_ATTEMPTS_PER_MINUTE = 10


def enabled(runtime: Runtime) -> None:
    """404 unless ``ADMIN_TOKEN`` is set: an unconfigured dashboard is not there at all."""
    if not runtime.settings.admin_token:
        raise HTTPException(404)


def token_matches(runtime: Runtime, offered: str) -> bool:
    """True when ``offered`` is the admin token (compared in constant time)."""
    expected = runtime.settings.admin_token.encode()
    return bool(expected) and hmac.compare_digest(offered.encode(), expected)


def _signature(token: str, expires: int) -> str:
    message = f"pana-admin:{expires}".encode()
    return hmac.new(token.encode(), message, hashlib.sha256).hexdigest()


def logged_in(request: Request, runtime: Runtime, now: float | None = None) -> bool:
    """True when the request carries an unexpired session cookie for the current token."""
    token = runtime.settings.admin_token
    expires_text, _, signature = request.cookies.get(COOKIE, "").partition(".")
    if not token or not expires_text.isdigit():
        return False
    expires = int(expires_text)
    if expires < (now or time.time()):
        return False
    return hmac.compare_digest(signature, _signature(token, expires))


def start_session(response: Response, runtime: Runtime, now: float | None = None) -> None:
    """Set the session cookie on ``response``."""
    expires = int(now or time.time()) + SESSION_SECONDS
    value = f"{expires}.{_signature(runtime.settings.admin_token, expires)}"
    response.set_cookie(
        COOKIE,
        value,
        max_age=SESSION_SECONDS,
        path="/admin",
        secure=True,
        httponly=True,
        samesite="strict",
    )


def end_session(response: Response) -> None:
    """Remove the session cookie."""
    response.delete_cookie(COOKIE, path="/admin", secure=True, httponly=True, samesite="strict")


def allow_attempt(request: Request) -> bool:
    """Count one login attempt from the request's address; False past the limit."""
    limiter = getattr(request.app.state, "admin_login_limiter", None)
    if limiter is None:
        limiter = KeyedRateLimiter(LOGIN_ATTEMPTS_PER_MINUTE)
        request.app.state.admin_login_limiter = limiter
    return limiter.allow(request.client.host if request.client else "unknown")
