"""What the dashboard shows, read from the aggregate tables and the knowledge base.

Only aggregates leave this module: counters from ``daily_counts``, grouped
(already scrubbed, user-less) questions, and knowledge entries. Nothing here
reads a pseudonym. Days are UTC days, as ``daily_counts`` stores them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.admin.tables import Table
from bot.helpline import Helpline
from bot.models import Conversation, DailyCount
from bot.reports import group_questions, question_rows
from knowledge import KnowledgeBase

#: The metrics summed in the headline numbers, in the order they are shown.
HEADLINE = ("conversations", "messages", "answered", "unanswered", "referral")
#: The dashboard's tables, by the name their CSV export has.
TABLES = ("activity", "topics", "referrals", "unanswered", "stale")
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


def label(kb: KnowledgeBase, target: str) -> str:
    """A readable name for an answered target (``topic:sis-gratuito`` -> "Free SIS")."""
    kind, _, ident = target.partition(":")
    if kind == "topic" and ident in kb.topics:
        return kb.topics[ident].title.en
    if kind == "org" and ident in kb.organisations:
        org = kb.organisations[ident]
        return org.short_name or org.name
    if kind == "menu" and ident in kb.menus:
        for menu in kb.menus.values():
            for option in menu.options:
                if option.target == target:
                    return f"Menu: {option.label.en}"
        return f"Menu: {kb.menus[ident].title.en}"
    if kind == "service" and ident in kb.services:
        return f"Organisations for {kb.services[ident].label.en}"
    if kind == "list" and ident.startswith("ngos:"):
        city = ident.partition(":")[2]
        return f"Organisations in {kb.cities[city].name if city in kb.cities else city}"
    if kind == "consulate" and ident in kb.consulates:
        city = kb.consulates[ident].city
        return f"Consulate in {kb.cities[city].name if city in kb.cities else city}"
    return target


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


def _stale(kb: KnowledgeBase, stale_after_days: int, today: date) -> Table:
    rows = []
    entries = [
        *(("topic", t.id, t.title.en, t.as_of) for t in kb.topics.values()),
        *(("organisation", o.id, o.name, o.as_of) for o in kb.organisations.values()),
        *(
            ("consulate", c.id, label(kb, f"consulate:{c.id}"), c.as_of)
            for c in kb.consulates.values()
        ),
    ]
    for kind, ident, title, as_of in sorted(entries, key=lambda e: (e[3], e[0], e[1])):
        age = (today - as_of).days
        if age > stale_after_days:
            rows.append((kind, ident, title, as_of.isoformat(), age))
    return Table(
        "stale",
        f"Knowledge past its review age ({stale_after_days} days)",
        ("Kind", "Id", "Title", "Facts as of", "Age (days)"),
        rows,
    )


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
    group_unanswered: bool = True,
) -> Dashboard:
    """Read every figure, chart series and table for ``period``.

    ``sessions`` should be read-only (:func:`bot.database.make_reader`). The
    session is closed before the questions are grouped, the one slow step;
    ``group_unanswered=False`` skips it (a CSV export of another table).
    """
    today = today or datetime.now(UTC).date()
    since, until = period.bounds
    with sessions() as session:
        rows = _counts(session, period, *HEADLINE)
        questions = question_rows(session, since, until, "unanswered") if group_unanswered else []
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

    topics = [(label(kb, target), target, n) for target, n in _keyed(rows, "answered")]
    referrals = []
    for org_id, n in _keyed(rows, "referral"):
        org = kb.organisations.get(org_id)
        referrals.append((org.code if org else org_id.upper(), org.name if org else org_id, n))
    newest_first = sorted(activity.items(), key=_newest_first)
    activity_rows = [(day.isoformat(), ch, c, m) for (day, ch), (c, m) in newest_first]
    texts = [text for text, _ in questions]
    groups = [(n, rep, "; ".join(members[1:])) for rep, n, members in group_questions(texts)]
    tables = [
        Table(
            "activity",
            "Conversations and messages per day",
            ("Day (UTC)", "Channel", "Conversations", "Messages"),
            activity_rows,
        ),
        Table("topics", "Top topics reached", ("Topic", "Target", "Times"), topics),
        Table(
            "referrals",
            "Referrals per organisation",
            ("Code", "Organisation", "New conversations"),
            referrals,
        ),
        Table(
            "unanswered", "Unanswered questions, grouped", ("Times", "Question", "Similar"), groups
        ),
        _stale(kb, stale_after_days, today),
    ]
    return Dashboard(
        period=period,
        totals=totals,
        daily=daily,
        tables={table.name: table for table in tables},
        last_handled=last_handled,
    )
