"""Channel requests as Twilio and Telegram send them: signed forms and Update JSON.

Built with the same helpers the tests use (``tests/support/channels.py``), so
a load run signs exactly as the test suite does. A request is built once and
re-sent unchanged on retry and on an injected duplicate: same MessageSid,
same update_id, same bytes.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from urllib.parse import urlencode

from tests.load.mix import Step
from tests.support.channels import (
    PUBLIC_BASE_URL,
    TELEGRAM_SECRET,
    TELEGRAM_TOKEN,
    TWILIO_TOKEN,
    telegram_callback,
    telegram_message,
    twilio_form,
    twilio_signature,
)

TWILIO_PATH = "/webhooks/twilio"
TELEGRAM_PATH = "/webhooks/telegram"
_ids = itertools.count(1)


@dataclass(frozen=True)
class User:
    """A simulated person: ``channel`` is whatsapp, sms or telegram."""

    index: int
    channel: str
    lang: str = "es"

    @property
    def platform_id(self) -> str:
        """The id Pana pseudonymises: the phone number, or the Telegram user id."""
        if self.channel == "telegram":
            return str(self.chat_id)
        return f"+51{9_0000_0000 + self.index:09d}"

    @property
    def chat_id(self) -> int:
        return 5_000_000_000 + self.index

    @property
    def sender(self) -> str:
        return f"whatsapp:{self.platform_id}" if self.channel == "whatsapp" else self.platform_id


@dataclass(frozen=True)
class Request:
    """One delivery, ready to (re)send: ``key`` is the MessageSid or update_id."""

    user: User
    key: str
    path: str
    headers: dict[str, str]
    body: bytes


def build(user: User, step: Step, run: int = 0) -> Request:
    """The request ``user`` sends for ``step``.

    ``run`` (0..999999) keeps MessageSids and update_ids unique across the runs
    that share one database, as a benchmark's phases do.
    """
    number = next(_ids)
    if user.channel == "telegram":
        return _telegram(user, step, run * 10**9 + number)
    extra = {}
    if step.location:
        extra = {"Latitude": str(step.location[0]), "Longitude": str(step.location[1])}
    sid = f"SM{run:06d}{number:026d}"
    form = twilio_form("" if step.location else step.text, user.sender, sid=sid, **extra)
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Twilio-Signature": twilio_signature(form, TWILIO_PATH),
    }
    return Request(user, sid, TWILIO_PATH, headers, urlencode(form).encode())


def _telegram(user: User, step: Step, update_id: int) -> Request:
    if step.location:
        latitude, longitude = step.location
        location = {"latitude": latitude, "longitude": longitude}
        update = telegram_message("", user_id=user.chat_id, lang=user.lang, location=location)
        update["message"].pop("text", None)  # a shared location carries no text
    elif step.button:
        update = telegram_callback(step.text, user_id=user.chat_id)
    else:
        update = telegram_message(step.text, user_id=user.chat_id, lang=user.lang)
    update["update_id"] = update_id
    headers = {
        "Content-Type": "application/json",
        "X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET,
    }
    return Request(
        user, str(update["update_id"]), TELEGRAM_PATH, headers, json.dumps(update).encode()
    )


def server_env(database_url: str, bot_api_url: str, pseudonym_key: str) -> dict[str, str]:
    """Settings for a server under load: the test credentials, limits out of the way."""
    return {
        "PANA_ENV": "production",
        "DATABASE_URL": database_url,
        "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
        "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
        "TELEGRAM_BOT_TOKEN": TELEGRAM_TOKEN,
        "TELEGRAM_WEBHOOK_SECRET": TELEGRAM_SECRET,
        "TELEGRAM_API_BASE_URL": f"{bot_api_url}/bot",
        "PSEUDONYM_KEY": pseudonym_key,
        # A load run sends far faster than a person; the limits are tested elsewhere.
        "USER_MESSAGES_PER_MINUTE": "1000000",
        "GLOBAL_MESSAGES_PER_MINUTE": "100000000",
    }
