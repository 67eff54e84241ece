"""Schemathesis over the public endpoints' OpenAPI schema: whatever arrives, no 5xx.

The schema is loaded at import time, so this module builds its own app on a
throwaway SQLite file (the HTTP layer is what is under test here).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings

from bot.app import create_app
from bot.migrate import upgrade
from bot.settings import Settings
from tests.support.channels import (
    PUBLIC_BASE_URL,
    TELEGRAM_SECRET,
    TELEGRAM_TOKEN,
    TWILIO_TOKEN,
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


@schema.parametrize()
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_public_endpoints_never_answer_5xx(case) -> None:  # type: ignore[no-untyped-def]
    # Sign what the fuzzer sends, so generated payloads reach the parsers, not just the 403.
    headers = {}
    if case.path.startswith("/webhooks/twilio") and isinstance(case.body, dict):
        form = {k: str(v) for k, v in case.body.items()}
        case.body = form
        headers["X-Twilio-Signature"] = twilio_signature(form, case.path)
    if case.path == "/webhooks/telegram":
        headers["X-Telegram-Bot-Api-Secret-Token"] = TELEGRAM_SECRET
    response = case.call(headers=headers)
    assert response.status_code < 500, (case.method, case.path, response.text[:300])
