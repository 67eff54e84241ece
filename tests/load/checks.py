"""After a load run: is the database consistent with what the users sent?

- one ``deliveries`` row per unique message (no more: duplicates were not
  recorded twice; no fewer: nothing accepted was forgotten), each tied to
  the pseudonym of the user who sent it;
- one ``conversations`` row per user, whose state JSON parses back into a
  :class:`~flows.turn.State` unchanged, and whose ``version`` equals the
  number of that user's messages (every message's state was written once,
  none overwritten by a concurrent one);
- the ``messages`` counters add up to the number of deliveries.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import create_engine, text

from bot.privacy import pseudonymise
from flows.turn import State
from tests.load.client import Delivery


@dataclass
class Check:
    name: str
    ok: bool
    detail: str


@dataclass
class DatabaseReport:
    checks: list[Check] = field(default_factory=list)
    #: (channel, delivery id) rows for messages that were never answered: their
    #: transaction committed, and the reply died with the server.
    committed_unanswered: int = 0

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def add(self, name: str, ok: bool, detail: str) -> None:
        self.checks.append(Check(name, ok, detail))


def check_database(url: str, deliveries: list[Delivery], key: bytes) -> DatabaseReport:
    """Compare the database at ``url`` with the messages sent."""
    report = DatabaseReport()
    database = create_engine(url)
    try:
        with database.connect() as connection:
            stored = connection.execute(
                text("SELECT channel, delivery_id, pseudonym FROM deliveries")
            ).all()
            conversations = connection.execute(
                text("SELECT pseudonym, state, version FROM conversations")
            ).all()
            counted = connection.execute(
                text("SELECT COALESCE(SUM(count), 0) FROM daily_counts WHERE metric = 'messages'")
            ).scalar_one()
    finally:
        database.dispose()

    def channel(d: Delivery) -> str:
        return d.request.user.channel

    def pseudonym(d: Delivery) -> str:
        return pseudonymise(key, channel(d), d.request.user.platform_id)

    expected = {(channel(d), d.request.key): pseudonym(d) for d in deliveries}
    found = {(row[0], row[1]): row[2] for row in stored}
    missing = expected.keys() - found.keys()
    extra = found.keys() - expected.keys()
    report.add(
        "deliveries",
        len(stored) == len(expected) and not missing and not extra,
        f"{len(stored)} rows for {len(expected)} unique messages "
        f"({len(missing)} missing, {len(extra)} unexpected)",
    )
    wrong_owner = sum(1 for k, p in expected.items() if k in found and found[k] != p)
    report.add("delivery owners", wrong_owner == 0, f"{wrong_owner} tied to the wrong user")
    unanswered = {(channel(d), d.request.key) for d in deliveries if d.times_answered == 0}
    report.committed_unanswered = len(unanswered & found.keys())

    per_user = Counter(pseudonym(d) for d in deliveries)
    versions = {row[0]: row[2] for row in conversations}
    report.add(
        "conversations",
        len(conversations) == len(per_user) and versions.keys() == per_user.keys(),
        f"{len(conversations)} rows for {len(per_user)} users",
    )
    bad_states = sum(1 for row in conversations if not _state_round_trips(row[1]))
    report.add("states", bad_states == 0, f"{bad_states} state(s) do not parse back")
    off = sum(1 for p, n in per_user.items() if versions.get(p) != n)
    report.add("versions", off == 0, f"{off} user(s) whose version != messages sent")
    report.add(
        "message counters",
        int(counted) == len(stored),
        f"daily 'messages' total {counted} for {len(stored)} deliveries",
    )
    return report


def _state_round_trips(raw: object) -> bool:
    # SQLite hands the JSON column back as text, PostgreSQL as a dict.
    try:
        data = json.loads(raw) if isinstance(raw, str | bytes) else raw
    except ValueError:
        return False
    if not isinstance(data, dict):
        return False
    return State.from_dict(data).to_dict() == data
