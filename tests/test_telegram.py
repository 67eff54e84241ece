"""Telegram through its real formats: Updates posted to the webhook, replies sent
by python-telegram-bot to a fake Bot API on loopback."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from bot.app import create_app
from bot.settings import Settings
from knowledge import KnowledgeBase
from tests.support.channels import (
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
    markup = json.loads(sent[0]["reply_markup"])
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


def test_wrong_secret_is_refused(client: TestClient, fake_telegram: FakeTelegram) -> None:
    assert post_telegram(client, telegram_message("hola"), secret="wrong").status_code == 403
    assert post_telegram(client, telegram_message("hola"), secret=None).status_code == 403
    assert fake_telegram.sent() == []


def test_same_update_id_is_answered_once(client: TestClient, fake_telegram: FakeTelegram) -> None:
    update = telegram_message("hola")
    post_telegram(client, update)
    post_telegram(client, update)
    assert len(fake_telegram.sent()) == 1


def test_telegram_is_disabled_without_a_token(settings: Settings, kb: KnowledgeBase) -> None:
    with TestClient(create_app(settings.model_copy(update={"telegram_bot_token": ""}), kb)) as c:
        assert post_telegram(c, telegram_message("hola")).status_code == 404


def test_malformed_update_is_a_client_error(client: TestClient) -> None:
    headers = {"X-Telegram-Bot-Api-Secret-Token": "telegram-webhook-secret"}
    response = client.post("/webhooks/telegram", content=b"{not json", headers=headers)
    assert response.status_code == 400
    response = client.post("/webhooks/telegram", content=b"[1, 2]", headers=headers)
    assert response.status_code == 400


def test_photo_without_caption_gets_text_only_explanation(
    client: TestClient, fake_telegram: FakeTelegram
) -> None:
    photo = [{"file_id": "f", "file_unique_id": "u", "width": 10, "height": 10}]
    post_telegram(client, telegram_message("", photo=photo))
    assert "texto" in fake_telegram.sent()[0]["text"]
