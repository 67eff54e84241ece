"""What Pana stores about people, and how they remove it."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, func, select, text

from bot.models import Conversation, Delivery, UnansweredQuestion
from bot.settings import Settings
from tests.support.channels import (
    post_telegram,
    post_twilio,
    telegram_message,
    twilio_form,
    twiml_messages,
)

PHONE = "+51987650001"
TELEGRAM_ID = 918273645


def database_dump(settings: Settings) -> str:
    """Every value in every table, as text."""
    engine = create_engine(settings.database_url)
    rows = []
    with engine.connect() as connection:
        for table in ("conversations", "deliveries", "daily_counts", "unanswered_questions"):
            rows += [repr(tuple(r)) for r in connection.execute(text(f"SELECT * FROM {table}"))]
    engine.dispose()
    return "\n".join(rows)


def count(settings: Settings, model: type) -> int:
    engine = create_engine(settings.database_url)
    with engine.connect() as connection:
        value = connection.execute(select(func.count()).select_from(model)).scalar_one()
    engine.dispose()
    return int(value)


def converse(client: TestClient) -> None:
    for message in (
        "hola",
        "4",
        "sis gratis",
        "mi numero es +51 987 650 001 ayuda xyzzy",
        "gracias",
    ):
        post_twilio(client, twilio_form(message, sender=f"whatsapp:{PHONE}"))
    for message in ("/start", "visa humanitaria"):
        post_telegram(client, telegram_message(message, user_id=TELEGRAM_ID))


def test_no_raw_phone_number_or_telegram_id_is_stored(
    client: TestClient, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="pana")
    converse(client)
    dump = database_dump(settings)
    assert count(settings, Conversation) == 2
    for secret in (PHONE, PHONE[1:], "987650001", str(TELEGRAM_ID), "Maria", "Ana"):
        assert secret not in dump, secret
        assert secret not in caplog.text, secret
    if settings.database_url.startswith("sqlite"):
        raw = Path(settings.database_url.removeprefix("sqlite:///")).read_bytes()
        wal = Path(settings.database_url.removeprefix("sqlite:///") + "-wal")
        raw += wal.read_bytes() if wal.exists() else b""
        assert PHONE[1:].encode() not in raw and str(TELEGRAM_ID).encode() not in raw


def test_unanswered_question_is_kept_scrubbed_and_without_user(
    client: TestClient, settings: Settings
) -> None:
    converse(client)
    dump = database_dump(settings)
    assert "xyzzy" in dump  # the question is kept for editors…
    assert "[número]" in dump  # …with the phone number replaced
    assert count(settings, UnansweredQuestion) >= 1


def test_borrar_mis_datos_removes_every_row_tied_to_the_user(
    client: TestClient, settings: Settings
) -> None:
    converse(client)
    sender = f"whatsapp:{PHONE}"
    ask = post_twilio(client, twilio_form("borrar mis datos", sender=sender))
    assert "SI" in " ".join(twiml_messages(ask.text))
    done = post_twilio(client, twilio_form("si", sender=sender))
    assert "borré" in " ".join(twiml_messages(done.text))
    assert count(settings, Conversation) == 1  # only the Telegram user is left
    engine = create_engine(settings.database_url)
    with engine.connect() as connection:
        whatsapp = connection.execute(
            select(func.count()).select_from(Delivery).where(Delivery.channel == "whatsapp")
        ).scalar_one()
    engine.dispose()
    assert whatsapp == 0


def test_privacidad_explains_what_is_kept(client: TestClient) -> None:
    reply = " ".join(twiml_messages(post_twilio(client, twilio_form("privacidad")).text))
    assert "90 días" in reply and "borrar mis datos" in reply and "gobierno" in reply


def test_flood_limit_warns_once_then_stays_silent(client: TestClient, settings: Settings) -> None:
    sender = "whatsapp:+51900000042"
    replies = [
        twiml_messages(post_twilio(client, twilio_form(f"hola {i}", sender=sender)).text)
        for i in range(settings.user_messages_per_minute + 3)
    ]
    assert all(replies[: settings.user_messages_per_minute])
    warning = replies[settings.user_messages_per_minute]
    assert len(warning) == 1 and "minuto" in warning[0]
    assert replies[-1] == [] and replies[-2] == []


def test_purge_removes_state_and_deliveries_past_retention(
    client: TestClient, settings: Settings
) -> None:
    from datetime import UTC, datetime, timedelta

    post_twilio(client, twilio_form("hola", sender="whatsapp:+51911000777"))
    helpline = client.app.state.runtime.helpline  # type: ignore[attr-defined]
    assert helpline.purge(settings.retention_days) == {"conversations": 0, "deliveries": 0}
    later = datetime.now(UTC) + timedelta(days=settings.retention_days + 1)
    assert helpline.purge(settings.retention_days, now=later) == {
        "conversations": 1,
        "deliveries": 1,
    }
    assert count(settings, Conversation) == 0
