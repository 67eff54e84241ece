"""The web chat page and its JSON endpoints."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, func, select, text

from bot.app import create_app
from bot.models import DailyCount
from bot.settings import Settings
from knowledge import KnowledgeBase
from tests.support.channels import post_twilio, twilio_form, twiml_messages

BROWSER = "browser-123456"


def chat(client: TestClient, text: str, user_id: str = BROWSER, **extra: Any) -> list[dict]:
    response = client.post("/api/chat", json={"user_id": user_id, "text": text, **extra})
    assert response.status_code == 200, response.text
    return response.json()["replies"]


def greet(client: TestClient, user_id: str = BROWSER) -> list[dict]:
    """What the page does on opening."""
    response = client.post("/api/chat/greeting", json={"user_id": user_id, "lang": "es-PE"})
    assert response.status_code == 200, response.text
    return response.json()["replies"]


def counts(client: TestClient) -> dict[tuple[str, str], int]:
    """The dashboard's counters, summed over days and channels: ``(metric, key) -> n``."""
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    query = select(DailyCount.metric, DailyCount.key, func.sum(DailyCount.count)).group_by(
        DailyCount.metric, DailyCount.key
    )
    with runtime.sessions() as session:
        return {(metric, key): int(n) for metric, key, n in session.execute(query)}


