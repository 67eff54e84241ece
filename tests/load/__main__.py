"""``make loadtest``: 200 users, 20 messages each, duplicates, a kill -9; 0 lost, 0 doubled.

    python -m tests.load                                  # SQLite in a temporary folder
    python -m tests.load --postgres                       # a throwaway PostgreSQL cluster
    python -m tests.load --database-url postgresql+psycopg://user@host/db   # scratch db there
    python -m tests.load --postgres --workers 2           # scale-out check

Exits 0 when every message was answered exactly once and the database checks
pass; prints what was sent, answered, duplicated, lost and doubled, and the
latency. Everything runs on 127.0.0.1 and stops by itself (``--deadline``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import secrets
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy.engine import make_url

from tests.load.checks import DatabaseReport, check_database
from tests.load.client import Delivery
from tests.load.fake_bot_api import FakeBotApi
from tests.load.postgres import scratch_database, throwaway_cluster
from tests.load.requests import server_env
from tests.load.run import LoadRun, Outcome, Plan, percentile
from tests.load.server import ServerProcess


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tests.load", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--messages", type=int, default=20, help="per user")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers")
    database = parser.add_mutually_exclusive_group()
    database.add_argument("--postgres", action="store_true", help="start a throwaway cluster")
    database.add_argument(
        "--database-url", default="", help="a PostgreSQL server: a scratch database is made there"
    )
    parser.add_argument("--no-kill", action="store_true", help="skip the kill -9 and restart")
    parser.add_argument("--deadline", type=float, default=300.0, help="seconds for the whole run")
    parser.add_argument("--seed", type=int, default=7)
    return parser.parse_args(argv)


@contextlib.contextmanager
def database(args: argparse.Namespace, folder: Path) -> Iterator[tuple[str, str]]:
    """(URL, label) of an empty database for this run, removed afterwards."""
    url = args.database_url
    if url and make_url(url).get_backend_name() == "postgresql":
        with scratch_database(url) as scratch:
            yield scratch, "PostgreSQL (scratch database)"
    elif args.postgres:
        with throwaway_cluster() as cluster:
            yield cluster, "PostgreSQL (throwaway cluster)"
    else:
        # An SQLite URL given here is ignored on purpose: the checks need an empty database.
        yield f"sqlite:///{folder / 'load.db'}", "SQLite"


async def drive(plan: Plan, url: str, workers: int, folder: Path, key: str) -> Outcome:
    api = await FakeBotApi().start()
    env = {**_base_env(), **server_env(url, api.url, key)}
    server = ServerProcess(env, workers=workers, log_path=folder / "server.log", cwd=folder)
    try:
        await asyncio.to_thread(server.start)
        return await LoadRun(plan, server, api).run()
    finally:
        await asyncio.to_thread(server.stop)
        await api.stop()


def _base_env() -> dict[str, str]:
    # The server gets only what it needs: no DATABASE_URL or tokens leak in from the shell.
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "PYTHONPATH")
    return {k: v for k, v in os.environ.items() if k in keep}


def _by_channel(deliveries: list[Delivery]) -> str:
    counts = Counter(d.request.user.channel for d in deliveries)
    return ", ".join(f"{channel} {n}" for channel, n in sorted(counts.items()))


def _late(deliveries: list[Delivery]) -> int:
    """Doubles that came from a copy re-sent after the original had been answered."""
    return sum(1 for d in deliveries if d.late_texts or any(a.messages for a in d.late_attempts))


def report(
    label: str, plan: Plan, workers: int, outcome: Outcome, db: DatabaseReport, log: Path
) -> bool:
    deliveries = outcome.deliveries
    by_channel = Counter(d.request.user.channel for d in deliveries)
    answered = [d for d in deliveries if d.times_answered >= 1]
    lost = [d for d in deliveries if d.times_answered == 0]
    doubled = [d for d in deliveries if d.times_answered > 1]
    twins = sum(d.twins for d in deliveries)
    late = sum(d.late_copies for d in deliveries)
    retried = sum(d.failed_attempts for d in deliveries)
    latencies = [a.seconds * 1000 for d in deliveries for a in d.attempts if a.status == 200]
    tracebacks = log.read_text(errors="replace").count("Traceback") if log.exists() else 0
    kill = f"kill -9 at {plan.kill_at:.0%}" if plan.kill_at is not None else "no kill"
    rows = [
        ("messages sent", f"{len(deliveries)}", "WhatsApp {whatsapp}, SMS {sms}, Telegram "
         "{telegram}".format_map(by_channel)),
        ("answered", f"{len(answered)}", ""),
        ("duplicated", f"{twins + late}", f"same id re-sent: {twins} at once, {late} after "
         "the answer"),
        ("lost", f"{len(lost)}", f"{db.committed_unanswered} committed, but the reply died "
         f"with the server ({_by_channel(lost)})" if lost else ""),
        ("doubled", f"{len(doubled)}", f"{_by_channel(doubled)}; {_late(doubled)} on a copy "
         "re-sent after the answer" if doubled else ""),
        ("retried", f"{retried}", "attempts that failed (kill -9, restart) and were sent again"),
        ("latency p50", f"{percentile(latencies, 0.50):.1f} ms", ""),
        ("latency p99", f"{percentile(latencies, 0.99):.1f} ms", ""),
        ("restart", f"{outcome.restart_seconds:.1f} s", f"{outcome.kills} kill -9 of the "
         "whole process group, then pana serve again"),
        ("wall time", f"{outcome.seconds:.1f} s", ""),
        ("server tracebacks", f"{tracebacks}", str(log) if tracebacks else ""),
    ]  # fmt: skip
    title = (
        f"Pana load test: {label}, {workers} worker(s), {plan.users} users x "
        f"{plan.messages} messages, {kill}"
    )
    print(title)
    print("-" * len(title))
    for name, value, note in rows:
        print(f"{name:<18} {value:>10}   {note}".rstrip())
    print("database checks:")
    for check in db.checks:
        print(f"  {'ok  ' if check.ok else 'FAIL'} {check.name}: {check.detail}")
    passed = not lost and not doubled and db.ok and not outcome.timed_out
    if outcome.timed_out:
        print(f"the run did not finish within {plan.deadline:.0f} s")
    print(f"RESULT: {'PASS' if passed else 'FAIL'}")
    return passed


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    plan = Plan(
        users=args.users,
        messages=args.messages,
        kill_at=None if args.no_kill else 0.5,
        seed=args.seed,
        deadline=args.deadline,
    )
    key = secrets.token_hex(32)
    with tempfile.TemporaryDirectory(prefix="pana-load-") as tmp:
        folder = Path(tmp)
        with database(args, folder) as (url, label):
            outcome = asyncio.run(drive(plan, url, args.workers, folder, key))
            db = check_database(url, outcome.deliveries, key.encode())
        passed = report(label, plan, args.workers, outcome, db, folder / "server.log")
        if not passed and (folder / "server.log").exists():
            print("\nlast lines of the server log:")
            print("\n".join((folder / "server.log").read_text().splitlines()[-20:]))
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
