"""Sample a running server with py-spy and say where its time goes.

``py-spy record --format raw`` writes one line per distinct stack:
``frame;frame;…;frame COUNT``, outermost first, each frame
``function (path:line)``. :func:`summarise` turns that into the share of
samples spent in each part of the stack (inclusive) and each function's own
time (self), which is what ``docs/performance.md`` quotes.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

_FRAME = re.compile(r"^(?P<function>.*?) \((?P<path>.*?)(?::(?P<line>\d+))?\)$")

#: Where a frame's file lives -> the part of the stack it belongs to (first match wins).
AREAS = (
    ("flows/", "engine (flows/)"),
    ("knowledge/", "engine (knowledge/)"),
    ("bot/helpline.py", "bot/helpline.py, storage, delivery (own code)"),
    ("bot/storage/", "bot/helpline.py, storage, delivery (own code)"),
    ("bot/delivery/", "bot/helpline.py, storage, delivery (own code)"),
    ("bot/", "bot/ (channels, app)"),
    ("sqlalchemy/", "SQLAlchemy"),
    ("psycopg", "psycopg"),
    ("sqlite3/", "sqlite3"),
    ("twilio/", "twilio (signature, TwiML)"),
    ("telegram/", "python-telegram-bot"),
    ("httpx/", "httpx/httpcore (Bot API calls)"),
    ("httpcore/", "httpx/httpcore (Bot API calls)"),
    ("logging/", "logging"),
    ("starlette/", "Starlette/FastAPI"),
    ("fastapi/", "Starlette/FastAPI"),
    ("anyio/", "anyio (thread pool)"),
    ("uvicorn/", "uvicorn"),
    ("asyncio/", "asyncio"),
    ("pydantic", "pydantic"),
    ("json/", "json"),
)


@dataclass
class Profile:
    samples: int = 0
    self_time: Counter[str] = field(default_factory=Counter)
    inclusive: Counter[str] = field(default_factory=Counter)
    areas_self: Counter[str] = field(default_factory=Counter)
    areas_inclusive: Counter[str] = field(default_factory=Counter)

    def share(self, count: int) -> float:
        return 100.0 * count / self.samples if self.samples else 0.0


def area_of(path: str) -> str:
    for needle, area in AREAS:
        if needle in path:
            return area
    return "other"


def _short(function: str, path: str) -> str:
    marker = "site-packages/"
    if marker in path:
        path = path.split(marker, 1)[1]
    elif "/work/" in path or path.startswith("/"):
        parts = Path(path).parts
        path = "/".join(parts[-2:])
    return f"{function} ({path})"


def summarise(raw: str) -> Profile:
    """Aggregate ``py-spy --format raw`` output."""
    profile = Profile()
    for line in raw.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = []
        for frame in stack.split(";"):
            match = _FRAME.match(frame)
            if match:
                frames.append((match["function"], match["path"]))
        if not frames:
            continue
        profile.samples += count
        function, path = frames[-1]
        profile.self_time[_short(function, path)] += count
        profile.areas_self[area_of(path)] += count
        for name in {_short(f, p) for f, p in frames}:
            profile.inclusive[name] += count
        for area in {area_of(p) for _, p in frames}:
            profile.areas_inclusive[area] += count
    return profile


def record(pid: int, seconds: float, out: Path) -> Profile | None:
    """Sample ``pid`` for ``seconds`` without pausing it; None if py-spy is unavailable."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(spy).exists():
        return None
    try:
        result = subprocess.run(
            [spy, "record", "--pid", str(pid), "--duration", str(int(seconds)), "--rate", "200",
             "--nonblocking", "--gil", "--format", "raw", "--output", str(out)],
            capture_output=True, text=True, timeout=seconds + 60,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None  # e.g. ptrace not permitted in this container
    if result.returncode != 0 or not out.exists():
        return None
    return summarise(out.read_text())


def table(profile: Profile, top: int = 12) -> list[str]:
    """Plain-text lines: areas by self time, then the functions with most self time."""
    lines = [f"{profile.samples} samples", "", "self time by area:"]
    for area, count in profile.areas_self.most_common():
        lines.append(f"  {profile.share(count):5.1f}%  {area}")
    lines += ["", f"top {top} functions by self time:"]
    for name, count in profile.self_time.most_common(top):
        lines.append(f"  {profile.share(count):5.1f}%  {name}")
    return lines


if __name__ == "__main__":
    print("\n".join(table(summarise(Path(sys.argv[1]).read_text()), 25)))
