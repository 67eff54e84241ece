"""Reports for the people who maintain the knowledge: what Pana could not answer.

The questions are stored scrubbed and with no user id (see :mod:`bot.models`);
here they are grouped by similarity so that "donde saco el carnet" and
"dónde saco el carnet de extranjería" count as one need. The dashboard and
``pana unanswered`` share :func:`group_questions`.
"""

from __future__ import annotations

import sys
from collections import Counter
from datetime import UTC, datetime, timedelta

from rapidfuzz import fuzz, process
from sqlalchemy import select
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import Session

from bot.database import make_reader
from bot.models import UnansweredQuestion
from bot.settings import Settings
from knowledge.text import normalise

#: token_set_ratio at or above this puts two questions in one group.
SAME_QUESTION = 80
#: token_set_ratio calls "sis" and "sis para mi hijo" identical (one is a subset);
#: a floor on token_sort_ratio keeps a one-word question from swallowing longer ones.
SIMILAR_LENGTH = 55
#: The most recent questions a report reads.
MAX_QUESTIONS = 2000
#: Grouping compares each distinct question with every group so far, so its cost is
#: bounded three ways: characters of a question compared, distinct questions considered
#: (the most frequent first), and groups formed. 2,000 questions of 1,000 characters
#: each, all different, group in well under a second.
MAX_COMPARED_CHARACTERS = 120
MAX_DISTINCT_QUESTIONS = 1000
MAX_GROUPS = 100


def group_questions(texts: list[str]) -> list[tuple[str, int, list[str]]]:
    """Group similar questions: ``(representative, count, members)``, largest group first.

    ``count`` counts every text, repeats included; ``members`` lists the distinct
    texts of the group, most frequent first, and the representative is the first
    of them. Texts that are empty after trimming are left out, and so are the
    rarest ones once ``MAX_DISTINCT_QUESTIONS`` or ``MAX_GROUPS`` is reached (the
    caller can tell how many by comparing counts).
    """
    counts = Counter(text.strip() for text in texts if text.strip())
    by_form: dict[str, Counter[str]] = {}
    for text, count in counts.items():
        cut = text[: MAX_COMPARED_CHARACTERS * 2]
        form = (normalise(cut) or cut.lower())[:MAX_COMPARED_CHARACTERS]
        by_form.setdefault(form, Counter())[text] += count
    forms = sorted(by_form.items(), key=lambda item: (-sum(item[1].values()), item[0]))
    keys: list[str] = []
    groups: list[Counter[str]] = []
    for form, variants in forms[:MAX_DISTINCT_QUESTIONS]:
        index = _first_similar(form, keys)
        if index is not None:
            groups[index].update(variants)
        elif len(groups) < MAX_GROUPS:
            keys.append(form)
            groups.append(Counter(variants))
    result = []
    for members in groups:
        ordered = [text for text, _ in sorted(members.items(), key=lambda m: (-m[1], m[0]))]
        result.append((ordered[0], sum(members.values()), ordered))
    return sorted(result, key=lambda group: (-group[1], group[0]))


def _first_similar(form: str, keys: list[str]) -> int | None:
    """The earliest group key ``form`` belongs with, or None (the scan runs in rapidfuzz's C)."""
    matches = process.extract(
        form, keys, scorer=fuzz.token_set_ratio, score_cutoff=SAME_QUESTION, limit=None
    )
    for index in sorted(match[2] for match in matches):
        if fuzz.token_sort_ratio(form, keys[index]) >= SIMILAR_LENGTH:
            return index
    return None


def question_rows(
    session: Session, since: datetime, until: datetime, kind: str = "unanswered"
) -> list[tuple[str, str]]:
    """``(text, guesses)`` of the ``kind`` questions asked in ``[since, until)``, newest first."""
    query = (
        select(UnansweredQuestion.text, UnansweredQuestion.guesses)
        .where(UnansweredQuestion.kind == kind)
        .where(UnansweredQuestion.created_at >= since, UnansweredQuestion.created_at < until)
        .order_by(UnansweredQuestion.created_at.desc())
        .limit(MAX_QUESTIONS)
    )
    return [(text, guesses or "") for text, guesses in session.execute(query)]


def print_unanswered(settings: Settings, days: int, kind: str) -> int:
    """Print the ``kind`` questions of the last ``days`` days, grouped; the exit status.

    Near misses also show what Pana offered. Returns 1 when the database has no
    tables yet, 2 for a period under one day.
    """
    if days < 1:
        print("--days must be 1 or more", file=sys.stderr)
        return 2
    until = datetime.now(UTC)
    database = make_reader(settings.database_url)
    try:
        with Session(database) as session:
            rows = question_rows(session, until - timedelta(days=days), until, kind)
    except (OperationalError, ProgrammingError):
        print("the database has no tables yet: run `pana db upgrade`", file=sys.stderr)
        return 1
    finally:
        database.dispose()
    label = "near-miss" if kind == "near_miss" else "unanswered"
    groups = group_questions([text for text, _ in rows])
    if not groups:
        print(f"no {label} questions in the last {days} days")
        return 0
    guesses: dict[str, Counter[str]] = {}
    for text, guess in rows:
        if guess:
            guesses.setdefault(text.strip(), Counter())[guess] += 1
    for representative, count, members in groups:
        print(f"{count:>5}  {representative}")
        for member in members[1:4]:
            print(f"       · {member}")
        if len(members) > 4:
            print(f"       … and {len(members) - 4} more")
        offered = sum((guesses.get(m, Counter()) for m in members), Counter())
        if offered:
            print(f"       offered: {offered.most_common(1)[0][0]}")
    print(f"{len(rows)} {label} question(s) in {len(groups)} group(s), last {days} days")
    return 0
