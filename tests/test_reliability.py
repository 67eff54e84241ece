"""Faults and concurrency: database outages, simultaneous messages, retries."""

from __future__ import annotations

import shutil
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, make_url, text

from bot.settings import Settings
from flows.turn import Incoming
from tests.support.channels import (
    post_telegram,
    post_twilio,
    telegram_message,
    twilio_form,
    twiml_messages,
)


@contextmanager
def database_outage(settings: Settings, runtime: object) -> Iterator[None]:
    """Make the real database unreachable for new connections, then bring it back."""
    runtime.database.dispose()  # type: ignore[attr-defined]
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        folder = Path(url.database or "").parent
        hidden = folder.with_name(folder.name + "-away")
        shutil.move(folder, hidden)
        try:
            yield
        finally:
            runtime.database.dispose()  # type: ignore[attr-defined]
            shutil.move(hidden, folder)
        return
    with postgres_altered(
        settings, runtime, "WITH ALLOW_CONNECTIONS false", "WITH ALLOW_CONNECTIONS true"
    ):
        yield


@contextmanager
def postgres_altered(settings: Settings, runtime: Any, change: str, undo: str) -> Iterator[None]:
    """``ALTER DATABASE … <change>`` on the test's PostgreSQL database, its sessions ended
    so that new ones feel it; ``<undo>`` afterwards."""
    url = make_url(settings.database_url)
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    name = url.database
    with admin.connect() as connection:
        connection.execute(text(f'ALTER DATABASE "{name}" {change}'))
        connection.execute(
            text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
            {"n": name},
        )
    try:
        yield
    finally:
        runtime.database.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{name}" {undo}'))
        admin.dispose()


def test_database_outage_gives_503_and_health_reports_it_then_recovers(
    client: TestClient, settings: Settings
) -> None:
    sender = "whatsapp:+51911777001"
    post_twilio(client, twilio_form("hola", sender=sender))
    post_twilio(client, twilio_form("4", sender=sender))  # now in the health menu
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    with database_outage(settings, runtime):
        down = post_twilio(client, twilio_form("2", sender=sender))
        assert down.status_code == 503  # Twilio then uses the fallback URL
        assert client.get("/healthz").status_code == 503
        fallback = post_twilio(
            client, twilio_form("2", sender=sender), path="/webhooks/twilio/fallback"
        )
        assert fallback.status_code == 200
    assert client.get("/healthz").status_code == 200
    # Nothing was half-written: the user is still in the health menu, and "2" works.
    again = "\n".join(twiml_messages(post_twilio(client, twilio_form("2", sender=sender)).text))
    assert "SIS" in again


def test_two_messages_from_one_user_at_once_keep_state_consistent(
    client: TestClient, settings: Settings
) -> None:
    helpline = client.app.state.runtime.helpline  # type: ignore[attr-defined]
    errors: list[BaseException] = []

    def send(i: int) -> None:
        try:
            helpline.receive("whatsapp", "+51911777002", Incoming("whatsapp", "sis"), f"SMc{i}")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    database = create_engine(settings.database_url)
    with database.connect() as connection:
        version = connection.execute(text("SELECT version FROM conversations")).scalar_one()
        deliveries = connection.execute(text("SELECT count(*) FROM deliveries")).scalar_one()
    database.dispose()
    assert version == 12 and deliveries == 12  # every message applied once, none lost


def test_telegram_retry_after_an_outage_is_answered_once(client: TestClient, fake_telegram) -> None:  # type: ignore[no-untyped-def]
    update = telegram_message("hola")
    assert post_telegram(client, update).status_code == 200
    assert post_telegram(client, update).status_code == 200
    assert len(fake_telegram.sent()) == 1


def _once_confirmed(database_url: str, delivery_id: str) -> Any:
    """The delivery's row once its "sent" confirmation is written (queued: a moment later)."""
    import time

    database = create_engine(database_url)
    deadline = time.monotonic() + 5
    query = text("SELECT replies, sent_at FROM deliveries WHERE delivery_id = :d")
    try:
        while True:
            with database.connect() as connection:
                row = connection.execute(query, {"d": delivery_id}).one()
            if row.sent_at is not None or time.monotonic() > deadline:
                return row
            time.sleep(0.05)
    finally:
        database.dispose()


