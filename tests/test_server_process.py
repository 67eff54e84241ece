"""The real server process: `pana serve` starts, answers, and shuts down gracefully."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.channels import (
    PUBLIC_BASE_URL,
    TELEGRAM_SECRET,
    TELEGRAM_TOKEN,
    TWILIO_TOKEN,
    telegram_callback,
    telegram_message,
)
from tests.support.fake_telegram import FakeTelegram

PANA = Path(sys.executable).with_name("pana")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def slow_telegram() -> Iterator[FakeTelegram]:
    fake = FakeTelegram(delay=1.5).start()
    yield fake
    fake.stop()


def start_server(
    database_url: str, telegram: FakeTelegram, tmp_path: Path, **extra_env: str
) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
        "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
        "TELEGRAM_BOT_TOKEN": TELEGRAM_TOKEN,
        "TELEGRAM_WEBHOOK_SECRET": TELEGRAM_SECRET,
        "TELEGRAM_API_BASE_URL": f"{telegram.url}/bot",
        "PSEUDONYM_KEY": "process-test-" + "k" * 40,
        **extra_env,
    }
    process = subprocess.Popen(
        [str(PANA), "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    # Fitting the understanding models takes ~5 s on an idle machine, far more on a busy one.
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return process, base
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise AssertionError("server did not become healthy in 90 s")


def test_serve_answers_the_web_chat_and_finishes_telegram_requests_on_sigterm(
    database_url: str, slow_telegram: FakeTelegram, tmp_path: Path
) -> None:
    process, base = start_server(database_url, slow_telegram, tmp_path)
    try:
        chat = httpx.post(f"{base}/api/chat", json={"user_id": "process-test-1", "text": "hola"})
        assert chat.status_code == 200
        # The web chat shows the menu as buttons: "Salud" is an option, not a line of text.
        assert "Salud (SIS, EsSalud)" in [o["label"] for o in chat.json()["replies"][0]["options"]]
        headers = {
            "Content-Type": "application/json",
            "X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET,
        }
        menu = httpx.post(
            f"{base}/webhooks/telegram",
            content=json.dumps(telegram_message("hola")),
            headers=headers,
        )
        assert menu.status_code == 200 and menu.json()["reply_markup"]["inline_keyboard"]
        result: dict[str, Any] = {}

        def press_button() -> None:
            # A menu button: the bot acknowledges it through the (slow) Bot API, then answers.
            response = httpx.post(
                f"{base}/webhooks/telegram",
                content=json.dumps(telegram_callback("4")),
                headers=headers,
                timeout=30,
            )
            result["status"] = response.status_code
            result["reply"] = response.json()

        sender = threading.Thread(target=press_button)
        sender.start()
        time.sleep(0.7)  # the request is now waiting on the slow Bot API
        process.send_signal(signal.SIGTERM)
        sender.join(timeout=30)
        # uvicorn finishes in-flight requests, then re-raises the signal.
        assert process.wait(timeout=30) in (0, -signal.SIGTERM)
    finally:
        if process.poll() is None:
            process.kill()
    assert result.get("status") == 200
    assert len(slow_telegram.sent("answerCallbackQuery")) == 1  # went out before exit
    reply = result["reply"]
    assert reply["method"] == "sendMessage" and reply["chat_id"] == 777000111
    assert "SIS" in reply["text"]  # option 4 of the main menu: health


def test_a_made_up_forwarded_for_does_not_escape_the_limits(
    database_url: str, fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    # On loopback, as a proxy on the same host would connect; no FORWARDED_ALLOW_IPS set.
    process, base = start_server(
        database_url,
        fake_telegram,
        tmp_path,
        ADMIN_TOKEN="process-admin-token-" + "t" * 20,
        WEB_MESSAGES_PER_MINUTE="1",
    )
    try:
        logins = [
            httpx.post(
                f"{base}/admin/login",
                data={"token": f"guess{n}"},
                headers={"X-Forwarded-For": f"203.0.113.{n}"},
            ).status_code
            for n in range(12)
        ]
        chats = [
            httpx.post(
                f"{base}/api/chat",
                json={"user_id": f"browser-xff-{n:04d}", "text": "hola"},
                headers={"X-Forwarded-For": f"198.51.100.{n}"},
            ).status_code
            for n in range(11)  # ten a minute from one address (1 per browser id, x10)
        ]
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert logins[:10] == [401] * 10 and logins[10:] == [429, 429]
    assert chats[:10] == [200] * 10 and chats[10] == 429


def read_response(connection: socket.socket) -> bytes:
    """One whole HTTP response: headers, then as many body bytes as Content-Length says
    (the body can arrive in a packet of its own)."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += connection.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        (
            int(line.split(b":")[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        ),
        0,
    )
    while len(body) < length:
        body += connection.recv(65536)
    return data


def test_an_idle_connection_is_closed_after_the_keep_alive_time(
    database_url: str, fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    process, base = start_server(database_url, fake_telegram, tmp_path, KEEP_ALIVE_SECONDS="1")
    try:
        port = int(base.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
            connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: pana\r\n\r\n")
            assert read_response(connection).startswith(b"HTTP/1.1 200")
            time.sleep(2.5)  # idle, keeping the connection open
            connection.settimeout(1.5)  # by 4 s: uvicorn's default would keep it 5 s
            assert connection.recv(1) == b""  # the server has closed it
    finally:
        process.terminate()
        process.wait(timeout=30)
