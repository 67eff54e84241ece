"""Typed settings, read from the environment and from a ``.env`` file.

Every setting has a safe development default, so ``make run`` works with no
configuration; production sets ``PANA_ENV=production``, which makes
``PSEUDONYM_KEY`` mandatory.

Example::

    settings = Settings(database_url="sqlite:///:memory:")
"""

from __future__ import annotations

import secrets
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DATA_DIR = Path("data")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    #: ``development`` generates missing secrets into ``data/``; ``production`` refuses to.
    pana_env: Literal["development", "production", "test"] = "development"
    #: SQLAlchemy URL. Default: an SQLite file under ``data/``.
    database_url: str = f"sqlite:///{DATA_DIR / 'pana.db'}"
    #: The public URL Twilio and Telegram reach (``https://pana.example.org``), used
    #: to check Twilio signatures behind proxies. Empty: the request's own URL.
    public_base_url: str = ""
    twilio_auth_token: str = ""
    #: The WhatsApp number people write to, E.164, for flyers (``+51999999999``).
    whatsapp_number: str = ""
    telegram_bot_token: str = ""
    telegram_bot_username: str = "PanaMigrantesBot"
    telegram_webhook_secret: str = ""
    #: python-telegram-bot's ``base_url``: token and method are appended to it.
    telegram_api_base_url: str = "https://api.telegram.org/bot"
    #: Key for pseudonyms (HMAC-SHA256). Required in production.
    pseudonym_key: str = ""
    #: Token for the /admin dashboard; empty disables it.
    admin_token: str = ""
    #: Answers whose facts are older than this many days get a "confirm" line.
    stale_after_days: int = Field(default=730, ge=1)
    #: User state and delivery records unused for this many days are purged.
    retention_days: int = Field(default=90, ge=1)
    #: Per-user flood limit: messages per minute.
    user_messages_per_minute: int = Field(default=20, ge=1)
    #: Global ceiling on replies per minute (protects the Twilio bill).
    global_messages_per_minute: int = Field(default=3000, ge=1)
    #: Web chat limit per browser id and per IP, messages per minute.
    web_messages_per_minute: int = Field(default=30, ge=1)
    #: Messages handled at once per worker process (threads). More only queue on the
    #: database lock and Python's GIL: 4 gave ~15% more messages per second than 40 on
    #: SQLite and PostgreSQL on loopback (docs/performance.md). Raise it for a remote
    #: database with a slow round trip.
    worker_threads: int = Field(default=4, ge=1, le=200)
    #: Largest request body accepted by the webhooks, in bytes.
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    log_level: str = "INFO"

    @model_validator(mode="after")
    def _production_needs_keys(self) -> Settings:
        if self.pana_env == "production" and len(self.pseudonym_key) < 32:
            raise ValueError("PSEUDONYM_KEY (32+ characters) is required in production")
        return self

    @cached_property
    def secret_key(self) -> bytes:
        """The pseudonym key; in development, generated once into ``data/pseudonym.key``."""
        if self.pseudonym_key:
            return self.pseudonym_key.encode()
        path = DATA_DIR / "pseudonym.key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_hex(32))
            path.chmod(0o600)
        return path.read_text().strip().encode()

    @property
    def twilio_enabled(self) -> bool:
        return bool(self.twilio_auth_token)

    @property
    def telegram_enabled(self) -> bool:
        return bool(self.telegram_bot_token)
