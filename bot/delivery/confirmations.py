"""The queue of "it went out" records, written off the event loop.

A channel that sends its replies in the HTTP response confirms them once the
response is written (:class:`bot.channels.confirmed.ConfirmedResponse`). That
happens on the event loop, where no database work may wait, so the record is
queued here. A thread of the queue's own writes what is waiting at once, in
one statement however many are waiting, unless the next message's
transaction takes them first (:meth:`ConfirmationQueue.take`). The sooner
they are written, the smaller the window in which a crash makes a retry
repeat an answer.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection
from sqlalchemy import Engine as Database

from bot.delivery import ledger
from bot.storage.tables import dialect

log = logging.getLogger("pana.delivery")

#: One queued confirmation: channel, delivery id, when it was sent.
Confirmation = dict[str, Any]


class ConfirmationQueue:
    """Confirmations waiting to be written.

    Example::

        queue = ConfirmationQueue(database)
        queue.add("telegram", "8812")    # from the event loop: no database work
        batch = queue.take()             # in a message's transaction ...
        queue.write(connection, batch)   # ... riding on its commit
        queue.close()                    # at shutdown: write what is left
    """

    def __init__(self, database: Database) -> None:
        self.database = database
        self._pending: list[Confirmation] = []
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._wake = threading.Event()
        self._writer: threading.Thread | None = None

    def add(self, channel: str, delivery_id: str) -> None:
        """Queue one confirmation and wake the writer."""
        confirmation = {
            "c": channel,
            "d": delivery_id[: ledger.ID_LENGTH],
            "now": datetime.now(UTC),
        }
        with self._lock:
            self._pending.append(confirmation)
            if self._writer is None:
                self._writer = threading.Thread(target=self._write_forever, daemon=True)
                self._writer.start()
        self._wake.set()

    def take(self) -> list[Confirmation]:
        """Everything queued, now the caller's to write (or to :meth:`requeue`)."""
        with self._lock:
            batch, self._pending = self._pending, []
        return batch

    def requeue(self, batch: list[Confirmation]) -> None:
        """Give back a batch whose transaction did not commit."""
        if batch:
            with self._lock:
                self._pending[:0] = batch

    @staticmethod
    def write(connection: Connection, batch: list[Confirmation]) -> None:
        """Add the batch to the caller's transaction."""
        if batch:
            ledger.mark_sent(connection, batch)

    def flush(self) -> None:
        """Write what is queued now, in a transaction of its own."""
        batch = self.take()
        if not batch:
            return
        try:
            with self.database.begin() as connection:
                if dialect(connection) == "postgresql":
                    # Don't wait for the disk: losing this to a database crash only means a
                    # resend, and a wait per confirmation would cost every message a second
                    # fsync.
                    connection.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
                ledger.mark_sent(connection, batch)
        except Exception:
            # Not fatal: an unconfirmed reply is only resent if this run dies and the
            # platform retries.
            log.exception("could not record sent replies", extra={"count": len(batch)})

    def close(self) -> None:
        """Write the confirmations still queued (graceful shutdown) and stop the writer."""
        self._closing.set()
        self._wake.set()
        self.flush()

    def _write_forever(self) -> None:
        while self._wake.wait() and not self._closing.is_set():
            self._wake.clear()
            self.flush()
