"""Every channel against one contract (``bot/channels/base.py``), as tables.

- One table of stories every channel must tell alike (refused proof, the same
  message twice, media, a malformed body, missing settings), run through HTTP
  for Twilio, Telegram and the web chat.
- Tables of :meth:`~bot.channels.base.Channel.parse` and
  :meth:`~bot.channels.base.Channel.render`, which need no HTTP at all.
- A new channel is one :class:`~bot.channels.base.Channel` implementation and
  a route; the helpline does not change. The pigeon post at the end is such a
  channel, added by this test alone.

Stories that only one channel tells stay in ``test_twilio.py``,
``test_telegram.py`` and ``test_web_chat.py``.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from xml.etree import ElementTree

import pytest
from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from bot.app import create_app
from bot.channels.base import Channel, Inbound, answer
from bot.channels.telegram import Telegram, TelegramInbound, make_bot
from bot.channels.twilio import Twilio
from bot.channels.web import ChatRequest, WebChat
from bot.privacy import scoped_delivery_id
from bot.runtime import RuntimeDep
from bot.settings import Settings
from flows.turn import Incoming, Location, Option, Reply
from knowledge import KnowledgeBase
from tests.support.channels import (
    TELEGRAM_SECRET,
    TELEGRAM_TOKEN,
    post_telegram,
    post_twilio,
    telegram_callback,
    telegram_message,
    twilio_form,
    twiml_messages,
)

# -- one table of stories, run for every channel --------------------------------------


@dataclass(frozen=True)
class ChannelCase:
    """One story every channel must tell the same way (courier's ``IncomingTestCase``)."""

    label: str
    text: str = "hola"
    #: A photo or voice note instead of text.
    media: bool = False
    #: The request carries the platform's signature or secret.
    authentic: bool = True
    #: The same message (same platform id) is posted twice; the second answer is checked.
    twice: bool = False
    #: A body that is no message of the platform's.
    malformed: bool = False
    #: The channel's settings are missing.
    disabled: bool = False
    #: The status expected: a number, or the name of the driver's attribute that holds it.
    status: int | str = 200
    #: A phrase the replies contain; "" when there must be no reply at all.
    says: str = ""


class Driver:
    """How a story is posted to one channel and its replies read back."""

    name = ""
    #: Statuses for the stories that differ between platforms; None: not this channel's story.
    refused: int | None = None
    malformed: int | None = None
    disabled: int | None = None
    #: The settings that leave the channel disabled.
    disabling: dict[str, str] = {}  # noqa: RUF012
    media = False

    def post(self, client: TestClient, case: ChannelCase, message_id: str) -> Any:
        raise NotImplementedError

    def post_malformed(self, client: TestClient) -> Any:
        raise NotImplementedError

    def texts(self, response: Any) -> list[str]:
        raise NotImplementedError

    def supports(self, case: ChannelCase) -> bool:
        return not (
            (not case.authentic and self.refused is None)
            or (case.malformed and self.malformed is None)
            or (case.disabled and self.disabled is None)
            or (case.media and not self.media)
        )


class TwilioDriver(Driver):
    name = "whatsapp"
    refused, malformed, disabled = 403, 400, 403
    disabling = {"twilio_auth_token": ""}  # noqa: RUF012
    media = True

    def post(self, client: TestClient, case: ChannelCase, message_id: str) -> Any:
        media = {"NumMedia": "1", "MediaContentType0": "audio/ogg"} if case.media else {}
        sid = "SM" + message_id.rjust(32, "0")
        form = twilio_form(case.text, sender="whatsapp:+51911555000", sid=sid, **media)
        return post_twilio(client, form, signed=case.authentic)

    def post_malformed(self, client: TestClient) -> Any:
        form = twilio_form("hola")
        del form["From"]  # signed, but without Twilio's fields: no message to answer
        return post_twilio(client, form)

    def texts(self, response: Any) -> list[str]:
        return twiml_messages(response.text) if response.status_code == 200 else []


class TelegramDriver(Driver):
    name = "telegram"
    refused, malformed, disabled = 403, 400, 404
    disabling = {"telegram_bot_token": ""}  # noqa: RUF012
    media = True

    def post(self, client: TestClient, case: ChannelCase, message_id: str) -> Any:
        photo = [{"file_id": "f", "file_unique_id": "u", "width": 10, "height": 10}]
        update = telegram_message(
            case.text, user_id=777555000, **({"photo": photo} if case.media else {})
        )
        update["update_id"] = int(message_id)
        return post_telegram(client, update, secret=TELEGRAM_SECRET if case.authentic else "wrong")

    def post_malformed(self, client: TestClient) -> Any:
        headers = {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}
        return client.post("/webhooks/telegram", content=b"{not json", headers=headers)

    def texts(self, response: Any) -> list[str]:
        if "json" not in response.headers.get("content-type", ""):
            return []
        return [response.json()["text"]]


class WebDriver(Driver):
    name = "web"
    malformed = 422

    def post(self, client: TestClient, case: ChannelCase, message_id: str) -> Any:
        body = {"user_id": "browser-555000", "text": case.text, "message_id": f"m{message_id}"}
        return client.post("/api/chat", json=body)

    def post_malformed(self, client: TestClient) -> Any:
        return client.post("/api/chat", content=b"{not json")

    def texts(self, response: Any) -> list[str]:
        """Each reply's text and its buttons: a menu is buttons only here."""
        replies = response.json()["replies"] if response.status_code == 200 else []
        return [line for r in replies for line in (r["text"], *(o["label"] for o in r["options"]))]


DRIVERS = (TwilioDriver(), TelegramDriver(), WebDriver())
CASES = (
    ChannelCase("a greeting gets the menu", says="Salud"),
    ChannelCase(
        "a request without the platform's proof is refused", authentic=False, status="refused"
    ),
    ChannelCase("the same message twice is answered once", twice=True),
    ChannelCase(
        "a photo or voice note gets a text-only explanation", text="", media=True, says="texto"
    ),
    ChannelCase("a body that is no message is a client error", malformed=True, status="malformed"),
    ChannelCase("without its settings the channel is closed", disabled=True, status="disabled"),
)
_ids = itertools.count(4_000_001)


@pytest.mark.parametrize(
    ("driver", "case"),
    [
        pytest.param(driver, case, id=f"{driver.name}: {case.label}")
        for driver in DRIVERS
        for case in CASES
        if driver.supports(case)
    ],
)
def test_every_channel_tells_the_same_story(
    settings: Settings, kb: KnowledgeBase, driver: Driver, case: ChannelCase
) -> None:
    changed = settings.model_copy(update=driver.disabling) if case.disabled else settings
    with TestClient(create_app(changed, kb)) as client:
        if case.malformed:
            response = driver.post_malformed(client)
        else:
            message_id = str(next(_ids))
            response = driver.post(client, case, message_id)
            if case.twice:
                assert driver.texts(response), "the first time is answered"
                response = driver.post(client, case, message_id)
    status = getattr(driver, case.status) if isinstance(case.status, str) else case.status
    assert response.status_code == status
    texts = driver.texts(response) if status == 200 else []
    if case.says:
        assert case.says in "\n".join(texts)
    else:
        assert texts == []


# -- parse: a payload in, an Inbound out; no HTTP -------------------------------------

SID = "SM" + "1" * 32
PHOTO = [{"file_id": "f", "file_unique_id": "u", "width": 10, "height": 10}]


@pytest.fixture(scope="module")
def channels(kb: KnowledgeBase) -> dict[str, Any]:
    """One of each channel, built without a server (the Bot only parses here)."""
    return {
        "twilio": Twilio(),
        "telegram": Telegram(make_bot(TELEGRAM_TOKEN, "http://127.0.0.1:9/bot"), kb),
        "web": WebChat({"ocasiven": "ocasiven"}, lambda channel, user: f"pseudonym-{user}"),
    }


@dataclass(frozen=True)
class ParseCase:
    label: str
    channel: str
    payload: Any
    #: The Inbound's fields that matter here (``text``, ``channel``, ``has_media`` and
    #: ``location`` are read from its Incoming); None: nothing to answer.
    expected: dict[str, Any] | None = field(default_factory=dict)
    #: The error a malformed payload raises instead.
    error: type[Exception] | None = None


def web(**fields: Any) -> ChatRequest:
    return ChatRequest(user_id="browser-123456", **fields)


def update(message: dict[str, Any], update_id: int = 9001) -> dict[str, Any]:
    return {**message, "update_id": update_id}


PARSE_CASES = (
    ParseCase(
        "a WhatsApp message: the number without its prefix, the SID as delivery id",
        "twilio",
        twilio_form("hola", sender="whatsapp:+51987654321", sid=SID),
        {"channel": "whatsapp", "platform_id": "+51987654321", "delivery_id": SID, "text": "hola"},
    ),
    ParseCase(
        "a bare number is SMS",
        "twilio",
        twilio_form("sis", sender="+51911222333", sid=SID),
        {"channel": "sms", "platform_id": "+51911222333", "text": "sis"},
    ),
    ParseCase(
        "a voice note has media and no text",
        "twilio",
        twilio_form("", NumMedia="1", MediaContentType0="audio/ogg"),
        {"has_media": True, "text": ""},
    ),
    ParseCase(
        "a WhatsApp location pin",
        "twilio",
        twilio_form("", Latitude="-8.1091", Longitude="-79.0215"),
        {"location": Location(-8.1091, -79.0215)},
    ),
    ParseCase(
        "a location that is no place is dropped",
        "twilio",
        twilio_form("hola", Latitude="nan", Longitude="0"),
        {"location": None, "text": "hola"},
    ),
    ParseCase(
        "a Telegram message: the user id, the update id as delivery id",
        "telegram",
        update(telegram_message("hola", user_id=777000111), update_id=9001),
        {
            "channel": "telegram",
            "platform_id": "777000111",
            "delivery_id": "9001",
            "chat_id": 777000111,
        },
    ),
    ParseCase(
        "a flyer's /start CODE reads like hola CODE",
        "telegram",
        update(telegram_message("/start OCASIVEN")),
        {"text": "hola OCASIVEN"},
    ),
    ParseCase(
        "a button press sends its option number",
        "telegram",
        update(telegram_callback("4", user_id=777000222)),
        {"text": "4", "platform_id": "777000222", "chat_id": 777000222},
    ),
    ParseCase(
        "a photo without a caption has media",
        "telegram",
        update(telegram_message("", photo=PHOTO)),
        {"has_media": True, "text": ""},
    ),
    ParseCase(
        "the app's language comes along",
        "telegram",
        update(telegram_message("sis", lang="en")),
        {"language_hint": "en"},
    ),
    ParseCase("an update with no message is not answered", "telegram", {"update_id": 9002}, None),
    ParseCase("a list is no update", "telegram", [1, 2], error=ValueError),
    ParseCase(
        "a location that is no place is refused",
        "telegram",
        update(telegram_message("", location={"latitude": float("nan"), "longitude": 0.0})),
        error=ValueError,
    ),
    ParseCase(
        "a web message: the browser's id, no delivery id without a message id",
        "web",
        web(text="hola"),
        {"channel": "web", "platform_id": "browser-123456", "delivery_id": None, "referral": None},
    ),
    ParseCase(
        "a message id is scoped by the sender's pseudonym",
        "web",
        web(text="hola", message_id="m1"),
        {"delivery_id": scoped_delivery_id("pseudonym-browser-123456", "m1")},
    ),
    ParseCase(
        "an organisation's link is a referral, whatever its case",
        "web",
        web(text="hola", ref="OCASIVEN"),
        {"referral": "ocasiven"},
    ),
    ParseCase(
        "an unknown code is no referral", "web", web(text="hola", ref="NOSUCH"), {"referral": None}
    ),
    ParseCase(
        "coordinates from the page",
        "web",
        web(text="", latitude=-12.05, longitude=-77.04),
        {"location": Location(-12.05, -77.04)},
    ),
)


def fields_of(inbound: Inbound) -> dict[str, Any]:
    incoming = inbound.incoming
    return {
        **{name: getattr(inbound, name) for name in vars(inbound) if name != "incoming"},
        "channel": incoming.channel,
        "text": incoming.text,
        "has_media": incoming.has_media,
        "location": incoming.location,
        "language_hint": incoming.language_hint,
    }


@pytest.mark.parametrize("case", PARSE_CASES, ids=lambda case: f"{case.channel}: {case.label}")
def test_parse(channels: dict[str, Any], case: ParseCase) -> None:
    channel = channels[case.channel]
    if case.error is not None:
        with pytest.raises(case.error):
            channel.parse(case.payload)
        return
    inbound = channel.parse(case.payload)
    if case.expected is None:
        assert inbound is None
        return
    assert inbound is not None
    found = fields_of(inbound)
    assert {name: found[name] for name in case.expected} == case.expected


# -- render: replies in, the HTTP response out; no HTTP --------------------------------

MENU = (Option("1", "Salud"), Option("2", "Visa"))
LONG = "\n\n".join(["a" * 1000, "b" * 1000])
INBOUND = {
    "whatsapp": Inbound(Incoming("whatsapp"), "+51987654321", SID),
    "sms": Inbound(Incoming("sms"), "+51911222333", SID),
    "telegram": TelegramInbound(Incoming("telegram"), "777000111", "9001", chat_id=777000111),
    "web": Inbound(Incoming("web"), "browser-123456", None),
}


@dataclass(frozen=True)
class RenderCase:
    label: str
    #: ``whatsapp``, ``sms``, ``telegram`` or ``web``.
    to: str
    replies: tuple[Reply, ...]
    #: The message texts the person receives, in order.
    messages: tuple[str, ...]
    #: The buttons under the last message (Telegram and the web chat).
    buttons: tuple[str, ...] = ()


RENDER_CASES = (
    RenderCase(
        "one Message per reply",
        "whatsapp",
        (Reply("Hola"), Reply("¿Algo más?")),
        ("Hola", "¿Algo más?"),
    ),
    RenderCase(
        "cut at paragraphs past 1,600 characters",
        "whatsapp",
        (Reply(LONG),),
        ("a" * 1000, "b" * 1000),
    ),
    RenderCase("XML in the text arrives as text", "whatsapp", (Reply("<b>&</b>"),), ("<b>&</b>",)),
    RenderCase("nothing to say is an empty Response", "whatsapp", (), ()),
    RenderCase(
        "SMS sends the short form of a long answer",
        "sms",
        (Reply("x" * 400, short="Visa: https://www.gob.pe/1063"),),
        ("Visa: https://www.gob.pe/1063",),
    ),
    RenderCase(
        "SMS sends at most two pieces of a long text with no short form",
        "sms",
        (Reply("y " * 400),),
        (" ".join(["y"] * 160),) * 2,
    ),
    RenderCase(
        "replies that fit are joined into one message, the menu's buttons under it",
        "telegram",
        (Reply("⚠️ 105"), Reply("¿Algo más?", MENU)),
        ("⚠️ 105\n\n¿Algo más?",),
        ("1. Salud", "2. Visa"),
    ),
    RenderCase("nothing to say sends nothing", "telegram", (), ()),
    RenderCase(
        "a menu's numbered lines become buttons only",
        "web",
        (Reply("¿En qué te ayudo?\n*1.* Salud\n*2.* Visa", MENU),),
        ("¿En qué te ayudo?",),
        ("Salud", "Visa"),
    ),
)


def received(to: str, response: Response) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(message texts, buttons under the last) as the platform reads ``response``."""
    body = bytes(response.body).decode()
    if to in ("whatsapp", "sms"):
        assert response.media_type == "application/xml"
        ElementTree.fromstring(body)  # well-formed: the text was escaped
        return tuple(twiml_messages(body)), ()
    if to == "telegram":
        if not body:
            return (), ()
        call = json.loads(body)
        assert call["method"] == "sendMessage" and call["chat_id"] == 777000111
        rows = call.get("reply_markup", {}).get("inline_keyboard", [])
        return (call["text"],), tuple(button["text"] for row in rows for button in row)
    replies = json.loads(body)["replies"]
    buttons = tuple(option["label"] for option in replies[-1]["options"]) if replies else ()
    return tuple(reply["text"] for reply in replies), buttons


@pytest.mark.parametrize("case", RENDER_CASES, ids=lambda case: f"{case.to}: {case.label}")
def test_render(channels: dict[str, Any], case: RenderCase) -> None:
    channel = channels["twilio" if case.to in ("whatsapp", "sms") else case.to]
    response = channel.render(INBOUND[case.to], case.replies)
    assert response.status_code == 200
    assert received(case.to, response) == (case.messages, case.buttons)


# -- a new channel: one implementation, no change to the helpline ----------------------


class PigeonPost(Channel[Inbound]):
    """A made-up gateway: ``{"from", "id", "text"}`` in, ``{"messages": [...]}`` out."""

    confirm_later = True

    def parse(self, payload: Any) -> Inbound | None:
        if not isinstance(payload, dict) or not isinstance(payload.get("from"), str):
            raise ValueError("not a pigeon")
        if payload.get("kind") == "receipt":  # a delivery receipt: nothing to answer
            return None
        incoming = Incoming("pigeon", str(payload.get("text", "")))  # type: ignore[arg-type]
        return Inbound(incoming, payload["from"], str(payload["id"]))

    def render(self, inbound: Inbound, replies: Sequence[Reply]) -> Response:
        return JSONResponse({"to": inbound.platform_id, "messages": [r.text for r in replies]})


pigeon_routes = APIRouter()


@pigeon_routes.post("/webhooks/pigeon")
async def pigeon_webhook(payload: dict[str, Any], runtime: RuntimeDep) -> Response:
    channel = PigeonPost()
    inbound = channel.parse(payload)
    if inbound is None:
        return Response(status_code=200)
    return await answer(runtime, channel, inbound)


@pytest.fixture
def pigeon(settings: Settings, kb: KnowledgeBase) -> Iterator[TestClient]:
    app = create_app(settings, kb)
    app.include_router(pigeon_routes)
    with TestClient(app) as client:
        yield client


def sent_at(database_url: str, delivery_id: str) -> Any:
    """The delivery's ``sent_at`` once its confirmation is written (queued: a moment later)."""
    database = create_engine(database_url)
    query = text("SELECT sent_at FROM deliveries WHERE channel = 'pigeon' AND delivery_id = :d")
    deadline = time.monotonic() + 5
    try:
        while True:
            with database.connect() as connection:
                moment = connection.execute(query, {"d": delivery_id}).scalar_one()
            if moment is not None or time.monotonic() > deadline:
                return moment
            time.sleep(0.05)
    finally:
        database.dispose()


def test_a_new_channel_is_one_implementation_of_the_contract(
    pigeon: TestClient, settings: Settings
) -> None:
    hello = {"from": "loft-7", "id": "p-1", "text": "hola"}
    first = pigeon.post("/webhooks/pigeon", json=hello)
    assert first.status_code == 200
    assert first.json()["to"] == "loft-7" and "Salud" in "\n".join(first.json()["messages"])
    # The same pigeon again is answered once, and the answer is recorded as sent.
    assert pigeon.post("/webhooks/pigeon", json=hello).json()["messages"] == []
    assert sent_at(settings.database_url, "p-1") is not None
    # The conversation goes on: "4" is the health menu shown by the first answer.
    health = pigeon.post("/webhooks/pigeon", json={"from": "loft-7", "id": "p-2", "text": "4"})
    assert "SIS" in "\n".join(health.json()["messages"])
    receipt = {"from": "loft-7", "id": "p-3", "kind": "receipt"}
    assert pigeon.post("/webhooks/pigeon", json=receipt).content == b""
