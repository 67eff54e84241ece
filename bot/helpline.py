"""One message in, replies out: storage, limits and the engine, in one transaction.

Every channel calls :meth:`Helpline.receive`. It loads and locks the user's
state, asks the engine, takes the delivery key (so a retry is answered
once), and writes the new state, the counters and any unanswered question,
all in one database transaction: either everything is stored or nothing is.

Storage is SQLAlchemy Core, a handful of statements per message with no ORM
unit of work: the ORM cost more CPU per message than the engine and the web
framework together (docs/performance.md).
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Connection, Table, bindparam, delete, insert, select, update
from sqlalchemy import Engine as Database
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from bot.database import checkpoint
from bot.limits import RateWindow
from bot.models import (
    AdminSession,
    Conversation,
    DailyCount,
    Delivery,
    HealthProbe,
    UnansweredQuestion,
)
from bot.privacy import pseudonymise, scrub
from flows.engine import Engine
from flows.turn import Event, Incoming, Option, Reply, State

log = logging.getLogger("pana.helpline")

#: A retry younger than this is taken to be racing the original, which is still sending.
RESEND_AFTER = timedelta(seconds=2)


class Busy(Exception):
    """The per-process ceiling on answered messages is reached: nothing was stored.

    The channel answers 503 (Twilio then calls its fallback URL) or says it is
    busy; the delivery was not recorded, so a later retry is answered.
    """


@dataclass
class Outcome:
    """What to send back. ``duplicate``: a retried delivery, already answered."""

    replies: list[Reply] = field(default_factory=list)
    duplicate: bool = False
    limited: bool = False
    pseudonym: str = ""
    #: The user asked to be forgotten and was.
    forgot_user: bool = False


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _aware(moment: datetime | None) -> datetime | None:
    """SQLite returns naive datetimes; treat them as UTC."""
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


class Helpline:
    """The bot as the channels see it.

    Example::

        helpline = Helpline(engine, create_engine("sqlite:///pana.db"), key=b"…")
        outcome = helpline.receive("whatsapp", "+51987654321", Incoming("whatsapp", "hola"),
                                   delivery_id="SM123")
    """

    def __init__(
        self,
        engine: Engine,
        database: Database,
        key: bytes,
        user_messages_per_minute: int = 20,
        global_messages_per_minute: int = 3000,
    ) -> None:
        self.engine = engine
        self.database = database
        self.key = key
        self.user_limit = user_messages_per_minute
        self.global_window = RateWindow(global_messages_per_minute)
        self.last_handled: datetime | None = None
        #: Shared by every worker of one server run (``pana serve`` sets PANA_GENERATION).
        self.generation = os.environ.get("PANA_GENERATION") or secrets.token_hex(8)
        self._pending: list[dict[str, Any]] = []
        self._pending_lock = threading.Lock()
        self._closing = threading.Event()
        self._wake = threading.Event()
        self._flusher: threading.Thread | None = None

    def pseudonym(self, channel: str, platform_id: str) -> str:
        return pseudonymise(self.key, channel, platform_id)

    def receive(
        self,
        channel: str,
        platform_id: str,
        incoming: Incoming,
        delivery_id: str | None = None,
        now: datetime | None = None,
        confirm_later: bool = False,
        referral: str | None = None,
    ) -> Outcome:
        """Handle one message; see the module docstring for the guarantees.

        ``confirm_later``: the channel sends the replies after this returns
        (Telegram's sendMessage, the TwiML response) and calls
        :meth:`confirm_soon` when they went out; until then a retry of the same
        delivery from a restarted server gets the same replies again. The web
        chat leaves it False: its reply goes out with the commit.

        ``referral``: the organisation whose link opened the channel (the web
        chat's ``/?ref=CODE``); counted if this message starts the person's
        first conversation, as a flyer code in a first message is.

        Raises :class:`Busy` above the global ceiling, having stored nothing.
        """
        now = now or _utcnow()
        pseudonym = self.pseudonym(channel, platform_id)
        sent = self._take_pending()
        with self.database.connect() as connection:
            try:
                with connection.begin() as transaction:
                    outcome = self._receive(
                        connection,
                        pseudonym,
                        channel,
                        incoming,
                        delivery_id,
                        now,
                        confirm_later,
                        referral,
                    )
                    if outcome.duplicate:
                        # The delivery was already taken: undo this attempt's writes.
                        transaction.rollback()
                    elif sent:
                        # Riding on this commit: no transaction (nor lock wait) of their own.
                        connection.execute(_CONFIRM_SENT, sent)
            except BaseException:
                self._requeue(sent)
                raise
            if outcome.duplicate:
                self._requeue(sent)
                log.info("duplicate delivery", extra={"user": pseudonym[:12], "channel": channel})
                replies = self._unsent_replies(connection, channel, delivery_id or "", now)
                return Outcome(replies=replies, duplicate=True, pseudonym=pseudonym)
        if outcome.forgot_user:
            checkpoint(self.database)
        self.last_handled = now
        log.info(
            "message handled",
            extra={"user": pseudonym[:12], "channel": channel, "replies": len(outcome.replies)},
        )
        outcome.pseudonym = pseudonym
        return outcome

    def greet(
        self, channel: str, platform_id: str, incoming: Incoming, now: datetime | None = None
    ) -> Outcome:
        """What a channel shows before the person writes: the web chat greets on opening.

        Not a message: nothing is counted, the flood window is untouched and the
        conversation starts with the person's first message. The state is stored
        (a new person's row is created), so the greeting's numbers mean what it shows.
        """
        now = now or _utcnow()
        pseudonym = self.pseudonym(channel, platform_id)
        with self.database.begin() as connection:
            user, _ = _lock_conversation(connection, pseudonym, channel, now)
            turn = self.engine.handle(State.from_dict(user.state), incoming)
            connection.execute(_SAVE_STATE, {"p": pseudonym, "state": turn.state.to_dict()})
        return Outcome(replies=turn.replies, pseudonym=pseudonym)

    # -- steps ----------------------------------------------------------------

    def _receive(
        self,
        connection: Connection,
        pseudonym: str,
        channel: str,
        incoming: Incoming,
        delivery_id: str | None,
        now: datetime,
        confirm_later: bool,
        referral: str | None = None,
    ) -> Outcome:
        """One transaction: lock the user, answer, then take the delivery key.

        The key is inserted last (one statement, no savepoint): a retry waits
        on the user's row while the original runs, then finds the key taken
        and its whole attempt is rolled back.
        """
        user, _ = _lock_conversation(connection, pseudonym, channel, now)
        day = now.date()
        state = State.from_dict(user.state)
        # The person's first message: no flood window yet (a greeting does not open one).
        first_message = user.window_start is None
        counts = [("messages", "")]
        if first_message or (_aware(user.updated_at) or now).date() != day:
            counts.append(("conversations", ""))
        window = _Window(_aware(user.window_start), user.window_count)
        over = window.add(now, self.user_limit)
        outcome, turn = Outcome(limited=True), None
        if over is not None:
            if over:
                outcome.replies = [Reply(self.engine.kb.message("slow_down", state.lang))]
        elif not self.global_window.allow():
            # Before the delivery key is taken: the rollback leaves no trace, and a retry
            # once the minute has passed is answered.
            log.warning("global ceiling reached: answering busy", extra={"channel": channel})
            raise Busy
        else:
            turn = self.engine.handle(state, incoming)
            outcome = Outcome(replies=turn.replies)
        if delivery_id and not _take_delivery(
            connection,
            channel,
            delivery_id,
            pseudonym,
            now,
            self.generation,
            outcome.replies if confirm_later else None,
        ):
            return Outcome(duplicate=True)
        if turn is not None and any(e.kind == "delete_user" for e in turn.events):
            _count(connection, day, channel, counts)
            _forget(connection, pseudonym)
            outcome.forgot_user = True
            return outcome
        if turn is not None:
            counts += _event_counts(turn.events, first_message)
            if referral and first_message and ("referral", referral) not in counts:
                counts.append(("referral", referral))
            _record_questions(connection, turn.events, turn.state.lang, now)
            state = turn.state
        _count(connection, day, channel, counts)
        connection.execute(
            _SAVE_CONVERSATION,
            {
                "p": pseudonym,
                "state": state.to_dict(),
                "now": now,
                "window_start": window.start,
                "window_count": window.count,
            },
        )
        return outcome

    def _unsent_replies(
        self, connection: Connection, channel: str, delivery_id: str, now: datetime
    ) -> list[Reply]:
        """The stored answer to a retried delivery whose reply never went out.

        Only when the original's server run is gone (a crash and restart): a
        retry taken by the same run is racing the original, which is still
        sending or has sent. Across separately started instances, a retry
        younger than ``RESEND_AFTER`` is taken to be racing too.
        """
        columns = _DELIVERIES.c
        row = connection.execute(
            select(columns.replies, columns.sent_at, columns.generation, columns.created_at).where(
                columns.channel == channel, columns.delivery_id == delivery_id[:128]
            )
        ).first()
        if row is None or row.sent_at is not None or not row.replies:
            return []
        if row.generation == self.generation:
            return []
        if now - (_aware(row.created_at) or now) < RESEND_AFTER:
            return []
        log.warning("resending an answer that was never confirmed sent", extra={"channel": channel})
        return [_reply_from_json(r) for r in row.replies]

    def confirm_soon(self, channel: str, delivery_id: str | None) -> None:
        """Record, a moment from now, that a reply went out.

        No database work on the event loop: the helpline's own thread writes
        the queued confirmations at once, in one statement however many are
        waiting, unless a message's transaction takes them first. The sooner
        they are written, the smaller the window in which a crash makes a
        retry repeat an answer.
        """
        if not delivery_id:
            return
        with self._pending_lock:
            self._pending.append({"c": channel, "d": delivery_id[:128], "now": _utcnow()})
            if self._flusher is None:
                self._flusher = threading.Thread(target=self._flush_forever, daemon=True)
                self._flusher.start()
        self._wake.set()

    def _flush_forever(self) -> None:
        while self._wake.wait() and not self._closing.is_set():
            self._wake.clear()
            self._flush()

    def release(self, channel: str, delivery_id: str) -> None:
        """The replies could not be sent: let the platform's retry have them, even in this run.

        Normally a retry taken by the run that took the original is racing it
        and gets nothing; after a failed send there is no original to race.
        """
        with self.database.begin() as connection:
            connection.execute(
                update(_DELIVERIES)
                .where(
                    _DELIVERIES.c.channel == channel,
                    _DELIVERIES.c.delivery_id == delivery_id[:128],
                    _DELIVERIES.c.sent_at.is_(None),
                )
                .values(generation=None)
            )

    def _take_pending(self) -> list[dict[str, Any]]:
        with self._pending_lock:
            batch, self._pending = self._pending, []
        return batch

    def _requeue(self, batch: list[dict[str, Any]]) -> None:
        if batch:
            with self._pending_lock:
                self._pending[:0] = batch

    def _flush(self) -> None:
        batch = self._take_pending()
        if not batch:
            return
        try:
            with self.database.begin() as connection:
                _confirm(connection, batch)
        except Exception:
            # Not fatal: an unconfirmed reply is only resent if this run dies and the
            # platform retries.
            log.exception("could not record sent replies", extra={"count": len(batch)})

    def close(self) -> None:
        """Record the confirmations still queued (graceful shutdown)."""
        self._closing.set()
        self._wake.set()
        self._flush()

    # -- maintenance ----------------------------------------------------------

    def forget(self, channel: str, platform_id: str) -> None:
        """Delete everything tied to one user (also reachable by "borrar mis datos")."""
        with self.database.begin() as connection:
            _forget(connection, self.pseudonym(channel, platform_id))
        checkpoint(self.database)

    def purge(self, older_than_days: int, now: datetime | None = None) -> dict[str, int]:
        """Delete conversations, delivery records and unanswered questions older than
        ``older_than_days`` (conversations: unused that long), and expired dashboard sessions.
        """
        now = now or _utcnow()
        cutoff = now - timedelta(days=older_than_days)
        conversations, deliveries, questions = _CONVERSATIONS, _DELIVERIES, _QUESTIONS
        with self.database.begin() as connection:
            old_conversations = connection.execute(
                delete(conversations).where(conversations.c.updated_at < cutoff)
            )
            old_deliveries = connection.execute(
                delete(deliveries).where(deliveries.c.created_at < cutoff)
            )
            old_questions = connection.execute(
                delete(questions).where(questions.c.created_at < cutoff)
            )
            connection.execute(delete(_ADMIN_SESSIONS).where(_ADMIN_SESSIONS.c.expires_at < now))
            connection.execute(delete(_PROBES).where(_PROBES.c.checked_at < cutoff))
        removed = {
            "conversations": old_conversations.rowcount,
            "deliveries": old_deliveries.rowcount,
            "questions": old_questions.rowcount,
        }
        if any(removed.values()):
            checkpoint(self.database)
        return removed


@dataclass
class _Window:
    """The flood limit: the start of the user's current minute and the messages in it."""

    start: datetime | None
    count: int

    def add(self, now: datetime, limit: int) -> bool | None:
        """Count one message. None: within the limit; True: first one over it; False: silence."""
        if self.start is None or now - self.start >= timedelta(minutes=1):
            self.start, self.count = now, 1
            return None
        self.count += 1
        if self.count <= limit:
            return None
        return self.count == limit + 1


@dataclass
class _NewConversation:
    state: dict[str, Any]
    updated_at: datetime
    window_start: datetime | None = None
    window_count: int = 0


_CONVERSATIONS = cast(Table, Conversation.__table__)
_DELIVERIES = cast(Table, Delivery.__table__)
_COUNTS = cast(Table, DailyCount.__table__)
_QUESTIONS = cast(Table, UnansweredQuestion.__table__)
_ADMIN_SESSIONS = cast(Table, AdminSession.__table__)
_PROBES = cast(Table, HealthProbe.__table__)
_INSERTS: dict[str, Any] = {"postgresql": postgresql_insert, "sqlite": sqlite_insert}


def _dialect(connection: Connection) -> str:
    return "postgresql" if connection.dialect.name == "postgresql" else "sqlite"


def _lock_conversation(
    connection: Connection, pseudonym: str, channel: str, now: datetime
) -> tuple[Any, bool]:
    """The user's row, locked until commit (created if new): (row, is_new).

    Locked with ``FOR UPDATE`` on PostgreSQL; SQLite's ``BEGIN IMMEDIATE``
    already holds the database's single write lock.
    """
    dialect = _dialect(connection)
    row = connection.execute(_LOAD_CONVERSATION[dialect], {"p": pseudonym}).first()
    if row is not None:
        return row, False
    values = {
        "pseudonym": pseudonym,
        "channel": channel,
        "state": {},
        "version": 0,
        "created_at": now,
        "updated_at": now,
        "window_start": None,
        "window_count": 0,
    }
    if connection.execute(_CREATE_CONVERSATION[dialect], values).first() is None:
        # Another worker created it a moment ago (and has committed): take theirs, locked.
        return connection.execute(_LOAD_CONVERSATION[dialect], {"p": pseudonym}).one(), False
    return _NewConversation(state={}, updated_at=now), True


def _take_delivery(
    connection: Connection,
    channel: str,
    delivery_id: str,
    pseudonym: str,
    now: datetime,
    generation: str,
    unsent: list[Reply] | None,
) -> bool:
    """Insert the delivery key; False when it was already taken (a retry).

    ``unsent``: replies the channel has yet to send, kept until it confirms;
    None means they go out with the commit.
    """
    values: dict[str, Any] = {
        "channel": channel,
        "delivery_id": delivery_id[:128],
        "pseudonym": pseudonym,
        "created_at": now,
        "generation": generation,
        "replies": None,
        "sent_at": now,
    }
    if unsent is not None:
        values["replies"] = [_reply_to_json(r) for r in unsent] or None
        values["sent_at"] = None if unsent else now
    return connection.execute(_TAKE_DELIVERY[_dialect(connection)], values).first() is not None


def _event_counts(events: list[Event], first_message: bool) -> list[tuple[str, str]]:
    """The dashboard counters one turn adds to: topics answered, referrals, unanswered,
    kinds of danger (never their text), feedback per topic, low-confidence answers."""
    counts: list[tuple[str, str]] = []
    for event in events:
        if event.kind == "answered":
            counts.append(("answered", event.value))
        elif event.kind == "referral" and first_message:
            counts.append(("referral", event.value))
        elif event.kind in ("unanswered", "out_of_scope"):
            counts.append((event.kind, ""))
        elif event.kind == "danger":
            counts.append(("danger", event.value))
        elif event.kind == "feedback":
            counts.append((f"feedback_{event.detail}", event.value))
        elif event.kind == "low_confidence":
            counts.append(("low_confidence", event.detail))
    return counts


def _record_questions(
    connection: Connection, events: list[Event], lang: str, now: datetime
) -> None:
    """Store an unanswered, out-of-scope, low-confidence or barely-matched message,
    scrubbed, with no user id. A message that spoke of danger is never stored."""
    if any(e.kind in ("danger", "danger_check") for e in events):
        return
    near_miss = next((e for e in events if e.kind == "near_miss"), None)
    guesses = near_miss.detail if near_miss else ""
    rows = [
        _question(e.value, e.kind, lang, e.detail or guesses, now)
        for e in events
        if e.kind in ("unanswered", "out_of_scope", "low_confidence")
    ]
    if near_miss is not None and not rows:
        rows.append(_question(near_miss.value, "near_miss", lang, guesses, now))
    if rows:
        connection.execute(insert(_QUESTIONS), rows)


def _reply_to_json(reply: Reply) -> dict[str, Any]:
    options = [[o.key, o.label] for o in reply.options]
    return {
        "text": reply.text,
        "short": reply.short,
        "options": options,
        "feedback": reply.feedback,
    }


def _reply_from_json(data: dict[str, Any]) -> Reply:
    options = tuple(Option(str(k), str(label)) for k, label in data.get("options") or ())
    return Reply(
        str(data.get("text", "")), options, data.get("short"), bool(data.get("feedback", False))
    )


def _question(text: str, kind: str, lang: str, guesses: str, now: datetime) -> dict[str, Any]:
    return {
        "created_at": now,
        "lang": lang,
        "kind": kind,
        "text": scrub(text)[:1000],
        "guesses": guesses[:400],
    }


def _forget(connection: Connection, pseudonym: str) -> None:
    connection.execute(delete(_CONVERSATIONS).where(_CONVERSATIONS.c.pseudonym == pseudonym))
    connection.execute(delete(_DELIVERIES).where(_DELIVERIES.c.pseudonym == pseudonym))


# Statements are built once: building one costs more than running it (docs/performance.md).

_CONVERSATION_COLUMNS = select(
    _CONVERSATIONS.c.state,
    _CONVERSATIONS.c.updated_at,
    _CONVERSATIONS.c.window_start,
    _CONVERSATIONS.c.window_count,
).where(_CONVERSATIONS.c.pseudonym == bindparam("p"))

_LOAD_CONVERSATION = {
    "postgresql": _CONVERSATION_COLUMNS.with_for_update(),
    "sqlite": _CONVERSATION_COLUMNS,
}

_CREATE_CONVERSATION = {
    name: dialect_insert(_CONVERSATIONS)
    .on_conflict_do_nothing(index_elements=["pseudonym"])
    .returning(_CONVERSATIONS.c.pseudonym)
    for name, dialect_insert in _INSERTS.items()
}

_TAKE_DELIVERY = {
    name: dialect_insert(_DELIVERIES)
    .on_conflict_do_nothing(index_elements=["channel", "delivery_id"])
    .returning(_DELIVERIES.c.id)
    for name, dialect_insert in _INSERTS.items()
}

#: The user's new state and flood window, written once per message.
_SAVE_CONVERSATION = (
    update(_CONVERSATIONS)
    .where(_CONVERSATIONS.c.pseudonym == bindparam("p"))
    .values(
        state=bindparam("state", type_=_CONVERSATIONS.c.state.type),
        version=_CONVERSATIONS.c.version + 1,
        updated_at=bindparam("now"),
        window_start=bindparam("window_start"),
        window_count=bindparam("window_count"),
    )
)

#: The state a greeting leaves; not a message, so neither ``updated_at`` nor the window moves.
_SAVE_STATE = (
    update(_CONVERSATIONS)
    .where(_CONVERSATIONS.c.pseudonym == bindparam("p"))
    .values(
        state=bindparam("state", type_=_CONVERSATIONS.c.state.type),
        version=_CONVERSATIONS.c.version + 1,
    )
)

#: The channel sent the replies: forget them, and answer retries with silence.
_CONFIRM_SENT = (
    update(_DELIVERIES)
    .where(_DELIVERIES.c.channel == bindparam("c"), _DELIVERIES.c.delivery_id == bindparam("d"))
    .values(sent_at=bindparam("now"), replies=None)
)


def _confirm(connection: Connection, batch: list[dict[str, Any]]) -> None:
    """Record sent replies in a transaction of their own."""
    if _dialect(connection) == "postgresql":
        # Don't wait for the disk: losing this to a database crash only means a resend,
        # and a wait per confirmation would cost every message a second fsync.
        connection.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
    connection.execute(_CONFIRM_SENT, batch)


def _counter_upsert(insert: Any) -> Any:
    statement = insert(_COUNTS).values(
        count=bindparam("n"),
        day=bindparam("day"),
        channel=bindparam("channel"),
        metric=bindparam("metric"),
        key=bindparam("key"),
    )
    return statement.on_conflict_do_update(
        index_elements=["day", "channel", "metric", "key"],
        set_={"count": _COUNTS.c.count + statement.excluded.count},
    )


#: Built once, on the table: building the ORM upsert on every call cost 0.33 ms against
#: 0.05 ms for this (docs/performance.md).
_COUNTER_UPSERT = {name: _counter_upsert(make) for name, make in _INSERTS.items()}


def _count(connection: Connection, day: date, channel: str, metrics: list[tuple[str, str]]) -> None:
    """Add to the daily counters, one statement for all of a message's (an upsert)."""
    statement = _COUNTER_UPSERT[_dialect(connection)]
    rows = [
        {"day": day, "channel": channel, "metric": metric, "key": key[:120], "n": n}
        for (metric, key), n in Counter(metrics).items()
    ]
    connection.execute(statement, rows)
