"""Someone uses the web chat in Chromium and gets a link they can open."""

from __future__ import annotations

from typing import Any


def test_person_asks_about_sis_in_the_web_chat_and_sees_the_official_link(
    browser: Any, live_server: str
) -> None:
    page = browser.new_page()
    page.goto(live_server)
    # The page opens with the greeting and the menu.
    page.locator(".msg.bot", has_text="Salud").first.wait_for()
    page.fill("#text", "sis gratuito")
    page.press("#text", "Enter")
    link = page.locator(".msg.bot a[href*='gob.pe']").first
    link.wait_for()
    assert "sis" in link.get_attribute("href").lower()
    assert link.get_attribute("rel") == "noopener"
    assert "SIS Gratuito" in page.locator(".msg.bot").last.inner_text()
