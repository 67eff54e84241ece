"""Stored users in bulk: rows written straight into ``conversations``.

A helpline that has run for a year holds many people's state; the webhook
must not slow down because of them. Going through the webhook to create a
million users would take longer than the whole benchmark may, so the rows
are inserted directly: ``executemany`` in one transaction on SQLite, COPY on
PostgreSQL. Pseudonyms are random 64-hex strings, like the HMACs Pana makes.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import sqlite3
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import psycopg
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

BATCH = 50_000
STATE = json.dumps(
    {
        "lang": "es", "menu": "health", "options": ["topic:sis-gratuito", "topic:essalud"],
        "trail": ["health"], "last": "topic:sis-gratuito", "city": "lima", "awaiting": None,
        "welcomed": True, "opted_out": False,
    }
)  # fmt: skip


def count_users(url: str) -> int:
    database = create_engine(url)
    try:
        with database.connect() as connection:
            return int(connection.execute(text("SELECT COUNT(*) FROM conversations")).scalar_one())
    finally:
        database.dispose()


def _rows(count: int, seed: int) -> Iterator[tuple[object, ...]]:
    rng = random.Random(seed)
    now = datetime.now(UTC).replace(tzinfo=None)
    for _ in range(count):
        yield (f"{rng.getrandbits(256):064x}", "whatsapp", STATE, 3, now, now, now, 1)


def add_users(url: str, count: int, seed: int = 5) -> float:
    """Insert ``count`` conversations; returns the seconds it took."""
    began = time.perf_counter()
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        _add_sqlite(parsed.database or "", count, seed)
    else:
        _add_postgres(parsed.set(drivername="postgresql").render_as_string(False), count, seed)
    settle_disk()
    return time.perf_counter() - began


def settle_disk() -> None:
    """Write dirty pages out now (``sync``).

    A bulk load leaves hundreds of MB for the kernel to write back; meanwhile
    every fsync (SQLite's checkpoints, each PostgreSQL commit) waits behind
    them, and the next measurement would time the disk's backlog, not Pana.
    """
    os.sync()


def _add_sqlite(path: str, count: int, seed: int) -> None:
    connection = sqlite3.connect(path, timeout=30)
    try:
        rows = (
            (p, c, s, v, str(a), str(b), str(w), n) for p, c, s, v, a, b, w, n in _rows(count, seed)
        )
        with connection:
            connection.executemany(
                "INSERT INTO conversations (pseudonym, channel, state, version, created_at, "
                "updated_at, window_start, window_count) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
        # A year's users arrive over a year; the WAL of one bulk load is not steady state,
        # so write it into the database now rather than during the measurement.
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()


def _add_postgres(conninfo: str, count: int, seed: int) -> None:
    with psycopg.connect(conninfo) as connection, connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit = off")  # a bulk load, not a user's message
        with cursor.copy(
            "COPY conversations (pseudonym, channel, state, version, created_at, updated_at, "
            "window_start, window_count) FROM STDIN"
        ) as copy:
            for row in _rows(count, seed):
                copy.write_row(row)
    # What autovacuum and the checkpointer do on a live server in the minutes after a bulk
    # load; done now so the measurement that follows sees steady state, not their work.
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE conversations")
        with contextlib.suppress(psycopg.errors.InsufficientPrivilege):
            connection.execute("CHECKPOINT")
