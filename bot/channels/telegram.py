"""Telegram: webhook updates in, the reply in the webhook's response.

The webhook checks ``X-Telegram-Bot-Api-Secret-Token`` against
``TELEGRAM_WEBHOOK_SECRET`` (constant-time) and turns the Update into an
:class:`~flows.turn.Incoming` (text, location, ``/start CODE``, button
presses). A turn's replies are joined into as few Telegram messages as fit;
menus get an inline keyboard whose buttons send the option number back as
callback data.

The (last) message goes back as a ``sendMessage`` call in the webhook's
response, which the Bot API runs when it reads the response ("making
requests when getting updates"). Like TwiML, the reply is then delivered if
and only if Telegram got the response: a crash before that makes Telegram
retry and get the stored answer, a crash after it cannot repeat it. Earlier
messages of a long answer, and the button-press acknowledgement, go through
python-telegram-bot's ``Bot``.
"""

from __future__ import annotations

import hmac
import logging
from dataclasses import dataclass
from datetime import date
from functools import partial
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import NetworkError, TelegramError
from telegram.request import HTTPXRequest

from bot.channels.confirmed import ConfirmedResponse
from bot.channels.coordinates import checked_location
from bot.channels.split import TELEGRAM_LIMIT, split_text
from bot.helpline import Busy
from bot.runtime import RuntimeDep
from flows.turn import Incoming, Reply

log = logging.getLogger("pana.telegram")
router = APIRouter()
BUTTONS_PER_ROW = 1


def make_bot(token: str, base_url: str) -> Bot:
    """A Bot that talks to ``base_url`` (the public Bot API, or a fake one in tests)."""
    return Bot(token, base_url=base_url, request=HTTPXRequest(connection_pool_size=32))


#: Buttons under an answer that can be rated; their data is what the engine reads.
FEEDBACK_BUTTONS = (
    InlineKeyboardButton("👍", callback_data="👍"),
    InlineKeyboardButton("👎", callback_data="👎"),
)


def keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    if not reply.options and not reply.feedback:
        return None
    rows = [
        [InlineKeyboardButton(f"{o.key}. {o.label}"[:64], callback_data=o.key)]
        for o in reply.options
    ]
    if reply.feedback:
        rows.append(list(FEEDBACK_BUTTONS))
    return InlineKeyboardMarkup(rows)


def _incoming(update: Update) -> tuple[Incoming, int, int] | None:
    """(incoming, user id, chat id) for the updates Pana answers; None for the rest.

    ValueError for a location that is no place (NaN, infinite, out of range).
    """
    today = date.today()
    if update.callback_query is not None:
        query = update.callback_query
        chat = query.message.chat.id if query.message else query.from_user.id
        text = query.data or ""
        lang = query.from_user.language_code
        return Incoming("telegram", text, language_hint=lang, today=today), query.from_user.id, chat
    message = update.message or update.edited_message
    if message is None or message.from_user is None:
        return None
    text = message.text or message.caption or ""
    if text.startswith("/start"):
        # "/start CODE" from a flyer's t.me link: the code reads like "hola CODE".
        text = "hola " + text[len("/start") :].strip()
    location = None
    if message.location is not None:
        location = checked_location(message.location.latitude, message.location.longitude)
    media = bool(
        message.photo or message.voice or message.audio or message.video or message.document
        or message.sticker or message.video_note
    )  # fmt: skip
    incoming = Incoming(
        "telegram",
        text,
        location=location,
        has_media=media and not message.text,
        language_hint=message.from_user.language_code,
        today=today,
    )
    return incoming, message.from_user.id, message.chat.id


@dataclass(frozen=True)
class OutgoingMessage:
    text: str
    markup: InlineKeyboardMarkup | None = None

    def as_webhook_reply(self, chat_id: int) -> dict[str, Any]:
        """This message as a Bot API call in the webhook's response."""
        call: dict[str, Any] = {"method": "sendMessage", "chat_id": chat_id, "text": self.text}
        if self.markup is not None:
            call["reply_markup"] = self.markup.to_dict()
        return call


