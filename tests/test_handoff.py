"""A person when the bot is not enough: the whole hand-off, through the real interfaces.

The person writes through signed Twilio requests, Telegram updates or the web
chat's API; staff work through ``/inbox/api``; replies leave through the
``twilio`` library against a fake of Twilio's REST API and python-telegram-bot
against the fake Bot API, both on loopback.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from bot.database import make_database
from bot.inbox.accounts import revoke
from bot.settings import Settings
from bot.storage.retention import purge_expired
from tests.support.channels import (
    post_telegram,
    post_twilio,
    telegram_message,
    twilio_form,
    twilio_signature,
    twiml_messages,
)
from tests.support.fake_telegram import FakeTelegram
from tests.support.fake_twilio import FakeTwilio
from tests.support.handoff import age_last_message, log_in, staff_account, wait_until

PHONE = "+51987001122"
WHATSAPP = f"whatsapp:{PHONE}"
TELEGRAM_ID = 55443322
SECRET_WORDS = "mi cuñado guarda mis papeles en Surquillo"


def whatsapp(client: TestClient, message: str, sender: str = WHATSAPP) -> list[str]:
    response = post_twilio(client, twilio_form(message, sender=sender))
    assert response.status_code == 200
    return twiml_messages(response.text)


def web(client: TestClient, message: str, user: str = "browser-handoff-1") -> list[str]:
    response = client.post("/api/chat", json={"user_id": user, "text": message})
    assert response.status_code == 200
    return [reply["text"] for reply in response.json()["replies"]]


def queue(client: TestClient, staff: dict[str, str]) -> list[dict[str, Any]]:
    response = client.get("/inbox/api/queue", headers=staff)
    assert response.status_code == 200
    return list(response.json()["conversations"])


def conversation(client: TestClient, staff: dict[str, str], ident: int) -> dict[str, Any]:
    response = client.get(f"/inbox/api/conversations/{ident}", headers=staff)
    assert response.status_code == 200, response.text
    return dict(response.json())


def reply(client: TestClient, staff: dict[str, str], ident: int, words: str) -> Any:
    return client.post(
        f"/inbox/api/conversations/{ident}/reply", json={"text": words}, headers=staff
    )


def status_callback(client: TestClient, message: dict[str, Any], status: str) -> None:
    """What Twilio posts to the reply's StatusCallback, signed."""
    form = {
        "MessageSid": message["sid"],
        "MessageStatus": status,
        "AccountSid": message["account_sid"],
        "From": message["from"],
        "To": message["to"],
    }
    path = "/webhooks/twilio/status"
    response = client.post(
        path, data=form, headers={"X-Twilio-Signature": twilio_signature(form, path)}
    )
    assert response.status_code == 204


def open_whatsapp_handoff(client: TestClient) -> None:
    whatsapp(client, "hola, estoy en Lima")
    offer = " ".join(whatsapp(client, "quiero hablar con una persona"))
    assert "OCASIVEN" in offer and "¿Aceptas?" in offer and "lun–vie, 09:00–18:00" in offer
    done = " ".join(whatsapp(client, "1"))
    assert "OCASIVEN" in done and "menu" in done


