"""How well the danger reader generalises: a k-fold cross-validation over safety.yaml.

    python -m bench.safety_kfold                 # 5 folds, patterns on (as the engine)
    python -m bench.safety_kfold --no-patterns   # the learned model alone
    python -m bench.safety_kfold --seeds 3       # three fold shuffles, summed (less noise)
    python -m bench.safety_kfold --score-only-from old.yaml   # only that file's messages scored
    python -m bench.safety_kfold --startup       # also time fitting the reader and an Engine

Each kind's ``examples`` and the ``ordinary`` list of ``knowledge/data/safety.yaml``
are split into ``k`` folds (a fixed shuffle per list). For each fold the danger
reader is fitted as ``flows.scoring.models`` fits it (the same readings, a
vocabulary of its own, ``DangerClassifier.fit``) on the other folds plus the
frozen ``danger_ordinary.yaml``, which is never held out, and reads the held-out
messages as ``Engine.handle`` does (normalised, translated through a glossary
when in Portuguese, French or Creole; three words or fewer need SHORT_DANGER).

Per kind:

- **recall**, as ``pana eval --safety`` counts it: the first reply would carry a
  number that fits the kind (``bot.safety_eval.FITTING``): a danger answer (at
  least DANGER_ANSWER; its second kind too from SECOND_KIND) or a gentle check
  (at least DANGER_CHECK, the top kind's first CHECK_NUMBERS numbers); for a kind
  without numbers, that kind answered;
- **right**: the most confident danger is that very kind and at least
  DANGER_ANSWER (DANGER_CHECK for a kind without numbers, answered at once);
- **alarm**: any danger at least DANGER_CHECK (an answer or a gentle check);

and on the held-out ordinary messages, **false alarms**: any danger at least
DANGER_CHECK. Only the safety.yaml examples are read: no test set is opened.
"""

from __future__ import annotations

import argparse
import random
import time
from collections import defaultdict

from bot.safety_eval import FITTING
from flows.engine import SHORT_DANGER, SHORT_MESSAGE
from flows.language import LanguageGuesser
from flows.safety import CHECK_NUMBERS, DANGER_ANSWER, DANGER_CHECK, SECOND_KIND
from flows.scoring.danger import Danger, DangerClassifier, readings
from flows.scoring.features import Vector, Vectoriser
from knowledge import load_knowledge
from knowledge.base import KnowledgeBase
from knowledge.text import normalise


def folds_of(items: list[str], k: int, seed: str) -> list[list[str]]:
    """``items`` dealt into ``k`` folds after a shuffle fixed by ``seed``."""
    shuffled = list(items)
    random.Random(seed).shuffle(shuffled)
    return [shuffled[i::k] for i in range(k)]


def fit_reader(
    kb: KnowledgeBase,
    examples: dict[str, list[str]],
    ordinary: list[str],
    patterns: bool,
) -> DangerClassifier:
    """The danger reader fitted as ``flows.scoring.models._fit`` fits it."""
    read = readings(kb)
    danger_examples = {
        kind: [r for t in texts for r in read(t)] for kind, texts in examples.items()
    }
    danger_patterns = {k.id: k.patterns.all() if patterns else [] for k in kb.safety.kinds}
    ordinary_read = [r for t in ordinary for r in read(t)] + kb.danger_ordinary
    danger_texts = [t for items in danger_examples.values() for t in items] + ordinary_read
    vectoriser = Vectoriser.fit(danger_texts)

    def vectorise(norm: str) -> Vector:
        return vectoriser.transform(norm, normalised=True)

    return DangerClassifier.fit(
        {k: [normalise(t) for t in v] for k, v in danger_examples.items()},
        [normalise(t) for t in ordinary_read],
        {k: [normalise(p) for p in v] for k, v in danger_patterns.items()},
        vectorise,
        features=vectoriser.size,
    )


