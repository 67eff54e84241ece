"""Helpers for hand-off tests: staff accounts, logging in, waiting for the outbox."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import update

from bot.database import make_database
from bot.inbox.accounts import add_staff
from bot.models import Handoff
from bot.settings import Settings

T = TypeVar("T")
PASSWORD = "correct-horse-battery-staple"


def staff_account(
    settings: Settings,
    email: str = "ana@ocasiven.example",
    org: str = "ocasiven",
    name: str = "Ana",
    role: str = "agent",
) -> str:
    """Create a staff account straight in the database (as `pana staff add` does)."""
    database = make_database(settings.database_url)
    try:
        add_staff(database, org, name, email, role, PASSWORD)  # type: ignore[arg-type]
    finally:
        database.dispose()
    return email


def log_in(client: Any, email: str, password: str = PASSWORD) -> dict[str, str]:
    """Log in through the API; the headers that carry this staff member's session."""
    response = client.post("/inbox/api/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return {"Cookie": f"pana_staff={response.cookies['pana_staff']}"}


def wait_until(check: Callable[[], T], timeout: float = 10.0) -> T:
    """Poll ``check`` until it returns something truthy (the outbox works in a thread)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"still {value!r} after {timeout} s")
        time.sleep(0.05)


def age_last_message(settings: Settings, hours: int) -> None:
    """Every hand-off's last message from the person as if written ``hours`` ago (to step
    outside WhatsApp's 24-hour window without waiting a day)."""
    database = make_database(settings.database_url)
    with database.begin() as connection:
        moment = datetime.now(UTC) - timedelta(hours=hours)
        connection.execute(update(Handoff).values(last_inbound_at=moment))
    database.dispose()
