"""Building real channel requests: Twilio-signed forms and Telegram updates."""

from __future__ import annotations

import itertools
import json
from typing import Any
from xml.etree import ElementTree

import httpx
from twilio.request_validator import RequestValidator

TWILIO_TOKEN = "twilio-test-auth-token"
PUBLIC_BASE_URL = "https://pana.example.org"
TELEGRAM_TOKEN = "123456:TEST-token"
TELEGRAM_SECRET = "telegram-webhook-secret"

_sids = itertools.count(1)
_updates = itertools.count(1000)


def twilio_form(
    text: str, sender: str = "whatsapp:+51987654321", sid: str | None = None, **extra: str
) -> dict[str, str]:
    form = {
        "MessageSid": sid or f"SM{next(_sids):032d}",
        "AccountSid": "AC" + "0" * 32,
        "From": sender,
        "To": "whatsapp:+14155238886" if sender.startswith("whatsapp:") else "+14155238886",
        "Body": text,
        "NumMedia": "0",
        "ProfileName": "Maria Perez",
    }
    form.update(extra)
    return form


def twilio_signature(form: dict[str, str], path: str = "/webhooks/twilio") -> str:
    return RequestValidator(TWILIO_TOKEN).compute_signature(PUBLIC_BASE_URL + path, form)


def post_twilio(
    client: Any, form: dict[str, str], path: str = "/webhooks/twilio", signed: bool = True
) -> Any:
    headers = {"X-Twilio-Signature": twilio_signature(form, path)} if signed else {}
    return client.post(path, data=form, headers=headers)


def twiml_messages(body: str) -> list[str]:
    root = ElementTree.fromstring(body)
    assert root.tag == "Response"
    return [m.text or "" for m in root.iter("Message")]


def telegram_message(
    text: str, user_id: int = 777000111, lang: str = "es", **extra: Any
) -> dict[str, Any]:
    message: dict[str, Any] = {
        "message_id": next(_updates),
        "date": 1_760_000_000,
        "chat": {"id": user_id, "type": "private", "first_name": "Ana"},
        "from": {"id": user_id, "is_bot": False, "first_name": "Ana", "language_code": lang},
        "text": text,
    }
    message.update(extra)
    if not text:  # media-only messages carry no text field
        del message["text"]
    return {"update_id": next(_updates), "message": message}


def telegram_callback(data: str, user_id: int = 777000111) -> dict[str, Any]:
    return {
        "update_id": next(_updates),
        "callback_query": {
            "id": str(next(_updates)),
            "chat_instance": "ci",
            "data": data,
            "from": {"id": user_id, "is_bot": False, "first_name": "Ana", "language_code": "es"},
            "message": {
                "message_id": 1,
                "date": 1_760_000_000,
                "chat": {"id": user_id, "type": "private"},
                "text": "menu",
            },
        },
    }


def post_telegram(client: Any, update: dict[str, Any], secret: str | None = TELEGRAM_SECRET) -> Any:
    """Post an update as Telegram does, and run the Bot API call in the response as it does."""
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    response = client.post("/webhooks/telegram", content=json.dumps(update), headers=headers)
    app = getattr(client, "app", None)  # a TestClient; a live server's client has none
    bot = getattr(app.state, "telegram_bot", None) if app is not None else None
    if bot is not None:
        run_webhook_reply(response, bot.base_url)
    return response


def run_webhook_reply(response: Any, bot_api_url: str) -> None:
    """What Telegram does with a 200 webhook response that names a method: call it.

    ``bot_api_url`` is ``<TELEGRAM_API_BASE_URL><token>``, the (fake) Bot API
    the method is posted to, as python-telegram-bot would post it.
    """
    if response.status_code != 200 or "json" not in response.headers.get("content-type", ""):
        return
    call = dict(response.json())
    method = call.pop("method", None)
    if method:
        httpx.post(f"{bot_api_url}/{method}", json=call, timeout=10).raise_for_status()