def reading(reader: DangerClassifier, languages: LanguageGuesser, text: str) -> list[Danger]:
    """The dangers the engine would see in ``text`` as a first message."""
    norm = languages.in_spanish(normalise(text))[1]
    dangers = reader.read(norm)
    if len(norm.split()) <= SHORT_MESSAGE:
        dangers = [d for d in dangers if d.confidence >= SHORT_DANGER]
    return dangers


def fits(kb: KnowledgeBase, kind: str, dangers: list[Danger]) -> bool:
    """Would the first reply to a message with these dangers fit ``kind``?"""
    if not dangers or dangers[0].confidence < DANGER_CHECK:
        return False
    top = kb.safety.kind(dangers[0].kind)
    if not FITTING.get(kind):
        chosen = [dangers[0].kind]
        if len(dangers) > 1 and dangers[1].confidence >= SECOND_KIND:
            chosen.append(dangers[1].kind)
        return kind in chosen and (
            (top is not None and not top.numbers) or dangers[0].confidence >= DANGER_ANSWER
        )
    if dangers[0].confidence >= DANGER_ANSWER:
        numbers = list(top.numbers) if top else []
        if len(dangers) > 1 and dangers[1].confidence >= SECOND_KIND:
            second = kb.safety.kind(dangers[1].kind)
            numbers += list(second.numbers) if second else []
    else:
        numbers = list(top.numbers[:CHECK_NUMBERS]) if top else []
    return any(n in FITTING[kind] for n in numbers)


def split(
    items: list[str], k: int, seed: str, scored: set[str] | None
) -> tuple[list[list[str]], list[set[str]]]:
    """Folds of ``items`` and, per fold, the messages to score. With ``scored`` (the
    messages of an earlier safety.yaml), those are dealt exactly as that file's own run
    deals them and only they are scored; the others are dealt apart and only train."""
    if scored is None:
        parts = folds_of(items, k, seed)
        return parts, [set(p) for p in parts]
    old = folds_of([t for t in items if t in scored], k, seed)
    new = folds_of([t for t in items if t not in scored], k, seed + ":new")
    return [o + n for o, n in zip(old, new, strict=True)], [set(o) for o in old]


def earlier(path: str) -> set[str]:
    """Every example and ordinary message of an earlier safety.yaml."""
    import yaml

    with open(path, encoding="utf-8") as file:
        safety = yaml.safe_load(file)["safety"]
    found = {
        t
        for kind in safety["kinds"]
        for lang in ("es", "en")
        for t in kind["examples"].get(lang, [])
    }
    return found | {t for lang in ("es", "en") for t in safety["ordinary"].get(lang, [])}


def cross_validate(
    k: int = 5,
    patterns: bool = True,
    scored: set[str] | None = None,
    misses: bool = False,
    seed: int = 0,
) -> dict[str, list[int]]:
    kb = load_knowledge()
    languages = LanguageGuesser(kb)
    no_numbers = {kind.id for kind in kb.safety.kinds if not kind.numbers}
    salt = f":{seed}" if seed else ""
    kinds = {
        kind.id: split(kind.examples.all(), k, kind.id + salt, scored) for kind in kb.safety.kinds
    }
    ordinary, ordinary_scored = split(kb.safety.ordinary.all(), k, "ordinary" + salt, scored)
    # kind -> [recall, right, alarm, total]; "none" -> [false alarms, -, -, total]
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for fold in range(k):
        train = {
            kind: [t for i, f in enumerate(parts) if i != fold for t in f]
            for kind, (parts, _) in kinds.items()
        }
        train_ordinary = [t for i, f in enumerate(ordinary) if i != fold for t in f]
        reader = fit_reader(kb, train, train_ordinary, patterns)
        for kind, (parts, to_score) in kinds.items():
            answer_at = DANGER_CHECK if kind in no_numbers else DANGER_ANSWER
            for text in parts[fold]:
                if text not in to_score[fold]:
                    continue
                dangers = reading(reader, languages, text)
                top = dangers[0] if dangers else None
                if misses and not fits(kb, kind, dangers):
                    print(
                        f"MISS {kind:<17} {top.kind if top else '-':<17} "
                        f"{top.confidence if top else 0:.2f} {text}"
                    )
                counts[kind][0] += fits(kb, kind, dangers)
                counts[kind][1] += bool(top and top.kind == kind and top.confidence >= answer_at)
                counts[kind][2] += bool(top and top.confidence >= DANGER_CHECK)
                counts[kind][3] += 1
        for text in ordinary[fold]:
            if text not in ordinary_scored[fold]:
                continue
            dangers = reading(reader, languages, text)
            if misses and dangers and dangers[0].confidence >= DANGER_CHECK:
                print(f"ALARM {dangers[0].kind:<17} {dangers[0].confidence:.2f} {text}")
            counts["none"][0] += bool(dangers and dangers[0].confidence >= DANGER_CHECK)
            counts["none"][3] += 1
    return dict(counts)


