"""The engine alone, in-process: time per message (understanding, matching, rendering).

No HTTP, no database: ``Engine.handle(state, incoming)`` for the same
conversations the load generator sends, each user's state carried from one
message to the next. The first ``warmup`` messages fill the typo-correction
cache and are not counted, as on a server that has been up a while.
"""

from __future__ import annotations

import gc
import random
import time
from datetime import date
from typing import Any

from bench.synthetic import grow
from flows.engine import Engine
from flows.turn import Incoming, Location, State
from knowledge import KnowledgeBase
from tests.load.mix import conversation

USERS = 500
PER_USER = 10


def message_stream(seed: int = 3) -> list[tuple[int, Incoming]]:
    """(user number, Incoming) pairs, users interleaved as on a busy server."""
    rng = random.Random(seed)
    talks = [conversation(rng, PER_USER) for _ in range(USERS)]
    stream = []
    for turn in range(PER_USER):
        for user, steps in enumerate(talks):
            step = steps[turn]
            location = Location(*step.location) if step.location else None
            stream.append((user, Incoming("whatsapp", step.text, location, today=date.today())))
    return stream


def time_engine(kb: KnowledgeBase, warmup: int = 1000) -> dict[str, Any]:
    """Build an engine on ``kb`` and time ``handle`` per message (ms percentiles)."""
    began = time.perf_counter()
    engine = Engine(kb)
    build_seconds = time.perf_counter() - began
    states = [State() for _ in range(USERS)]
    timings = []
    gc.collect()
    for position, (user, incoming) in enumerate(message_stream()):
        start = time.perf_counter_ns()
        turn = engine.handle(states[user], incoming)
        elapsed = time.perf_counter_ns() - start
        states[user] = turn.state
        if position >= warmup:
            timings.append(elapsed / 1e6)
    timings.sort()

    def quantile(share: float) -> float:
        return round(timings[min(len(timings) - 1, int(share * len(timings)))], 3)

    return {
        "entries": kb.entry_count(),
        "vocabulary": len(engine.understanding.index.vocabulary),
        "build_seconds": round(build_seconds, 2),
        "messages": len(timings),
        "mean_ms": round(sum(timings) / len(timings), 3),
        "p50_ms": quantile(0.50),
        "p95_ms": quantile(0.95),
        "p99_ms": quantile(0.99),
        "max_ms": round(timings[-1], 3),
    }


def scaling(kb: KnowledgeBase, sizes: tuple[int, ...] = (1_000, 10_000)) -> list[dict[str, Any]]:
    """Engine timings on the shipped knowledge base, then grown to each size."""
    rows = [{"label": "shipped", **time_engine(kb)}]
    for size in sizes:
        rows.append({"label": f"{size:,} entries", **time_engine(grow(kb, size))})
    return rows
