"""WhatsApp and SMS through Twilio's real request format: signed forms, TwiML replies."""

from __future__ import annotations

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


def test_unsigned_request_is_refused(client: TestClient) -> None:
    response = post_twilio(client, twilio_form("hola"), signed=False)
    assert response.status_code == 403


def test_request_signed_for_other_content_is_refused(client: TestClient) -> None:
    form = twilio_form("hola")
    from tests.support.channels import twilio_signature

    signature = twilio_signature(form)
    form["Body"] = "borrar mis datos"  # replayed with altered content
    response = client.post("/webhooks/twilio", data=form, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 403


def test_twilio_refuses_everything_without_an_auth_token(
    settings: Settings, kb: KnowledgeBase
) -> None:
    with TestClient(create_app(settings.model_copy(update={"twilio_auth_token": ""}), kb)) as c:
        assert post_twilio(c, twilio_form("hola")).status_code == 403


def test_same_message_sid_twice_is_answered_once(client: TestClient) -> None:
    form = twilio_form("hola", sid="SM" + "7" * 32)
    first = post_twilio(client, form)
    second = post_twilio(client, form)
    assert twiml_messages(first.text)
    assert second.status_code == 200
    assert twiml_messages(second.text) == []


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


def test_voice_note_gets_a_text_only_explanation(client: TestClient) -> None:
    form = twilio_form("", NumMedia="1", MediaContentType0="audio/ogg")
    text = " ".join(twiml_messages(post_twilio(client, form).text))
    assert "texto" in text and "menu" in text.lower()


def test_xml_in_the_text_is_escaped_in_twiml(client: TestClient) -> None:
    response = post_twilio(client, twilio_form("<Message>hola & </Message>"))
    assert response.status_code == 200
    assert twiml_messages(response.text)  # parses as XML: the text was escaped


def test_missing_sender_is_a_client_error(client: TestClient) -> None:
    form = twilio_form("hola")
    del form["From"]
    assert post_twilio(client, form).status_code == 400


def test_fallback_url_answers_without_the_database(client: TestClient) -> None:
    response = post_twilio(client, twilio_form("hola"), path="/webhooks/twilio/fallback")
    assert response.status_code == 200
    assert "105" in twiml_messages(response.text)[0]
