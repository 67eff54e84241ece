"""The load generator: a separate process that drives a server on 127.0.0.1.

    python -m bench.loadgen '{"port": 8000, "mode": "saturate", "seconds": 10, ...}'

prints one JSON object: requests completed in the measured window,
throughput, latency percentiles, errors, and the server's CPU time per
request (read from ``/proc`` for ``server_pids``).

Two modes:

- ``saturate``: ``concurrency`` connections, each sending as fast as answers
  come back (closed loop): the most the server can do.
- ``rate``: a fixed ``rate`` of requests per second whatever the server
  does (open loop), latency counted from when each request was *due*, so
  a slow server cannot hide its queue.

Every simulated user sends a multi-message conversation (:mod:`tests.load.mix`)
over WhatsApp, SMS or Telegram, one message at a time, so the server reads
and writes each user's state on every message.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import sys
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from bench.http import Connection, request_bytes
from tests.load.mix import Step, conversation
from tests.load.requests import User, build
from tests.load.server import cpu_seconds

#: Channels in the proportions people use them (WhatsApp first by far).
CHANNELS = ("whatsapp",) * 6 + ("sms",) * 1 + ("telegram",) * 3
CONVERSATION_LENGTH = 8
#: An open-loop run gives up adding requests past this many in flight (the server is drowning).
MAX_IN_FLIGHT = 2000


@dataclass
class Config:
    port: int
    mode: str = "saturate"
    seconds: float = 10.0
    warmup: float = 2.0
    concurrency: int = 32
    rate: float = 100.0
    run: int = 1
    seed: int = 1
    #: Check that Twilio answers carry a <Message> (the bot), not just a 200 (any server).
    expect_messages: bool = True
    server_pids: list[int] = field(default_factory=list)


@dataclass
class Results:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    first_error: str = ""
    window_start: float = 0.0
    window_end: float = 0.0
    cpu_start: float = 0.0
    cpu_end: float = 0.0
    #: Busy CPU seconds of the whole machine, and of this process, over the window.
    machine_start: float = 0.0
    machine_end: float = 0.0
    own_start: float = 0.0
    own_end: float = 0.0
    skipped: int = 0

    def fail(self, error: str) -> None:
        self.errors += 1
        self.first_error = self.first_error or error


class Conversations:
    """An endless supply of users, each with a conversation; the same for a given seed."""

    def __init__(self, run: int, seed: int) -> None:
        self.rng = random.Random(seed)
        self.run = run
        self.next_index = 0

    def new(self) -> Iterator[tuple[User, Step]]:
        # Run number in the high digits: each run's users are new people.
        index = self.run * 10_000_000 + self.next_index
        self.next_index += 1
        user = User(index, self.rng.choice(CHANNELS), "en" if self.rng.random() < 0.2 else "es")
        return ((user, step) for step in conversation(self.rng, CONVERSATION_LENGTH))


async def _send(config: Config, connection: Connection, user: User, step: Step) -> str:
    """Send one message; '' if the answer is right, else what was wrong."""
    data = request_bytes(build(user, step, config.run), config.port)
    try:
        status, body = await connection.exchange(data)
    except (OSError, asyncio.IncompleteReadError) as exc:
        return type(exc).__name__
    if status != 200:
        return f"HTTP {status}"
    if config.expect_messages and user.channel != "telegram" and b"<Message>" not in body:
        return "empty TwiML"
    return ""


def _record(config: Config, results: Results, due: float, done: float, error: str) -> None:
    if results.window_start <= due and done <= results.window_end:
        if error:
            results.fail(error)
        else:
            results.latencies.append(done - due)


async def _mark_window(config: Config, results: Results) -> None:
    await asyncio.sleep(max(0.0, results.window_start - time.perf_counter()))
    results.cpu_start = cpu_seconds(config.server_pids)
    results.machine_start, results.own_start = machine_busy_seconds(), time.process_time()
    await asyncio.sleep(max(0.0, results.window_end - time.perf_counter()))
    results.cpu_end = cpu_seconds(config.server_pids)
    results.machine_end, results.own_end = machine_busy_seconds(), time.process_time()


def machine_busy_seconds() -> float:
    """CPU seconds all cores have spent busy since boot (``/proc/stat``), 0 if unknown."""
    try:
        with open("/proc/stat") as stat:
            fields = [int(v) for v in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return 0.0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


async def saturate(config: Config, results: Results) -> None:
    """Closed loop: each connection sends its next message as soon as the last is answered."""
    supply = Conversations(config.run, config.seed)

    async def client() -> None:
        connection = Connection(config.port)
        try:
            while time.perf_counter() < results.window_end:
                for user, step in supply.new():
                    began = time.perf_counter()
                    if began >= results.window_end:
                        break
                    error = await _send(config, connection, user, step)
                    _record(config, results, began, time.perf_counter(), error)
        finally:
            connection.close()

    await asyncio.gather(*(client() for _ in range(config.concurrency)))


async def fixed_rate(config: Config, results: Results) -> None:
    """Open loop: one message every 1/rate seconds, from users taking turns."""
    supply = Conversations(config.run, config.seed)
    ready: deque[Iterator[tuple[User, Step]]] = deque(supply.new() for _ in range(200))
    idle: list[Connection] = []
    tasks: set[asyncio.Task[None]] = set()
    began = time.perf_counter()
    total = int((config.warmup + config.seconds) * config.rate)

    async def one(steps: Iterator[tuple[User, Step]], due: float) -> None:
        step = next(steps, None)
        if step is None:
            steps = supply.new()
            step = next(steps)
        connection = idle.pop() if idle else Connection(config.port)
        error = await _send(config, connection, *step)
        _record(config, results, due, time.perf_counter(), error)
        idle.append(connection)
        ready.append(steps)  # this user's next message waits for their turn again

    for k in range(total):
        due = began + k / config.rate
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        if len(tasks) >= MAX_IN_FLIGHT:
            results.skipped += 1
            continue
        steps = ready.popleft() if ready else supply.new()
        task = asyncio.create_task(one(steps, due))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    if tasks:
        await asyncio.wait(tasks, timeout=60)
    for connection in idle:
        connection.close()


def summary(config: Config, results: Results) -> dict[str, Any]:
    latencies = sorted(results.latencies)
    seconds = results.window_end - results.window_start
    completed = len(latencies)
    cpu = results.cpu_end - results.cpu_start
    own = results.own_end - results.own_start
    other = results.machine_end - results.machine_start - cpu - own

    def quantile(share: float) -> float:
        if not latencies:
            return 0.0
        return 1000 * latencies[min(len(latencies) - 1, int(share * len(latencies)))]

    return {
        "mode": config.mode,
        "seconds": round(seconds, 2),
        "completed": completed,
        "errors": results.errors,
        "first_error": results.first_error,
        "skipped": results.skipped,
        "throughput": round(completed / seconds, 1) if seconds else 0.0,
        "latency_ms": {
            "p50": round(quantile(0.50), 2),
            "p95": round(quantile(0.95), 2),
            "p99": round(quantile(0.99), 2),
            "max": round(1000 * latencies[-1], 2) if latencies else 0.0,
        },
        "server_cpu_seconds": round(cpu, 3),
        # Busy cores besides the server and this generator: other work on the machine
        # (and the fake Bot API) that competed with the measurement.
        "other_busy_cores": round(other / seconds, 2) if seconds else 0.0,
        "cpu_ms_per_message": round(1000 * cpu / completed, 3) if completed else 0.0,
    }


async def generate(config: Config) -> dict[str, Any]:
    results = Results()
    now = time.perf_counter()
    results.window_start = now + config.warmup
    results.window_end = results.window_start + config.seconds
    marker = asyncio.create_task(_mark_window(config, results))
    if config.mode == "saturate":
        await saturate(config, results)
    else:
        await fixed_rate(config, results)
    with contextlib.suppress(asyncio.CancelledError):
        await marker
    return summary(config, results)


def main() -> None:
    config = Config(**json.loads(sys.argv[1]))
    try:
        import uvloop  # the same loop uvicorn uses: cheaper per request

        print(json.dumps(uvloop.run(generate(config))))
    except ImportError:
        print(json.dumps(asyncio.run(generate(config))))


if __name__ == "__main__":
    main()
