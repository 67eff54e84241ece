"""Fuzzing the public endpoints: whatever arrives, no 5xx.

Schemathesis generates requests from the OpenAPI schema; JSON Schema numbers are
finite, so each generated JSON body is sent a second time with its numbers
replaced by NaN or infinities (which JSON parsers, Python's included, accept).
Hypothesis then aims at the coordinates directly.

The schema is loaded at import time, so this module builds its own app on a
throwaway SQLite file (the HTTP layer is what is under test here).
"""

from __future__ import annotations

import itertools
import json
import math
import tempfile
from pathlib import Path
from typing import Any

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.app import create_app
from bot.migrate import upgrade
from bot.settings import Settings
from tests.support.channels import (
    PUBLIC_BASE_URL,
    TELEGRAM_SECRET,
    TELEGRAM_TOKEN,
    TWILIO_TOKEN,
    telegram_message,
    twilio_form,
    twilio_signature,
)
from tests.support.fake_telegram import FakeTelegram

_folder = Path(tempfile.mkdtemp(prefix="pana-fuzz-"))
_telegram = FakeTelegram().start()  # a daemon thread; ends with the test process
app = create_app(
    Settings(
        _env_file=None,  # type: ignore[call-arg]
        pana_env="test",
        database_url=f"sqlite:///{_folder / 'fuzz.db'}",
        public_base_url=PUBLIC_BASE_URL,
        twilio_auth_token=TWILIO_TOKEN,
        telegram_bot_token=TELEGRAM_TOKEN,
        telegram_webhook_secret=TELEGRAM_SECRET,
        telegram_api_base_url=f"{_telegram.url}/bot",
        pseudonym_key="fuzz-" + "k" * 40,
        web_messages_per_minute=100_000,
    )
)
upgrade(app.state.runtime.database)
schema = schemathesis.openapi.from_asgi("/openapi.json", app)
client = TestClient(app, raise_server_exceptions=False)
#: Taken in turn, so the cases between them meet every kind.
NON_FINITE = itertools.cycle([math.nan, math.inf, -math.inf])
NON_FINITE_TEXT = itertools.cycle(["NaN", "Infinity", "-inf", "1e999", "-1e999", "nan"])
TELEGRAM_HEADERS = {
    "Content-Type": "application/json",
    "X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET,
}


def non_finite_numbers(value: Any) -> Any:
    """``value`` with every number in it (not booleans) replaced by NaN or an infinity."""
    if isinstance(value, dict):
        return {key: non_finite_numbers(item) for key, item in value.items()}
    if isinstance(value, list):
        return [non_finite_numbers(item) for item in value]
    if isinstance(value, int | float) and not isinstance(value, bool):
        return next(NON_FINITE)
    return value


def sign(case: Any) -> dict[str, str]:
    """Headers that let what the fuzzer sends reach the parsers, not just the 403."""
    if case.path.startswith("/webhooks/twilio") and isinstance(case.body, dict):
        case.body = {k: str(v) for k, v in case.body.items()}
        return {"X-Twilio-Signature": twilio_signature(case.body, case.path)}
    if case.path == "/webhooks/telegram":
        return {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}
    return {}


@schema.parametrize()
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_public_endpoints_never_answer_5xx(case) -> None:  # type: ignore[no-untyped-def]
    response = case.call(headers=sign(case))
    assert response.status_code < 500, (case.method, case.path, response.text[:300])


@schema.parametrize()
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_public_endpoints_never_answer_5xx_to_nan_or_infinity(case) -> None:  # type: ignore[no-untyped-def]
    # What JSON Schema cannot say: NaN and infinities where numbers go.
    headers = sign(case)
    if case.path.startswith("/webhooks/twilio") and isinstance(case.body, dict):
        form = dict(case.body)
        form["Latitude"], form["Longitude"] = next(NON_FINITE_TEXT), next(NON_FINITE_TEXT)
        signed = {"X-Twilio-Signature": twilio_signature(form, case.path)}
        response = client.post(case.formatted_path, data=form, headers=signed)
    elif isinstance(case.body, dict | list) and case.method.upper() == "POST":
        body = non_finite_numbers(case.body)
        response = client.post(
            case.formatted_path,
            content=json.dumps(body, allow_nan=True),
            headers={**headers, "Content-Type": "application/json"},
        )
    else:
        response = case.call(headers=headers)
    assert response.status_code < 500, (case.method, case.path, response.text[:300])


coordinates = st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from(
    [math.nan, math.inf, -math.inf, 90.0, -90.0, 180.0, 91.0, -180.5, 1e308]
)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(latitude=coordinates, longitude=coordinates)
def test_any_coordinates_get_an_answer_or_a_client_error(latitude: float, longitude: float) -> None:
    place = math.isfinite(latitude) and math.isfinite(longitude)
    place = place and -90 <= latitude <= 90 and -180 <= longitude <= 180
    chat = {"user_id": "browser-fuzz-01", "text": "", "latitude": latitude, "longitude": longitude}
    web = client.post(
        "/api/chat",
        content=json.dumps(chat, allow_nan=True),
        headers={"Content-Type": "application/json"},
    )
    assert web.status_code == (200 if place else 422), web.text[:300]
    if not place:
        assert web.json()["detail"]  # the error itself serialises
    location = {"latitude": latitude, "longitude": longitude}
    update = telegram_message("", user_id=777000900, location=location)
    telegram = client.post(
        "/webhooks/telegram", content=json.dumps(update, allow_nan=True), headers=TELEGRAM_HEADERS
    )
    assert telegram.status_code == (200 if place else 400), telegram.text[:300]
    form = twilio_form("", sender="whatsapp:+51911000900")
    form.update(Latitude=repr(latitude), Longitude=repr(longitude))
    signed = {"X-Twilio-Signature": twilio_signature(form)}
    assert client.post("/webhooks/twilio", data=form, headers=signed).status_code == 200
