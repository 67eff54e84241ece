"""What Pana stores about people, and how they remove it."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, func, select, text

from bot.models import Conversation, Delivery, UnansweredQuestion
from bot.privacy import scrub
from bot.settings import Settings
from bot.storage.retention import purge_expired
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
    database = create_engine(settings.database_url)
    rows = []
    with database.connect() as connection:
        for table in ("conversations", "deliveries", "daily_counts", "unanswered_questions"):
            rows += [repr(tuple(r)) for r in connection.execute(text(f"SELECT * FROM {table}"))]
    database.dispose()
    return "\n".join(rows)


def count(settings: Settings, model: type) -> int:
    database = create_engine(settings.database_url)
    with database.connect() as connection:
        value = connection.execute(select(func.count()).select_from(model)).scalar_one()
    database.dispose()
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
    database = create_engine(settings.database_url)
    with database.connect() as connection:
        whatsapp = connection.execute(
            select(func.count()).select_from(Delivery).where(Delivery.channel == "whatsapp")
        ).scalar_one()
    database.dispose()
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


def test_purge_removes_state_deliveries_and_questions_past_retention(
    client: TestClient, settings: Settings
) -> None:
    from datetime import UTC, datetime, timedelta

    sender = "whatsapp:+51911000777"
    post_twilio(client, twilio_form("hola", sender=sender))
    post_twilio(client, twilio_form("como cocino unas arepas xyzzy", sender=sender))
    assert count(settings, UnansweredQuestion) == 1
    database = client.app.state.runtime.database  # type: ignore[attr-defined]
    nothing = {"conversations": 0, "deliveries": 0, "questions": 0}
    assert purge_expired(database, settings.retention_days) == nothing
    later = datetime.now(UTC) + timedelta(days=settings.retention_days + 1)
    assert purge_expired(database, settings.retention_days, now=later) == {
        "conversations": 1,
        "deliveries": 2,
        "questions": 1,
    }
    assert count(settings, Conversation) == 0
    assert count(settings, UnansweredQuestion) == 0
    assert "xyzzy" not in database_dump(settings)


# -- scrubbing the questions kept for editors -------------------------------------

#: (question, what must not survive scrubbing)
IDENTIFYING = [
    # names
    ("me llamo Yusmary Pérez y necesito ayuda con mi visa", ["Yusmary", "Pérez"]),
    ("hola mi nombre es carlos eduardo rondon", ["carlos", "eduardo", "rondon"]),
    ("mi hija Valentina no tiene sis", ["Valentina"]),
    ("mi hijo Luis Alberto necesita matricula", ["Luis", "Alberto"]),
    ("my name is Maria Gonzalez, how do I apply for asylum", ["Maria", "Gonzalez"]),
    ("mi esposa se llama Daniela Rojas y esta embarazada", ["Daniela", "Rojas"]),
    ("la señora Carmen me dijo que fuera a migraciones", ["Carmen"]),
    ("my daughter Sofia needs a vaccine", ["Sofia"]),
    # dates of birth
    ("naci el 15/03/1990 en maracaibo, puedo pedir refugio", ["15/03/1990", "1990"]),
    ("mi fecha de nacimiento es 1988-11-02", ["1988-11-02", "1988"]),
    ("nací el 3 de mayo de 1985", ["3 de mayo", "1985"]),
    ("born on March 4, 1992 in Caracas", ["March 4", "1992"]),
    ("mi hijo nacio en 2015 y no tiene partida", ["2015"]),
    ("cumpleaños 12.07.99 necesito el cpp", ["12.07.99"]),
    # document numbers
    ("mi dni es 4567891 y no me atienden", ["4567891"]),
    ("cedula V-12.345.678 vencida", ["12.345.678", "345"]),
    ("carnet de extranjeria N° 001234567", ["001234567"]),
    ("pasaporte 1234567 perdido que hago", ["1234567"]),
    ("mi ptp AB1234567 ya vencio", ["AB1234567", "1234567"]),
    # phones
    ("llamame al +51 987 654 321", ["987", "654", "321"]),
    ("mi numero 987-654-321 whatsapp", ["987-654-321"]),
    ("tel (01) 234-5678 de mi casa", ["234-5678", "5678"]),
    (
        "nueve ocho siete seis cinco cuatro tres dos uno es mi cel",
        ["nueve ocho siete", "cuatro tres"],
    ),
    ("my number is nine eight seven six five four three two one", ["nine eight", "four three"]),
    # e-mails in any disguise
    ("escribeme a yusmary.perez@gmail.com", ["yusmary", "perez", "gmail"]),
    ("mi correo yusmary.perez(at)gmail.com", ["yusmary", "perez"]),
    ("correo: jose_r [at] hotmail [dot] com", ["jose_r"]),
    ("es pedro.gomez at gmail dot com", ["pedro", "gomez"]),
    ("mi email es ana arroba yahoo punto com", ["ana arroba", "yahoo"]),
    ("contacto luisa99 @ outlook . es", ["luisa99", "outlook"]),
    # handles and links
    ("busquenme en telegram @yusmary_p", ["yusmary_p"]),
    ("mi instagram es @daniela.rojas22", ["daniela.rojas22", "rojas22"]),
    ("escribeme por t.me/pedrogomez", ["pedrogomez"]),
    ("mi perfil https://facebook.com/ana.perez.123", ["ana.perez", "facebook.com/ana"]),
    ("wa.me/51987654321 ese es mi whatsapp", ["51987654321", "987654321"]),
    # addresses
    ("vivo en Jr. Huallaga 452 cercado de lima", ["Huallaga", "452"]),
    ("mi direccion es Av. Arequipa 1234 dpto 301", ["Arequipa 1234", "1234", "301"]),
    ("estoy en Mz. B Lt. 12 urb. Santa Rosa, SJL", ["Lt. 12", "Santa Rosa"]),
    ("calle Los Pinos 123 surco", ["Pinos", "123"]),
    ("psje. San Martin 45 breña", ["San Martin", "45"]),
]

#: Ordinary questions keep their meaning: no placeholder where nothing identifies anyone.
KEPT = [
    ("estoy en la calle y necesito un albergue", "estoy en la calle y necesito un albergue"),
    ("mi hija necesita vacunas", "mi hija necesita vacunas"),
    ("requisitos visa humanitaria 2024", "requisitos visa humanitaria 2024"),
    ("tengo 3 hijos de 5, 7 y 9 años", "tengo 3 hijos de 5, 7 y 9 años"),
    ("una llamada de migraciones me asusto", "una llamada de migraciones me asusto"),
    ("cuanto cuesta el carnet de extranjeria", "cuanto cuesta el carnet de extranjeria"),
    ("I called the police at night", "I called the police at night"),
]
KEPT += [
    ("my husband hits me", "my husband hits me"),
    ("mi esposo golpea a mi hija", "mi esposo golpea a mi hija"),
    (
        "encontre un niño solo en la calle sin familia",
        "encontre un niño solo en la calle sin familia",
    ),
    ("quiero ver a mi hermana q dio a luz", "quiero ver a mi hermana q dio a luz"),
    ("entre en 2019, periodo 2018-2022", "entre en 2019, periodo 2018-2022"),
    ("me contagie de COVID-19 (2020)", "me contagie de COVID-19 (2020)"),
]


@pytest.mark.parametrize(("question", "identifying"), IDENTIFYING)
def test_identifying_text_is_scrubbed_to_placeholders(
    question: str, identifying: list[str]
) -> None:
    scrubbed = scrub(question)
    for token in identifying:
        assert token.lower() not in scrubbed.lower(), (question, scrubbed)
    assert re.search(
        r"\[(nombre|fecha|documento|número|correo|usuario|enlace|dirección)\]", scrubbed
    )


@pytest.mark.parametrize(("question", "kept"), KEPT)
def test_ordinary_questions_keep_their_words(question: str, kept: str) -> None:
    assert scrub(question) == kept


@hypothesis_settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from("0123456789 .-()+/abcdeñ@:"), max_size=1000))
def test_no_six_digit_run_survives_and_scrubbing_stays_fast(question: str) -> None:
    import time

    start = time.perf_counter()
    scrubbed = scrub(question)
    # Scrubbing runs inside the message's transaction: it must never take long.
    assert time.perf_counter() - start < 0.25
    assert not re.search(r"\d{6}", scrubbed)


def test_a_question_full_of_personal_data_is_stored_without_it(
    client: TestClient, settings: Settings
) -> None:
    question = (
        "me llamo Yusmary Pérez, vivo en Jr. Huallaga 452, naci el 15/03/1990, "
        "mi correo yusmary.perez(at)gmail.com y mi telegram @yusmary_p, como cocino arepas"
    )
    response = client.post("/api/chat", json={"user_id": "browser-scrub-1", "text": question})
    assert response.status_code == 200
    dump = database_dump(settings)
    assert "arepas" in dump  # the question is kept for editors, without the person
    for token in ("Yusmary", "Pérez", "Huallaga", "452", "1990", "gmail", "yusmary_p"):
        assert token.lower() not in dump.lower(), token
