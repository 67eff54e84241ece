"""A staff reply survives a kill -9 in the middle of its send, and goes out exactly once.

A real ``pana serve`` process sends the reply to the fake Twilio REST API,
which records the message and then takes its time to answer (as a slow
network would); the process is killed with SIGKILL while it waits. After a
restart the outbox finds the reply still "sending", asks Twilio whether it
went out, and records it instead of sending it again.
"""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import httpx

from bot.database import make_database
from bot.inbox.accounts import add_staff
from bot.migrate import upgrade
from tests.support.channels import twilio_form, twilio_signature
from tests.support.fake_telegram import FakeTelegram
from tests.support.fake_twilio import FakeTwilio
from tests.support.handoff import PASSWORD, wait_until
from tests.test_server_process import start_server

ACCOUNT = "AC" + "2" * 32
SENDER = "whatsapp:+51987009988"


def _whatsapp(base: str, text: str) -> None:
    form = twilio_form(text, sender=SENDER)
    headers = {"X-Twilio-Signature": twilio_signature(form)}
    assert httpx.post(f"{base}/webhooks/twilio", data=form, headers=headers).status_code == 200


def _outgoing(base: str, staff: dict[str, str], ident: int) -> list[dict[str, Any]]:
    detail = httpx.get(f"{base}/inbox/api/conversations/{ident}", headers=staff).json()
    return [m for m in detail["messages"] if m["direction"] == "out"]


def test_a_reply_interrupted_by_kill_9_is_sent_exactly_once_after_restart(
    database_url: str, fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    from tests.support.channels import TWILIO_TOKEN

    twilio = FakeTwilio(ACCOUNT, TWILIO_TOKEN, delay=4.0, callback_statuses=()).start()
    database = make_database(database_url)
    upgrade(database)
    add_staff(database, "ocasiven", "Ana", "ana@ocasiven.example", "agent", PASSWORD)
    database.dispose()
    env = {
        "TWILIO_ACCOUNT_SID": ACCOUNT,
        "TWILIO_API_BASE_URL": twilio.url,
        "HANDOFF_KEY": "crash-test-handoff-key-" + "c" * 32,
        "OUTBOX_STALE_SECONDS": "2",
    }
    process, base = start_server(database_url, fake_telegram, tmp_path, **env)
    try:
        for text in ("hola estoy en lima", "quiero hablar con una persona", "1", "ayuda"):
            _whatsapp(base, text)
        login = httpx.post(
            f"{base}/inbox/api/login", json={"email": "ana@ocasiven.example", "password": PASSWORD}
        )
        staff = {"Cookie": f"pana_staff={login.cookies['pana_staff']}"}
        [waiting] = httpx.get(f"{base}/inbox/api/queue", headers=staff).json()["conversations"]
        reply = httpx.post(
            f"{base}/inbox/api/conversations/{waiting['id']}/reply",
            json={"text": "Te ayudo con gusto", "key": "reply-crash-0001"},
            headers=staff,
        )
        assert reply.status_code == 201
        # Twilio has the message; the server is still waiting for Twilio's answer.
        wait_until(twilio.sent)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()

    process, base = start_server(database_url, fake_telegram, tmp_path, **env)
    try:
        login = httpx.post(
            f"{base}/inbox/api/login", json={"email": "ana@ocasiven.example", "password": PASSWORD}
        )
        staff = {"Cookie": f"pana_staff={login.cookies['pana_staff']}"}
        [message] = wait_until(
            lambda: [m for m in _outgoing(base, staff, waiting["id"]) if m["status"] == "queued"],
            timeout=30,
        )
        assert message["text"] == "Te ayudo con gusto"
        assert [m["body"] for m in twilio.sent()] == ["*OCASIVEN*: Te ayudo con gusto"]
    finally:
        process.kill()
        twilio.stop()
