"""How a staff reply leaves: Twilio's REST API for WhatsApp and SMS, the Bot API for Telegram.

Each sender sends one message and says what the platform answered; after a
crash it can also say whether a message it may have sent did go out
(:meth:`Sender.find_sent`), so the outbox sends it exactly once.

- **Twilio** (``twilio`` library, ``messages.create``): free text, or within
  WhatsApp's rules the approved template (``content_sid``). Status callbacks
  come back signed to ``/webhooks/twilio/status`` when ``PUBLIC_BASE_URL`` is
  set. ``find_sent`` lists the messages to that address since the attempt
  began and matches the body: Twilio keeps no idempotency key of ours.
- **Telegram** (python-telegram-bot): ``send_message``. The Bot API cannot
  list what a bot sent, so after a crash in the middle of a send the message
  is sent again (at least once): a rare duplicate beats a lost reply.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from telegram import Bot
from telegram.error import TelegramError
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from bot.handoff.store import Outgoing

log = logging.getLogger("pana.senders")
TWILIO_API = "https://api.twilio.com"
#: Seconds a send may take; the outbox treats a longer "sending" as a crashed one.
SEND_TIMEOUT = 20
#: A message Twilio created this long before our attempt is not ours.
CLOCK_SLACK = timedelta(minutes=2)


@dataclass(frozen=True)
class Sent:
    """What the platform said: its status, its id for the message, and an error."""

    status: str
    provider_id: str | None = None
    error: str | None = None


class Sender(Protocol):
    def send(self, item: Outgoing, text: str) -> Sent: ...

    def find_sent(self, item: Outgoing, text: str, since: datetime) -> Sent | None:
        """The message if an earlier attempt did send it; None if it did not, or cannot tell."""
        ...


class _ApiAt(TwilioHttpClient):
    """Twilio's HTTP client, sending what is addressed to api.twilio.com to ``base_url``."""

    def __init__(self, base_url: str) -> None:
        super().__init__(timeout=SEND_TIMEOUT)
        self.base_url = base_url.rstrip("/")

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        if url.startswith(TWILIO_API):
            url = self.base_url + url[len(TWILIO_API) :]
        return super().request(method, url, *args, **kwargs)


class TwilioSender:
    """WhatsApp and SMS through the REST API (``TWILIO_ACCOUNT_SID``, ``TWILIO_AUTH_TOKEN``)."""

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        base_url: str = TWILIO_API,
        status_callback: str | None = None,
        template_sid: str = "",
    ) -> None:
        http = _ApiAt(base_url) if base_url.rstrip("/") != TWILIO_API else None
        self.client = Client(account_sid, auth_token, http_client=http)
        self.status_callback = status_callback
        self.template_sid = template_sid

    def send(self, item: Outgoing, text: str) -> Sent:
        to, sender = item.address.get("to"), item.address.get("from")
        if not to or not sender:
            return Sent("failed", error="no address to reply to")
        extra: dict[str, Any] = {}
        if self.status_callback:
            extra["status_callback"] = self.status_callback
        if item.kind == "template":
            if not self.template_sid:
                return Sent("failed", error="no template configured")
            extra["content_sid"] = self.template_sid
            extra["content_variables"] = json.dumps({"1": item.text})
        else:
            extra["body"] = text
        try:
            message = self.client.messages.create(to=to, from_=sender, **extra)
        except TwilioRestException as exc:
            return Sent("failed", error=f"Twilio {exc.code}: {exc.msg}"[:300])
        except (TwilioException, OSError) as exc:
            log.warning("could not reach Twilio: %s", type(exc).__name__)
            return Sent("failed", error=f"could not reach Twilio ({type(exc).__name__})")
        return Sent(message.status or "queued", message.sid)

    def find_sent(self, item: Outgoing, text: str, since: datetime) -> Sent | None:
        to, sender = item.address.get("to"), item.address.get("from")
        try:
            recent = self.client.messages.list(to=to, from_=sender, limit=50)
        except (TwilioException, OSError):
            return None  # cannot tell: the outbox tries again later
        for message in recent:
            created = message.date_created
            ours = item.kind == "template" or message.body == text
            if ours and created is not None and created >= since - CLOCK_SLACK:
                return Sent(message.status or "queued", message.sid)
        return Sent("unsent")


class TelegramSender:
    """Telegram through python-telegram-bot, pointed at ``base_url`` (a fake one in tests)."""

    def __init__(self, token: str, base_url: str) -> None:
        self.token = token
        self.base_url = base_url

    def send(self, item: Outgoing, text: str) -> Sent:
        chat = item.address.get("chat_id")
        if not chat:
            return Sent("failed", error="no chat to reply to")
        try:
            message_id = asyncio.run(self._send(int(chat), text))
        except TelegramError as exc:
            return Sent("failed", error=f"Telegram: {exc.message}"[:300])
        return Sent("sent", str(message_id))

    async def _send(self, chat: int, text: str) -> int:
        async with Bot(self.token, base_url=self.base_url) as bot:
            message = await bot.send_message(chat, text)
        return message.message_id

    def find_sent(self, item: Outgoing, text: str, since: datetime) -> Sent | None:
        return Sent("unsent")
