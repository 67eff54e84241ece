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
    """The period a query asks for; ValueError with a readable reason when it is wrong.

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
            raise ValueError("dates must look like 2025-03-31") from exc
        if first > last:
            raise ValueError("the start date is after the end date")
        period = Period(first, last)
    else:
        count = days.strip() or str(DEFAULT_DAYS)
        if not count.isdigit() or not 1 <= int(count) <= MAX_DAYS:
            raise ValueError(f"days must be a whole number from 1 to {MAX_DAYS}")
        period = Period.last(int(count), today)
    if len(period.days) > MAX_DAYS:
        raise ValueError(f"a period can be at most {MAX_DAYS} days long")
    return period


def _load(runtime: Runtime, period: Period, group_unanswered: bool = True) -> Dashboard:
    return build_dashboard(
        runtime.read_sessions,
        runtime.kb,
        runtime.helpline,
        period,
        runtime.settings.stale_after_days,
        group_unanswered=group_unanswered,
    )


def _ago(moment: datetime | None) -> str:
    if moment is None:
        return "no message handled yet"
    minutes = int((datetime.now(UTC) - moment).total_seconds() // 60)
    if minutes < 1:
        ago = "just now"
    elif minutes < 120:
        ago = f"{minutes} min ago"
    elif minutes < 48 * 60:
        ago = f"{minutes // 60} h ago"
    else:
        ago = f"{minutes // 1440} days ago"
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC ({ago})"


@router.get("/admin.css")
async def stylesheet(runtime: RuntimeDep) -> Response:
    auth.enabled(runtime)
    css = STYLESHEET.read_text(encoding="utf-8")
    return _secured(Response(css, media_type="text/css"))


@router.get("/login")
async def login_page(request: Request, runtime: RuntimeDep) -> Response:
    auth.enabled(runtime)
    if await run_in_threadpool(auth.logged_in, request, runtime):
        return _secured(RedirectResponse("/admin", status_code=303))
    return _secured(templates.TemplateResponse(request, "admin/login.html", {"error": ""}))


@router.post("/login")
async def login(
    request: Request, runtime: RuntimeDep, token: Annotated[str, Form(max_length=512)] = ""
) -> Response:
    auth.enabled(runtime)
    if not auth.allow_attempt(request):
        error, status = "Too many attempts. Wait a minute and try again.", 429
    elif auth.token_matches(runtime, token):
        response = RedirectResponse("/admin", status_code=303)
        await run_in_threadpool(auth.start_session, response, runtime)
        return _secured(response)
    else:
        error, status = "That token is not right.", 401
    page = templates.TemplateResponse(
        request, "admin/login.html", {"error": error}, status_code=status
    )
    return _secured(page)


@router.post("/logout")
async def logout(request: Request, runtime: RuntimeDep) -> Response:
    auth.enabled(runtime)
    response = RedirectResponse("/admin/login", status_code=303)
    await run_in_threadpool(auth.end_session, request, response, runtime)
    return _secured(response)


@router.get("", response_class=HTMLResponse)
@router.get("/", response_class=HTMLResponse)
async def dashboard(
    request: Request, runtime: RuntimeDep, days: str = "", start: str = "", end: str = ""
) -> Response:
    auth.enabled(runtime)
    if not await run_in_threadpool(auth.logged_in, request, runtime):
        return _secured(RedirectResponse("/admin/login", status_code=303))
    # The default period is the 30-day button, unless dates were chosen.
    chosen = days or ("" if start or end else str(DEFAULT_DAYS))
    context: dict[str, Any] = {"quick_ranges": QUICK_RANGES, "error": "", "days": chosen}
    try:
        period = parse_period(days, start, end)
    except ValueError as exc:
        context.update(error=str(exc), start=start, end=end)
        page = templates.TemplateResponse(request, "admin/dashboard.html", context, 400)
        return _secured(page)
    board = await run_in_threadpool(_load, runtime, period)
    query = urlencode({"start": period.start.isoformat(), "end": period.end.isoformat()})
    channels = sorted({ch for series in board.daily.values() for ch in series})
    context.update(
        board=board,
        start=period.start.isoformat(),
        end=period.end.isoformat(),
        query=query,
        legend=[(channel, colour(channel)) for channel in channels],
        charts=[
            (title, stacked_bars(period.days, board.daily[metric], title))
            for metric, title in (
                ("conversations", "Conversations per day"),
                ("messages", "Messages per day"),
            )
        ],
        last_handled=_ago(board.last_handled),
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
) -> Response:
    auth.enabled(runtime)
    if not await run_in_threadpool(auth.logged_in, request, runtime):
        raise HTTPException(401, "log in at /admin/login first")
    if name not in TABLES:
        raise HTTPException(404, f"no such table; the tables are {', '.join(TABLES)}")
    try:
        period = parse_period(days, start, end)
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from exc
    board = await run_in_threadpool(_load, runtime, period, name == "unanswered")
    table = board.tables[name]
    filename = f"pana-{name}-{period.start}-{period.end}.csv"
    response = Response(
        table.csv(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
    return _secured(response)
