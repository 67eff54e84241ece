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
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.responses import JSONResponse
from telegram import Bot, CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import NetworkError, TelegramError
from telegram.request import HTTPXRequest

from bot.channels.base import Channel, Inbound, answer
from bot.channels.coordinates import checked_location
from bot.channels.split import TELEGRAM_LIMIT, split_text
from bot.runtime import RuntimeDep
from flows.turn import Incoming, Reply
from knowledge import KnowledgeBase

log = logging.getLogger("pana.telegram")
router = APIRouter()
#: Messages this module says itself, from the messages table.
MESSAGES = ("busy",)


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


def outgoing_messages(replies: Sequence[Reply]) -> list[OutgoingMessage]:
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


@dataclass(frozen=True)
class TelegramInbound(Inbound):
    """A Telegram message, with the chat the answer goes to and the button pressed, if any."""

    chat_id: int = 0
    button: CallbackQuery | None = None


class Telegram(Channel[TelegramInbound]):
    """Telegram: an Update in; the last message back as a ``sendMessage`` in the response,
    earlier ones (and a button press's acknowledgement) through the Bot API first."""

    confirm_later = True

    def __init__(self, bot: Bot, kb: KnowledgeBase) -> None:
        self.bot = bot
        self.kb = kb

    def parse(self, payload: Any) -> TelegramInbound | None:
        """The message in a decoded Update; None for updates Pana does not answer.

        ValueError for what is no Update, and for a location that is no place
        (NaN, infinite, out of range); python-telegram-bot raises its own
        errors for other malformed fields.
        """
        update = Update.de_json(payload, self.bot) if isinstance(payload, dict) else None
        if update is None:
            raise ValueError("not a Telegram Update")
        delivery_id = str(update.update_id)
        today = date.today()
        if update.callback_query is not None:
            query = update.callback_query
            chat = query.message.chat.id if query.message else query.from_user.id
            lang = query.from_user.language_code
            incoming = Incoming("telegram", query.data or "", language_hint=lang, today=today)
            return TelegramInbound(
                incoming,
                str(query.from_user.id),
                delivery_id,
                reply_to={"chat_id": str(chat)},
                chat_id=chat,
                button=query,
            )
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
        return TelegramInbound(
            incoming,
            str(message.from_user.id),
            delivery_id,
            reply_to={"chat_id": str(message.chat.id)},
            chat_id=message.chat.id,
        )

    def render(self, inbound: TelegramInbound, replies: Sequence[Reply]) -> Response:
        """The last message as a ``sendMessage`` call in the webhook's response."""
        messages = outgoing_messages(replies)
        if not messages:
            return Response(status_code=200)
        return JSONResponse(messages[-1].as_webhook_reply(inbound.chat_id))

    def busy(self, inbound: TelegramInbound) -> Response:
        """Above the global ceiling nothing was stored: the person is told to write later."""
        lang = "en" if (inbound.incoming.language_hint or "").startswith("en") else "es"
        busy = OutgoingMessage(self.kb.message("busy", lang))
        return JSONResponse(busy.as_webhook_reply(inbound.chat_id))

    async def send_ahead(self, inbound: TelegramInbound, replies: Sequence[Reply]) -> bool:
        """Acknowledge a button press; send all but the last message through the Bot API."""
        if inbound.button is not None:
            try:
                await inbound.button.answer()
            except TelegramError:
                # Only the button's spinner: it stops by itself, and the answer is in the response.
                log.warning("could not acknowledge a button press")
        try:
            for message in outgoing_messages(replies)[:-1]:
                await self.bot.send_message(
                    inbound.chat_id, message.text, reply_markup=message.markup
                )
        except NetworkError:
            # Transient: the replies stay stored, and Telegram's retry of this update gets
            # them all again.
            log.warning("Bot API unreachable; asking Telegram to retry")
            return False
        except TelegramError:
            # Permanent (the user blocked the bot, a bad request): retrying would not help.
            log.exception("Telegram refused the reply")
        return True


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


def verified_bot(request: Request, runtime: RuntimeDep) -> Bot:
    """The app's Bot, once the request carries the webhook's secret token (a route
    dependency): 404 while Telegram is not enabled, 403 for a wrong token."""
    bot: Bot | None = getattr(request.app.state, "telegram_bot", None)
    if not runtime.settings.telegram_enabled or bot is None:
        raise HTTPException(404, "Telegram is not enabled")
    given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
    expected = runtime.settings.telegram_webhook_secret
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        raise HTTPException(403, "invalid secret token")
    return bot


@router.post("/webhooks/telegram", tags=["channels"], openapi_extra=TELEGRAM_UPDATE)
async def telegram_webhook(
    request: Request, runtime: RuntimeDep, bot: Annotated[Bot, Depends(verified_bot)]
) -> Response:
    """An Update from Telegram; the answer is a ``sendMessage`` call in the response."""
    channel = Telegram(bot, runtime.kb)
    try:
        inbound = channel.parse(await request.json())
    except Exception as exc:  # python-telegram-bot raises many kinds on malformed input
        log.info("malformed Telegram update: %s", type(exc).__name__)
        raise HTTPException(400, "malformed update") from exc
    if inbound is None:
        return Response(status_code=200)
    return await answer(runtime, channel, inbound)


async def set_webhook(bot: Bot, public_base_url: str, secret: str) -> bool:
    """Register ``PUBLIC_BASE_URL/webhooks/telegram`` with the secret token."""
    url = f"{public_base_url.rstrip('/')}/webhooks/telegram"
    return await bot.set_webhook(
        url=url, secret_token=secret, allowed_updates=["message", "callback_query"]
    )
