"""People use the web chat in Chromium, on a desktop screen and on a 390×844 phone."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select

from bot.models import DailyCount
from bot.settings import Settings
from tests.browser.accessibility import serious_violations
from tests.support.screenshots import keep_screenshot

PHONE = {"width": 390, "height": 844}
LIVE = ".options button:enabled"


def open_chat(browser: Any, url: str, viewport: dict[str, int] | None = None) -> Any:
    """The chat page with its greeting shown."""
    page = browser.new_page()
    if viewport:
        page.set_viewport_size(viewport)
    page.goto(url)
    page.locator(LIVE).first.wait_for()
    return page


def tap(page: Any, label: str) -> None:
    """Tap the newest reply's button whose label contains ``label``; wait for the answer."""
    replies = page.locator(".msg.bot").count()
    page.locator(LIVE, has_text=label).first.click()
    page.wait_for_function(f"document.querySelectorAll('.msg.bot').length > {replies}")


def write(page: Any, text: str) -> None:
    replies = page.locator(".msg.bot").count()
    page.fill("#text", text)
    page.press("#text", "Enter")
    page.wait_for_function(f"document.querySelectorAll('.msg.bot').length > {replies}")


def counted(settings: Settings) -> dict[tuple[str, str], int]:
    """The dashboard's counters as stored: ``(metric, key) -> n``."""
    database = create_engine(settings.database_url)
    query = select(DailyCount.metric, DailyCount.key, func.sum(DailyCount.count)).group_by(
        DailyCount.metric, DailyCount.key
    )
    with database.connect() as connection:
        found = {(metric, key): int(n) for metric, key, n in connection.execute(query)}
    database.dispose()
    return found


def box(page: Any, selector: str) -> dict[str, float]:
    return page.locator(selector).bounding_box()


@pytest.fixture
def phone_page(browser: Any, live_server: str) -> Iterator[Any]:
    yield open_chat(browser, live_server, PHONE)


def test_person_asks_about_sis_in_the_web_chat_and_sees_the_official_link(
    browser: Any, live_server: str
) -> None:
    page = open_chat(browser, live_server)
    write(page, "sis gratuito")
    link = page.locator(".msg.bot a[href*='gob.pe']").first
    link.wait_for()
    assert "sis" in link.get_attribute("href").lower()
    assert link.get_attribute("rel") == "noopener"
    assert "SIS Gratuito" in link.locator("xpath=ancestor::div[1]").inner_text()


def test_menus_show_as_buttons_only(browser: Any, live_server: str) -> None:
    page = open_chat(browser, live_server)
    greeting = page.locator(".msg.bot").first.inner_text()
    assert "¿En qué te ayudo?" in greeting
    assert "Salud (SIS, EsSalud)" not in greeting and "*" not in greeting
    assert "4. Salud (SIS, EsSalud)" in page.locator(LIVE).all_inner_texts()


def test_buttons_of_earlier_replies_are_disabled(browser: Any, live_server: str) -> None:
    page = open_chat(browser, live_server)
    tap(page, "Refugio")
    old_health = page.locator(".options button", has_text="Salud (SIS, EsSalud)")
    assert old_health.is_disabled()  # its "4" would now mean the applicant's card
    assert page.locator(LIVE).count() == page.locator(".options").last.locator("button").count()
    tap(page, "Carné de solicitante")
    assert "Carné de solicitante de refugio" in page.locator(".msg.bot").nth(-2).inner_text()
    assert page.locator(".msg.me").last.inner_text() == "Carné de solicitante"


def test_atras_after_an_answer_shows_the_submenu_again(browser: Any, live_server: str) -> None:
    page = open_chat(browser, live_server)
    tap(page, "Refugio")
    tap(page, "Carné de solicitante")
    write(page, "atrás")
    assert "Refugio, asilo y regularización" in page.locator(".msg.bot").last.inner_text()
    assert "4. Carné de solicitante" in page.locator(LIVE).all_inner_texts()


