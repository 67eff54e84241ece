"""Rate limits: the per-person flood window, a global ceiling and per-key windows.

The per-person window (:class:`FloodWindow`) is stored with the person's
conversation row (``bot.storage.conversations``), so it holds across
workers. The in-memory ones guard the web chat and the bill, where an
approximate per-process count is enough.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass
class FloodWindow:
    """The flood limit: the start of the person's current minute and the messages in it."""

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


class RateWindow:
    """At most ``per_minute`` events in any 60 seconds; ``allow()`` is False past it.

    A sliding window, not a calendar minute: a calendar minute would let twice
    the limit through in two seconds that straddle its boundary (60 login guesses
    instead of 30). Refused events are not counted.
    """

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._lock = threading.Lock()
        self._times: deque[float] = deque()

    def allow(self, now: float | None = None) -> bool:
        now = now if now is not None else time.monotonic()
        with self._lock:
            while self._times and self._times[0] <= now - 60:
                self._times.popleft()
            if len(self._times) >= self.per_minute:
                return False
            self._times.append(now)
            return True


class KeyedRateLimiter:
    """A sliding 60-second window per key (like :class:`RateWindow`), forgetting idle keys.

    Sliding for the same reason: counts per calendar minute let twice the limit through
    in two seconds that straddle a minute's turn. Refused events are not counted.
    """

    def __init__(self, per_minute: int, max_keys: int = 100_000) -> None:
        self.per_minute = per_minute
        self.max_keys = max_keys
        self._lock = threading.Lock()
        self._windows: dict[str, deque[float]] = {}

    def allow(self, key: str, now: float | None = None, limit: int | None = None) -> bool:
        """Count one event for ``key``; ``limit`` overrides the per-minute limit."""
        now = now if now is not None else time.monotonic()
        with self._lock:
            if len(self._windows) > self.max_keys:
                self._forget_idle(now)
            times = self._windows.setdefault(key, deque())
            while times and times[0] <= now - 60:
                times.popleft()
            if len(times) >= (limit or self.per_minute):
                return False
            times.append(now)
            return True

    def _forget_idle(self, now: float) -> None:
        self._windows = {k: t for k, t in self._windows.items() if t and t[-1] > now - 60}
        if len(self._windows) > self.max_keys:  # all busy: start over rather than grow
            self._windows = {}


class LoginLimits:
    """Login attempts slowed twice: per client address, and for all addresses together, so
    a guesser who changes address on every try is still held to a few tries a minute.

    Example::

        limits = LoginLimits()          # 10 tries a minute per address, 30 in all
        limits.allow("203.0.113.7")     # False past either limit

    The app keeps one per door (``app.state.login_limits["admin"]``, ``["inbox"]``).
    """

    def __init__(self, per_address: int = 10, overall: int = 30) -> None:
        self.per_address = KeyedRateLimiter(per_address)
        self.overall = RateWindow(overall)

    def allow(self, address: str) -> bool:
        # Both are counted on every attempt, whichever refuses.
        per_address = self.per_address.allow(address)
        return self.overall.allow() and per_address