def report(counts: dict[str, list[int]], k: int) -> str:
    lines = [
        f"{k}-fold cross-validation over safety.yaml",
        f"{'kind':<18} {'n':>4} {'recall':>7} {'right':>7} {'alarm':>7}",
    ]
    recall = right = alarm = total = 0
    for kind, (fit, hit, any_alarm, n) in sorted(counts.items()):
        if kind == "none":
            continue
        lines.append(f"{kind:<18} {n:>4} {fit / n:>7.1%} {hit / n:>7.1%} {any_alarm / n:>7.1%}")
        recall, right, alarm, total = recall + fit, right + hit, alarm + any_alarm, total + n
    shares = f"{recall / total:>7.1%} {right / total:>7.1%} {alarm / total:>7.1%}"
    lines.append(f"{'overall':<18} {total:>4} {shares}")
    false, _, _, n = counts["none"]
    lines.append(f"false alarms on {n} held-out ordinary messages: {false}/{n} = {false / n:.1%}")
    return "\n".join(lines)


def startup_seconds() -> tuple[float, float]:
    """CPU seconds (this process only, so other work on a shared machine counts less)
    to fit the danger reader on all of safety.yaml, and to build an Engine on the
    knowledge (every model fitted, no cache)."""
    from flows.engine import Engine

    kb = load_knowledge()
    examples = {kind.id: kind.examples.all() for kind in kb.safety.kinds}
    began = time.process_time()
    fit_reader(kb, examples, kb.safety.ordinary.all(), patterns=True)
    reader = time.process_time() - began
    began = time.process_time()
    Engine(kb)
    return reader, time.process_time() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-k", type=int, default=5)
    parser.add_argument("--no-patterns", action="store_true", help="the learned model alone")
    parser.add_argument("--startup", action="store_true", help="also time building an Engine")
    parser.add_argument(
        "--score-only-from",
        metavar="YAML",
        help="score only the messages of this earlier safety.yaml, in that file's folds; "
        "the others only train (does what was added help read what was there?)",
    )
    parser.add_argument(
        "--misses", action="store_true", help="print the missed and alarmed messages"
    )
    parser.add_argument(
        "--seeds", type=int, default=1, help="repeat with this many different fold shuffles, summed"
    )
    args = parser.parse_args()
    began = time.perf_counter()
    scored = earlier(args.score_only_from) if args.score_only_from else None
    counts: dict[str, list[int]] = {}
    for seed in range(args.seeds):
        for kind, row in cross_validate(
            args.k, not args.no_patterns, scored, args.misses, seed
        ).items():
            counts[kind] = [
                a + b for a, b in zip(counts.get(kind, [0] * len(row)), row, strict=True)
            ]
    print(report(counts, args.k) + (f" ({args.seeds} shuffles)" if args.seeds > 1 else ""))
    print(f"({time.perf_counter() - began:.1f} s; patterns {'off' if args.no_patterns else 'on'})")
    if args.startup:
        reader, engine = startup_seconds()
        print(
            f"danger reader fitting: {reader:.2f} s; engine start-up (all fitting): {engine:.2f} s"
        )


if __name__ == "__main__":
    main()
