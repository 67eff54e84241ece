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
    database_url: str, telegram: FakeTelegram, tmp_path: Path
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
    }
    process = subprocess.Popen(
        [str(PANA), "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return process, base
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise AssertionError("server did not become healthy in 30 s")


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
