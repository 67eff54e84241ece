"""Saying "atrás" after an answer goes back to the menu it was reached from, on every channel."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from flows.engine import Engine
from flows.turn import Incoming, State, Turn
from tests.support.channels import (
    post_telegram,
    post_twilio,
    telegram_message,
    twilio_form,
    twiml_messages,
)
from tests.support.fake_telegram import FakeTelegram

#: Main menu 3 is "Refugio, asilo y regularización"; its option 4 the applicant's card.
REFUGE_MENU = "Refugio, asilo y regularización. Responde con un número"
APPLICANT_CARD = "Carné de solicitante"


def talk(engine: Engine, *messages: str) -> Turn:
    turn = Turn(State())
    for message in messages:
        turn = engine.handle(turn.state, Incoming("console", message))
    return turn


def test_atras_after_an_answer_returns_to_its_submenu_and_then_up(engine: Engine) -> None:
    assert talk(engine, "hola", "3", "4", "atras").state.menu == "asylum"
    assert talk(engine, "hola", "3", "4", "atras", "atras").state.menu == "main"
    # Two levels down: Salud > SIS > an answer; back climbs one menu at a time.
    turn = talk(engine, "hola", "4", "2", "1")
    assert turn.state.trail == ("health", "health-sis")
    assert talk(engine, "hola", "4", "2", "1", "atras").state.menu == "health-sis"
    assert talk(engine, "hola", "4", "2", "1", "atras", "volver").state.menu == "health"


def test_atras_from_a_submenu_still_goes_up_one_level(engine: Engine) -> None:
    assert talk(engine, "hola", "4", "atras").state.menu == "main"
    assert talk(engine, "hola", "4", "2", "atras").state.menu == "health"


def whatsapp(client: TestClient, fake: FakeTelegram, text: str) -> str:
    form = twilio_form(text, sender="whatsapp:+51911000777")
    return "\n".join(twiml_messages(post_twilio(client, form).text))


def telegram(client: TestClient, fake: FakeTelegram, text: str) -> str:
    fake.clear()
    post_telegram(client, telegram_message(text, user_id=5550777))
    return "\n".join(call["text"] for call in fake.sent())


def web(client: TestClient, fake: FakeTelegram, text: str) -> str:
    body = {"user_id": "browser-back-777", "text": text}
    return "\n".join(r["text"] for r in client.post("/api/chat", json=body).json()["replies"])


@pytest.mark.parametrize("send", [whatsapp, telegram, web], ids=["whatsapp", "telegram", "web"])
def test_person_goes_back_from_an_answer_to_the_refuge_menu(
    client: TestClient,
    fake_telegram: FakeTelegram,
    send: Callable[[TestClient, FakeTelegram, str], str],
) -> None:
    send(client, fake_telegram, "hola")
    assert REFUGE_MENU in send(client, fake_telegram, "3")
    assert APPLICANT_CARD in send(client, fake_telegram, "4")
    back = send(client, fake_telegram, "atrás")
    assert REFUGE_MENU in back
    assert APPLICANT_CARD in send(client, fake_telegram, "4")  # the numbers are the submenu's
