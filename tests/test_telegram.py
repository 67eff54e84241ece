"""Telegram through its real formats: Updates posted to the webhook, replies sent
by python-telegram-bot to a fake Bot API on loopback.

The stories every channel shares are tables in ``test_channels.py``; these are
Telegram's own."""

from __future__ import annotations

import json
import socket

from fastapi.testclient import TestClient

from bot.app import create_app
from bot.channels.split import TELEGRAM_LIMIT
from bot.channels.telegram import outgoing_messages
from bot.settings import Settings
from flows.turn import Incoming, Option, Reply
from knowledge import KnowledgeBase
from tests.support.channels import (
    TELEGRAM_SECRET,
    TELEGRAM_TOKEN,
    post_telegram,
    telegram_callback,
    telegram_message,
)
from tests.support.fake_telegram import FakeTelegram


def test_start_gets_the_menu_with_buttons(client: TestClient, fake_telegram: FakeTelegram) -> None:
    response = post_telegram(client, telegram_message("/start"))
    assert response.status_code == 200
    sent = fake_telegram.sent()
    assert len(sent) == 1
    assert "Salud" in sent[0]["text"]
    markup = sent[0]["reply_markup"]  # an object in the webhook reply, JSON text from PTB
    markup = json.loads(markup) if isinstance(markup, str) else markup
    labels = [row[0]["text"] for row in markup["inline_keyboard"]]
    assert labels[0].startswith("1.") and len(labels) >= 7
    assert all(call.token == TELEGRAM_TOKEN for call in fake_telegram.calls)


def test_button_press_opens_the_submenu_and_is_acknowledged(
    client: TestClient, fake_telegram: FakeTelegram
) -> None:
    post_telegram(client, telegram_message("/start"))
    fake_telegram.clear()
    post_telegram(client, telegram_callback("4"))
    assert fake_telegram.sent("answerCallbackQuery")
    assert "SIS" in fake_telegram.sent()[0]["text"]


def test_the_answer_is_the_webhook_response(
    client: TestClient, fake_telegram: FakeTelegram
) -> None:
    # Telegram runs the sendMessage named in the response: no Bot API call from us, so a
    # crash cannot leave the answer half sent (docs/performance.md, "Delivery").
    update = telegram_message("sis para todos", user_id=777000222)
    headers = {
        "Content-Type": "application/json",
        "X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET,
    }
    response = client.post("/webhooks/telegram", content=json.dumps(update), headers=headers)
    assert response.status_code == 200
    call = response.json()
    assert call["method"] == "sendMessage" and call["chat_id"] == 777000222
    assert "https://www.gob.pe/" in call["text"] and "SIS" in call["text"]
    assert fake_telegram.sent() == []


def test_one_turn_is_one_message_when_it_fits() -> None:
    menu = (Option("1", "Salud"), Option("2", "Educación"))
    messages = outgoing_messages(
        [Reply("⚠️ Emergencias: 105"), Reply("SIS para Todos: ..."), Reply("¿Algo más?", menu)]
    )
    assert [m.text for m in messages] == ["⚠️ Emergencias: 105\n\nSIS para Todos: ...\n\n¿Algo más?"]
    assert messages[0].markup is not None  # the menu's buttons under the one message


def test_a_long_answer_is_split_and_the_buttons_go_under_the_last_piece() -> None:
    long = "\n\n".join(f"Paso {i}: " + "requisito " * 40 for i in range(30))
    messages = outgoing_messages([Reply(long, (Option("1", "Menú"),))])
    assert len(messages) > 1 and all(len(m.text) <= TELEGRAM_LIMIT for m in messages)
    assert [m.markup is not None for m in messages] == [False] * (len(messages) - 1) + [True]
    assert "Paso 29" in messages[-1].text and "Paso 0" in messages[0].text


def test_a_button_press_is_answered_even_when_the_bot_api_is_down(
    settings: Settings, kb: KnowledgeBase
) -> None:
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    down = settings.model_copy(update={"telegram_api_base_url": f"http://127.0.0.1:{closed}/bot"})
    headers = {
        "Content-Type": "application/json",
        "X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET,
    }
    with TestClient(create_app(down, kb)) as client:
        hello = telegram_message("hola", user_id=777000333)
        client.post("/webhooks/telegram", content=json.dumps(hello), headers=headers)
        press = telegram_callback("4", user_id=777000333)
        response = client.post("/webhooks/telegram", content=json.dumps(press), headers=headers)
    # The acknowledgement could not go out; the answer travels in the response anyway.
    assert response.status_code == 200
    assert "SIS" in response.json()["text"]


def test_a_retry_after_a_failed_send_gets_the_answer_again(client: TestClient) -> None:
    from datetime import UTC, datetime, timedelta

    helpline = client.app.state.runtime.helpline  # type: ignore[attr-defined]
    start = datetime.now(UTC)
    incoming = Incoming("telegram", "sis para todos")

    def receive(seconds: float):  # type: ignore[no-untyped-def]
        moment = start + timedelta(seconds=seconds)
        return helpline.receive(
            "telegram", "911777005", incoming, "failed-1", now=moment, confirm_later=True
        )

    first = receive(0)
    helpline.release("telegram", "failed-1")  # the Bot API was unreachable: 503 to Telegram
    assert [r.text for r in receive(5).replies] == [r.text for r in first.replies]


def test_a_location_that_is_no_place_is_a_client_error_not_a_crash(
    client: TestClient, fake_telegram: FakeTelegram
) -> None:
    headers = {
        "Content-Type": "application/json",
        "X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET,
    }
    for latitude, longitude in (("NaN", "-77.0"), ("1e999", "-77.0"), ("-12.0", "-Infinity")):
        update = json.dumps(telegram_message("", location={"latitude": 0, "longitude": 0}))
        # JSON as a careless or hostile client writes it: NaN and 1e999 where numbers go.
        body = update.replace('"latitude": 0', f'"latitude": {latitude}').replace(
            '"longitude": 0', f'"longitude": {longitude}'
        )
        response = client.post("/webhooks/telegram", content=body, headers=headers)
        assert response.status_code == 400, (latitude, longitude)  # Telegram does not retry
    lima = telegram_message("", location={"latitude": -12.05, "longitude": -77.04})
    assert post_telegram(client, lima).status_code == 200
    assert fake_telegram.sent()


def test_above_the_global_ceiling_telegram_says_busy_and_a_retry_is_answered(
    settings: Settings, kb: KnowledgeBase, fake_telegram: FakeTelegram
) -> None:
    ceiling = settings.model_copy(update={"global_messages_per_minute": 2})
    updates = [telegram_message("hola", user_id=777000400 + n) for n in range(6)]
    busy = kb.message("busy", "es")
    with TestClient(create_app(ceiling, kb)) as busy_server:
        texts = [post_telegram(busy_server, update).json()["text"] for update in updates]
    assert busy in texts
    refused = updates[texts.index(busy)]
    with TestClient(create_app(ceiling, kb)) as later:
        retry = post_telegram(later, refused)
    assert "Salud" in retry.json()["text"]
