"""The benchmark's results: a table for the terminal, JSON, docs/performance.md and a plot.

``docs/performance.md`` is partly written by hand (method, profile, what
changed); only the block between the ``bench:start`` and ``bench:end``
markers is replaced by each run, so the notes stay.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

DOC = Path("docs/performance.md")
PLOT = Path("docs/performance.png")
START, END = "<!-- bench:start -->", "<!-- bench:end -->"

#: Targets from issue 7; the engine's from issue 11, which set the cost of the new
#: understanding (three signals, danger first) at 2 ms on the shipped knowledge.
MIN_SHARE_OF_BARE = 0.40
MAX_P99_MS = 25.0
MAX_ENGINE_P99_SHIPPED = 2.0
MAX_ENGINE_P99_10K = 5.0
MAX_RSS_MB = 200.0
#: "Flat": in-process p50 with a million stored users within this factor of a thousand's.
FLAT_FACTOR = 1.15


def _latency(result: dict[str, Any] | None) -> str:
    if not result:
        return "-"
    lat = result["latency_ms"]
    return f"{lat['p50']:.1f} / {lat['p95']:.1f} / {lat['p99']:.1f}"


def _receive(result: dict[str, float]) -> str:
    return f"{result['p50']:.2f} / {result['p99']:.2f}"


def _other(result: dict[str, Any]) -> str:
    # Work by other processes on the machine competes with the server: a noisy run shows here.
    return f"{max(0.0, result.get('other_busy_cores', 0.0)):.2f}"


def webhook_rows(results: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """Header and rows comparing the bare endpoint with Pana on each database."""
    bare = results["bare"]
    names = [n for n in ("sqlite", "postgresql") if n in results]
    header = ["", "bare endpoint", *[f"Pana, {_title(n)}" for n in names]]
    ceiling = bare["saturation"]["throughput"]
    bare_p99 = bare["rate"]["latency_ms"]["p99"]
    large = results["settings"]["stored_users"][1]

    def row(label: str, bare_cell: str, cell: Any) -> list[str]:
        return [label, bare_cell, *[cell(results[n]) for n in names]]

    rows = [
        row("msg/s at saturation", f"{ceiling:,.0f}",
            lambda r: f"{r['saturation']['throughput']:,.0f}"),
        row("  ratio Pana / bare", "1", lambda r: f"{r['saturation']['throughput'] / ceiling:.1%}"),
        row("CPU per message (ms)", f"{bare['saturation']['cpu_ms_per_message']:.2f}",
            lambda r: f"{r['saturation']['cpu_ms_per_message']:.2f}"),
        row(f"p50 / p95 / p99 at {results['settings']['rate']:.0f} msg/s (ms)",
            _latency(bare["rate"]), lambda r: _latency(r["rate"])),
        row("  p99 ratio Pana / bare", "1",
            lambda r: f"{r['rate']['latency_ms']['p99'] / bare_p99:.1f}x" if bare_p99 else "-"),
        row(f"same, with {large:,} stored users", "-", lambda r: _latency(r["rate_large"])),
        row("Helpline.receive in-process p50 / p99 (ms)", "-", lambda r: _receive(r["receive"])),
        row(f"same, with {large:,} stored users", "-", lambda r: _receive(r["receive_large"])),
        row("other busy cores during saturation", _other(bare["saturation"]),
            lambda r: _other(r["saturation"])),
        row("peak resident memory, one worker (MB)", f"{bare['peak_rss_mb']:.0f}",
            lambda r: f"{r['peak_rss_mb']:.0f}"),
    ]  # fmt: skip
    return header, rows


def engine_rows(results: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    header = ["knowledge base", "entries", "vocabulary", "p50 ms", "p95 ms", "p99 ms", "mean ms"]
    rows = [
        [r["label"], f"{r['entries']:,}", f"{r['vocabulary']:,}", f"{r['p50_ms']:.2f}",
         f"{r['p95_ms']:.2f}", f"{r['p99_ms']:.2f}", f"{r['mean_ms']:.2f}"]
        for r in results["engine"]
    ]  # fmt: skip
    return header, rows


def target_rows(results: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """Each target of issue 7, what was measured, and whether it is met."""
    rows: list[list[str]] = []

    def add(target: str, measured: str, met: bool) -> None:
        rows.append([target, measured, "met" if met else "NOT met"])

    ceiling = results["bare"]["saturation"]["throughput"]
    few, many = results["settings"]["stored_users"]
    if "sqlite" in results:
        share = results["sqlite"]["saturation"]["throughput"] / ceiling
        add("SQLite throughput >= 40% of bare", f"{share:.1%}", share >= MIN_SHARE_OF_BARE)
    for name in ("sqlite", "postgresql"):
        if name not in results:
            continue
        r = results[name]
        p99 = r["rate"]["latency_ms"]["p99"]
        add(f"{_title(name)}: p99 <= 25 ms at 100 msg/s", f"{p99:.1f} ms", p99 <= MAX_P99_MS)
        # Judged in-process: the webhook's p50 moves more than this between two runs
        # on a shared 2-core machine; both are in the table.
        small, large = r["receive"]["p50"], r["receive_large"]["p50"]
        factor = large / small if small else 0.0
        add(f"{_title(name)}: flat from {few:,} to {many:,} users (receive p50)",
            f"{small:.2f} -> {large:.2f} ms ({factor:.2f}x)", factor <= FLAT_FACTOR)  # fmt: skip
        add(f"{_title(name)}: one worker < 200 MB resident", f"{r['peak_rss_mb']:.0f} MB",
            r["peak_rss_mb"] < MAX_RSS_MB)  # fmt: skip
    engine = {r["label"]: r for r in results["engine"]}
    if "shipped" in engine:
        p99 = engine["shipped"]["p99_ms"]
        add("engine p99 <= 2 ms, shipped knowledge", f"{p99:.2f} ms", p99 <= MAX_ENGINE_P99_SHIPPED)
    if "10,000 entries" in engine:
        p99 = engine["10,000 entries"]["p99_ms"]
        add("engine p99 <= 5 ms, 10,000 entries", f"{p99:.2f} ms", p99 <= MAX_ENGINE_P99_10K)
    return ["target", "measured", ""], rows


def _title(name: str) -> str:
    return {"sqlite": "SQLite", "postgresql": "PostgreSQL"}.get(name, name)


def text_table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = [_line(row, widths) for row in [header, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _line(row: list[str], widths: list[int]) -> str:
    # The first column is a label (left-aligned), the others figures (right-aligned).
    cells = [row[0].ljust(widths[0])] + [
        c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)
    ]
    return "  ".join(cells)


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def render(results: dict[str, Any], table: Any = text_table) -> str:
    meta = results["meta"]
    parts = [
        f"Webhooks: {meta['workers']} uvicorn worker(s), load generator in a separate process, "
        f"loopback, {meta['cores']} cores ({meta['date']}; bench took {meta['seconds']:.0f} s)",
        table(*webhook_rows(results)),
        "Engine alone, in-process (Engine.handle per message):",
        table(*engine_rows(results)),
        "Targets:",
        table(*target_rows(results)),
    ]
    return "\n\n".join(parts)


def write_json(results: dict[str, Any], folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    stamp = results["meta"]["date"].replace(":", "").replace("-", "").replace(" ", "-")
    path = folder / f"bench-{stamp}.json"
    path.write_text(json.dumps(results, indent=2))
    (folder / "latest.json").write_text(json.dumps(results, indent=2))
    return path


def update_doc(results: dict[str, Any], doc: Path = DOC) -> None:
    """Replace the generated block of ``docs/performance.md`` with this run's tables."""
    block = (
        f"{START}\n{render(results, markdown_table)}\n\n![scaling curves](performance.png)\n"
        + "".join(f"\n    {line}" if line else "\n" for line in results.get("profile_lines", []))
        + f"\n{END}"
    )
    if results.get("profile_lines"):
        block = block.replace("\n\n    ", "\n\nProfile of Pana on SQLite at saturation "
                              "(py-spy, samples holding the GIL):\n\n    ", 1)  # fmt: skip
    text = doc.read_text() if doc.exists() else f"# Performance\n\n{START}\n{END}\n"
    pattern = re.compile(re.escape(START) + ".*?" + re.escape(END), re.DOTALL)
    doc.write_text(pattern.sub(lambda _: block, text, count=1))