def outgoing_messages(replies: list[Reply]) -> list[OutgoingMessage]:
    """A turn's replies as Telegram messages: joined while they fit, split when too long.

    A reply with a menu ends a message (its keyboard goes under it). Fewer
    messages cost less data, and one message is delivered with the response.
    """
    messages: list[OutgoingMessage] = []
    pending = ""
    for reply in replies:
        if pending and len(pending) + 2 + len(reply.text) <= TELEGRAM_LIMIT:
            text, pending = f"{pending}\n\n{reply.text}", ""
        else:
            if pending:
                messages.append(OutgoingMessage(pending))
            text, pending = reply.text, ""
        pieces = split_text(text, TELEGRAM_LIMIT)
        messages += [OutgoingMessage(piece) for piece in pieces[:-1]]
        if reply.options or reply.feedback:
            messages.append(OutgoingMessage(pieces[-1], keyboard(reply)))
        else:
            pending = pieces[-1]
    if pending:
        messages.append(OutgoingMessage(pending))
    return messages


#: A Telegram Update, declared for the OpenAPI schema (python-telegram-bot parses it).
TELEGRAM_UPDATE = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["update_id"],
                    "properties": {
                        "update_id": {"type": "integer"},
                        "message": {
                            "type": "object",
                            "properties": {
                                "text": {"type": "string"},
                                "location": {
                                    "type": "object",
                                    "required": ["latitude", "longitude"],
                                    "properties": {
                                        "latitude": {"type": "number"},
                                        "longitude": {"type": "number"},
                                    },
                                },
                            },
                        },
                        "callback_query": {"type": "object"},
                    },
                }
            }
        },
    },
    "parameters": [
        {
            "name": "X-Telegram-Bot-Api-Secret-Token",
            "in": "header",
            "required": True,
            "schema": {"type": "string"},
        }
    ],
}


@router.post("/webhooks/telegram", tags=["channels"], openapi_extra=TELEGRAM_UPDATE)
async def telegram_webhook(request: Request, runtime: RuntimeDep) -> Response:
    """An Update from Telegram; the answer is a ``sendMessage`` call in the response."""
    settings = runtime.settings
    bot: Bot | None = getattr(request.app.state, "telegram_bot", None)
    if not settings.telegram_enabled or bot is None:
        raise HTTPException(404, "Telegram is not enabled")
    given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
    expected = settings.telegram_webhook_secret
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        raise HTTPException(403, "invalid secret token")
    try:
        data: Any = await request.json()
        update = Update.de_json(data, bot) if isinstance(data, dict) else None
        parsed = _incoming(update) if update is not None else None
    except Exception as exc:  # python-telegram-bot raises many kinds on malformed input
        log.info("malformed Telegram update: %s", type(exc).__name__)
        raise HTTPException(400, "malformed update") from exc
    if update is None:
        raise HTTPException(400, "malformed update")
    if parsed is None:
        return Response(status_code=200)
    incoming, user_id, chat_id = parsed
    try:
        outcome = await run_in_threadpool(
            partial(runtime.helpline.receive, confirm_later=True),
            "telegram",
            str(user_id),
            incoming,
            str(update.update_id),
        )
    except Busy:
        # Above the global ceiling nothing was stored: the person is told to write later.
        lang = "en" if (incoming.language_hint or "").startswith("en") else "es"
        busy = OutgoingMessage(runtime.kb.message("busy", lang))
        return JSONResponse(busy.as_webhook_reply(chat_id))
    messages = outgoing_messages(outcome.replies)
    user = {"user": outcome.pseudonym[:12]}
    if update.callback_query is not None:
        try:
            await update.callback_query.answer()
        except TelegramError:
            # Only the button's spinner: it stops by itself, and the answer is in the response.
            log.warning("could not acknowledge a button press", extra=user)
    try:
        for message in messages[:-1]:
            await bot.send_message(chat_id, message.text, reply_markup=message.markup)
    except NetworkError:
        # Transient: the replies stay stored, and Telegram's retry of this update gets
        # them all again (released: without it this run would take the retry for a race).
        log.warning("Bot API unreachable; asking Telegram to retry", extra=user)
        await run_in_threadpool(runtime.helpline.release, "telegram", str(update.update_id))
        return Response(status_code=503)
    except TelegramError:
        # Permanent (the user blocked the bot, a bad request): retrying would not help.
        log.exception("Telegram refused the reply", extra=user)
    confirm = partial(runtime.helpline.confirm_soon, "telegram", str(update.update_id))
    if not messages:
        confirm()
        return Response(status_code=200)
    reply = JSONResponse(messages[-1].as_webhook_reply(chat_id))
    return ConfirmedResponse(reply, confirm)


async def set_webhook(bot: Bot, public_base_url: str, secret: str) -> bool:
    """Register ``PUBLIC_BASE_URL/webhooks/telegram`` with the secret token."""
    url = f"{public_base_url.rstrip('/')}/webhooks/telegram"
    return await bot.set_webhook(
        url=url, secret_token=secret, allowed_updates=["message", "callback_query"]
    )
