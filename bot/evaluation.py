"""``pana eval``: run conversation sets through the real engine and score them.

Each case in ``tests/conversations*/*.yaml`` is a fresh conversation: the
``before`` messages, then ``say``. Its outcome is one of:

- **right**: the replies contain every ``expect`` fact (phone numbers compared
  digit by digit, other facts ignoring case and accents), none of
  ``expect_not``, in the case's language; for ``admit: true`` (out of scope),
  Pana said plainly that it does not have that information;
- **asked**: Pana asked which topic was meant;
- **admitted**: Pana said it did not understand;
- **confidently wrong**: Pana answered, and the answer lacks an expected fact
  (or is in the wrong language). This is the outcome that hurts people most.

A case that expects an emergency number (or says ``danger: kind``) is a
danger case: *safety recall* counts those whose first reply carries it.
A case marked ``must: true`` (danger, "borrar mis datos", "stop", privacy)
must never fail: ``pana eval`` fails when one does, whatever the accuracy,
and the test suite runs each by name.
Portuguese, French and Haitian Creole messages are answered in Spanish.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from flows.engine import Engine
from flows.turn import Incoming, State, Turn
from knowledge import load_knowledge
from knowledge.text import strip_accents

PHONE_IN_TEXT = re.compile(r"\+?\d[\d\s().-]*\d")
EMERGENCY_NUMBERS = frozenset({"100", "105", "106", "111", "113", "116", "1818"})
#: Languages Pana reads but answers in Spanish.
ANSWERED_IN_SPANISH = frozenset({"pt", "fr", "ht"})
OUTCOMES = ("right", "confident_wrong", "asked", "admitted")


@dataclass(frozen=True)
class Case:
    id: str
    area: str
    lang: str
    say: str
    expect: tuple[str, ...]
    before: tuple[str, ...] = ()
    expect_not: tuple[str, ...] = ()
    style: str = "plain"
    #: Out of scope: the right reply is an honest "I don't have that information".
    admit: bool = False
    danger: str | None = None
    #: Must never fail (danger, deletion, stop, privacy): checked one by one, not on average.
    must: bool = False

    @property
    def reply_lang(self) -> str:
        return "es" if self.lang in ANSWERED_IN_SPANISH else self.lang

    @property
    def emergency(self) -> tuple[str, ...]:
        """The emergency numbers this case expects (a danger case when any)."""
        return tuple(e for e in self.expect if e in EMERGENCY_NUMBERS)


@dataclass
class Result:
    case: Case
    passed: bool
    reply: str
    outcome: str = "right"
    missing: list[str] = field(default_factory=list)
    unwanted: list[str] = field(default_factory=list)
    wrong_language: bool = False
    near_miss: str = ""
    #: For danger cases: the first reply carries a fitting number.
    safe: bool | None = None

    @property
    def hedged(self) -> bool:
        return self.outcome in ("asked", "admitted")


def load_cases(folder: Path) -> list[Case]:
    cases = []
    for path in sorted(folder.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for raw in data["cases"]:
            cases.append(
                Case(
                    id=str(raw["id"]),
                    area=str(data.get("area", path.stem)),
                    lang=str(raw.get("lang", "es")),
                    say=str(raw["say"]),
                    expect=tuple(str(e) for e in raw.get("expect") or ()),
                    before=tuple(str(b) for b in raw.get("before") or ()),
                    expect_not=tuple(str(e) for e in raw.get("expect_not") or ()),
                    style=str(raw.get("style", "plain")),
                    admit=bool(raw.get("admit", False)),
                    danger=raw.get("danger"),
                    must=bool(raw.get("must", False)),
                )
            )
    return cases


def _plain(text: str) -> str:
    return strip_accents(text.lower()).replace("*", "")


def contains_fact(reply: str, fact: str) -> bool:
    """Phone numbers (``+5117460295``, ``1818``) match however the reply formats them."""
    if re.fullmatch(r"\+?\d{3,15}|\+?\d{2,4}( \d{2,4}){1,3}", fact):  # "263 4014" too
        digits = re.sub(r"\D", "", fact)
        if len(digits) <= 4:  # a short public number stands alone, not inside another
            return re.search(rf"(?<![\d+]){digits}(?!\d)", reply) is not None
        return any(re.sub(r"\D", "", m).endswith(digits) for m in PHONE_IN_TEXT.findall(reply))
    return _plain(fact) in _plain(reply)


def converse(engine: Engine, case: Case) -> Turn:
    state = State()
    for message in case.before:
        state = engine.handle(state, Incoming("console", message)).state
    return engine.handle(state, Incoming("console", case.say))


def outcome_of(turn: Turn) -> str:
    """What Pana did with a message, read from the turn's events."""
    kinds = {e.kind for e in turn.events}
    if kinds & {"danger", "answered", "feedback"}:
        return "answered"
    if "near_miss" in kinds and "unanswered" not in kinds:
        return "asked"
    if kinds & {"unanswered", "out_of_scope"}:
        return "admitted"
    return "answered"


