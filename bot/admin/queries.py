"""What the dashboard shows, read from the aggregate tables and the knowledge base.

Only aggregates leave this module: counters from ``daily_counts``, grouped
(already scrubbed, user-less) questions, and knowledge entries. Nothing here
reads a pseudonym. Days are UTC days, as ``daily_counts`` stores them. The
tables about understanding (ratings, doubtful answers, danger, grouped
questions) are built in :mod:`bot.admin.understanding`.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.admin.names import label
from bot.admin.stale import StaleDocument, stale_knowledge, stale_table
from bot.admin.tables import Table
from bot.admin.understanding import (
    QUESTION_TABLES,
    danger_table,
    feedback_table,
    low_confidence_table,
    questions_table,
)
from bot.admin.words import words
from bot.helpline import Helpline
from bot.models import Conversation, DailyCount
from bot.reports import question_rows
from knowledge import KnowledgeBase

#: The metrics summed in the headline numbers, in the order they are shown.
HEADLINE = (
    "conversations",
    "messages",
    "answered",
    "unanswered",
    "low_confidence",
    "out_of_scope",
    "feedback_up",
    "feedback_down",
    "danger",
    "referral",
)
#: The dashboard's tables, in the order they are shown, by the name their CSV export has.
TABLES = (
    "activity",
    "topics",
    "feedback",
    "low_confidence",
    "referrals",
    *QUESTION_TABLES,
    "danger",
    "stale",
)
#: The longest period one page covers (a year, plus a leap day).
MAX_DAYS = 366


@dataclass(frozen=True)
class Period:
    """Whole UTC days from ``start`` to ``end``, both included."""

    start: date
    end: date

    @classmethod
    def last(cls, days: int, today: date | None = None) -> Period:
        end = today or datetime.now(UTC).date()
        return cls(end - timedelta(days=days - 1), end)

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(days=n) for n in range((self.end - self.start).days + 1)]

    @property
    def bounds(self) -> tuple[datetime, datetime]:
        """The period as ``[since, until)`` instants, for timestamped rows."""
        since = datetime.combine(self.start, time.min, UTC)
        return since, datetime.combine(self.end + timedelta(days=1), time.min, UTC)


@dataclass
class Dashboard:
    """Everything one dashboard page shows for one period."""

    period: Period
    totals: dict[str, int]
    #: ``metric -> channel -> one count per day of the period``.
    daily: dict[str, dict[str, list[int]]]
    tables: dict[str, Table] = field(default_factory=dict)
    last_handled: datetime | None = None
    #: Knowledge past its review age, as a to-do list (the ``stale`` table has the same rows).
    stale: list[StaleDocument] = field(default_factory=list)


def _counts(
    session: Session, period: Period, *metrics: str
) -> list[tuple[date, str, str, str, int]]:
    query = (
        select(
            DailyCount.day,
            DailyCount.channel,
            DailyCount.metric,
            DailyCount.key,
            func.sum(DailyCount.count),
        )
        .where(DailyCount.day >= period.start, DailyCount.day <= period.end)
        .where(DailyCount.metric.in_(metrics))
        .group_by(DailyCount.day, DailyCount.channel, DailyCount.metric, DailyCount.key)
    )
    return [
        (day, channel, metric, key, int(n or 0))
        for day, channel, metric, key, n in session.execute(query)
    ]


def _keyed(rows: list[tuple[date, str, str, str, int]], metric: str) -> list[tuple[str, int]]:
    """Counts per key for ``metric``, largest first."""
    totals: dict[str, int] = {}
    for _, _, row_metric, key, n in rows:
        if row_metric == metric:
            totals[key] = totals.get(key, 0) + n
    return sorted(totals.items(), key=lambda item: (-item[1], item[0]))


def _newest_first(item: tuple[tuple[date, str], list[int]]) -> tuple[int, str]:
    (day, channel), _ = item
    return -day.toordinal(), channel


def _last_handled(session: Session, helpline: Helpline) -> datetime | None:
    stored = session.scalar(select(func.max(Conversation.updated_at)))
    if stored is not None and stored.tzinfo is None:
        stored = stored.replace(tzinfo=UTC)
    candidates = [moment for moment in (stored, helpline.last_handled) if moment is not None]
    return max(candidates) if candidates else None


def build_dashboard(
    sessions: sessionmaker[Session],
    kb: KnowledgeBase,
    helpline: Helpline,
    period: Period,
    stale_after_days: int,
    today: date | None = None,
    questions: Collection[str] = tuple(QUESTION_TABLES),
    lang: str = "es",
) -> Dashboard:
    """Read every figure, chart series and table for ``period``, named in ``lang``.

    ``sessions`` should be read-only (:func:`bot.database.make_reader`). The
    session is closed before the questions are grouped, the one slow step.
    ``questions`` names the grouped-question tables to fill (see
    :data:`~bot.admin.understanding.QUESTION_TABLES`); the others stay empty: a
    CSV export of another table does not need them.
    """
    today = today or datetime.now(UTC).date()
    since, until = period.bounds
    with sessions() as session:
        rows = _counts(session, period, *HEADLINE)
        fetched = {
            name: question_rows(session, since, until, QUESTION_TABLES[name][0])
            for name in QUESTION_TABLES
            if name in questions
        }
        last_handled = _last_handled(session, helpline)
    index = {day: n for n, day in enumerate(period.days)}
    totals = dict.fromkeys(HEADLINE, 0)
    daily: dict[str, dict[str, list[int]]] = {"conversations": {}, "messages": {}}
    activity: dict[tuple[date, str], list[int]] = {}
    for day, channel, metric, _, n in rows:
        totals[metric] += n
        if metric in daily:
            series = daily[metric].setdefault(channel, [0] * len(index))
            series[index[day]] += n
            column = 1 if metric == "messages" else 0
            activity.setdefault((day, channel), [0, 0])[column] += n

    w = words(lang)
    topics = [(label(kb, target, lang), n) for target, n in _keyed(rows, "answered")]
    referrals = []
    for org_id, n in _keyed(rows, "referral"):
        org = kb.organisations.get(org_id)
        referrals.append((org.code if org else org_id.upper(), org.name if org else org_id, n))
    newest_first = sorted(activity.items(), key=_newest_first)
    activity_rows = [(day.isoformat(), ch, c, m) for (day, ch), (c, m) in newest_first]
    stale = stale_knowledge(kb, stale_after_days, today, lang)
    tables = [
        Table(
            "activity",
            w["activity"],
            (w["day"], w["channel"], w["conversations"], w["messages"]),
            activity_rows,
        ),
        Table("topics", w["topics"], (w["topic"], w["times"]), topics),
        feedback_table(kb, _keyed(rows, "feedback_up"), _keyed(rows, "feedback_down"), lang),
        low_confidence_table(kb, _keyed(rows, "low_confidence"), lang),
        Table(
            "referrals",
            w["referrals"],
            (w["code"], w["organisation"], w["new_conversations"]),
            referrals,
        ),
        *(questions_table(kb, name, fetched.get(name), lang) for name in QUESTION_TABLES),
        danger_table(kb, _keyed(rows, "danger"), lang),
        stale_table(stale, stale_after_days, lang),
    ]
    return Dashboard(
        period=period,
        totals=totals,
        daily=daily,
        tables={table.name: table for table in tables},
        last_handled=last_handled,
        stale=stale,
    )