def test_whatsapp_person_to_staff_and_back_with_delivery_statuses(
    client: TestClient, settings: Settings, fake_twilio: FakeTwilio
) -> None:
    staff = log_in(client, staff_account(settings))
    open_whatsapp_handoff(client)
    # From now the bot is silent: the message goes to the inbox.
    assert whatsapp(client, SECRET_WORDS) == []
    [waiting] = queue(client, staff)
    assert waiting["channel"] == "whatsapp" and waiting["status"] == "waiting"
    assert waiting["city"] == "Lima" and waiting["unread"] == 1
    assert PHONE not in str(waiting) and PHONE[1:] not in str(waiting)
    detail = conversation(client, staff, waiting["id"])
    assert [m["text"] for m in detail["messages"] if m["direction"] == "in"] == [SECRET_WORDS]
    assert detail["window"] == {
        "applies": True,
        "open": True,
        "closes_at": detail["window"]["closes_at"],
    }

    answer = reply(client, staff, waiting["id"], "Hola, soy Ana. ¿En qué distrito estás?")
    assert answer.status_code == 201 and answer.json()["notice"] is None
    [sent] = wait_until(fake_twilio.sent)
    assert sent["to"] == WHATSAPP and sent["from"] == "whatsapp:+14155238886"
    assert sent["body"] == "*OCASIVEN*: Hola, soy Ana. ¿En qué distrito estás?"

    def status() -> str:
        [out] = [
            m
            for m in conversation(client, staff, waiting["id"])["messages"]
            if m["direction"] == "out"
        ]
        return str(out["status"])

    wait_until(lambda: status() == "queued")
    status_callback(client, sent, "sent")
    status_callback(client, sent, "delivered")
    assert status() == "delivered"
    status_callback(client, sent, "sent")  # late and out of order: never moves back
    assert status() == "delivered"
    assert conversation(client, staff, waiting["id"])["claimed_by"]["name"] == "Ana"

    closed = client.post(
        f"/inbox/api/conversations/{waiting['id']}/close",
        json={"outcome": "resolved"},
        headers=staff,
    )
    assert closed.status_code == 200
    notice = wait_until(lambda: fake_twilio.sent()[1:])
    assert "cerró la conversación" in notice[0]["body"]
    assert queue(client, staff) == []
    # The bot answers again.
    assert "SIS" in " ".join(whatsapp(client, "que es el sis"))


def test_a_failed_reply_shows_twilios_error(
    client: TestClient, settings: Settings, fake_twilio: FakeTwilio
) -> None:
    staff = log_in(client, staff_account(settings))
    open_whatsapp_handoff(client)
    whatsapp(client, "hola?")
    [waiting] = queue(client, staff)
    fake_twilio.fail_with = (63016, "Failed to send freeform message outside the window")
    reply(client, staff, waiting["id"], "Hola")

    def failed() -> list[dict[str, Any]]:
        messages = conversation(client, staff, waiting["id"])["messages"]
        return [m for m in messages if m["direction"] == "out" and m["status"] == "failed"]

    [failure] = wait_until(failed)
    assert "63016" in failure["error"] and "outside the window" in failure["error"]


def test_telegram_person_gets_the_staff_reply_through_the_bot_api(
    client: TestClient, settings: Settings, fake_telegram: FakeTelegram
) -> None:
    staff = log_in(client, staff_account(settings))
    post_telegram(client, telegram_message("estoy en lima", user_id=TELEGRAM_ID))
    post_telegram(client, telegram_message("persona", user_id=TELEGRAM_ID))
    post_telegram(client, telegram_message("si", user_id=TELEGRAM_ID))
    fake_telegram.clear()
    post_telegram(client, telegram_message(SECRET_WORDS, user_id=TELEGRAM_ID))
    assert fake_telegram.sent() == []  # silent: a person reads now
    [waiting] = queue(client, staff)
    assert waiting["channel"] == "telegram" and str(TELEGRAM_ID) not in str(waiting)
    reply(client, staff, waiting["id"], "Te escribo desde OCASIVEN")
    [sent] = wait_until(fake_telegram.sent)
    assert int(sent["chat_id"]) == TELEGRAM_ID
    assert sent["text"] == "*OCASIVEN*: Te escribo desde OCASIVEN"
    assert (
        client.post(
            f"/inbox/api/conversations/{waiting['id']}/close",
            json={"outcome": "referred"},
            headers=staff,
        ).status_code
        == 200
    )
    wait_until(lambda: len(fake_telegram.sent()) == 2)
    fake_telegram.clear()
    post_telegram(client, telegram_message("visa humanitaria", user_id=TELEGRAM_ID))
    assert "isa" in fake_telegram.sent()[-1]["text"]


