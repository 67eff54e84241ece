"""The outbox: a thread per worker that sends staff replies and the bot's notices.

Messages wait in ``handoff_messages`` as ``pending``. A worker claims one with
a conditional update (``pending`` → ``sending``, stamped with the time), so two
workers never take the same one, sends it, and records the platform's answer.
If the process dies in the middle (kill -9), the message stays ``sending``;
once that is older than :data:`STALE_AFTER`, a worker asks the platform
whether it went out (:meth:`~bot.handoff.senders.Sender.find_sent`) and
either records it or sends it: once, not twice, and never lost.

The thread sleeps until :meth:`Outbox.wake` (a reply was queued) or a second
passes; when idle it only reads.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine as Database
from sqlalchemy import and_, or_, select

from bot.handoff import store
from bot.handoff.sealing import Sealer
from bot.handoff.senders import SEND_TIMEOUT, Sender, Sent
from bot.handoff.store import MESSAGES, Outgoing

log = logging.getLogger("pana.outbox")
#: A "sending" this old was left by a process that died (sends time out well before).
STALE_AFTER = timedelta(seconds=SEND_TIMEOUT * 3)
IDLE_SECONDS = 1.0


class Outbox:
    """Sends what waits; ``senders`` by channel (``whatsapp``, ``sms``, ``telegram``).

    ``name_of`` gives an organisation's name for the prefix staff replies carry.
    """

    def __init__(
        self,
        database: Database,
        sealer: Sealer,
        senders: Mapping[str, Sender],
        name_of: Callable[[str], str],
        stale_after: timedelta = STALE_AFTER,
    ) -> None:
        self.database = database
        self.sealer = sealer
        self.senders = dict(senders)
        self.name_of = name_of
        self.stale_after = stale_after
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="pana-outbox", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=SEND_TIMEOUT + 5)

    def wake(self) -> None:
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                busy = self.send_one()
            except Exception:  # a database hiccup must not end the thread
                log.exception("outbox step failed")
                busy = False
            if not busy:
                self._wake.wait(IDLE_SECONDS)
                self._wake.clear()

    def has_work(self, now: datetime) -> bool:
        """A read-only look: anything pending, or a stale "sending"?"""
        stale = and_(
            MESSAGES.c.status == "sending", MESSAGES.c.sending_since < now - self.stale_after
        )
        query = select(MESSAGES.c.id).where(
            MESSAGES.c.direction == "out", or_(MESSAGES.c.status == "pending", stale)
        )
        with self.database.connect() as connection:
            return connection.execute(query.limit(1)).first() is not None

    def send_one(self, now: datetime | None = None) -> bool:
        """Send the oldest waiting message; False when there was none."""
        now = now or datetime.now(UTC)
        if not self.has_work(now):
            return False
        with self.database.begin() as connection:
            item = store.take_next(connection, self.sealer, now, now - self.stale_after)
        if item is None:
            return False
        result = self._deliver(item)
        with self.database.begin() as connection:
            store.mark(connection, item.id, result.status, result.provider_id, result.error)
        log.info("handoff message sent", extra={"status": result.status, "channel": item.channel})
        return result.status != "pending"  # "cannot tell yet": rest before asking again

    def _deliver(self, item: Outgoing) -> Sent:
        sender = self.senders.get(item.channel)
        if sender is None:
            return Sent("failed", error=f"{item.channel} is not configured")
        text = self.text_of(item)
        if item.sending_since is not None:
            # A worker died while sending this: did it go out?
            found = sender.find_sent(item, text, item.sending_since)
            if found is None:
                return Sent("pending")  # cannot tell yet; try again later
            if found.status != "unsent":
                return found
        return sender.send(item, text)

    def text_of(self, item: Outgoing) -> str:
        """A staff reply carries its organisation's name; the bot's notices do not."""
        return store.as_sent(item.kind, item.text, self.name_of(item.org))
