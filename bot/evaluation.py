"""``pana eval``: run the conversation set through the real engine and score it.

Each case in ``tests/conversations/*.yaml`` is a fresh conversation: the
``before`` messages, then ``say``; the replies to ``say`` must contain every
``expect`` fact (phone numbers compared digit by digit, other facts ignoring
case and accents), none of ``expect_not``, and be in the case's language.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from flows.engine import Engine
from flows.turn import Incoming, State
from knowledge import load_knowledge
from knowledge.text import strip_accents

PHONE_IN_TEXT = re.compile(r"\+?\d[\d\s().-]*\d")


@dataclass(frozen=True)
class Case:
    id: str
    area: str
    lang: str
    say: str
    expect: tuple[str, ...]
    before: tuple[str, ...] = ()
    expect_not: tuple[str, ...] = ()


@dataclass
class Result:
    case: Case
    passed: bool
    reply: str
    missing: list[str] = field(default_factory=list)
    unwanted: list[str] = field(default_factory=list)
    wrong_language: bool = False
    near_miss: str = ""
    #: The engine asked which one or admitted it did not know (no confident answer).
    hedged: bool = False


def load_cases(folder: Path) -> list[Case]:
    cases = []
    for path in sorted(folder.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for raw in data["cases"]:
            cases.append(
                Case(
                    id=str(raw["id"]),
                    area=str(data["area"]),
                    lang=str(raw.get("lang", "es")),
                    say=str(raw["say"]),
                    expect=tuple(str(e) for e in raw.get("expect", ())),
                    before=tuple(str(b) for b in raw.get("before", ())),
                    expect_not=tuple(str(e) for e in raw.get("expect_not", ())),
                )
            )
    return cases


def _plain(text: str) -> str:
    return strip_accents(text.lower()).replace("*", "")


def contains_fact(reply: str, fact: str) -> bool:
    """Phone numbers (``+5117460295``) match however the reply formats them."""
    if re.fullmatch(r"\+\d{6,15}", fact):
        digits = fact[1:]
        return any(re.sub(r"\D", "", m).endswith(digits) for m in PHONE_IN_TEXT.findall(reply))
    return _plain(fact) in _plain(reply)


def run_case(engine: Engine, case: Case) -> Result:
    state = State()
    for message in case.before:
        state = engine.handle(state, Incoming("console", message)).state
    turn = engine.handle(state, Incoming("console", case.say))
    reply = "\n".join(r.text for r in turn.replies)
    missing = [f for f in case.expect if not contains_fact(reply, f)]
    unwanted = [f for f in case.expect_not if contains_fact(reply, f)]
    wrong_language = turn.state.lang != case.lang
    near = next((e.detail for e in turn.events if e.kind == "near_miss"), "")
    hedged = any(e.kind in ("near_miss", "unanswered") for e in turn.events)
    passed = not missing and not unwanted and not wrong_language
    return Result(case, passed, reply, missing, unwanted, wrong_language, near, hedged)


def evaluate(engine: Engine, cases: list[Case]) -> list[Result]:
    return [run_case(engine, case) for case in cases]


def accuracy_by_area(results: list[Result]) -> dict[str, tuple[int, int]]:
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for result in results:
        totals[result.case.area][0] += result.passed
        totals[result.case.area][1] += 1
    return {area: (passed, total) for area, (passed, total) in sorted(totals.items())}


def report(results: list[Result], verbose: bool = False) -> str:
    lines = ["area          passed  total  accuracy"]
    for area, (passed, total) in accuracy_by_area(results).items():
        lines.append(f"{area:<13} {passed:>6} {total:>6}  {passed / total:>7.1%}")
    passed = sum(r.passed for r in results)
    lines.append(
        f"{'overall':<13} {passed:>6} {len(results):>6}  {passed / max(1, len(results)):>7.1%}"
    )
    failures = [r for r in results if not r.passed]
    confident = [r for r in failures if not r.hedged]
    lines.append(
        f"failures: {len(failures)}, of which {len(failures) - len(confident)} asked or admitted "
        f"and {len(confident)} answered confidently (wrong fact or wrong language)"
    )
    if failures:
        lines += ["", f"failures ({len(failures)}):"]
    for result in failures:
        why = []
        if result.missing:
            why.append(f"missing {result.missing}")
        if result.unwanted:
            why.append(f"unwanted {result.unwanted}")
        if result.wrong_language:
            why.append(f"not in {result.case.lang}")
        lines.append(f"- {result.case.id}: {result.case.say!r} -> {'; '.join(why)}")
        if verbose:
            lines.append("    " + result.reply[:600].replace("\n", "\n    "))
    near = [r for r in results if r.near_miss]
    if near:
        lines += ["", f"near misses (below the confidence threshold, {len(near)}):"]
        lines += [f"- {r.case.id}: {r.case.say!r} ~ {r.near_miss}" for r in near]
    return "\n".join(lines)


def main(
    folder: str, verbose: bool = False, minimum: float = 0.95, area_minimum: float = 0.90
) -> int:
    engine = Engine(load_knowledge())
    results = evaluate(engine, load_cases(Path(folder)))
    print(report(results, verbose))
    overall = sum(r.passed for r in results) / max(1, len(results))
    areas_ok = all(p / t >= area_minimum for p, t in accuracy_by_area(results).values())
    return 0 if overall >= minimum and areas_ok and results else 1