def test_on_a_phone_the_header_is_compact_and_the_reply_starts_on_screen(
    phone_page: Any, tmp_path: Path
) -> None:
    page = phone_page
    assert box(page, "header")["height"] <= 0.06 * PHONE["height"]
    tap(page, "Salud")
    write(page, "sis gratuito")  # a long answer, then a reply with "see also" buttons
    log = box(page, "#log")
    answer = page.locator(".msg.bot", has_text="Fuente:").last.bounding_box()
    assert log["y"] <= answer["y"] < log["y"] + 0.25 * log["height"]  # read from its start

    # The person scrolls down: the last reply's buttons come fully into view above the input.
    page.locator("#log").evaluate("log => { log.scrollTop = log.scrollHeight; }")
    form = box(page, "form")
    buttons = page.locator(".options").last.locator("button")
    assert buttons.count() >= 1
    for n in range(buttons.count()):
        button = buttons.nth(n).bounding_box()
        assert button["y"] >= log["y"] and button["y"] + button["height"] <= form["y"]
        assert button["x"] >= 0 and button["x"] + button["width"] <= PHONE["width"]
    assert form["y"] + form["height"] <= PHONE["height"]  # the input bar is on screen
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0

    write(page, "menu")
    tap(page, "Salud")  # a short reply: it and all its buttons show without scrolling
    form = box(page, "form")
    for button in page.locator(LIVE).all():
        place = button.bounding_box()
        assert place["y"] >= log["y"] and place["y"] + place["height"] <= form["y"]
    page.screenshot(path=str(tmp_path / "web-chat-phone.png"))
    keep_screenshot(tmp_path / "web-chat-phone.png", "web-chat-phone.png")


def test_focus_stays_in_the_input_after_sending(browser: Any, live_server: str) -> None:
    page = open_chat(browser, live_server)
    write(page, "hola")
    assert page.evaluate("document.activeElement.id") == "text"
    replies = page.locator(".msg.bot").count()
    page.fill("#text", "sis")
    page.click("form button[type=submit]")
    page.wait_for_function(f"document.querySelectorAll('.msg.bot').length > {replies}")
    assert page.evaluate("document.activeElement.id") == "text"


def test_buttons_are_reachable_and_work_by_keyboard(browser: Any, live_server: str) -> None:
    page = open_chat(browser, live_server)
    page.focus("#text")
    page.keyboard.press("Shift+Tab")  # from the input back to the newest buttons
    focused = page.evaluate("document.activeElement.textContent")
    assert focused == "7. Organizaciones que ayudan en tu ciudad"
    for _ in range(3):
        page.keyboard.press("Shift+Tab")
    assert page.evaluate("document.activeElement.textContent") == "4. Salud (SIS, EsSalud)"
    replies = page.locator(".msg.bot").count()
    page.keyboard.press("Enter")
    page.wait_for_function(f"document.querySelectorAll('.msg.bot').length > {replies}")
    assert "Salud" in page.locator(".msg.bot").last.inner_text()
    assert page.evaluate("document.activeElement.id") == "text"  # ready for the next step


def test_replies_are_announced_to_screen_readers(browser: Any, live_server: str) -> None:
    page = open_chat(browser, live_server)
    log = page.locator("#log")
    assert log.get_attribute("aria-live") == "polite" and log.get_attribute("role") == "log"
    write(page, "sis")
    assert page.locator("#log .msg.bot").count() >= 2  # the replies land inside the live region


@pytest.mark.parametrize("viewport", [PHONE, {"width": 1200, "height": 900}], ids=["phone", "pc"])
def test_chat_has_no_serious_accessibility_violations(
    browser: Any, live_server: str, viewport: dict[str, int]
) -> None:
    page = open_chat(browser, live_server, viewport)
    assert serious_violations(page) == []
    tap(page, "Salud")  # disabled buttons, links, both bubbles
    write(page, "sis gratuito")
    assert serious_violations(page) == []


def test_opening_the_chat_counts_nothing_until_the_person_writes(
    browser: Any, live_server: str, settings: Settings
) -> None:
    page = open_chat(browser, live_server)
    page.reload()
    page.locator(LIVE).first.wait_for()
    assert counted(settings) == {}
    tap(page, "Salud")
    found = counted(settings)
    assert found[("conversations", "")] == 1 and found[("messages", "")] == 1


def test_a_referral_link_counts_when_the_person_writes(
    browser: Any, live_server: str, settings: Settings
) -> None:
    page = open_chat(browser, f"{live_server}/?ref=OCASIVEN")
    assert ("referral", "ocasiven") not in counted(settings)
    write(page, "sis gratuito")
    write(page, "gracias")
    page.reload()
    page.locator(LIVE).first.wait_for()
    write(page, "hola")
    assert counted(settings)[("referral", "ocasiven")] == 1
