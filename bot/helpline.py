"""One message in, replies out, in one transaction.

Every channel calls :meth:`Helpline.receive` (through
:func:`bot.channels.base.answer`). It locks the person's conversation row,
asks the engine, takes the delivery key (so a retry is answered once) and
writes the new state, the counters and any unanswered question: either
everything is stored or nothing is.

What is written lives in :mod:`bot.storage` (conversations, statistics,
questions, retention) and :mod:`bot.delivery` (the ledger and the
confirmation queue); each helper takes the open connection, and this module
owns the transaction.
"""

from __future__ import annotations

import logging
import os
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from sqlalchemy import Connection
from sqlalchemy import Engine as Database

from bot.database import checkpoint
from bot.delivery import ledger
from bot.delivery.confirmations import ConfirmationQueue
from bot.handoff import store as handoffs
from bot.handoff.sealing import Sealer
from bot.limits import FloodWindow, RateWindow
from bot.privacy import pseudonymise
from bot.storage import conversations, questions, retention, statistics
from bot.storage.tables import aware
from flows.engine import Engine
from flows.turn import Incoming, Reply, State

log = logging.getLogger("pana.helpline")

#: Messages this module says itself, from the messages table.
MESSAGES = ("slow_down",)
#: How long the list of organisations with staff is reused before it is read again.
STAFFED_SECONDS = 10.0


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


class Helpline:
    """The bot as the channels see it.

    Example::

        helpline = Helpline(engine, make_database("sqlite:///pana.db"), key=b"…")
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
        sealer: Sealer | None = None,
    ) -> None:
        self.engine = engine
        self.database = database
        self.key = key
        self.user_limit = user_messages_per_minute
        self.global_window = RateWindow(global_messages_per_minute)
        self.last_handled: datetime | None = None
        #: Shared by every worker of one server run (``pana serve`` sets PANA_GENERATION).
        self.generation = os.environ.get("PANA_GENERATION") or secrets.token_hex(8)
        self.confirmations = ConfirmationQueue(database)
        #: Seals hand-off messages and addresses (HANDOFF_KEY); tests may leave it derived.
        self.sealer = sealer or Sealer(key)
        self._staffed: tuple[float, tuple[str, ...]] = (-STAFFED_SECONDS, ())

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
        reply_to: Mapping[str, str] | None = None,
    ) -> Outcome:
        """Handle one message; see the module docstring for the guarantees.

        ``confirm_later``: the channel sends the replies after this returns (in
        the HTTP response) and calls :meth:`confirm_soon` when they went out;
        until then a retry from a restarted server gets the same replies again.
        ``referral``: the organisation whose link opened the channel (the web
        chat's ``/?ref=CODE``), counted if this is the person's first message.
        ``reply_to``: where a staff member's reply would go (the platform's address),
        stored sealed only while the person is in a hand-off.
        Raises :class:`Busy` above the global ceiling, having stored nothing.
        """
        now = now or datetime.now(UTC)
        pseudonym = self.pseudonym(channel, platform_id)
        sent = self.confirmations.take()
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
                        reply_to,
                    )
                    if outcome.duplicate:
                        # The delivery was already taken: undo this attempt's writes.
                        transaction.rollback()
                    else:
                        # Riding on this commit: no transaction (nor lock wait) of their own.
                        self.confirmations.write(connection, sent)
            except BaseException:
                self.confirmations.requeue(sent)
                raise
            if outcome.duplicate:
                self.confirmations.requeue(sent)
                log.info("duplicate delivery", extra={"user": pseudonym[:12], "channel": channel})
                replies = ledger.unsent_replies(
                    connection, channel, delivery_id or "", now, self.generation
                )
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
        now = now or datetime.now(UTC)
        pseudonym = self.pseudonym(channel, platform_id)
        with self.database.begin() as connection:
            user = conversations.lock(connection, pseudonym, channel, now)
            turn = self.engine.greet(State.from_dict(user.state), incoming)
            conversations.save_state(connection, pseudonym, turn.state)
        return Outcome(replies=list(turn.replies), pseudonym=pseudonym)

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
        reply_to: Mapping[str, str] | None = None,
    ) -> Outcome:
        """One transaction: lock the person, answer, take the delivery key, then write.

        The key is taken after the engine has answered and before anything
        else is written (see :mod:`bot.delivery.ledger`).
        """
        user = conversations.lock(connection, pseudonym, channel, now)
        state = State.from_dict(user.state)
        # The person's first message: no flood window yet (a greeting does not open one).
        first_message = user.window_start is None
        counts = statistics.message_counts(first_message, aware(user.updated_at) or now, now)
        window = FloodWindow(aware(user.window_start), user.window_count)
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
            incoming = replace(incoming, now=now, staffed=self.staffed(connection))
            turn = self.engine.handle(state, incoming)
            outcome = Outcome(replies=list(turn.replies))
        unsent = outcome.replies if confirm_later else None
        if delivery_id and not ledger.take(
            connection, channel, delivery_id, pseudonym, now, self.generation, unsent
        ):
            return Outcome(duplicate=True)
        if turn is not None and any(e.kind == "delete_user" for e in turn.events):
            statistics.add(connection, now.date(), channel, counts)
            retention.forget(connection, pseudonym)
            handoffs.forget(connection, pseudonym)
            outcome.forgot_user = True
            return outcome
        if turn is not None:
            counts += statistics.event_counts(turn.events, first_message)
            if referral and first_message and ("referral", referral) not in counts:
                counts.append(("referral", referral))
            questions.record(connection, turn.events, turn.state.lang, now)
            if state.handoff or turn.state.handoff or state.awaiting == "consent":
                handoffs.record_turn(
                    connection, self.sealer, pseudonym, channel, turn.events, state, reply_to, now
                )
            state = turn.state
        statistics.add(connection, now.date(), channel, counts)
        conversations.save(connection, pseudonym, state, now, window)
        return outcome

    def staffed(self, connection: Connection) -> tuple[str, ...]:
        """Organisations whose staff take hand-offs, read at most every few seconds."""
        read_at, orgs = self._staffed
        if time.monotonic() - read_at >= STAFFED_SECONDS:
            orgs = handoffs.staffed_organisations(connection)
            self._staffed = (time.monotonic(), orgs)
        return orgs

    # -- delivery -------------------------------------------------------------

    def confirm_soon(self, channel: str, delivery_id: str | None) -> None:
        """Record, a moment from now, that a reply went out (no database work here).

        See :mod:`bot.delivery.confirmations`.
        """
        if delivery_id:
            self.confirmations.add(channel, delivery_id)

    def release(self, channel: str, delivery_id: str) -> None:
        """The replies could not be sent: let the platform's retry have them, even in this run.

        Normally a retry taken by the run that took the original is racing it
        and gets nothing; after a failed send there is no original to race.
        """
        with self.database.begin() as connection:
            ledger.release(connection, channel, delivery_id)

    def close(self) -> None:
        """Record the confirmations still queued (graceful shutdown)."""
        self.confirmations.close()