def test_page_is_served_at_root(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert "/api/chat" in response.text and "/api/chat/greeting" in response.text


def test_hola_gets_the_menu_with_options(client: TestClient) -> None:
    replies = chat(client, "hola")
    assert [o["key"] for o in replies[0]["options"]][:3] == ["1", "2", "3"]
    assert "Salud (SIS, EsSalud)" in [o["label"] for o in replies[0]["options"]]


def test_health_menu_then_sis_shows_the_official_link(client: TestClient) -> None:
    chat(client, "hola")
    chat(client, "4")
    text = " ".join(r["text"] for r in chat(client, "sis para todos"))
    assert "https://www.gob.pe/8970-afiliarte-al-sis-para-todos" in text


def test_menus_are_buttons_only_in_the_web_chat_while_whatsapp_keeps_the_numbers(
    client: TestClient,
) -> None:
    menu = greet(client)[0]
    assert "Salud (SIS, EsSalud)" in [o["label"] for o in menu["options"]]
    assert "*4.*" not in menu["text"] and "Salud (SIS, EsSalud)" not in menu["text"]
    assert "¿En qué te ayudo?" in menu["text"]  # the menu's title stays
    whatsapp = "\n".join(twiml_messages(post_twilio(client, twilio_form("hola")).text))
    assert "*4.* Salud (SIS, EsSalud)" in whatsapp


def test_a_numbered_list_that_says_more_than_its_buttons_keeps_its_lines(
    client: TestClient,
) -> None:
    replies = chat(client, "ongs en trujillo")
    organisations = next(r for r in replies if r["options"])
    assert "*1.*" in organisations["text"] and "+51" in organisations["text"]


def test_the_greeting_on_opening_counts_no_message_and_no_conversation(
    client: TestClient,
) -> None:
    for _ in range(3):  # three page loads
        assert "Pana" in greet(client)[0]["text"]
    assert counts(client) == {}


def test_the_conversation_starts_when_the_person_writes(client: TestClient) -> None:
    greet(client)
    replies = chat(client, "4")  # a tap on the greeting's "4. Salud"
    assert "Salud" in replies[0]["text"]
    greet(client)  # the page is opened again the same day
    chat(client, "sis para todos")
    found = counts(client)
    assert found[("conversations", "")] == 1 and found[("messages", "")] == 2


def test_a_returning_persons_greeting_buttons_mean_what_they_show(client: TestClient) -> None:
    chat(client, "hola")
    chat(client, "3")  # the refuge menu, where "4" is the applicant's card
    greet(client)  # the page is opened again: the main menu shows
    assert "Salud" in chat(client, "4")[0]["text"]


def test_a_referral_link_counts_once_with_the_first_message(client: TestClient) -> None:
    greet(client)
    assert ("referral", "ocasiven") not in counts(client)  # opening the page is not enough
    chat(client, "sis para todos", ref="OCASIVEN")
    chat(client, "gracias", ref="OCASIVEN")  # a reload keeps ?ref= in the address
    assert counts(client)[("referral", "ocasiven")] == 1


def test_a_referral_link_for_a_returning_person_or_an_unknown_code_counts_nothing(
    client: TestClient,
) -> None:
    chat(client, "hola")
    chat(client, "sis", ref="OCASIVEN")
    chat(client, "hola", user_id="browser-other-1", ref="NOSUCHORG")
    assert not [key for key in counts(client) if key[0] == "referral"]


def test_bad_payloads_get_4xx(client: TestClient) -> None:
    assert client.post("/api/chat", json={"text": "hola"}).status_code == 422
    assert client.post("/api/chat", json={"user_id": "x", "text": "hola"}).status_code == 422
    assert client.post("/api/chat", content=b"not json").status_code == 422
    big = {"user_id": "browser-123456", "text": "a" * 200_000}
    assert client.post("/api/chat", json=big).status_code == 413
    assert client.post("/api/chat/greeting", json={"user_id": "x"}).status_code == 422
    bad_ref = {"user_id": BROWSER, "text": "hola", "ref": "<script>"}
    assert client.post("/api/chat", json=bad_ref).status_code == 422


def test_health_endpoint_reports_ready(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["knowledge"]["organisations"] == 13


@pytest.mark.parametrize("latitude", ["NaN", "Infinity", "-Infinity", "1e999", "91"])
def test_coordinates_that_are_no_place_get_a_readable_422(
    client: TestClient, latitude: str
) -> None:
    body = (
        f'{{"user_id": "browser-123456", "text": "hola", "latitude": {latitude}, "longitude": 0}}'
    )
    response = client.post("/api/chat", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "latitude"]


def test_another_browsers_message_id_does_not_silence_my_message(
    client: TestClient, settings: Settings
) -> None:
    shared = "m0000000000000001"
    first = client.post(
        "/api/chat", json={"user_id": "browser-aaaaaa", "text": "hola", "message_id": shared}
    )
    assert first.json()["replies"]
    # Another browser sends the same id (by chance, or to silence the first one's next message).
    other = client.post(
        "/api/chat", json={"user_id": "browser-bbbbbb", "text": "hola", "message_id": shared}
    )
    assert other.json()["replies"]
    # The same browser sending the same id twice is a double submit: answered once.
    again = client.post(
        "/api/chat", json={"user_id": "browser-aaaaaa", "text": "hola", "message_id": shared}
    )
    assert again.json()["replies"] == []
    database = create_engine(settings.database_url)
    with database.connect() as connection:
        ids = connection.execute(text("SELECT delivery_id FROM deliveries")).scalars().all()
    database.dispose()
    assert len(ids) == 2 and not any(shared[:8] in i or "browser" in i for i in ids)


def test_the_page_has_a_strict_content_security_policy_and_cannot_be_framed(
    client: TestClient,
) -> None:
    response = client.get("/")
    policy = response.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
    assert response.headers["x-frame-options"] == "DENY"
    nonce = re.search(r"'nonce-([^']+)'", policy)
    assert nonce and f'<script nonce="{nonce.group(1)}"' in response.text
    assert client.get("/").headers["content-security-policy"] != policy  # a new nonce each time


def test_the_page_makes_random_message_ids(client: TestClient) -> None:
    page = client.get("/").text
    assert "userId.slice" not in page
    assert re.search(r"message_id: Array\.from\(crypto\.getRandomValues", page)


def test_api_docs_are_served_in_development_but_not_in_production(
    settings: Settings, kb: KnowledgeBase, client: TestClient
) -> None:
    assert client.get("/docs").status_code == 200
    assert client.get("/openapi.json").status_code == 200
    production = settings.model_copy(update={"pana_env": "production"})
    with TestClient(create_app(production, kb)) as app:
        for path in ("/docs", "/redoc", "/openapi.json"):
            assert app.get(path).status_code == 404, path
        assert app.get("/healthz").status_code == 200
