"""Every channel against one contract (``bot/channels/base.py``).

A new channel is one :class:`~bot.channels.base.Channel` implementation and a
route; the helpline does not change. The pigeon post below is such a channel,
added by this test alone.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from bot.app import create_app
from bot.channels.base import Channel, Inbound, answer
from bot.runtime import RuntimeDep
from bot.settings import Settings
from flows.turn import Incoming, Reply
from knowledge import KnowledgeBase


class PigeonPost(Channel[Inbound]):
    """A made-up gateway: ``{"from", "id", "text"}`` in, ``{"messages": [...]}`` out."""

    confirm_later = True

    def parse(self, payload: Any) -> Inbound | None:
        if not isinstance(payload, dict) or not isinstance(payload.get("from"), str):
            raise ValueError("not a pigeon")
        if payload.get("kind") == "receipt":  # a delivery receipt: nothing to answer
            return None
        incoming = Incoming("pigeon", str(payload.get("text", "")))  # type: ignore[arg-type]
        return Inbound(incoming, payload["from"], str(payload["id"]))

    def render(self, inbound: Inbound, replies: Sequence[Reply]) -> Response:
        return JSONResponse({"to": inbound.platform_id, "messages": [r.text for r in replies]})


pigeon_routes = APIRouter()


@pigeon_routes.post("/webhooks/pigeon")
async def pigeon_webhook(payload: dict[str, Any], runtime: RuntimeDep) -> Response:
    channel = PigeonPost()
    inbound = channel.parse(payload)
    if inbound is None:
        return Response(status_code=200)
    return await answer(runtime, channel, inbound)


@pytest.fixture
def pigeon(settings: Settings, kb: KnowledgeBase) -> Iterator[TestClient]:
    app = create_app(settings, kb)
    app.include_router(pigeon_routes)
    with TestClient(app) as client:
        yield client


def sent_at(database_url: str, delivery_id: str) -> Any:
    """The delivery's ``sent_at`` once its confirmation is written (queued: a moment later)."""
    database = create_engine(database_url)
    query = text("SELECT sent_at FROM deliveries WHERE channel = 'pigeon' AND delivery_id = :d")
    deadline = time.monotonic() + 5
    try:
        while True:
            with database.connect() as connection:
                moment = connection.execute(query, {"d": delivery_id}).scalar_one()
            if moment is not None or time.monotonic() > deadline:
                return moment
            time.sleep(0.05)
    finally:
        database.dispose()


def test_a_new_channel_is_one_implementation_of_the_contract(
    pigeon: TestClient, settings: Settings
) -> None:
    hello = {"from": "loft-7", "id": "p-1", "text": "hola"}
    first = pigeon.post("/webhooks/pigeon", json=hello)
    assert first.status_code == 200
    assert first.json()["to"] == "loft-7" and "Salud" in "\n".join(first.json()["messages"])
    # The same pigeon again is answered once, and the answer is recorded as sent.
    assert pigeon.post("/webhooks/pigeon", json=hello).json()["messages"] == []
    assert sent_at(settings.database_url, "p-1") is not None
    # The conversation goes on: "4" is the health menu shown by the first answer.
    health = pigeon.post("/webhooks/pigeon", json={"from": "loft-7", "id": "p-2", "text": "4"})
    assert "SIS" in "\n".join(health.json()["messages"])
    receipt = {"from": "loft-7", "id": "p-3", "kind": "receipt"}
    assert pigeon.post("/webhooks/pigeon", json=receipt).content == b""