def test_web_chat_person_reads_staff_replies_and_leaves_with_menu(
    client: TestClient, settings: Settings
) -> None:
    staff = log_in(client, staff_account(settings))
    web(client, "hola soy de lima")
    assert "¿Aceptas?" in " ".join(web(client, "quiero hablar con un humano"))
    web(client, "1")
    assert web(client, "necesito ayuda") == []
    [waiting] = queue(client, staff)
    assert waiting["channel"] == "web"
    reply(client, staff, waiting["id"], "Hola, te leo")
    updates = client.post("/api/chat/updates", json={"user_id": "browser-handoff-1"}).json()
    assert updates == {
        "replies": [{"text": "*OCASIVEN*: Hola, te leo", "options": []}],
        "handoff": True,
    }
    again = client.post("/api/chat/updates", json={"user_id": "browser-handoff-1"}).json()
    assert again["replies"] == []  # delivered once
    [message] = [
        m for m in conversation(client, staff, waiting["id"])["messages"] if m["direction"] == "out"
    ]
    assert message["status"] == "delivered"
    left = " ".join(web(client, "salir"))
    assert "Cerraste la conversación con OCASIVEN" in left and "¿En qué te ayudo?" in left
    assert queue(client, staff) == []
    assert (
        client.post("/api/chat/updates", json={"user_id": "browser-handoff-1"}).json()["handoff"]
        is False
    )


def test_without_staff_there_is_no_offer_only_the_phones(client: TestClient) -> None:
    before = " ".join(web(client, "quiero hablar con una persona", user="nobody-staffed"))
    assert "¿Aceptas?" not in before and "Soy un asistente automático" in before


def test_declining_keeps_nothing(client: TestClient, settings: Settings) -> None:
    staff = log_in(client, staff_account(settings))
    assert "¿Aceptas?" in " ".join(web(client, "persona", user="declines"))
    assert "no guardo nada" in " ".join(web(client, "2", user="declines"))
    assert queue(client, staff) == []
    assert _rows(settings, "handoffs") == [] and _rows(settings, "handoff_messages") == []


def test_outside_whatsapps_window_the_template_goes_and_the_reply_waits_for_the_person(
    client: TestClient, settings: Settings, fake_twilio: FakeTwilio
) -> None:
    settings = settings.model_copy(update={"twilio_reply_template_sid": "HX" + "a" * 32})
    with TestClient(_app(settings, client)) as late:
        staff = log_in(late, staff_account(settings))
        open_whatsapp_handoff(late)
        [waiting] = queue(late, staff)
        age_last_message(settings, hours=25)
        detail = conversation(late, staff, waiting["id"])
        assert detail["window"]["open"] is False and detail["template"] is True
        answer = reply(late, staff, waiting["id"], "Perdona la demora")
        assert answer.json()["notice"] == "held_template"
        assert answer.json()["message"]["status"] == "held"
        [template] = wait_until(fake_twilio.sent)
        assert template["content_sid"] == "HX" + "a" * 32 and template["body"] == ""
        assert '"OCASIVEN"' in template["content_variables"]
        # A second reply while the window is closed: no second template.
        reply(late, staff, waiting["id"], "Sigo aquí")
        # The person writes: the window opens and the held replies go out, in order.
        whatsapp(late, "hola, ya estoy")
        sent = wait_until(lambda: fake_twilio.sent()[1:] if len(fake_twilio.sent()) >= 3 else [])
        assert [m["body"] for m in sent] == [
            "*OCASIVEN*: Perdona la demora",
            "*OCASIVEN*: Sigo aquí",
        ]


def test_without_a_template_the_inbox_says_the_reply_will_wait(
    client: TestClient, settings: Settings, fake_twilio: FakeTwilio
) -> None:
    staff = log_in(client, staff_account(settings))
    open_whatsapp_handoff(client)
    [waiting] = queue(client, staff)
    age_last_message(settings, hours=30)
    answer = reply(client, staff, waiting["id"], "Hola de nuevo")
    assert answer.json()["notice"] == "held_no_template"
    whatsapp(client, "aqui estoy")
    [sent] = wait_until(fake_twilio.sent)
    assert sent["body"] == "*OCASIVEN*: Hola de nuevo"


