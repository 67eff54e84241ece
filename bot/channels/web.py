"""The web chat: a page at ``/`` and a JSON endpoint at ``/api/chat``.

The page keeps a random id in the browser's localStorage; the server only
ever sees that id (pseudonymised like any other) and the message. Each
message carries a random id too, so a double submit is answered once; it is
stored only hashed together with the sender's pseudonym, so one browser's
ids can never silence another's.

The page is served with a strict Content-Security-Policy: scripts only from
this server or inline with the response's nonce, no framing.
"""

from __future__ import annotations

import re
import secrets
from datetime import date
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from bot.channels.coordinates import checked_location
from bot.privacy import scoped_delivery_id
from bot.runtime import RuntimeDep
from flows.turn import MAX_TEXT_LENGTH, Incoming

router = APIRouter()
PAGE = Path(__file__).resolve().parent.parent / "static" / "chat.html"
_SCRIPT_TAG = re.compile(r"<script(?=[\s>])")


def page_headers(nonce: str) -> dict[str, str]:
    """The chat page's security headers; ``nonce`` admits its own inline script."""
    policy = (
        f"default-src 'none'; script-src 'self' 'nonce-{nonce}'; "
        "style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    )
    return {
        "Content-Security-Policy": policy,
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }


class ChatRequest(BaseModel):
    """A message from the web chat."""

    user_id: str = Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    text: str = Field(default="", max_length=MAX_TEXT_LENGTH * 4)
    #: A per-message id from the page, so a double-submit is answered once.
    message_id: str | None = Field(default=None, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    latitude: float | None = Field(default=None, ge=-90, le=90, allow_inf_nan=False)
    longitude: float | None = Field(default=None, ge=-180, le=180, allow_inf_nan=False)
    lang: str | None = Field(default=None, max_length=16)


class ChatOption(BaseModel):
    key: str
    label: str


class ChatReply(BaseModel):
    text: str
    options: list[ChatOption] = []


class ChatResponse(BaseModel):
    replies: list[ChatReply]


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
async def chat_page() -> HTMLResponse:
    nonce = secrets.token_urlsafe(16)
    page = _SCRIPT_TAG.sub(f'<script nonce="{nonce}"', PAGE.read_text(encoding="utf-8"))
    return HTMLResponse(page, headers=page_headers(nonce))


@router.post("/api/chat", response_model=ChatResponse, tags=["web chat"])
async def chat(body: ChatRequest, request: Request, runtime: RuntimeDep) -> ChatResponse:
    """Send a message as the web chat does; returns the bot's replies."""
    limiter = request.app.state.web_limiter
    client_ip = request.client.host if request.client else "unknown"
    # Many people may share one IP (an NGO office, a shelter): allow it more.
    ip_limit = limiter.per_minute * 10
    if not (
        limiter.allow(f"id:{body.user_id}") and limiter.allow(f"ip:{client_ip}", limit=ip_limit)
    ):
        raise HTTPException(429, runtime.kb.message("slow_down", "es"))
    location = None
    if body.latitude is not None and body.longitude is not None:
        location = checked_location(body.latitude, body.longitude)
    incoming = Incoming(
        "web", body.text, location=location, language_hint=body.lang, today=date.today()
    )
    delivery_id = None
    if body.message_id:
        pseudonym = runtime.helpline.pseudonym("web", body.user_id)
        delivery_id = scoped_delivery_id(pseudonym, body.message_id)
    outcome = await run_in_threadpool(
        runtime.helpline.receive, "web", body.user_id, incoming, delivery_id
    )
    return ChatResponse(
        replies=[
            ChatReply(
                text=r.text, options=[ChatOption(key=o.key, label=o.label) for o in r.options]
            )
            for r in outcome.replies
        ]
    )
