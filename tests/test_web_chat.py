"""The web chat page and its JSON endpoint."""

from __future__ import annotations

from fastapi.testclient import TestClient


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
