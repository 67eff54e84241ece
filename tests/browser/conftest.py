"""A real Chromium (Debian's ``chromium``) driven by Playwright, against a live server.

The server is the real app under uvicorn on a loopback port, with the same
settings and database fixtures as the other tests. Without ``/usr/bin/chromium``
or the ``playwright`` package these tests are skipped, unless
``PANA_REQUIRE_BROWSER=1`` (as in CI), where they fail instead.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from bot.app import create_app
from bot.settings import Settings
from knowledge import KnowledgeBase

CHROMIUM = Path("/usr/bin/chromium")
# No traffic beyond loopback: no update checks, sync, QUIC probes or first-run pages.
CHROMIUM_ARGS = [
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-gpu",
    "--no-sandbox",
    "--disable-quic",
]


def unavailable(reason: str) -> None:
    """Skip, or fail when the browser is required (``PANA_REQUIRE_BROWSER=1``)."""
    if os.environ.get("PANA_REQUIRE_BROWSER") == "1":
        pytest.fail(f"browser tests required but {reason}", pytrace=False)
    pytest.skip(reason)


# Module scope, not session: while Playwright's sync API is open it keeps an event
# loop running in this thread, and later tests that call asyncio.run() would fail.
@pytest.fixture(scope="module")
def playwright() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("the playwright package is not installed")
    if not CHROMIUM.exists():
        unavailable(f"{CHROMIUM} is missing (apt-get install chromium)")
    with sync_playwright() as driver:
        yield driver


def _chromium(playwright: Any, profile: Path, bypass_csp: bool) -> Any:
    context = playwright.chromium.launch_persistent_context(
        str(profile),
        executable_path=str(CHROMIUM),
        headless=True,
        args=CHROMIUM_ARGS,
        accept_downloads=True,
        viewport={"width": 1200, "height": 900},
        locale="es-PE",
        bypass_csp=bypass_csp,
    )
    context.set_default_timeout(15_000)
    return context


@pytest.fixture
def browser(playwright: Any, tmp_path: Path) -> Iterator[Any]:
    """A fresh Chromium profile (``--user-data-dir``) for each test.

    It does not enforce the pages' Content-Security-Policy: Playwright's waiting
    functions evaluate scripts, which the policy forbids. The policy itself is
    tested with :func:`strict_browser`.
    """
    context = _chromium(playwright, tmp_path / "chromium-profile", bypass_csp=True)
    yield context
    context.close()


@pytest.fixture
def strict_browser(playwright: Any, tmp_path: Path) -> Iterator[Any]:
    """A fresh Chromium profile that enforces every Content-Security-Policy."""
    context = _chromium(playwright, tmp_path / "chromium-strict", bypass_csp=False)
    yield context
    context.close()


@pytest.fixture
def live_server(settings: Settings, kb: KnowledgeBase) -> Iterator[str]:
    """The app served by uvicorn on a free loopback port; yields its base URL."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(settings, kb), log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the live server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    listener.close()
