"""A fake Telegram Bot API on loopback, recording what the bot sends.

python-telegram-bot is pointed at it with ``base_url=f"{fake.url}/bot"``,
so requests arrive as ``POST /bot<token>/<method>`` exactly as Telegram
would receive them.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl


@dataclass
class Call:
    token: str
    method: str
    params: dict[str, Any]


@dataclass
class FakeTelegram:
    calls: list[Call] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None
    #: Seconds to wait before answering (to simulate a slow API).
    delay: float = 0.0

    @property
    def url(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def sent(self, method: str = "sendMessage") -> list[dict[str, Any]]:
        with self.lock:
            return [c.params for c in self.calls if c.method == method]

    def clear(self) -> None:
        with self.lock:
            self.calls.clear()

    def start(self) -> FakeTelegram:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # keep test output clean
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length)
                params = _parse(self.headers.get("Content-Type", ""), body)
                _, token, method = self.path.split("/", 2)
                with fake.lock:
                    fake.calls.append(Call(token.removeprefix("bot"), method, params))
                if fake.delay:
                    time.sleep(fake.delay)
                payload = json.dumps({"ok": True, "result": _result(method, params)}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()


def _parse(content_type: str, body: bytes) -> dict[str, Any]:
    if "json" in content_type:
        return dict(json.loads(body or b"{}"))
    if "multipart" in content_type:
        message = BytesParser(policy=HTTP).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + body
        )
        return {
            part.get_param("name", header="content-disposition"): part.get_content()
            for part in message.iter_parts()
        }
    return dict(parse_qsl(body.decode()))


_message_ids = iter(range(1, 10**9))


def _result(method: str, params: dict[str, Any]) -> Any:
    if method == "getMe":
        return {"id": 1, "is_bot": True, "first_name": "Pana", "username": "PanaTestBot"}
    if method == "sendMessage":
        return {
            "message_id": next(_message_ids),
            "date": int(time.time()),
            "chat": {"id": int(params.get("chat_id", 0)), "type": "private"},
            "text": params.get("text", ""),
        }
    return True
