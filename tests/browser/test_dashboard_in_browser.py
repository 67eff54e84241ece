"""An operator logs in to /admin in Chromium after people wrote in from a flyer."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from bot.runtime import build_runtime
from bot.settings import Settings
from flows.turn import Incoming
from knowledge import KnowledgeBase
from tests.browser.accessibility import serious_violations
from tests.support.channels import post_telegram, post_twilio, telegram_message, twilio_form
from tests.support.screenshots import keep_screenshot

TOKEN = "admin-test-token"  # the settings fixture's ADMIN_TOKEN
IN_DANGER = "ya no aguanto mas, quiero quitarme la vida"


def _people_write_in(base_url: str) -> None:
    """Two people arrive from a flyer's QR codes, one asks about SIS and finds it helpful,
    a third says hola, a fourth asks the dollar's price, a fifth writes in danger."""
    reader = "whatsapp:+51911000001"
    messages = [
        ("HOLA OCASIVEN", reader),
        ("sis gratuito", reader),
        ("👍", reader),
        ("hola", "+51911000002"),
        ("cuanto esta el dolar hoy", "+51911000003"),
        (IN_DANGER, "whatsapp:+51911000004"),
    ]
    with httpx.Client(base_url=base_url) as http:
        responses = [post_twilio(http, twilio_form(text, sender=who)) for text, who in messages]
        responses.append(post_telegram(http, telegram_message("/start OCASIVEN", user_id=5550001)))
    assert [response.status_code for response in responses] == [200] * len(responses)


def _a_fortnight_before(settings: Settings, kb: KnowledgeBase) -> None:
    """Earlier days' traffic on every channel, stored as the helpline stores it."""
    runtime = build_runtime(settings, kb)
    afternoon = datetime.now(UTC).replace(hour=15, minute=0, second=0, microsecond=0)
    questions = ["hola", "sis gratuito", "visa humanitaria", "carne de extranjeria", "arepas"]
    for back in range(1, 15):
        for person in range(2 + back % 4):
            channel = ("whatsapp", "telegram", "web", "sms")[person % 4]
            for minute, text in enumerate(questions[: 1 + (back + person) % 5]):
                moment = afternoon - timedelta(days=back, minutes=-minute)
                incoming = Incoming(channel, text)
                runtime.helpline.receive(channel, f"{back}-{person}", incoming, now=moment)
    runtime.database.dispose()


def _log_in(page: Any, base_url: str) -> None:
    page.goto(f"{base_url}/admin")
    assert page.url.endswith("/admin/login")
    page.fill("#token", TOKEN)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/admin")


def test_operator_logs_in_sees_the_chart_referrals_ratings_and_danger_by_kind(
    browser: Any, live_server: str, settings: Settings, kb: KnowledgeBase, tmp_path: Path
) -> None:
    _a_fortnight_before(settings, kb)
    _people_write_in(live_server)
    page = browser.new_page()
    _log_in(page, live_server)

    assert page.locator("svg.chart").count() == 2
    days_with_bars = {
        title.split()[0] for title in page.locator("svg.chart rect.bar title").all_text_contents()
    }
    assert len(days_with_bars) == 15  # today and the fortnight before
    referrals = page.locator("#referrals tbody tr")
    assert referrals.count() == 1
    assert referrals.first.inner_text().split("\t")[0] == "OCASIVEN"
    assert referrals.first.locator("td.num").inner_text() == "2"
    assert "ahora mismo" in page.locator("#last-handled").inner_text()
    assert "+51911000001" not in page.content()
    assert page.locator("html").get_attribute("lang") == "es"
    assert page.locator("h2", has_text="Referidos por organización").is_visible()
    rated = page.locator("#feedback tbody tr")
    assert rated.first.inner_text().split("\t") == [kb.topics["sis-gratuito"].title.es, "1", "0"]
    suicide = kb.safety.kind("suicide")
    assert suicide is not None
    danger = page.locator("#danger tbody tr")
    assert danger.count() == 1
    assert danger.first.inner_text().split("\t") == [suicide.title.es, "1"]
    assert "quitarme la vida" not in page.content()
    assert "cuanto esta el dolar hoy" in page.locator("#out_of_scope").inner_text()

    page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)
    keep_screenshot(tmp_path / "dashboard.png", "dashboard.png")


def test_operator_switches_the_dashboard_to_english_and_back(
    browser: Any, live_server: str
) -> None:
    _people_write_in(live_server)
    page = browser.new_page()
    _log_in(page, live_server)
    page.click("a[href*='days=7']")
    page.click("#language")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("figcaption").first.inner_text() == "Conversations per day"
    assert "Free SIS" in page.locator("#topics").inner_text()  # topic names follow the language
    assert "Free SIS" in page.locator("#feedback").inner_text()
    assert "Suicidal thoughts or self-harm" in page.locator("#danger").inner_text()
    page.click("a[href*='days=90']")  # a quick period keeps English
    assert page.locator("figcaption").first.inner_text() == "Conversations per day"
    page.click("#language")
    assert page.locator("figcaption").first.inner_text() == "Conversaciones por día"
    assert "Free SIS" not in page.locator("#topics").inner_text()


def test_dashboard_and_login_have_no_serious_accessibility_violations(
    browser: Any, live_server: str
) -> None:
    _people_write_in(live_server)
    page = browser.new_page()
    page.goto(f"{live_server}/admin/login")
    assert serious_violations(page) == []
    _log_in(page, live_server)
    page.locator("#stale details").first.wait_for()
    assert serious_violations(page) == []


def test_operator_downloads_the_referrals_as_csv(browser: Any, live_server: str) -> None:
    _people_write_in(live_server)
    page = browser.new_page()
    _log_in(page, live_server)
    with page.expect_download() as download:
        page.click("#referrals a.csv")
    assert download.value.suggested_filename.startswith("pana-referrals-")
    rows = list(csv.reader(io.StringIO(Path(download.value.path()).read_text("utf-8-sig"))))
    assert rows[0] == ["Código", "Organización", "Conversaciones nuevas"]
    assert rows[1][0] == "OCASIVEN" and rows[1][2] == "2"


def test_dashboard_fits_a_phone_screen(browser: Any, live_server: str) -> None:
    _people_write_in(live_server)
    page = browser.new_page()
    page.set_viewport_size({"width": 390, "height": 844})
    _log_in(page, live_server)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    assert page.locator(".card").first.is_visible()


def test_wrong_token_keeps_the_dashboard_closed(browser: Any, live_server: str) -> None:
    page = browser.new_page()
    page.goto(f"{live_server}/admin/login")
    page.fill("#token", "not-the-token")
    page.click("button[type=submit]")
    assert "no es correcta" in page.locator(".error").inner_text()
    page.goto(f"{live_server}/admin")
    assert page.url.endswith("/admin/login")
