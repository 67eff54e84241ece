"""Webhook phases: a real server, the load generator in another process, one database.

For each variant (the bare endpoint, Pana on SQLite, Pana on PostgreSQL)
with the same uvicorn settings and worker count:

1. latency at a fixed moderate rate (open loop), with ~1,000 stored users;
2. throughput at saturation (closed loop; the best of two concurrencies),
   with the server's CPU time per message;
3. (Pana) optionally a py-spy profile of a saturated run;
4. (Pana) the fixed-rate latency again after growing to 1,000,000 stored users;
5. the worker's peak resident memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.profile import record, table
from bench.receive import time_receive
from bench.storage import add_users, count_users, settle_disk
from tests.load.fake_bot_api import FakeBotApi
from tests.load.requests import server_env
from tests.load.server import ServerProcess, peak_rss_mb

LOADGEN_TIMEOUT = 180
Say = Callable[[str], None]


@dataclass
class Settings:
    """How long and how hard each phase pushes."""

    rate: float = 100.0
    rate_seconds: float = 15.0
    saturate_seconds: float = 10.0
    warmup: float = 2.0
    concurrencies: tuple[int, ...] = (16, 64)
    stored_users: tuple[int, int] = (1_000, 1_000_000)
    workers: int = 1
    profile_seconds: float = 8.0


@contextlib.contextmanager
def bot_api_thread() -> Iterator[FakeBotApi]:
    """The fake Telegram Bot API on its own event loop, in a thread of this process."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    api = asyncio.run_coroutine_threadsafe(FakeBotApi().start(), loop).result(10)
    try:
        yield api
    finally:
        asyncio.run_coroutine_threadsafe(api.stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)


def run_loadgen(server: ServerProcess, run: int, bot: bool, **config: Any) -> dict[str, Any]:
    """One load-generator process against ``server``; its JSON summary."""
    config = {
        "port": server.port, "run": run, "seed": run, "expect_messages": bot,
        "server_pids": server.worker_pids(), **config,
    }  # fmt: skip
    result = subprocess.run(
        [sys.executable, "-m", "bench.loadgen", json.dumps(config)],
        capture_output=True, text=True, timeout=LOADGEN_TIMEOUT, cwd=Path.cwd(),
    )  # fmt: skip
    if result.returncode != 0:
        raise RuntimeError(f"load generator failed:\n{result.stderr[-3000:]}")
    summary: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return summary


class Variant:
    """One server under test and the run numbers that keep its message ids unique."""

    def __init__(self, server: ServerProcess, bot: bool, settings: Settings, say: Say) -> None:
        self.server = server
        self.bot = bot
        self.settings = settings
        self.say = say
        self._run = 0

    def _next_run(self) -> int:
        self._run += 1
        return self._run

    def fixed_rate(self) -> dict[str, Any]:
        s = self.settings
        result = run_loadgen(
            self.server, self._next_run(), self.bot, mode="rate", rate=s.rate,
            seconds=s.rate_seconds, warmup=s.warmup,
        )  # fmt: skip
        self.say(f"    {s.rate:.0f} msg/s: p50 {result['latency_ms']['p50']} ms, "
                 f"p99 {result['latency_ms']['p99']} ms, errors {result['errors']}")  # fmt: skip
        return result

    def saturate(self) -> dict[str, Any]:
        s = self.settings
        best: dict[str, Any] = {}
        for concurrency in s.concurrencies:
            result = run_loadgen(
                self.server, self._next_run(), self.bot, mode="saturate",
                concurrency=concurrency, seconds=s.saturate_seconds, warmup=s.warmup,
            )  # fmt: skip
            result["concurrency"] = concurrency
            self.say(
                f"    saturation, {concurrency} connections: {result['throughput']} msg/s, "
                f"{result['cpu_ms_per_message']} ms CPU/msg, errors {result['errors']}"
            )
            if result["throughput"] > best.get("throughput", -1):
                best = result
        return best

    def profile(self, folder: Path) -> list[str]:
        """py-spy (GIL-holding samples only) during a saturated run: where the CPU goes."""
        s = self.settings
        pid = self.server.worker_pids()[0]
        run = self._next_run()
        seconds = s.profile_seconds + 2 * s.warmup
        loadgen = subprocess.Popen(
            [sys.executable, "-m", "bench.loadgen", json.dumps({
                "port": self.server.port, "run": run, "seed": run, "mode": "saturate",
                "concurrency": s.concurrencies[0], "seconds": seconds, "warmup": 0,
                "expect_messages": self.bot})],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            time.sleep(s.warmup)
            profile = record(pid, s.profile_seconds, folder / "profile.raw")
        finally:
            loadgen.wait(timeout=LOADGEN_TIMEOUT)
        if profile is None:
            return ["(py-spy unavailable: no profile)"]
        return table(profile, top=15)


def measure_bare(folder: Path, settings: Settings, say: Say) -> dict[str, Any]:
    """The ceiling: constant replies from a bare FastAPI app, same uvicorn settings."""
    env = {"PATH": os.environ.get("PATH", "")}
    server = ServerProcess(
        env, workers=settings.workers, log_path=folder / "bare.log", app="bench.bare:app",
        cwd=Path.cwd(),
    )  # fmt: skip
    server.start()
    try:
        variant = Variant(server, bot=False, settings=settings, say=say)
        rate = variant.fixed_rate()
        saturation = variant.saturate()
        memory = max(peak_rss_mb(pid) for pid in server.worker_pids())
    finally:
        server.stop()
    return {"rate": rate, "saturation": saturation, "peak_rss_mb": round(memory, 1)}


def measure_pana(
    url: str, folder: Path, api: FakeBotApi, settings: Settings, say: Say, profile: bool
) -> dict[str, Any]:
    """Pana on ``url``: latency, saturation, profile, then latency with a million users."""
    env = {"PATH": os.environ.get("PATH", ""), **server_env(url, api.url, secrets.token_hex(32))}
    server = ServerProcess(env, workers=settings.workers, log_path=folder / "pana.log", cwd=folder)
    settle_disk()  # what an earlier variant wrote must not be written back during this one
    server.start()
    small, large = settings.stored_users
    try:
        variant = Variant(server, bot=True, settings=settings, say=say)
        seconds = add_users(url, small)
        say(f"    stored users: {count_users(url):,} ({seconds:.1f} s to insert)")
        rate_small = variant.fixed_rate()
        receive_small = time_receive(url, run=1)
        say(f"    in-process receive: p50 {receive_small['p50']} ms, p99 {receive_small['p99']} ms")
        saturation = variant.saturate()
        hotspots = variant.profile(folder) if profile else []
        seconds = add_users(url, max(0, large - count_users(url)), seed=6)
        users = count_users(url)
        say(f"    stored users: {users:,} ({seconds:.1f} s to insert)")
        rate_large = variant.fixed_rate()
        receive_large = time_receive(url, run=2)
        say(f"    in-process receive: p50 {receive_large['p50']} ms, p99 {receive_large['p99']} ms")
        memory = max(peak_rss_mb(pid) for pid in server.worker_pids())
    finally:
        server.stop()
    return {
        "rate": rate_small,
        "saturation": saturation,
        "rate_large": rate_large,
        "receive": receive_small,
        "receive_large": receive_large,
        "stored_users_large": users,
        "peak_rss_mb": round(memory, 1),
        "profile": hotspots,
    }
