"""Typed settings, read from the environment and from a ``.env`` file.

Every setting has a safe development default, so ``make run`` works with no
configuration; production sets ``PANA_ENV=production``, which makes
``PSEUDONYM_KEY`` and ``HANDOFF_KEY`` (32 bytes or more each) mandatory, refuses an ``ADMIN_TOKEN``
shorter than 32 characters and turns off the API docs.

Example::

    settings = Settings(database_url="sqlite:///:memory:")
"""

from __future__ import annotations

import contextlib
import os
import secrets
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DATA_DIR = Path("data")
#: The shortest pseudonym key accepted anywhere, in bytes.
MIN_KEY_BYTES = 32
#: The shortest ``ADMIN_TOKEN`` accepted in production, in characters.
MIN_ADMIN_TOKEN_LENGTH = 32


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    #: ``development`` generates missing secrets into ``data/``; ``production`` refuses to.
    pana_env: Literal["development", "production", "test"] = "development"
    #: SQLAlchemy URL. Default: an SQLite file under ``data/``.
    database_url: str = f"sqlite:///{DATA_DIR / 'pana.db'}"
    #: The public URL Twilio and Telegram reach (``https://pana.example.org``), used
    #: to check Twilio signatures behind proxies. Empty: the request's own URL.
    public_base_url: str = ""
    #: Addresses (or CIDR networks) of the reverse proxies whose ``X-Forwarded-For`` and
    #: ``X-Forwarded-Proto`` are believed, comma-separated. Empty: none; every limit keyed
    #: on a client address then uses the connecting address itself.
    forwarded_allow_ips: str = ""
    twilio_auth_token: str = ""
    #: Twilio's account SID (``AC…``), to send staff replies through the REST API.
    twilio_account_sid: str = ""
    #: Twilio's REST API; tests point it at a fake on loopback.
    twilio_api_base_url: str = "https://api.twilio.com"
    #: An approved WhatsApp template (Content SID, ``HX…``) sent when a staff reply falls
    #: outside WhatsApp's 24-hour window: "Tienes una respuesta de {{1}}…". Empty: the
    #: reply waits until the person writes.
    twilio_reply_template_sid: str = ""
    #: The WhatsApp number people write to, E.164, for flyers (``+51999999999``).
    whatsapp_number: str = ""
    telegram_bot_token: str = ""
    telegram_bot_username: str = "PanaMigrantesBot"
    telegram_webhook_secret: str = ""
    #: python-telegram-bot's ``base_url``: token and method are appended to it.
    telegram_api_base_url: str = "https://api.telegram.org/bot"
    #: Key for pseudonyms (HMAC-SHA256), 32 bytes or more. Required in production.
    pseudonym_key: str = ""
    #: Key that encrypts hand-off messages and addresses (any random 32+ characters,
    #: ``openssl rand -hex 32``). Required in production; generated into ``data/`` otherwise.
    handoff_key: str = ""
    #: Days a closed hand-off's messages are kept for the organisation, then deleted.
    handoff_retention_days: int = Field(default=30, ge=1)
    #: A staff reply still "sending" after this many seconds was left by a process that
    #: died mid-send: it is checked with Twilio and sent only if it never left. Keep it
    #: well above the 20-second send timeout.
    outbox_stale_seconds: int = Field(default=60, ge=1)
    #: Token for the /admin dashboard; empty disables it. 32+ characters in production.
    admin_token: str = ""
    #: Answers whose facts are older than this many days get a "confirm" line.
    stale_after_days: int = Field(default=730, ge=1)
    #: User state, delivery records and unanswered questions older than this are purged.
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
    #: A request body must have arrived this many seconds after the request began (408).
    body_read_seconds: float = Field(default=10.0, gt=0, le=300)
    #: An idle keep-alive connection is closed after this many seconds (uvicorn).
    keep_alive_seconds: int = Field(default=5, ge=1, le=300)
    log_level: str = "INFO"

    @model_validator(mode="after")
    def _production_needs_keys(self) -> Settings:
        if self.pseudonym_key and len(self.pseudonym_key.encode()) < MIN_KEY_BYTES:
            raise ValueError(f"PSEUDONYM_KEY must be at least {MIN_KEY_BYTES} bytes")
        if self.handoff_key and len(self.handoff_key.encode()) < MIN_KEY_BYTES:
            raise ValueError(f"HANDOFF_KEY must be at least {MIN_KEY_BYTES} bytes")
        if self.pana_env != "production":
            return self
        if not self.pseudonym_key:
            raise ValueError(f"PSEUDONYM_KEY ({MIN_KEY_BYTES}+ bytes) is required in production")
        if not self.handoff_key:
            raise ValueError(f"HANDOFF_KEY ({MIN_KEY_BYTES}+ bytes) is required in production")
        if self.admin_token and len(self.admin_token) < MIN_ADMIN_TOKEN_LENGTH:
            raise ValueError(
                f"ADMIN_TOKEN must be at least {MIN_ADMIN_TOKEN_LENGTH} characters in "
                "production (or empty, which turns the dashboard off)"
            )
        return self

    @property
    def production(self) -> bool:
        return self.pana_env == "production"

    @cached_property
    def secret_key(self) -> bytes:
        """The pseudonym key; in development, generated once into ``data/pseudonym.key``.

        Raises ValueError for a key file shorter than 32 bytes (an empty file
        would otherwise give an empty HMAC key) or one that cannot be read.
        """
        return self.pseudonym_key.encode() if self.pseudonym_key else _key_file("pseudonym")

    @cached_property
    def handoff_secret(self) -> bytes:
        """The hand-off encryption key; in development, generated into ``data/handoff.key``."""
        return self.handoff_key.encode() if self.handoff_key else _key_file("handoff")

    @property
    def twilio_enabled(self) -> bool:
        return bool(self.twilio_auth_token)

    @property
    def telegram_enabled(self) -> bool:
        return bool(self.telegram_bot_token)


def _key_file(name: str) -> bytes:
    """The key in ``data/<name>.key``, created on first use (development only)."""
    path = DATA_DIR / f"{name}.key"
    _create_key_file(path)
    key = path.read_bytes().strip()
    if len(key) < MIN_KEY_BYTES:
        raise ValueError(
            f"{path} holds {len(key)} bytes; a key needs {MIN_KEY_BYTES} or more "
            f"(delete the file to have a new one generated, or set {name.upper()}_KEY)"
        )
    return key


def _create_key_file(path: Path) -> None:
    """Write a new random key to ``path`` unless something is already there.

    The key is written to a private temporary file (``O_EXCL``, mode 0600) and
    linked into place, which fails if ``path`` exists in any form, a symlink
    included: no other file is ever written through it, and a second worker
    starting at the same moment reads a complete key, never a half-written one.
    """
    if path.exists() or path.is_symlink():
        return
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_hex(32))
            file.flush()
            os.fsync(file.fileno())
        # Another worker may have won the race: then its key is the one.
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
