"""Shared fixtures: a real database (SQLite file, or PostgreSQL when
``PANA_TEST_DATABASE_URL`` is set), the app, a fake Telegram Bot API and a
fake Twilio REST API (what staff replies in a hand-off go out through)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bot.app import create_app
from bot.database import make_database
from bot.settings import Settings
from flows.engine import Engine
from knowledge import KnowledgeBase, load_knowledge
from tests.support.channels import PUBLIC_BASE_URL, TELEGRAM_SECRET, TELEGRAM_TOKEN, TWILIO_TOKEN
from tests.support.fake_telegram import FakeTelegram
from tests.support.fake_twilio import FakeTwilio

POSTGRES_URL = os.environ.get("PANA_TEST_DATABASE_URL", "")
PSEUDONYM_KEY = "test-pseudonym-key-" + "x" * 32
HANDOFF_KEY = "test-handoff-key-" + "h" * 32
TWILIO_ACCOUNT = "AC" + "1" * 32


@pytest.fixture(scope="session")
def kb() -> KnowledgeBase:
    return load_knowledge()


@pytest.fixture(scope="session")
def engine(kb: KnowledgeBase) -> Engine:
    return Engine(kb)


@pytest.fixture(scope="session")
def fake_telegram() -> Iterator[FakeTelegram]:
    fake = FakeTelegram().start()
    yield fake
    fake.stop()


def reset_postgres(url: str) -> None:
    database = make_database(url)
    with database.begin() as connection:
        connection.exec_driver_sql("DROP SCHEMA public CASCADE")
        connection.exec_driver_sql("CREATE SCHEMA public")
    database.dispose()


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    if POSTGRES_URL:
        reset_postgres(POSTGRES_URL)
        return POSTGRES_URL
    return f"sqlite:///{tmp_path / 'pana.db'}"


@pytest.fixture(scope="session")
def fake_twilio_api() -> Iterator[FakeTwilio]:
    # Status callbacks are posted by each test that wants them (the public URL is fake).
    fake = FakeTwilio(TWILIO_ACCOUNT, TWILIO_TOKEN, callback_statuses=()).start()
    yield fake
    fake.stop()


@pytest.fixture
def fake_twilio(fake_twilio_api: FakeTwilio) -> FakeTwilio:
    """The fake Twilio REST API, emptied for this test."""
    with fake_twilio_api.lock:
        fake_twilio_api.messages.clear()
    fake_twilio_api.delay, fake_twilio_api.fail_with = 0.0, None
    return fake_twilio_api


@pytest.fixture
def settings(
    database_url: str, fake_telegram: FakeTelegram, fake_twilio_api: FakeTwilio
) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        pana_env="test",
        database_url=database_url,
        public_base_url=PUBLIC_BASE_URL,
        twilio_auth_token=TWILIO_TOKEN,
        twilio_account_sid=TWILIO_ACCOUNT,
        twilio_api_base_url=fake_twilio_api.url,
        handoff_key=HANDOFF_KEY,
        telegram_bot_token=TELEGRAM_TOKEN,
        telegram_webhook_secret=TELEGRAM_SECRET,
        telegram_api_base_url=f"{fake_telegram.url}/bot",
        pseudonym_key=PSEUDONYM_KEY,
        admin_token="admin-test-token",
        whatsapp_number="+51999888777",
    )


@pytest.fixture
def client(
    settings: Settings, kb: KnowledgeBase, fake_telegram: FakeTelegram
) -> Iterator[TestClient]:
    fake_telegram.clear()
    with TestClient(create_app(settings, kb)) as test_client:
        yield test_client
