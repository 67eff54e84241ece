"""A fake of Twilio's REST API on loopback: Messages create and list, and status callbacks.

The real ``twilio`` library talks to it (``TWILIO_API_BASE_URL``), so what Pana
sends is Twilio's own request format; the callbacks it posts back are signed
with the auth token like Twilio's.

- ``POST /2010-04-01/Accounts/{sid}/Messages.json``: records the message
  *before* answering (so a sender killed while waiting has still sent it, as
  with the real API), waits ``delay`` seconds, answers 201 with status
  ``queued``, then posts ``sent`` and ``delivered`` to its ``StatusCallback``.
- ``GET`` on the same path lists them, newest first, filtered by ``To``/``From``.
- ``fail_with = (21610, "Attempt to send to unsubscribed recipient")`` makes the
  next creates fail as Twilio does (HTTP 400 with ``code`` and ``message``).
"""

from __future__ import annotations

import base64
import contextlib
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
from twilio.request_validator import RequestValidator


@dataclass
class FakeTwilio:
    account_sid: str
    auth_token: str
    messages: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None
    #: Seconds to wait before answering a create.
    delay: float = 0.0
    #: (code, message) to refuse creates with; None: accept.
    fail_with: tuple[int, str] | None = None
    #: Statuses posted to the StatusCallback after a create, in order.
    callback_statuses: tuple[str, ...] = ("sent", "delivered")
    #: Where callbacks really go (a live test server): they are still signed for the
    #: StatusCallback URL Pana gave, its public address, as Twilio would sign them.
    deliver_to: str = ""

    @property
    def url(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def sent(self) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.messages)

    def start(self) -> FakeTwilio:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _authorised(self) -> bool:
                expected = base64.b64encode(
                    f"{fake.account_sid}:{fake.auth_token}".encode()
                ).decode()
                return self.headers.get("Authorization", "") == f"Basic {expected}"

            def _answer(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:
                if not self._authorised():
                    self._answer(401, {"code": 20003, "message": "Authenticate", "status": 401})
                    return
                length = int(self.headers.get("Content-Length", 0))
                form = dict(parse_qsl(self.rfile.read(length).decode()))
                if fake.fail_with is not None:
                    code, message = fake.fail_with
                    self._answer(400, {"code": code, "message": message, "status": 400})
                    return
                record = fake._create(form)
                time.sleep(fake.delay)
                # The sender may be gone by now (killed mid-send): the message exists anyway.
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self._answer(201, record)
                callback = form.get("StatusCallback")
                if callback:
                    threading.Thread(
                        target=fake._callbacks, args=(callback, record), daemon=True
                    ).start()

            def do_GET(self) -> None:
                if not self._authorised():
                    self._answer(401, {"code": 20003, "message": "Authenticate", "status": 401})
                    return
                query = dict(parse_qsl(urlsplit(self.path).query))
                with fake.lock:
                    found = [
                        m
                        for m in reversed(fake.messages)
                        if query.get("To", m["to"]) == m["to"]
                        and query.get("From", m["from"]) == m["from"]
                    ]
                path = urlsplit(self.path).path
                self._answer(
                    200,
                    {
                        "messages": found,
                        "first_page_uri": path,
                        "next_page_uri": None,
                        "previous_page_uri": None,
                        "page": 0,
                        "page_size": 50,
                        "uri": path,
                        "start": 0,
                        "end": max(len(found) - 1, 0),
                    },
                )

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def _create(self, form: dict[str, str]) -> dict[str, Any]:
        now = datetime.now(UTC)
        record = {
            "sid": "SM" + secrets.token_hex(16),
            "account_sid": self.account_sid,
            "to": form.get("To", ""),
            "from": form.get("From", ""),
            "body": form.get("Body", ""),
            "content_sid": form.get("ContentSid"),
            "content_variables": form.get("ContentVariables"),
            "status": "queued",
            "date_created": format_datetime(now, usegmt=True),
            "date_updated": format_datetime(now, usegmt=True),
            "date_sent": None,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "num_segments": "1",
            "num_media": "0",
            "price": None,
            "price_unit": "USD",
            "api_version": "2010-04-01",
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/x.json",
        }
        with self.lock:
            self.messages.append(record)
        return record

    def _callbacks(self, url: str, record: dict[str, Any]) -> None:
        validator = RequestValidator(self.auth_token)
        address = urlsplit(url)
        target = url
        if self.deliver_to:
            query = f"?{address.query}" if address.query else ""
            target = f"{self.deliver_to.rstrip('/')}{address.path}{query}"
        for status in self.callback_statuses:
            time.sleep(0.2)
            params = {
                "MessageSid": record["sid"],
                "MessageStatus": status,
                "AccountSid": self.account_sid,
                "From": record["from"],
                "To": record["to"],
                "ApiVersion": "2010-04-01",
            }
            signature = validator.compute_signature(url, params)
            with self.lock:
                record["status"] = status
            try:
                httpx.post(
                    target, data=params, headers={"X-Twilio-Signature": signature}, timeout=5
                )
            except httpx.HTTPError:
                return  # nobody answers (a test's server is gone): Twilio gives up too