def test_a_retry_of_an_answer_that_never_went_out_gets_the_same_answer(
    client: TestClient, settings: Settings
) -> None:
    from datetime import UTC, datetime, timedelta

    helpline = client.app.state.runtime.helpline  # type: ignore[attr-defined]
    start = datetime.now(UTC)

    def receive(seconds: float):  # type: ignore[no-untyped-def]
        incoming = Incoming("telegram", "sis para todos")
        moment = start + timedelta(seconds=seconds)
        return helpline.receive(
            "telegram", "911777003", incoming, "crash-1", now=moment, confirm_later=True
        )

    first = receive(0)
    assert first.replies
    # While the same server run is up, a retry is racing the original: nothing more.
    assert receive(5).replies == []
    # The server crashed before sendMessage and restarted (a new run): same answer again.
    helpline.generation = "restarted-run"
    assert receive(1).replies == []  # still too young to be anything but a race
    assert [r.text for r in receive(5).replies] == [r.text for r in first.replies]
    helpline.confirm_soon("telegram", "crash-1")  # it went out this time
    assert _once_confirmed(settings.database_url, "crash-1").sent_at is not None
    assert receive(10).replies == []


def test_replies_are_erased_once_sent(client: TestClient, settings: Settings) -> None:
    sid = "SM" + "5e" * 16
    post_twilio(client, twilio_form("hola", sender="whatsapp:+51911777004", sid=sid))
    row = _once_confirmed(settings.database_url, sid)
    assert row.replies is None and row.sent_at is not None


def _sqlite_file(settings: Settings) -> Path | None:
    url = make_url(settings.database_url)
    return Path(url.database or "") if url.get_backend_name() == "sqlite" else None


@contextmanager
def read_only_database(settings: Settings, runtime: Any) -> Iterator[None]:
    """Make the real database refuse writes (as a read-only mount or role would), then undo it.

    SQLite: the files are made immutable (``chattr +i``: even root cannot write them) and
    the server's connections reopen them. PostgreSQL: new sessions default to read-only.
    """
    runtime.database.dispose()
    path = _sqlite_file(settings)
    if path is not None:
        files = [f for f in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if f.exists()]
        if shutil.which("chattr") is None:
            pytest.skip("chattr is not available to make the SQLite files read-only")
        flags = subprocess.run(["chattr", "+i", *map(str, files)], capture_output=True)
        if flags.returncode != 0:
            pytest.skip(f"cannot make files immutable here: {flags.stderr.decode().strip()}")
        try:
            yield
        finally:
            subprocess.run(["chattr", "-i", *map(str, files)], check=True)
            runtime.database.dispose()
        return
    with postgres_altered(
        settings,
        runtime,
        "SET default_transaction_read_only = on",
        "RESET default_transaction_read_only",
    ):
        yield


def test_health_says_503_while_the_database_refuses_writes(
    client: TestClient, settings: Settings
) -> None:
    assert client.get("/healthz").status_code == 200
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    with read_only_database(settings, runtime):
        assert post_twilio(client, twilio_form("hola")).status_code == 503
        health = client.get("/healthz")
        assert health.status_code == 503 and health.json()["database"] is False
    assert client.get("/healthz").status_code == 200


def test_health_says_503_when_the_sqlite_file_is_deleted_under_the_server(
    client: TestClient, settings: Settings
) -> None:
    path = _sqlite_file(settings)
    if path is None:
        pytest.skip("SQLite only: a PostgreSQL server keeps its own files")
    post_twilio(client, twilio_form("hola"))  # the server has the file open
    assert client.get("/healthz").status_code == 200
    for name in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        name.unlink(missing_ok=True)
    # Writes would still "succeed", into a file nobody will ever open again.
    health = client.get("/healthz")
    assert health.status_code == 503
    assert "deleted or replaced" in health.json()["status"]


def test_a_deleted_person_leaves_no_trace_in_the_sqlite_files(
    client: TestClient, settings: Settings
) -> None:
    path = _sqlite_file(settings)
    if path is None:
        pytest.skip("SQLite only: the write-ahead log and secure_delete are SQLite's")
    sender = "whatsapp:+51911777099"
    for message in ("hola", "4", "sis gratis", "borrar mis datos", "si"):
        post_twilio(client, twilio_form(message, sender=sender))
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    pseudonym = runtime.helpline.pseudonym("whatsapp", "+51911777099").encode()
    files = [path, Path(f"{path}-wal")]
    raw = b"".join(f.read_bytes() for f in files if f.exists())
    assert pseudonym not in raw and pseudonym[:16] not in raw
