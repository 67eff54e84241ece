"""Sending one message the way Twilio and Telegram do, and judging the answer.

:func:`send` retries a request after a connection error or a 5xx, with the
same MessageSid or update_id, as the platforms retry; every attempt is kept.
:class:`Delivery` is everything that happened to one message: its attempts,
any injected duplicates, and the Telegram texts sent to the chat meanwhile.

"Answered" means: for Twilio, a 200 whose TwiML holds at least one
``<Message>``; for Telegram, ``sendMessage`` calls to the user's chat while
the message was being delivered. A duplicate must get empty TwiML, or no
further ``sendMessage``.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from xml.etree import ElementTree

import httpx

from tests.load.requests import Request

#: Give up on a message after this many attempts or seconds (a restart takes a few).
MAX_ATTEMPTS = 60
MAX_SECONDS = 90.0
REQUEST_TIMEOUT = 30.0
BACKOFF = (0.05, 0.1, 0.2, 0.4, 0.8, 1.0)


@dataclass
class Attempt:
    """One HTTP exchange: ``status`` 0 means the connection failed."""

    status: int
    seconds: float
    messages: int = 0
    error: str = ""
    #: Telegram: the Bot API call in the webhook's response (Telegram runs it).
    webhook_call: dict[str, Any] | None = None


@dataclass
class Delivery:
    """One unique message and every copy of it that was sent."""

    request: Request
    #: Copies sent at the same moment as the original (a racing retry).
    twins: int = 0
    #: Copies re-sent after the original was answered.
    late_copies: int = 0
    attempts: list[Attempt] = field(default_factory=list)
    #: Attempts that belong to the late copies.
    late_attempts: list[Attempt] = field(default_factory=list)
    #: Telegram: texts sent to the chat while the original (and twins) were delivered.
    texts: list[str] = field(default_factory=list)
    #: Telegram: texts sent while the late copies were delivered (should be none).
    late_texts: list[str] = field(default_factory=list)

    @property
    def telegram(self) -> bool:
        return self.request.user.channel == "telegram"

    @property
    def times_answered(self) -> int:
        """How many times the user got an answer to this message (1 is right)."""
        if self.telegram:
            return _repetitions(self.texts) + _repetitions(self.late_texts)
        return sum(1 for a in [*self.attempts, *self.late_attempts] if a.messages > 0)

    @property
    def accepted(self) -> bool:
        """The server took the message: some attempt got a 200."""
        return any(a.status == 200 for a in self.attempts)

    @property
    def failed_attempts(self) -> int:
        return sum(1 for a in [*self.attempts, *self.late_attempts] if a.status != 200)


def _repetitions(texts: list[str]) -> int:
    # One answer is a few distinct texts; the same answer sent twice repeats each of them,
    # in whatever order two workers interleave them.
    return min(Counter(texts).values()) if texts else 0


def twiml_message_count(body: bytes) -> int:
    """``<Message>`` elements in a TwiML response (0 for an empty ``<Response/>``)."""
    root = ElementTree.fromstring(body)
    if root.tag != "Response":
        raise ValueError(f"not TwiML: {body[:80]!r}")
    return sum(1 for _ in root.iter("Message"))


async def send(client: httpx.AsyncClient, base_url: str, request: Request) -> list[Attempt]:
    """Post ``request`` until a 2xx/4xx answer, retrying connection errors and 5xx."""
    attempts: list[Attempt] = []
    started = time.monotonic()
    while len(attempts) < MAX_ATTEMPTS and time.monotonic() - started < MAX_SECONDS:
        attempt = await _post(client, base_url, request)
        attempts.append(attempt)
        if attempt.status and attempt.status < 500:
            break
        await asyncio.sleep(BACKOFF[min(len(attempts) - 1, len(BACKOFF) - 1)])
    return attempts


async def _post(client: httpx.AsyncClient, base_url: str, request: Request) -> Attempt:
    began = time.perf_counter()
    try:
        response = await client.post(
            base_url + request.path,
            content=request.body,
            headers=request.headers,
            timeout=REQUEST_TIMEOUT,
        )
    except httpx.TransportError as exc:
        return Attempt(0, time.perf_counter() - began, error=type(exc).__name__)
    seconds = time.perf_counter() - began
    messages, call = 0, None
    if response.status_code == 200 and request.user.channel != "telegram":
        messages = twiml_message_count(response.content)
    elif response.status_code == 200 and "json" in response.headers.get("content-type", ""):
        call = dict(response.json())
    return Attempt(response.status_code, seconds, messages, webhook_call=call)
