"""Understanding paths through real channels: clarifying, admitting, location,
English and safety words."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from tests.support.channels import (
    post_telegram,
    post_twilio,
    telegram_message,
    twilio_form,
    twiml_messages,
)
from tests.support.fake_telegram import FakeTelegram

CASES = Path(__file__).parent / "conversations"


def whatsapp(
    client: TestClient, text: str, sender: str = "whatsapp:+51911000001", **extra: str
) -> str:
    return "\n".join(
        twiml_messages(post_twilio(client, twilio_form(text, sender=sender, **extra)).text)
    )


def test_ambiguous_question_gets_one_numbered_question_and_the_number_answers(
    client: TestClient,
) -> None:
    # "covid" is both the SIS coverage and the vaccination campaign.
    reply = whatsapp(client, "covid")
    assert "¿Te refieres a" in reply and "*1.*" in reply and "*2.*" in reply
    chosen = whatsapp(client, "1")
    assert "Fuente:" in chosen


def test_unknown_question_is_admitted_and_logged_for_editors(client: TestClient) -> None:
    reply = whatsapp(client, "cuanto cuesta un pasaje en bus a cusco desde lima")
    assert "no quiero darte un dato equivocado" in reply
    assert "*1.*" in reply  # offers topics or the menu instead of guessing


def test_shared_whatsapp_location_lists_the_nearest_citys_organisations(client: TestClient) -> None:
    # Latitude/Longitude as Twilio sends them for a WhatsApp location pin in Trujillo.
    reply = whatsapp(client, "", Latitude="-8.1091", Longitude="-79.0215")
    assert "Trujillo" in reply and "+51 929 953 192" in reply


def test_shared_telegram_location_lists_the_nearest_citys_organisations(
    client: TestClient, fake_telegram: FakeTelegram
) -> None:
    update = telegram_message("", location={"latitude": -16.3989, "longitude": -71.5350})
    post_telegram(client, update)
    assert "Arequipa" in fake_telegram.sent()[0]["text"]


def test_english_question_on_whatsapp_is_answered_in_english(client: TestClient) -> None:
    reply = whatsapp(client, "what are the requirements for the humanitarian visa")
    assert "Source:" in reply and "DGC 005" in reply


def test_telegram_language_code_sets_english_for_a_first_short_message(
    client: TestClient, fake_telegram: FakeTelegram
) -> None:
    post_telegram(client, telegram_message("sis", lang="en"))
    assert "Source:" in fake_telegram.sent()[0]["text"]


def test_safety_words_bring_emergency_contacts_first_on_telegram(
    client: TestClient, fake_telegram: FakeTelegram
) -> None:
    post_telegram(client, telegram_message("me estan amenazando, necesito el sis"))
    first = fake_telegram.sent()[0]["text"]
    assert "105" in first and "1818" in first
