"""``make bench``: how fast Pana answers, against what ceiling, and how it scales.

    python -m bench                      # everything: engine, bare, SQLite, PostgreSQL
    python -m bench --quick              # shorter phases, 100,000 stored users (a smoke run)
    python -m bench --databases sqlite   # skip PostgreSQL
    python -m bench --engine-only        # Engine.handle in-process only (about a minute)
    python -m bench --postgres-url postgresql+psycopg://user@host/db   # use that server

PostgreSQL runs in a throwaway cluster when its binaries are installed
(``apt-get install -y postgresql``), or in a scratch database on
``--postgres-url``; otherwise it is skipped. Results: the table on the
terminal, ``bench-results/*.json``, and ``docs/performance.md`` plus
``docs/performance.png`` (``--no-doc`` leaves those alone).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from bench import report
from bench.engine import scaling
from bench.webhooks import Settings, bot_api_thread, measure_bare, measure_pana
from knowledge import load_knowledge
from tests.load.postgres import postgres_bin, scratch_database, throwaway_cluster


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--postgres-url", default="", help="a server to make a scratch db on")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers, every variant")
    parser.add_argument("--quick", action="store_true", help="short phases (a smoke run)")
    parser.add_argument(
        "--engine-only", action="store_true", help="only Engine.handle in-process; docs untouched"
    )
    parser.add_argument("--no-profile", action="store_true", help="skip the py-spy profile")
    parser.add_argument("--no-doc", action="store_true", help="leave docs/ untouched")
    parser.add_argument("--out", default="bench-results")
    return parser.parse_args(argv)


def say(line: str) -> None:
    print(line, flush=True)


@contextlib.contextmanager
def postgres(args: argparse.Namespace, folder: Path) -> Iterator[str | None]:
    if args.postgres_url:
        with scratch_database(args.postgres_url) as url:
            yield url
    elif postgres_bin() is not None:
        # Durable (fsync on), as in production: commits cost what they really cost.
        with throwaway_cluster(durable=True) as url:
            yield url
    else:
        say("  PostgreSQL binaries not found (apt-get install -y postgresql): skipped")
        yield None


@contextlib.contextmanager
def variant(results: dict[str, Any], name: str) -> Iterator[None]:
    """Run one database variant; if it fails, say why and carry on with the others."""
    try:
        yield
    except Exception as exc:  # a failed variant must not lose the others' results
        say(f"  {name} failed: {exc}")
        results.setdefault("errors", {})[name] = str(exc)[-2000:]


def run(args: argparse.Namespace) -> dict[str, Any]:
    settings = Settings(workers=args.workers)
    engine_sizes: tuple[int, ...] = (1_000, 3_000, 10_000)
    if args.quick:
        settings = Settings(
            workers=args.workers, rate_seconds=5, saturate_seconds=4, warmup=1,
            concurrencies=(32,), stored_users=(1_000, 100_000), profile_seconds=4,
        )  # fmt: skip
        engine_sizes = (1_000, 10_000)
    databases = [d.strip() for d in args.databases.split(",") if d.strip()]
    results: dict[str, Any] = {"settings": settings.__dict__}
    began = time.monotonic()

    say("engine alone, in-process")
    results["engine"] = scaling(load_knowledge(), engine_sizes)
    for row in results["engine"]:
        say(f"    {row['label']}: p50 {row['p50_ms']} ms, p99 {row['p99_ms']} ms")
    with tempfile.TemporaryDirectory(prefix="pana-bench-") as tmp:
        folder = Path(tmp)
        say("bare endpoint (the ceiling)")
        results["bare"] = measure_bare(folder, settings, say)
        with bot_api_thread() as api:
            if "sqlite" in databases:
                say("Pana on SQLite")
                url = f"sqlite:///{folder / 'bench.db'}"
                with variant(results, "sqlite"):
                    results["sqlite"] = measure_pana(
                        url, folder, api, settings, say, profile=not args.no_profile
                    )
            if "postgresql" in databases:
                say("Pana on PostgreSQL")
                with variant(results, "postgresql"), postgres(args, folder) as url_or_none:
                    if url_or_none:
                        results["postgresql"] = measure_pana(
                            url_or_none, folder, api, settings, say, profile=False
                        )
    results["meta"] = {
        "date": datetime.now().strftime("%Y-%m-%d %H:%M"),
        "seconds": round(time.monotonic() - began, 1),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "workers": args.workers,
        "quick": args.quick,
        "load_average_after": os.getloadavg(),
    }
    results["profile_lines"] = results.get("sqlite", {}).get("profile", [])
    return results


def engine_only(args: argparse.Namespace) -> int:
    """The engine's table alone, with the machine's load: for comparing two versions."""
    say(f"load average before: {os.getloadavg()[0]:.2f}")
    engine = scaling(load_knowledge(), (1_000, 10_000) if args.quick else (1_000, 3_000, 10_000))
    results = {"engine": engine, "meta": {
        "date": datetime.now().strftime("%Y-%m-%d %H:%M"),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "load_average_after": os.getloadavg(),
    }}  # fmt: skip
    print(report.text_table(*report.engine_rows(results)))
    say(f"load average after: {os.getloadavg()[0]:.2f}")
    folder = Path(args.out)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"engine-{results['meta']['date'].replace(':', '').replace(' ', '-')}.json"
    path.write_text(json.dumps(results, indent=2))
    print(f"results: {path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if args.engine_only:
        return engine_only(args)
    results = run(args)
    print()
    print(report.render(results))
    if results["profile_lines"]:
        print("\nProfile of Pana on SQLite at saturation (py-spy, samples holding the GIL):")
        print("\n".join(f"  {line}" for line in results["profile_lines"]))
    path = report.write_json(results, Path(args.out))
    print(f"\nresults: {path}")
    if not args.no_doc:
        report.update_doc(results)
        report.plot(results)
        print(f"updated {report.DOC} and {report.PLOT}")
    return 1 if results.get("errors") else 0


if __name__ == "__main__":
    sys.exit(main())
