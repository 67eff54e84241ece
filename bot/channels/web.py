"""The web chat: a page at ``/`` and JSON endpoints at ``/api/chat``.

The page keeps a random id in the browser's localStorage; the server only
ever sees that id (pseudonymised like any other) and the message. On opening,
the page asks ``/api/chat/greeting`` for the greeting and menu: that is not a
message and counts nothing; the conversation starts when the person writes.
``/?ref=CODE`` (an organisation's link) travels with the first message and
counts one referral, as a flyer's QR code does on WhatsApp and Telegram.

Each message carries a random id too, so a double submit is answered once; it
is stored only hashed together with the sender's pseudonym, so one browser's
ids can never silence another's.

Menus show as buttons here, so their numbered lines are left out of the text;
WhatsApp, SMS and Telegram keep them. The page is served with a strict
Content-Security-Policy: scripts only from this server or inline with the
response's nonce, no framing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from bot.channels.base import Channel, Inbound, answer
from bot.channels.coordinates import checked_location
from bot.nonced import nonced_page
from bot.privacy import scoped_delivery_id
from bot.runtime import Runtime, RuntimeDep
from flows.render import numbered
from flows.turn import MAX_TEXT_LENGTH, Incoming, Reply

router = APIRouter()
#: Messages this module says itself, from the messages table.
MESSAGES = ("slow_down",)
PAGE = Path(__file__).resolve().parent.parent / "static" / "chat.html"
#: What the page "says" to be greeted; the engine answers it like a first "hola".
GREETING = "hola"
USER_ID = Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")


class ChatRequest(BaseModel):
    """A message from the web chat."""

    user_id: str = USER_ID
    text: str = Field(default="", max_length=MAX_TEXT_LENGTH * 4)
    #: A per-message id from the page, so a double-submit is answered once.
    message_id: str | None = Field(default=None, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    latitude: float | None = Field(default=None, ge=-90, le=90, allow_inf_nan=False)
    longitude: float | None = Field(default=None, ge=-180, le=180, allow_inf_nan=False)
    lang: str | None = Field(default=None, max_length=16)
    #: The organisation code of the link that opened the page (``/?ref=OCASIVEN``).
    ref: str | None = Field(default=None, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")


class GreetingRequest(BaseModel):
    """The page has opened and wants its greeting."""

    user_id: str = USER_ID
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
    return nonced_page(PAGE, inline_styles=True)


def as_buttons(reply: Reply) -> ChatReply:
    """A reply as the web chat shows it: options as buttons, not also as numbered lines.

    Only lines that repeat an option exactly go (a menu's ``*1.* Salud``); a
    numbered list that says more, like organisations with their phones, stays.
    """
    text = reply.text
    if reply.options:
        shown = {numbered([option]) for option in reply.options}
        lines = [line for line in text.split("\n") if line not in shown]
        text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    return ChatReply(
        text=text, options=[ChatOption(key=o.key, label=o.label) for o in reply.options]
    )


class WebChat(Channel[Inbound]):
    """The web chat: a :class:`ChatRequest` in, :class:`ChatResponse` JSON out.

    Its replies go out with the commit (``confirm_later`` False): the page
    sends each message once and shows whatever comes back.
    """

    confirm_later = False

    def __init__(self, codes: Mapping[str, str], pseudonym: Callable[[str, str], str]) -> None:
        #: Referral code (lower case) -> organisation id.
        self.codes = codes
        self.pseudonym = pseudonym

    @classmethod
    def of(cls, runtime: Runtime) -> WebChat:
        codes = {org.code.lower(): org.id for org in runtime.kb.organisations.values()}
        return cls(codes, runtime.helpline.pseudonym)

    def parse(self, payload: ChatRequest) -> Inbound:
        location = None
        if payload.latitude is not None and payload.longitude is not None:
            location = checked_location(payload.latitude, payload.longitude)
        incoming = Incoming(
            "web", payload.text, location=location, language_hint=payload.lang, today=date.today()
        )
        delivery_id = None
        if payload.message_id:
            # Scoped by the sender: one browser's ids can never silence another's.
            pseudonym = self.pseudonym("web", payload.user_id)
            delivery_id = scoped_delivery_id(pseudonym, payload.message_id)
        referral = self.codes.get((payload.ref or "").lower())
        return Inbound(incoming, payload.user_id, delivery_id, referral)

    def render(self, inbound: Inbound, replies: Sequence[Reply]) -> Response:
        body = ChatResponse(replies=[as_buttons(r) for r in replies])
        return JSONResponse(body.model_dump())


def _allow(request: Request, runtime: Runtime, user_id: str) -> None:
    """429 past the per-browser or per-address limit."""
    limiter = request.app.state.web_limiter
    client_ip = request.client.host if request.client else "unknown"
    # Many people may share one IP (an NGO office, a shelter): allow it more.
    ip_limit = limiter.per_minute * 10
    if not (limiter.allow(f"id:{user_id}") and limiter.allow(f"ip:{client_ip}", limit=ip_limit)):
        raise HTTPException(429, runtime.kb.message("slow_down", "es"))


@router.post("/api/chat/greeting", response_model=ChatResponse, tags=["web chat"])
async def greeting(body: GreetingRequest, request: Request, runtime: RuntimeDep) -> Response:
    """The greeting and main menu the page opens with. Not a message: it counts nothing."""
    _allow(request, runtime, body.user_id)
    incoming = Incoming("web", GREETING, language_hint=body.lang, today=date.today())
    outcome = await run_in_threadpool(runtime.helpline.greet, "web", body.user_id, incoming)
    return WebChat.of(runtime).render(Inbound(incoming, body.user_id, None), outcome.replies)


@router.post("/api/chat", response_model=ChatResponse, tags=["web chat"])
async def chat(body: ChatRequest, request: Request, runtime: RuntimeDep) -> Response:
    """Send a message as the web chat does; returns the bot's replies."""
    _allow(request, runtime, body.user_id)
    channel = WebChat.of(runtime)
    return await answer(runtime, channel, channel.parse(body))


class UpdatesRequest(BaseModel):
    """The page asks whether a person has written to it (during a hand-off)."""

    user_id: str = USER_ID


class UpdatesResponse(BaseModel):
    replies: list[ChatReply]
    #: A person reads this conversation now: the page asks again sooner.
    handoff: bool


@router.post("/api/chat/updates", response_model=UpdatesResponse, tags=["web chat"])
async def updates(body: UpdatesRequest, request: Request, runtime: RuntimeDep) -> Response:
    """Replies written later by a person (a hand-off), delivered once each."""
    limiter = request.app.state.web_limiter
    if not limiter.allow(f"updates:{body.user_id}", limit=limiter.per_minute * 4):
        raise HTTPException(429, runtime.kb.message("slow_down", "es"))
    pseudonym = runtime.helpline.pseudonym("web", body.user_id)
    texts, in_handoff = await run_in_threadpool(runtime.desk.web_updates, pseudonym)
    replies = [ChatReply(text=text) for text in texts]
    return JSONResponse(UpdatesResponse(replies=replies, handoff=in_handoff).model_dump())
