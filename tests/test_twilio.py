"""WhatsApp and SMS through Twilio's real request format: signed forms, TwiML replies.

The stories every channel shares (refused proof, the same message twice, media,
malformed bodies, missing settings) are tables in ``test_channels.py``; these
are Twilio's own."""

from __future__ import annotations

import logging
import time
from typing import Any

import anyio
import pytest
from fastapi.testclient import TestClient

from bot.app import create_app
from bot.settings import Settings
from knowledge import KnowledgeBase
from tests.support.channels import post_twilio, twilio_form, twiml_messages


def test_whatsapp_user_says_hola_and_gets_the_numbered_menu(client: TestClient) -> None:
    response = post_twilio(client, twilio_form("hola"))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/xml")
    text = "\n".join(twiml_messages(response.text))
    assert "*1.*" in text and "Salud" in text and "Visa" in text


def test_request_signed_for_other_content_is_refused(client: TestClient) -> None:
    form = twilio_form("hola")
    from tests.support.channels import twilio_signature

    signature = twilio_signature(form)
    form["Body"] = "borrar mis datos"  # replayed with altered content
    response = client.post("/webhooks/twilio", data=form, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 403


def test_sms_gets_short_replies_and_whatsapp_pieces_fit_1600(client: TestClient) -> None:
    sms = post_twilio(
        client, twilio_form("requisitos de la visa humanitaria", sender="+51911222333")
    )
    for message in twiml_messages(sms.text):
        assert len(message) <= 320
    assert any("gob.pe" in m for m in twiml_messages(sms.text))
    whatsapp = post_twilio(client, twilio_form("requisitos de la visa humanitaria"))
    messages = twiml_messages(whatsapp.text)
    assert messages and all(len(m) <= 1600 for m in messages)


def test_fallback_url_answers_without_the_database(client: TestClient) -> None:
    response = post_twilio(client, twilio_form("hola"), path="/webhooks/twilio/fallback")
    assert response.status_code == 200
    assert "105" in twiml_messages(response.text)[0]


def test_a_signed_request_replayed_with_fields_glued_together_is_refused(
    client: TestClient,
) -> None:
    from tests.support.channels import twilio_signature

    original = twilio_form("hola", sender="whatsapp:+51911000321")
    signature = twilio_signature(original)
    assert post_twilio(client, original).status_code == 200
    # The signature runs names and values together: "MessageSidSM…NumMedia0" signs alike
    # whether NumMedia is its own field or glued onto MessageSid, which dodges the dedupe.
    glued = dict(original)
    glued["MessageSid"] = original["MessageSid"] + "NumMedia" + glued.pop("NumMedia")
    replay = client.post("/webhooks/twilio", data=glued, headers={"X-Twilio-Signature": signature})
    assert replay.status_code == 400
    assert twiml_messages(post_twilio(client, original).text) == []  # and the real one, once


def test_a_signed_request_without_twilios_standard_fields_is_refused(client: TestClient) -> None:
    for field, value in (("MessageSid", "SMauth1"), ("AccountSid", ""), ("NumMedia", "x")):
        form = twilio_form("hola", **{field: value})
        assert post_twilio(client, form).status_code == 400, field
    mms = twilio_form("hola", sid="MM" + "ab12" * 8)
    assert post_twilio(client, mms).status_code == 200


def test_above_the_global_ceiling_twilio_gets_503_and_the_retry_is_answered(
    settings: Settings, kb: KnowledgeBase
) -> None:
    ceiling = settings.model_copy(update={"global_messages_per_minute": 2})
    forms = [twilio_form("hola", sender=f"whatsapp:+5191100040{n}") for n in range(6)]
    with TestClient(create_app(ceiling, kb)) as busy_server:
        # Until the ceiling is reached in one minute (a minute may turn during the loop).
        statuses = [post_twilio(busy_server, form).status_code for form in forms]
        assert 503 in statuses and set(statuses) <= {200, 503}
        refused = forms[statuses.index(503)]
        # Twilio now calls the fallback URL, which answers with the static menu.
        fallback = post_twilio(busy_server, refused, path="/webhooks/twilio/fallback")
        assert "105" in twiml_messages(fallback.text)[0]
    # Nothing was recorded: the same message, retried once there is room, gets its answer.
    with TestClient(create_app(ceiling, kb)) as later:
        retry = post_twilio(later, refused)
        assert retry.status_code == 200 and "Salud" in "\n".join(twiml_messages(retry.text))


def test_a_client_that_hangs_up_mid_body_is_noted_quietly(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    sent = call_asgi(
        client,
        "/webhooks/twilio",
        [
            {"type": "http.request", "body": b"From=whatsapp%3A%2B51", "more_body": True},
            {"type": "http.disconnect"},
        ],
    )
    assert sent[0]["status"] == 400
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert "Traceback" not in caplog.text


def test_a_body_that_trickles_in_too_slowly_gets_408(settings: Settings, kb: KnowledgeBase) -> None:
    impatient = settings.model_copy(update={"body_read_seconds": 0.3})
    with TestClient(create_app(impatient, kb)) as app:
        start = time.monotonic()
        sent = call_asgi(
            app,
            "/webhooks/twilio",
            [{"type": "http.request", "body": b"From=", "more_body": True}],
            then_wait=30,
        )
        assert sent[0]["status"] == 408
        assert time.monotonic() - start < 5


def call_asgi(
    client: TestClient,
    path: str,
    messages: list[dict[str, Any]],
    then_wait: float = 0,
) -> list[dict[str, Any]]:
    """Drive the app as a server would for a client that sends ``messages`` as its body,
    then (``then_wait`` seconds later) disconnects; returns what the app sent back."""
    queue = list(messages)

    async def receive() -> dict[str, Any]:
        if queue:
            return queue.pop(0)
        await anyio.sleep(then_wait)
        return {"type": "http.disconnect"}

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "https",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"pana.example.org"),
            (b"content-type", b"application/x-www-form-urlencoded"),
            (b"content-length", b"4000"),
            (b"x-twilio-signature", b"c2lnbmVk"),
        ],
        "client": ("203.0.113.9", 40000),
        "server": ("pana.example.org", 443),
    }

    async def call() -> None:
        with anyio.fail_after(10):
            await client.app(scope, receive, send)  # type: ignore[arg-type]

    client.portal.call(call)  # type: ignore[union-attr]
    return [m for m in sent if m["type"] == "http.response.start"]
