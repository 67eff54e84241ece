"""Understanding figures: every conversation set, the ablation, and the tuning grid.

    python -m bench.understanding              # figures per set and the ablation table
    python -m bench.understanding --tune       # grid search on the TUNED set only

The grid search reads only ``tests/conversations`` (the tuned set). The frozen
sets (``conversations_holdout``, ``conversations_unseen``, ``safety_unseen``)
are measured with the chosen weights and reported as figures; their failures
are never printed, so nobody tunes on them.
"""

from __future__ import annotations

import argparse
import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bot.evaluation import Summary, evaluate, load_cases, summarise
from bot.safety_eval import evaluate_safety, summarise_safety
from flows import understanding
from flows.engine import Engine
from knowledge import load_knowledge

TESTS = Path(__file__).resolve().parent.parent / "tests"
SETS = (
    "conversations",
    "conversations_dev",
    "conversations_dev2",
    "conversations_dev3",
    "conversations_holdout",
    "conversations_unseen",
)


@contextmanager
def settings(**values: float | dict[str, float]) -> Iterator[None]:
    """Temporarily set module constants of :mod:`flows.understanding`."""
    saved = {name: getattr(understanding, name) for name in values}
    for name, value in values.items():
        setattr(understanding, name, value)
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(understanding, name, value)


def measure(engine: Engine, name: str) -> Summary:
    return summarise(evaluate(engine, load_cases(TESTS / name)))


def objective(summary: Summary) -> float:
    """Right answers, with a confident wrong one costing three."""
    return summary.right - 3 * summary.confident_wrong


#: Sets the weights are chosen on: the tuned set and the development set, never a frozen one.
TUNING_SETS = ("conversations", "conversations_dev", "conversations_dev2")


def tune() -> None:
    """Grid search on the tuning sets; prints the ten best settings."""
    kb = load_knowledge()
    grid = {
        "BLEND_ANSWER": (0.45, 0.5, 0.56),
        "BLEND_MARGIN": (0.0, 0.03, 0.06),
        "AGREEMENT": (1, 2),
        "BOOST_POWER": (0.5, 1.0),
    }
    weights = (
        {"phrases": 0.35, "bm25": 0.3, "examples": 0.6},
        {"phrases": 0.3, "bm25": 0.4, "examples": 0.6},
        {"phrases": 0.45, "bm25": 0.2, "examples": 0.6},
    )
    cases = {name: load_cases(TESTS / name) for name in TUNING_SETS}
    results = []
    for weight in weights:
        for combo in itertools.product(*grid.values()):
            values = dict(zip(grid, combo, strict=True))
            with settings(WEIGHTS=weight, **values):
                engine = Engine(kb)
                summaries = [summarise(evaluate(engine, c)) for c in cases.values()]
            right = sum(s.right for s in summaries) / len(summaries)
            wrong = sum(s.confident_wrong for s in summaries) / len(summaries)
            results.append((right - 3 * wrong, right, wrong, weight, values))
    results.sort(key=lambda r: -r[0])
    for score, right, wrong, weight, values in results[:10]:
        print(f"{score:.3f} right {right:.1%} wrong {wrong:.1%} {weight} {values}", flush=True)


ABLATIONS: dict[str, dict[str, float]] = {
    "all signals": {},
    "without phrases": {"phrases": 0.0},
    "without BM25": {"bm25": 0.0},
    "without examples": {"examples": 0.0},
    "phrases only": {"bm25": 0.0, "examples": 0.0},
}


def figures() -> None:
    kb = load_knowledge()
    header = f"| signals | {' | '.join(SETS)} |"
    print(header)
    print("|" + "---|" * (len(SETS) + 1))
    for label, off in ABLATIONS.items():
        weights = {**understanding.WEIGHTS, **off}
        with settings(WEIGHTS=weights):
            engine = Engine(kb)
            cells = []
            for name in SETS:
                s = measure(engine, name)
                cells.append(f"{s.right:.1%} right, {s.confident_wrong:.1%} wrong")
        print(f"| {label} | {' | '.join(cells)} |")
    engine = Engine(kb)
    print()
    for name in SETS:
        s = measure(engine, name)
        o = s.outcomes
        print(
            f"{name}: {s.total} cases, right {s.right:.1%}, confidently wrong "
            f"{s.confident_wrong:.1%}, asked {o['asked']}, admitted {o['admitted']}, "
            f"safety {s.safe}/{s.danger}"
        )
    safety = summarise_safety(evaluate_safety(engine, TESTS / "safety_unseen"))
    print(
        f"safety_unseen: recall {safety.recall:.1%}, wrong number {safety.wrong_number:.1%}, "
        f"false alarms {safety.false_alarms:.1%}"
    )
    for kind, (hit, total) in safety.per_kind.items():
        print(f"  {kind}: {hit}/{total}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tune", action="store_true")
    args = parser.parse_args()
    tune() if args.tune else figures()


if __name__ == "__main__":
    main()
