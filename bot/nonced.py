"""HTML pages served under a strict Content-Security-Policy with a per-response nonce.

The web chat and the staff inbox are single files whose ``<script>`` tags get
the response's nonce; everything else they load comes from this server, and
nothing may frame them. Example::

    return nonced_page(STATIC / "chat.html", inline_styles=True)
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path

from fastapi.responses import HTMLResponse

_SCRIPT_TAG = re.compile(r"<script(?=[\s>])")


def policy(nonce: str, inline_styles: bool = False) -> str:
    """The page's Content-Security-Policy: scripts only from here or with ``nonce``."""
    styles = "'self' 'unsafe-inline'" if inline_styles else "'self'"
    return (
        f"default-src 'none'; script-src 'self' 'nonce-{nonce}'; style-src {styles}; "
        "img-src 'self' data:; connect-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    )


def nonced_page(path: Path, inline_styles: bool = False, no_store: bool = False) -> HTMLResponse:
    """``path``'s HTML with a fresh nonce on every script tag, and the headers to match."""
    nonce = secrets.token_urlsafe(16)
    page = _SCRIPT_TAG.sub(f'<script nonce="{nonce}"', path.read_text(encoding="utf-8"))
    headers = {
        "Content-Security-Policy": policy(nonce, inline_styles),
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }
    if no_store:
        headers["Cache-Control"] = "no-store"
    return HTMLResponse(page, headers=headers)
