"""The ``/admin`` pages: log in, the dashboard for a period, CSV exports.

Routes only translate between HTTP and :mod:`bot.admin.queries`; every page
is rendered on the server and works without JavaScript.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, HTTPException, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool

from bot.admin import auth
from bot.admin.chart import colour, stacked_bars
from bot.admin.queries import MAX_DAYS, TABLES, Dashboard, Period, build_dashboard
from bot.admin.understanding import QUESTION_TABLES
from bot.admin.words import DEFAULT_LANGUAGE, language, words
from bot.runtime import Runtime, RuntimeDep

router = APIRouter(prefix="/admin", include_in_schema=False)
BOT = Path(__file__).resolve().parent.parent
templates = Jinja2Templates(directory=BOT / "templates")
_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Dates stay on one line in narrow table columns.
templates.env.tests["date_text"] = lambda cell: isinstance(cell, str) and _ISO_DAY.match(cell)
STYLESHEET = BOT / "static" / "admin.css"
QUICK_RANGES = (7, 30, 90, 365)
DEFAULT_DAYS = 30
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def _secured(response: Response) -> Response:
    response.headers.update(SECURITY_HEADERS)
    return response


def parse_period(days: str, start: str, end: str, today: date | None = None) -> Period:
    """The period a query asks for; ValueError when it is wrong, whose message is the
    key of the reason in the words table (``bad_dates``, ``start_after_end``, …).

    ``start``/``end`` (ISO dates, either may be blank) win over ``days``;
    nothing at all means the last 30 days.
    """
    today = today or datetime.now(UTC).date()
    if start.strip() or end.strip():
        try:
            last = date.fromisoformat(end.strip()) if end.strip() else today
            first = (
                date.fromisoformat(start.strip())
                if start.strip()
                else last - timedelta(days=DEFAULT_DAYS - 1)
            )
        except ValueError as exc:
            raise ValueError("bad_dates") from exc
        if first > last:
            raise ValueError("start_after_end")
        period = Period(first, last)
    else:
        count = days.strip() or str(DEFAULT_DAYS)
        if not count.isdigit() or not 1 <= int(count) <= MAX_DAYS:
            raise ValueError("bad_days")
        period = Period.last(int(count), today)
    if len(period.days) > MAX_DAYS:
        raise ValueError("too_long")
    return period


def _load(
    runtime: Runtime, period: Period, lang: str, questions: tuple[str, ...] = tuple(QUESTION_TABLES)
) -> Dashboard:
    return build_dashboard(
        runtime.read_sessions,
        runtime.kb,
        runtime.helpline,
        period,
        runtime.settings.stale_after_days,
        questions=questions,
        lang=lang,
    )


def _ago(moment: datetime | None, lang: str) -> str:
    w = words(lang)
    if moment is None:
        return w["no_message_yet"]
    minutes = int((datetime.now(UTC) - moment).total_seconds() // 60)
    if minutes < 1:
        ago = w["just_now"]
    elif minutes < 120:
        ago = w["minutes_ago"].format(n=minutes)
    elif minutes < 48 * 60:
        ago = w["hours_ago"].format(n=minutes // 60)
    else:
        ago = w["days_ago"].format(n=minutes // 1440)
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC ({ago})"


def _page(request: Request, lang: str) -> dict[str, Any]:
    """What every page needs to speak ``lang`` and offer the other language."""
    w = words(lang)
    other = dict(request.query_params) | {"lang": w["other_language"]}
    return {"lang": lang, "w": w, "other_language_url": f"{request.url.path}?{urlencode(other)}"}


def _with_language(path: str, lang: str) -> str:
    return path if lang == DEFAULT_LANGUAGE else f"{path}?lang={lang}"


@router.get("/admin.css")
async def stylesheet(request: Request, runtime: RuntimeDep) -> Response:
    auth.enabled(runtime, request)
    css = STYLESHEET.read_text(encoding="utf-8")
    return _secured(Response(css, media_type="text/css"))


@router.get("/login")
async def login_page(request: Request, runtime: RuntimeDep, lang: str = "") -> Response:
    auth.enabled(runtime, request)
    lang = language(lang)
    if await run_in_threadpool(auth.logged_in, request, runtime):
        return _secured(RedirectResponse(_with_language("/admin", lang), status_code=303))
    context = _page(request, lang) | {"error": ""}
    return _secured(templates.TemplateResponse(request, "admin/login.html", context))


@router.post("/login")
async def login(
    request: Request,
    runtime: RuntimeDep,
    token: Annotated[str, Form(max_length=512)] = "",
    lang: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    auth.enabled(runtime, request)
    lang = language(lang)
    if not auth.allow_attempt(request):
        error, status = "too_many_attempts", 429
    elif auth.token_matches(runtime, token):
        response = RedirectResponse(_with_language("/admin", lang), status_code=303)
        await run_in_threadpool(auth.start_session, response, runtime)
        return _secured(response)
    else:
        error, status = "wrong_token", 401
    context = _page(request, lang) | {"error": words(lang)[error]}
    page = templates.TemplateResponse(request, "admin/login.html", context, status_code=status)
    return _secured(page)


@router.post("/logout")
async def logout(request: Request, runtime: RuntimeDep) -> Response:
    auth.enabled(runtime, request)
    response = RedirectResponse("/admin/login", status_code=303)
    await run_in_threadpool(auth.end_session, request, response, runtime)
    return _secured(response)


@router.get("", response_class=HTMLResponse)
@router.get("/", response_class=HTMLResponse)
async def dashboard(
    request: Request,
    runtime: RuntimeDep,
    days: str = "",
    start: str = "",
    end: str = "",
    lang: str = "",
) -> Response:
    auth.enabled(runtime, request)
    lang = language(lang)
    if not await run_in_threadpool(auth.logged_in, request, runtime):
        return _secured(RedirectResponse(_with_language("/admin/login", lang), status_code=303))
    w = words(lang)
    # The default period is the 30-day button, unless dates were chosen.
    chosen = days or ("" if start or end else str(DEFAULT_DAYS))
    context: dict[str, Any] = _page(request, lang)
    context.update(quick_ranges=QUICK_RANGES, error="", days=chosen)
    try:
        period = parse_period(days, start, end)
    except ValueError as exc:
        context.update(error=w[str(exc)].format(most=MAX_DAYS), start=start, end=end)
        page = templates.TemplateResponse(request, "admin/dashboard.html", context, 400)
        return _secured(page)
    board = await run_in_threadpool(_load, runtime, period, lang)
    period_query = {"start": period.start.isoformat(), "end": period.end.isoformat()}
    query = urlencode(period_query | ({"lang": lang} if lang != DEFAULT_LANGUAGE else {}))
    channels = sorted({ch for series in board.daily.values() for ch in series})
    months = tuple(w["months"].split())
    context.update(
        board=board,
        start=period.start.isoformat(),
        end=period.end.isoformat(),
        query=query,
        legend=[(channel, colour(channel)) for channel in channels],
        charts=[
            (title, stacked_bars(period.days, board.daily[metric], title, w["no_messages"], months))
            for metric, title in (
                ("conversations", w["conversations_per_day"]),
                ("messages", w["messages_per_day"]),
            )
        ],
        last_handled=_ago(board.last_handled, lang),
        stale_days=runtime.settings.stale_after_days,
    )
    return _secured(templates.TemplateResponse(request, "admin/dashboard.html", context))


@router.get("/export/{name}.csv")
async def export(
    name: str,
    request: Request,
    runtime: RuntimeDep,
    days: str = "",
    start: str = "",
    end: str = "",
    lang: str = "",
) -> Response:
    auth.enabled(runtime, request)
    lang = language(lang)
    if not await run_in_threadpool(auth.logged_in, request, runtime):
        raise HTTPException(401, "log in at /admin/login first")
    if name not in TABLES:
        raise HTTPException(404, f"no such table; the tables are {', '.join(TABLES)}")
    try:
        period = parse_period(days, start, end)
    except ValueError as exc:
        raise HTTPException(400, words(lang)[str(exc)].format(most=MAX_DAYS)) from exc
    # Only the table asked for is grouped: grouping questions is the slow step.
    questions = (name,) if name in QUESTION_TABLES else ()
    board = await run_in_threadpool(_load, runtime, period, lang, questions)
    table = board.tables[name]
    filename = f"pana-{name}-{period.start}-{period.end}.csv"
    response = Response(
        table.csv(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
    return _secured(response)