def plot(results: dict[str, Any], path: Path = PLOT) -> None:
    """Two panels: engine time vs knowledge size; webhook latency vs stored users."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    engine = results["engine"]
    sizes = [r["entries"] for r in engine]
    for key, style in (("p50_ms", "o-"), ("p99_ms", "s--")):
        left.plot(sizes, [r[key] for r in engine], style, label=key.replace("_ms", ""))
    left.axhline(MAX_ENGINE_P99_SHIPPED, color="grey", lw=0.8, ls=":")
    left.axhline(MAX_ENGINE_P99_10K, color="grey", lw=0.8, ls=":")
    left.set(xscale="log", yscale="log", xlabel="knowledge base entries",
             ylabel="ms per message", title="Engine.handle, in-process")  # fmt: skip
    left.legend()
    for name in ("sqlite", "postgresql"):
        if name not in results:
            continue
        r = results[name]
        users = [results["settings"]["stored_users"][0], r["stored_users_large"]]
        for key, style in (("p50", "o-"), ("p99", "s--")):
            values = [r["rate"]["latency_ms"][key], r["rate_large"]["latency_ms"][key]]
            right.plot(users, values, style, label=f"{_title(name)} {key}")
    right.axhline(MAX_P99_MS, color="grey", lw=0.8, ls=":")
    right.set(xscale="log", xlabel="stored users", ylabel="ms",
              title=f"webhook latency at {results['settings']['rate']:.0f} msg/s")  # fmt: skip
    right.set_ylim(bottom=0)
    right.legend()
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
