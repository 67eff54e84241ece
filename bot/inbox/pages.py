"""The staff inbox's page at ``/inbox``, with its scripts (the page's words are one of
them, a table per language) and its stylesheet.

The page is static: everything it shows it asks of the JSON API under
``/inbox/api`` (:mod:`bot.inbox.api`), polling for what changed. It is served
with a Content-Security-Policy like the web chat's, stricter on styles:
scripts only from this server or with the response's nonce, no inline styles,
requests only to this server, no framing, nothing cached.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Response
from fastapi.responses import HTMLResponse

from bot.nonced import nonced_page

router = APIRouter(prefix="/inbox", include_in_schema=False)
STATIC = Path(__file__).resolve().parent.parent / "static"
PAGE = STATIC / "inbox.html"


@router.get("", response_class=HTMLResponse)
async def inbox_page() -> HTMLResponse:
    """The single page; whether someone is logged in is the API's to say."""
    return nonced_page(PAGE, no_store=True)


def _asset(path: Path, media_type: str) -> Response:
    headers = {
        "X-Content-Type-Options": "nosniff",
        # A new version reaches staff on their next load: revalidated, never stale.
        "Cache-Control": "no-cache",
    }
    return Response(path.read_text(encoding="utf-8"), media_type=media_type, headers=headers)


@router.get("/inbox.js")
async def script() -> Response:
    return _asset(STATIC / "inbox.js", "text/javascript")


@router.get("/inbox-words.js")
async def words() -> Response:
    return _asset(STATIC / "inbox-words.js", "text/javascript")


@router.get("/inbox.css")
async def stylesheet() -> Response:
    return _asset(STATIC / "inbox.css", "text/css")
