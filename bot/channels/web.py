"""The web chat: a page at ``/`` and a JSON endpoint at ``/api/chat``.

The page keeps a random id in the browser's localStorage; the server only
ever sees that id (pseudonymised like any other) and the message.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from bot.runtime import RuntimeDep
from flows.turn import MAX_TEXT_LENGTH, Incoming, Location

router = APIRouter()
PAGE = Path(__file__).resolve().parent.parent / "static" / "chat.html"


class ChatRequest(BaseModel):
    """A message from the web chat."""

    user_id: str = Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    text: str = Field(default="", max_length=MAX_TEXT_LENGTH * 4)
    #: A per-message id from the page, so a double-submit is answered once.
    message_id: str | None = Field(default=None, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
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
    return HTMLResponse(PAGE.read_text(encoding="utf-8"))


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
        location = Location(body.latitude, body.longitude)
    incoming = Incoming(
        "web", body.text, location=location, language_hint=body.lang, today=date.today()
    )
    outcome = await run_in_threadpool(
        runtime.helpline.receive, "web", body.user_id, incoming, body.message_id
    )
    return ChatResponse(
        replies=[
            ChatReply(
                text=r.text, options=[ChatOption(key=o.key, label=o.label) for o in r.options]
            )
            for r in outcome.replies
        ]
    )