def test_an_organisation_sees_and_touches_only_its_own_conversations(
    client: TestClient, settings: Settings
) -> None:
    ours = log_in(client, staff_account(settings))
    theirs = log_in(client, staff_account(settings, "luis@sjs.example", org="sjs", name="Luis"))
    open_whatsapp_handoff(client)
    [waiting] = queue(client, ours)
    ident = waiting["id"]
    assert queue(client, theirs) == []
    assert client.get(f"/inbox/api/conversations/{ident}", headers=theirs).status_code == 404
    for action, body in (
        ("reply", {"text": "hola"}),
        ("claim", None),
        ("close", {"outcome": "other"}),
    ):
        refused = client.post(
            f"/inbox/api/conversations/{ident}/{action}", json=body, headers=theirs
        )
        assert refused.status_code == 404, action
    # A second agent of the same organisation sees who holds it and cannot take it.
    colleague = log_in(client, staff_account(settings, "eva@ocasiven.example", name="Eva"))
    assert client.post(f"/inbox/api/conversations/{ident}/claim", headers=ours).status_code == 200
    taken = client.post(f"/inbox/api/conversations/{ident}/claim", headers=colleague)
    assert taken.status_code == 409 and taken.json() == {"detail": "claimed", "by": "Ana"}
    assert queue(client, colleague)[0]["claimed_by"]["name"] == "Ana"
    # Transfer: it leaves our queue and waits in theirs.
    moved = client.post(
        f"/inbox/api/conversations/{ident}/transfer", json={"org": "SJS"}, headers=ours
    )
    assert moved.status_code == 200
    assert queue(client, ours) == [] and queue(client, theirs)[0]["status"] == "waiting"


def test_logging_out_and_revoking_end_sessions_and_logins_are_limited(
    client: TestClient, settings: Settings
) -> None:
    email = staff_account(settings)
    staff = log_in(client, email)
    assert client.get("/inbox/api/me", headers=staff).json()["org"] == "OCASIVEN"
    revoke(make_database(settings.database_url), email)
    assert client.get("/inbox/api/queue", headers=staff).status_code == 401
    assert (
        client.post(
            "/inbox/api/login", json={"email": email, "password": "correct-horse-battery-staple"}
        ).status_code
        == 401
    )
    other = log_in(client, staff_account(settings, "eva@ocasiven.example", name="Eva"))
    assert client.post("/inbox/api/logout", headers=other).status_code == 204
    assert client.get("/inbox/api/me", headers=other).status_code == 401
    assert client.get("/inbox/api/queue").status_code == 401
    form = client.post("/inbox/api/login", data={"email": "x@y.z", "password": "p"})
    assert form.status_code == 415
    statuses = [
        client.post(
            "/inbox/api/login", json={"email": "nobody@x.org", "password": "wrong"}
        ).status_code
        for _ in range(12)
    ]
    assert statuses[:5] == [401] * 5 and statuses[-1] == 429  # 10 tries a minute, all told


def test_after_close_and_retention_and_after_deletion_no_text_or_address_is_left(
    client: TestClient, settings: Settings, fake_twilio: FakeTwilio
) -> None:
    staff = log_in(client, staff_account(settings))
    open_whatsapp_handoff(client)
    whatsapp(client, SECRET_WORDS)
    [waiting] = queue(client, staff)
    reply(client, staff, waiting["id"], "Respuesta privada de Ana")
    wait_until(fake_twilio.sent)
    dump = _dump(settings)
    assert SECRET_WORDS not in dump and "Respuesta privada" not in dump  # sealed at rest
    assert PHONE[1:] not in dump
    client.post(
        f"/inbox/api/conversations/{waiting['id']}/close",
        json={"outcome": "resolved"},
        headers=staff,
    )
    wait_until(lambda: len(fake_twilio.sent()) == 2)  # the closing notice went out
    wait_until(lambda: _rows(settings, "handoffs")[0]["address"] is None)
    later = datetime.now(UTC) + timedelta(days=settings.handoff_retention_days + 1)
    purge_expired(
        make_database(settings.database_url),
        365,
        now=later,
        handoff_days=settings.handoff_retention_days,
    )
    assert _rows(settings, "handoff_messages") == [] and _rows(settings, "handoffs") == []

    # "borrar mis datos" in the middle of a hand-off ends it and deletes its messages.
    open_whatsapp_handoff(client)
    whatsapp(client, SECRET_WORDS)
    assert _rows(settings, "handoff_messages")
    assert "borrar" in " ".join(whatsapp(client, "borrar mis datos")).lower()
    whatsapp(client, "si")
    assert _rows(settings, "handoff_messages") == [] and _rows(settings, "handoffs") == []
    if settings.database_url.startswith("sqlite"):
        path = Path(settings.database_url.removeprefix("sqlite:///"))
        raw = path.read_bytes() + (
            path.with_name(path.name + "-wal").read_bytes()
            if path.with_name(path.name + "-wal").exists()
            else b""
        )
        assert PHONE[1:].encode() not in raw


