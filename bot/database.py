"""The database (SQLAlchemy's ``Engine``) and sessions; SQLite is tuned for one writer at a time.

SQLAlchemy calls its connection pool an *engine*; Pana calls it the
*database* (``from sqlalchemy import Engine as Database``), so that "engine"
always means the conversation engine, :class:`flows.engine.Engine`.

On SQLite every writing transaction starts with ``BEGIN IMMEDIATE`` (WAL
journal, busy timeout), so two messages from one user are serialised instead
of failing on a lock upgrade. On PostgreSQL the conversation row is locked
with ``SELECT … FOR UPDATE``.

The dashboard reads through :func:`make_reader`: connections that cannot
write and, on SQLite, begin with a plain ``BEGIN`` that takes no write lock,
so however long a report takes it never holds up a message.

Privacy on SQLite: ``secure_delete`` overwrites deleted rows, and
:func:`checkpoint` folds the write-ahead log back into the database file and
truncates it, so a deleted pseudonym does not linger in the ``-wal`` file.
The folder is created private (0700) and the database file 0600.
"""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, create_engine, event
from sqlalchemy import Engine as Database
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger("pana.database")
SQLITE_BUSY_TIMEOUT_MS = 15_000
#: How long a checkpoint after a deletion may wait for readers and writers.
CHECKPOINT_BUSY_TIMEOUT_MS = 2_000


def make_database(url: str) -> Database:
    """The database messages are written through; creates the SQLite file's folder if needed."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
    path = sqlite_path(url)
    if path is not None:
        _create_private_file(path)
    database = create_engine(
        url, connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
    )
    _serialise_sqlite_writes(database, path)
    return database


def make_reader(url: str) -> Database:
    """A database connection pool that only reads: for the dashboard and the reports.

    PostgreSQL: every transaction is ``READ ONLY``. SQLite: ``query_only`` and
    a deferred ``BEGIN``, which reads a snapshot of the WAL without taking the
    write lock that every message needs.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(
            url,
            pool_pre_ping=True,
            pool_size=2,
            max_overflow=4,
            connect_args={"options": "-c default_transaction_read_only=on"},
        )
    reader = create_engine(
        url, connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
    )

    @event.listens_for(reader, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA query_only=ON")
        cursor.close()

    @event.listens_for(reader, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN")

    return reader


def sqlite_path(url: str) -> Path | None:
    """The file an SQLite URL names; None for other databases and in-memory ones."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    database = parsed.database or ""
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def _create_private_file(path: Path) -> None:
    """Create the database's folder (0700) and an empty file (0600) if missing.

    SQLite gives its ``-wal`` and ``-shm`` files the database file's mode, so
    all three stay readable by the server's user only, whatever the umask.
    """
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def _file_identity(path: Path) -> tuple[int, int] | None:
    try:
        status = path.stat()
    except OSError:
        return None
    return status.st_dev, status.st_ino


def _serialise_sqlite_writes(database: Database, path: Path | None) -> None:
    @event.listens_for(database, "connect")
    def _on_connect(dbapi_connection: Any, record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        # Deleted rows are overwritten with zeros, not just unlinked from the b-tree.
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()
        if path is not None:
            # Which file this connection has open: if the path later names another file
            # (or none), the connection is writing somewhere nobody will read again.
            record.info["file_identity"] = _file_identity(path)

    @event.listens_for(database, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def opened_file_is_configured(connection: Connection) -> bool:
    """On SQLite: is the file this connection has open still the file at the configured path?

    False when the database file was deleted or replaced while the server ran.
    Always True for other databases.
    """
    path = sqlite_path(connection.engine.url.render_as_string(hide_password=False))
    if path is None:
        return True
    opened = connection.info.get("file_identity")
    return opened is not None and opened == _file_identity(path)


def checkpoint(database: Database) -> None:
    """SQLite: copy the write-ahead log into the database file and truncate it.

    Called after a deletion, so the deleted rows' old versions leave the
    ``-wal`` file at once instead of at some later automatic checkpoint. A
    checkpoint that cannot finish within two seconds (a long reader) or
    fails is logged and left to the next one: the deletion itself has been
    committed already. No-op on other databases.
    """
    if database.dialect.name != "sqlite":
        return
    try:
        raw = database.raw_connection()
        try:
            sqlite = raw.driver_connection
            assert sqlite is not None
            sqlite.execute(f"PRAGMA busy_timeout={CHECKPOINT_BUSY_TIMEOUT_MS}")
            try:
                busy, _, _ = sqlite.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            finally:
                sqlite.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        finally:
            raw.close()
    except Exception:
        log.exception("checkpoint after a deletion failed; the next one will fold the log")
        return
    if busy:
        log.warning("checkpoint after a deletion could not finish; the next one will")


def make_sessions(database: Database) -> sessionmaker[Session]:
    return sessionmaker(database, expire_on_commit=False)


def is_postgres(database: Database) -> bool:
    return database.dialect.name == "postgresql"
