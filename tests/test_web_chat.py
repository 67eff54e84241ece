"""The web chat page and its JSON endpoint."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from bot.app import create_app
from bot.settings import Settings
from knowledge import KnowledgeBase


def chat(client: TestClient, text: str, user_id: str = "browser-123456") -> list[dict]:
    response = client.post("/api/chat", json={"user_id": user_id, "text": text})
    assert response.status_code == 200, response.text
    return response.json()["replies"]


def test_page_is_served_at_root(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert "/api/chat" in response.text


def test_hola_gets_the_menu_with_options(client: TestClient) -> None:
    replies = chat(client, "hola")
    assert "Salud" in replies[0]["text"]
    assert [o["key"] for o in replies[0]["options"]][:3] == ["1", "2", "3"]


def test_health_menu_then_sis_shows_the_official_link(client: TestClient) -> None:
    chat(client, "hola")
    chat(client, "4")
    text = " ".join(r["text"] for r in chat(client, "sis para todos"))
    assert "https://www.gob.pe/8970-afiliarte-al-sis-para-todos" in text


def test_bad_payloads_get_4xx(client: TestClient) -> None:
    assert client.post("/api/chat", json={"text": "hola"}).status_code == 422
    assert client.post("/api/chat", json={"user_id": "x", "text": "hola"}).status_code == 422
    assert client.post("/api/chat", content=b"not json").status_code == 422
    big = {"user_id": "browser-123456", "text": "a" * 200_000}
    assert client.post("/api/chat", json=big).status_code == 413


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
    engine = create_engine(settings.database_url)
    with engine.connect() as connection:
        ids = connection.execute(text("SELECT delivery_id FROM deliveries")).scalars().all()
    engine.dispose()
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
