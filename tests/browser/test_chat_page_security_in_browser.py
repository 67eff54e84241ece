"""The web chat in Chromium under its Content-Security-Policy, with random message ids."""

from __future__ import annotations

import json
import re
from typing import Any


def test_chat_runs_under_its_policy_and_each_message_has_a_random_id(
    strict_browser: Any, live_server: str
) -> None:
    page = strict_browser.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    bodies: list[dict[str, Any]] = []
    page.on(
        "request",
        lambda r: (
            bodies.append(json.loads(r.post_data or "{}")) if r.url.endswith("/api/chat") else None
        ),
    )
    page.goto(live_server)
    # The script ran: the greeting's menu shows as buttons.
    page.locator(".options button:enabled", has_text="Salud").first.wait_for()
    page.fill("#text", "4")
    page.press("#text", "Enter")
    page.locator(".options button:enabled", has_text="SIS").first.wait_for()
    page.fill("#text", "menu")
    page.press("#text", "Enter")
    page.locator(".options button:enabled", has_text="Salud").first.wait_for()
    assert not [p for p in problems if "Content Security Policy" in p], problems
    ids = [body["message_id"] for body in bodies]
    assert len(ids) == 2 and ids[0] != ids[1]
    for message_id in ids:
        assert re.fullmatch(r"[0-9a-f]{32}", message_id)
        assert not message_id.startswith(bodies[0]["user_id"][:8])
