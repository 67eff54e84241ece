"""What Pana could not answer, kept for the editors: scrubbed, with no user id.

Unanswered, out-of-scope and low-confidence messages are stored, and a
message Pana only nearly matched ("near miss", with its guesses) when nothing
else is. A message that spoke of danger is never stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert

from bot.privacy import scrub
from bot.storage.tables import QUESTIONS
from flows.turn import Event

#: The events whose message is kept for the editors.
KEPT = ("unanswered", "out_of_scope", "low_confidence")


def record(connection: Connection, events: Sequence[Event], lang: str, now: datetime) -> None:
    """Store the turn's unanswered (or barely matched) message, if any."""
    if any(e.kind in ("danger", "danger_check") for e in events):
        return
    near_miss = next((e for e in events if e.kind == "near_miss"), None)
    guesses = ", ".join(near_miss.targets) if near_miss else ""
    rows = [
        _row(e.value, e.kind, lang, ", ".join(e.targets) or guesses, now)
        for e in events
        if e.kind in KEPT
    ]
    if near_miss is not None and not rows:
        rows.append(_row(near_miss.value, "near_miss", lang, guesses, now))
    if rows:
        connection.execute(insert(QUESTIONS), rows)


def _row(text: str, kind: str, lang: str, guesses: str, now: datetime) -> dict[str, Any]:
    return {
        "created_at": now,
        "lang": lang,
        "kind": kind,
        "text": scrub(text)[:1000],
        "guesses": guesses[:400],
    }