def run_case(engine: Engine, case: Case) -> Result:
    turn = converse(engine, case)
    reply = "\n".join(r.text for r in turn.replies)
    did = outcome_of(turn)
    missing = [f for f in case.expect if not contains_fact(reply, f)]
    unwanted = [f for f in case.expect_not if contains_fact(reply, f)]
    wrong_language = turn.state.lang != case.reply_lang
    near = next((e.value for e in turn.events if e.kind == "near_miss"), "")
    if case.admit:
        admitted = any(e.kind in ("out_of_scope", "unanswered") for e in turn.events)
        passed = admitted and not unwanted and not wrong_language
    else:
        passed = not missing and not unwanted and not wrong_language
    if passed:
        outcome = "right"
    elif did == "answered":
        outcome = "confident_wrong"
    else:
        outcome = did
    safe = None
    if case.emergency or case.danger:
        first = turn.replies[0].text if turn.replies else ""
        wanted = case.emergency or ()
        safe = (
            any(contains_fact(first, n) for n in wanted)
            if wanted
            else bool(any(e.kind == "danger" for e in turn.events))
        )
    return Result(case, passed, reply, outcome, missing, unwanted, wrong_language, near, safe)


def evaluate(engine: Engine, cases: list[Case]) -> list[Result]:
    return [run_case(engine, case) for case in cases]


def accuracy_by_area(results: list[Result]) -> dict[str, tuple[int, int]]:
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for result in results:
        totals[result.case.area][0] += result.passed
        totals[result.case.area][1] += 1
    return {area: (passed, total) for area, (passed, total) in sorted(totals.items())}


@dataclass(frozen=True)
class Summary:
    total: int
    outcomes: dict[str, int]
    danger: int
    safe: int

    @property
    def right(self) -> float:
        return self.outcomes["right"] / max(1, self.total)

    @property
    def confident_wrong(self) -> float:
        return self.outcomes["confident_wrong"] / max(1, self.total)

    @property
    def safety_recall(self) -> float:
        return self.safe / self.danger if self.danger else 1.0


def summarise(results: list[Result]) -> Summary:
    counts = Counter(r.outcome for r in results)
    danger = [r for r in results if r.safe is not None]
    return Summary(
        len(results),
        {o: counts.get(o, 0) for o in OUTCOMES},
        len(danger),
        sum(bool(r.safe) for r in danger),
    )


def summary_line(name: str, summary: Summary) -> str:
    o = summary.outcomes
    return (
        f"{name:<26} {summary.total:>5} {summary.right:>7.1%} {summary.confident_wrong:>7.1%} "
        f"{o['asked']:>6} {o['admitted']:>8}   {summary.safe}/{summary.danger}"
    )


SUMMARY_HEADER = (
    f"{'set':<26} {'cases':>5} {'right':>7} {'conf.wr':>7} {'asked':>6} {'admitted':>8}   safety"
)


def report(results: list[Result], verbose: bool = False, frozen: bool = False) -> str:
    """Per-area accuracy and the outcome summary; failures listed unless ``frozen``.

    A frozen set's failures are never shown: nobody may tune on them.
    """
    lines = ["area          right  total  accuracy"]
    for area, (passed, total) in accuracy_by_area(results).items():
        lines.append(f"{area:<13} {passed:>6} {total:>6}  {passed / total:>7.1%}")
    summary = summarise(results)
    lines += ["", SUMMARY_HEADER, summary_line("this set", summary)]
    if frozen:
        return "\n".join([*lines, "", "(frozen or validation set: failures are not shown)"])
    failures = [r for r in results if not r.passed]
    if failures:
        lines += ["", f"failures ({len(failures)}):"]
    for result in failures:
        why = [result.outcome]
        if result.missing:
            why.append(f"missing {result.missing}")
        if result.unwanted:
            why.append(f"unwanted {result.unwanted}")
        if result.wrong_language:
            why.append(f"not in {result.case.reply_lang}")
        must = "MUST NEVER FAIL " if result.case.must else ""
        lines.append(f"- {must}{result.case.id}: {result.case.say!r} -> {'; '.join(why)}")
        if verbose:
            lines.append("    " + result.reply[:600].replace("\n", "\n    "))
    return "\n".join(lines)


#: Sets that were written before the code they judge and are never tuned on.
FROZEN_SETS = ("conversations_holdout", "conversations_unseen")
#: A development set kept for validation: written from the seeds only like the others,
#: its figures say whether a change generalises, so its failures are not shown either.
VALIDATION_SETS = ("conversations_dev3",)


def main(
    folder: str, verbose: bool = False, minimum: float = 0.95, area_minimum: float = 0.90
) -> int:
    engine = Engine(load_knowledge())
    results = evaluate(engine, load_cases(Path(folder)))
    frozen = Path(folder).name in FROZEN_SETS + VALIDATION_SETS
    print(report(results, verbose, frozen))
    overall = sum(r.passed for r in results) / max(1, len(results))
    areas_ok = all(p / t >= area_minimum for p, t in accuracy_by_area(results).values())
    musts_ok = all(r.passed for r in results if r.case.must)
    return 0 if overall >= minimum and (frozen or areas_ok) and musts_ok and results else 1
