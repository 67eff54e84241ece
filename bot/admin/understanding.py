"""How well Pana understood, as tables: ratings per topic, doubtful answers, danger by kind,
and the questions it could not answer (or answered with doubt), grouped.

Counts come from ``daily_counts`` (``feedback_up``/``feedback_down`` and
``low_confidence`` keyed by target, ``danger`` keyed by kind). The questions are
the scrubbed, user-less texts of ``unanswered_questions``. A message that spoke
of danger is never stored, so the danger table can only ever hold counts.
"""

from __future__ import annotations

from collections import Counter

from bot.admin.names import danger_label, label
from bot.admin.tables import Table
from bot.admin.words import words
from bot.reports import group_questions
from knowledge import KnowledgeBase

#: Keyed counts: ``(key, count)``, largest first.
Counts = list[tuple[str, int]]

#: The grouped-question tables, by CSV name: the ``unanswered_questions`` kind each
#: shows and the words key of its title.
QUESTION_TABLES = {
    "unanswered": ("unanswered", "unanswered_questions"),
    "low_confidence_questions": ("low_confidence", "low_confidence_questions"),
    "out_of_scope": ("out_of_scope", "out_of_scope_questions"),
}


def feedback_table(kb: KnowledgeBase, up: Counts, down: Counts, lang: str) -> Table:
    """Answers rated helpful and not helpful, per target, the most rated first."""
    w = words(lang)
    rated: dict[str, list[int]] = {}
    for column, counts in ((0, up), (1, down)):
        for target, n in counts:
            rated.setdefault(target, [0, 0])[column] += n
    rows = [(label(kb, target, lang), good, bad) for target, (good, bad) in rated.items()]
    rows.sort(key=lambda row: (-(row[1] + row[2]), -row[2], row[0]))
    return Table("feedback", w["feedback"], (w["topic"], w["helpful"], w["not_helpful"]), rows)


def low_confidence_table(kb: KnowledgeBase, counts: Counts, lang: str) -> Table:
    """Answers given although the best reading scored low, per target answered."""
    w = words(lang)
    rows = [(label(kb, target, lang), n) for target, n in counts]
    return Table("low_confidence", w["low_confidence_topics"], (w["topic"], w["times"]), rows)


def danger_table(kb: KnowledgeBase, counts: Counts, lang: str) -> Table:
    """Danger answers per kind, named by the kind's title in ``safety.yaml``."""
    w = words(lang)
    rows = [(danger_label(kb, kind, lang), n) for kind, n in counts]
    return Table("danger", w["dangers"], (w["danger_kind"], w["times"]), rows)


def questions_table(
    kb: KnowledgeBase,
    name: str,
    questions: list[tuple[str, str]] | None,
    lang: str,
) -> Table:
    """The ``name`` table of :data:`QUESTION_TABLES` from its ``(text, guesses)`` rows,
    grouped as ``pana unanswered`` groups them (after the database session has
    closed). Low-confidence groups also name what Pana answered most often.
    ``None`` leaves the rows out (grouping is slow).
    """
    w = words(lang)
    kind, title = QUESTION_TABLES[name]
    answered = kind == "low_confidence"
    headers = (w["times"], w["question"], w["similar"])
    if answered:
        headers += (w["answered_with"],)
    if questions is None:
        return Table(name, w[title], headers, [])
    targets: dict[str, Counter[str]] = {}
    for text, target in questions:
        if target:
            targets.setdefault(text.strip(), Counter())[target] += 1
    rows = []
    for representative, n, members in group_questions([text for text, _ in questions]):
        row: tuple[str | int, ...] = (n, representative, "; ".join(members[1:]))
        if answered:
            offered = sum((targets.get(member, Counter()) for member in members), Counter())
            top = offered.most_common(1)
            row += (label(kb, top[0][0], lang) if top else "",)
        rows.append(row)
    return Table(name, w[title], headers, rows)