def test_danger_inside_a_handoff_still_gets_the_numbers_at_once(
    client: TestClient, settings: Settings
) -> None:
    staff_account(settings)
    open_whatsapp_handoff(client)
    answer = " ".join(whatsapp(client, "ya no aguanto mas me quiero matar"))
    assert "113" in answer
    [waiting] = queue(client, log_in(client, "ana@ocasiven.example"))
    assert waiting["unread"] == 1


# -- helpers ----------------------------------------------------------------------------


def _app(settings: Settings, client: TestClient) -> Any:
    from bot.app import create_app

    return create_app(settings, client.app.state.runtime.kb)  # type: ignore[attr-defined]


def _rows(settings: Settings, table: str) -> list[dict[str, Any]]:
    database = create_engine(settings.database_url)
    with database.connect() as connection:
        rows = [dict(r._mapping) for r in connection.execute(text(f"SELECT * FROM {table}"))]
    database.dispose()
    return rows


def _dump(settings: Settings) -> str:
    tables = ("conversations", "deliveries", "handoffs", "handoff_messages", "unanswered_questions")
    return "\n".join(repr(row) for table in tables for row in _rows(settings, table))


@pytest.fixture(autouse=True)
def _no_leftover_messages(fake_twilio: FakeTwilio) -> None:
    """Every test starts with an empty fake Twilio."""


def test_a_coordinator_sees_the_dashboard_and_an_agent_does_not(
    client: TestClient, settings: Settings
) -> None:
    coordinator = log_in(
        client, staff_account(settings, "rosa@ocasiven.example", name="Rosa", role="coordinator")
    )
    agent = log_in(client, staff_account(settings))
    assert client.get("/admin", headers=coordinator, follow_redirects=False).status_code == 200
    assert client.get("/admin", headers=agent, follow_redirects=False).status_code == 303


def test_sms_person_gets_the_staff_reply_as_an_sms(
    client: TestClient, settings: Settings, fake_twilio: FakeTwilio
) -> None:
    staff = log_in(client, staff_account(settings))
    sms = "+51987003344"
    whatsapp(client, "estoy en lima", sender=sms)
    assert "¿Aceptas?" in " ".join(whatsapp(client, "hablar con una persona", sender=sms))
    whatsapp(client, "si", sender=sms)
    assert whatsapp(client, "me robaron la cartera con mi carnet", sender=sms) == []
    [waiting] = queue(client, staff)
    assert waiting["channel"] == "sms"
    detail = conversation(client, staff, waiting["id"])
    assert detail["window"]["applies"] is False and detail["window"]["open"] is True
    reply(client, staff, waiting["id"], "Puedes denunciarlo en la comisaría")
    [sent] = wait_until(fake_twilio.sent)
    assert (sent["to"], sent["from"]) == (sms, "+14155238886")
    assert sent["body"] == "*OCASIVEN*: Puedes denunciarlo en la comisaría"


def test_the_web_chat_reopened_during_a_handoff_says_who_is_reading(
    client: TestClient, settings: Settings
) -> None:
    staff_account(settings)
    for message in ("hola soy de lima", "persona", "1"):
        web(client, message, user="reloads-page")
    greeting = client.post("/api/chat/greeting", json={"user_id": "reloads-page"}).json()
    [reminder] = [reply["text"] for reply in greeting["replies"]]
    assert "OCASIVEN" in reminder and "menu" in reminder


def test_staff_see_the_last_topic_in_the_inbox_language(
    client: TestClient, settings: Settings
) -> None:
    staff = log_in(client, staff_account(settings))
    for message in ("estoy en lima", "que es el sis gratuito", "quiero hablar con un asesor", "1"):
        web(client, message, user="asks-about-sis")
    spanish = client.get("/inbox/api/queue", headers=staff).json()["conversations"][0]
    english = client.get("/inbox/api/queue?lang=en", headers=staff).json()["conversations"][0]
    assert "SIS" in spanish["topic"] and spanish["topic"] != english["topic"]
    assert "SIS" in english["topic"] and english["city"] == "Lima"
    assert client.get("/inbox/api/queue?lang=fr", headers=staff).status_code == 422
