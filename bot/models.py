"""Database tables. What is stored, and what is deliberately not.

- ``conversations``: one row per user, keyed by a pseudonym (HMAC of channel
  and platform id). Holds the engine's :class:`~flows.turn.State` (language,
  menu, last topic) and the flood-limit window. No phone number, Telegram id,
  name or message text.
- ``deliveries``: one row per platform message id, so a retried delivery is
  answered once. Tied to the pseudonym only so "borrar mis datos" removes it.
  The bot's own reply texts are kept here until the channel confirms sending,
  then erased (a retry after a crash gets the same answer, not silence).
- ``daily_counts``: aggregate counters for the dashboard (messages,
  conversations, topics, referrals per day and channel). No pseudonym.
- ``unanswered_questions``: texts the bot could not answer, scrubbed of
  numbers, dates, e-mails, handles, links, addresses and names (see
  :func:`bot.privacy.scrub`), with no user id; deleted after ``RETENTION_DAYS``.
- ``admin_sessions``: one row per dashboard login (a hash of the cookie's id).
- ``health_probes``: empty except during a ``/healthz`` check.
- ``staff`` and ``staff_sessions``: the partner organisations' people who answer
  hand-offs (argon2 password hashes) and their logins (hashes of session ids).
- ``handoffs`` and ``handoff_messages``: a conversation a person has taken over,
  only after the person consented. The messages and the address needed to
  reply (phone number or Telegram chat) are encrypted (Fernet, ``HANDOFF_KEY``);
  the address is deleted at close, the messages ``HANDOFF_RETENTION_DAYS`` after.
  Staff see a short pseudonym, never the address.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, DateTime, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Conversation(Base):
    __tablename__ = "conversations"

    pseudonym: Mapped[str] = mapped_column(String(64), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    state: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: Incremented on every write (optimistic concurrency check).
    version: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    #: Flood limit: start of the current one-minute window and messages in it.
    window_start: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    window_count: Mapped[int] = mapped_column(Integer, default=0)


class Delivery(Base):
    __tablename__ = "deliveries"
    __table_args__ = (UniqueConstraint("channel", "delivery_id", name="uq_delivery"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(16))
    delivery_id: Mapped[str] = mapped_column(String(128))
    pseudonym: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    #: The bot's replies, kept only until the channel confirms they went out.
    replies: Mapped[list[dict[str, Any]] | None] = mapped_column(
        JSON(none_as_null=True), nullable=True
    )
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    #: The server run that took the delivery (all workers of one ``pana serve`` share it).
    generation: Mapped[str | None] = mapped_column(String(32), nullable=True)


class DailyCount(Base):
    __tablename__ = "daily_counts"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    #: ``messages``, ``conversations``, ``answered``, ``unanswered``, ``referral``.
    metric: Mapped[str] = mapped_column(String(24), primary_key=True)
    #: What was counted: a target (``topic:sis-gratuito``), an organisation id, or "".
    key: Mapped[str] = mapped_column(String(120), primary_key=True, default="")
    count: Mapped[int] = mapped_column(Integer, default=0)


class UnansweredQuestion(Base):
    __tablename__ = "unanswered_questions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    lang: Mapped[str] = mapped_column(String(4))
    #: ``unanswered`` (no confident answer) or ``near_miss`` (asked which one).
    kind: Mapped[str] = mapped_column(String(16), default="unanswered")
    #: The question with personal data replaced by placeholders.
    text: Mapped[str] = mapped_column(Text)
    #: Below-threshold candidates, for the near-miss report ("" if none).
    guesses: Mapped[str] = mapped_column(String(400), default="")


class AdminSession(Base):
    """A dashboard login. Logging out deletes the row, so the cookie stops working at once."""

    __tablename__ = "admin_sessions"

    #: SHA-256 of the random session id in the cookie (the id itself is not stored).
    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class HealthProbe(Base):
    """Written, read back and deleted by ``/healthz``: proof that the database takes writes."""

    __tablename__ = "health_probes"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    checked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Staff(Base):
    """A person of a partner organisation who answers hand-offs in ``/inbox``."""

    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    #: The organisation id (``ocasiven``); each sees only its own conversations.
    org: Mapped[str] = mapped_column(String(40), index=True)
    name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str] = mapped_column(String(254), unique=True)
    #: ``agent`` (the inbox) or ``coordinator`` (the inbox and the dashboard).
    role: Mapped[str] = mapped_column(String(16))
    #: argon2id hash (argon2-cffi); the password itself is never stored.
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class StaffSession(Base):
    """A staff login. Logging out or revoking the account ends it at once."""

    __tablename__ = "staff_sessions"

    #: SHA-256 of the random session id in the cookie.
    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    staff_id: Mapped[int] = mapped_column(Integer, index=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class Handoff(Base):
    """A conversation a partner organisation's staff took over, with the person's consent."""

    __tablename__ = "handoffs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    pseudonym: Mapped[str] = mapped_column(String(64), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    org: Mapped[str] = mapped_column(String(40), index=True)
    #: ``waiting``, ``claimed`` or ``closed``.
    status: Mapped[str] = mapped_column(String(16), index=True)
    claimed_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    #: Where replies go (encrypted JSON); None for the web chat and after close.
    address: Mapped[str | None] = mapped_column(Text, nullable=True)
    #: What the bot last answered (a target) and the person's city, as context for staff.
    topic: Mapped[str | None] = mapped_column(String(120), nullable=True)
    city: Mapped[str | None] = mapped_column(String(60), nullable=True)
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    outcome: Mapped[str | None] = mapped_column(String(24), nullable=True)
    #: The person's last message: WhatsApp allows free text for 24 hours after it.
    last_inbound_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: When the WhatsApp template was last sent (once per closed window).
    template_sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class HandoffMessage(Base):
    """One message of a hand-off: the person's, a staff reply, or a note (claimed, closed).

    A staff reply (``out``) is also the outbox: ``pending`` until a sender takes it,
    ``sending`` while it does, then Twilio's statuses; ``held`` while WhatsApp's
    24-hour window is closed.
    """

    __tablename__ = "handoff_messages"
    __table_args__ = (UniqueConstraint("handoff_id", "key", name="uq_handoff_message_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    handoff_id: Mapped[int] = mapped_column(Integer, index=True)
    #: ``in`` (the person), ``out`` (to the person), ``note`` (for staff only).
    direction: Mapped[str] = mapped_column(String(8))
    #: ``text``, ``template`` (WhatsApp's approved message) or ``notice`` (the bot's).
    kind: Mapped[str] = mapped_column(String(12), default="text")
    #: Encrypted text.
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    staff_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    status: Mapped[str | None] = mapped_column(String(16), nullable=True, index=True)
    #: Twilio's message SID or Telegram's message id, once sent.
    provider_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    error: Mapped[str | None] = mapped_column(String(300), nullable=True)
    #: The sender's own id for the reply, so a double click or a retry sends once.
    key: Mapped[str | None] = mapped_column(String(80), nullable=True)
    #: When a sender took it; a stale ``sending`` is checked with the platform after a crash.
    sending_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
