"""A fast fake Telegram Bot API for load runs: asyncio, HTTP/1.1 keep-alive, loopback only.

``tests/support/fake_telegram.py`` opens a thread and a connection per call,
which is fine for tests but would make the fake, not Pana, the bottleneck
under load. This one answers every call on the event loop it is started on,
keeps connections open the way api.telegram.org does, and records the text of
each ``sendMessage`` per chat, so a load client can tell whether a Telegram
update was answered, and how many times::

    api = FakeBotApi()
    await api.start()
    ...  # run the server with TELEGRAM_API_BASE_URL=f"{api.url}/bot"
    api.texts(chat_id)   # every text sent to that chat, in order
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import defaultdict
from typing import Any
from urllib.parse import parse_qsl

#: Largest request the fake accepts; a sendMessage is a few kilobytes at most.
MAX_BODY = 1 << 20


class FakeBotApi:
    """Records ``sendMessage`` texts per chat; answers every method with ``ok: true``."""

    def __init__(self) -> None:
        self.sent: dict[int, list[str]] = defaultdict(list)
        self.calls = 0
        self._server: asyncio.Server | None = None
        self._message_ids = 0

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``; give the server ``{url}/bot`` as its base URL."""
        assert self._server is not None, "start() first"
        host, port = self._server.sockets[0].getsockname()[:2]
        return f"http://{host}:{port}"

    async def start(self) -> FakeBotApi:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)

    def texts(self, chat_id: int) -> list[str]:
        return self.sent.get(chat_id, [])

    def count(self, chat_id: int) -> int:
        return len(self.sent.get(chat_id, ()))

    def run_webhook_reply(self, call: dict[str, Any]) -> None:
        """What Telegram does with a method named in a webhook's 200 response: run it."""
        params = {k: v for k, v in call.items() if k != "method"}
        self._answer(
            f"/bot/{call.get('method', '')}", "application/json", json.dumps(params).encode()
        )

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                request = await _read_request(reader)
                if request is None:
                    break
                path, content_type, body = request
                payload = self._answer(path, content_type, body)
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    + f"Content-Length: {len(payload)}\r\n\r\n".encode()
                    + payload
                )
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, ValueError):
            pass
        except asyncio.CancelledError:
            pass  # the loop is shutting down with this connection still open: nothing to do
        finally:
            writer.close()

    def _answer(self, path: str, content_type: str, body: bytes) -> bytes:
        self.calls += 1
        method = path.rsplit("/", 1)[-1]
        params = _params(content_type, body)
        result: Any = True
        if method == "getMe":
            result = {"id": 1, "is_bot": True, "first_name": "Pana", "username": "PanaLoadBot"}
        elif method == "sendMessage":
            chat_id = int(params.get("chat_id", 0))
            self.sent[chat_id].append(str(params.get("text", "")))
            self._message_ids += 1
            result = {
                "message_id": self._message_ids,
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private"},
                "text": params.get("text", ""),
            }
        return json.dumps({"ok": True, "result": result}).encode()


async def _read_request(reader: asyncio.StreamReader) -> tuple[str, str, bytes] | None:
    """(path, content type, body) of the next request, or None when the peer closed."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    lines = head.decode("latin-1").split("\r\n")
    path = lines[0].split(" ")[1]
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0") or 0)
    if length > MAX_BODY:
        raise ValueError("request too large")
    body = await reader.readexactly(length) if length else b""
    return path, headers.get("content-type", ""), body


def _params(content_type: str, body: bytes) -> dict[str, Any]:
    # python-telegram-bot posts form fields; JSON is accepted too for other clients.
    if "json" in content_type:
        return dict(json.loads(body or b"{}"))
    return dict(parse_qsl(body.decode()))
