"""Two agents of one organisation answer people from the inbox, in Chromium.

A person asks for a person in the web chat, another on WhatsApp (signed Twilio
webhooks); both agree to be read. Agent A claims and answers, agent B sees who
has each conversation; the WhatsApp reply's delivery follows Twilio's signed
status callbacks to "delivered", and the web chat shows its reply after the
organisation's name. The page is checked in English, with axe, under its own
Content-Security-Policy and on a 360 px phone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from bot.settings import Settings
from tests.browser.accessibility import serious_violations
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.conftest import TWILIO_ACCOUNT
from tests.support.channels import (
    TWILIO_TOKEN,
    post_telegram,
    post_twilio,
    telegram_message,
    twilio_form,
    twiml_messages,
)
from tests.support.fake_twilio import FakeTwilio
from tests.support.handoff import PASSWORD, age_last_message, staff_account
from tests.support.screenshots import keep_screenshot

PHONE = {"width": 360, "height": 740}
DESK = {"width": 1200, "height": 860}
PERSON_ON_WHATSAPP = "whatsapp:+51911222333"
PERSON_ON_TELEGRAM = 5550123
WAITING = "#waiting .item"
CLAIMED = "#claimed .item"
TEMPLATE = "HX" + "b" * 32


@pytest.fixture(scope="module")
def fake_twilio_api() -> Iterator[FakeTwilio]:
    """Replaces the shared fake for this module: the settings point Pana at this one."""
    fake = FakeTwilio(TWILIO_ACCOUNT, TWILIO_TOKEN).start()
    yield fake
    fake.stop()


@pytest.fixture
def twilio_api(fake_twilio: FakeTwilio, live_server: str) -> FakeTwilio:
    """The fake Twilio, emptied, calling back this test's server."""
    fake_twilio.deliver_to = live_server
    return fake_twilio


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """With an approved template, so a reply past WhatsApp's 24 hours sends it."""
    return settings.model_copy(update={"twilio_reply_template_sid": TEMPLATE})


@pytest.fixture
def chromium(playwright: Any) -> Iterator[Callable[..., Any]]:
    """One Chromium; each call opens a separate context (its own cookies and storage)."""
    browser = playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
    )

    def context(viewport: dict[str, int] = PHONE, strict: bool = False) -> Any:
        # Not strict: Playwright's waiting functions evaluate scripts, which the policy forbids.
        made = browser.new_context(viewport=viewport, locale="es-PE", bypass_csp=not strict)
        made.set_default_timeout(15_000)
        return made

    yield context
    browser.close()


@pytest.fixture
def agents(settings: Settings) -> tuple[str, str]:
    """Two agents of OCASIVEN: the organisation takes hand-offs once it has staff."""
    return (
        staff_account(settings, "ana@ocasiven.example", "ocasiven", "Ana"),
        staff_account(settings, "beto@ocasiven.example", "ocasiven", "Beto"),
    )


def log_in(context: Any, base_url: str, email: str) -> Any:
    page = context.new_page()
    page.goto(f"{base_url}/inbox")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("#login button[type=submit]")
    page.locator("#queue-title").wait_for()
    return page


def on_whatsapp(base_url: str, *texts: str) -> list[str]:
    """The person writes on WhatsApp, through signed Twilio webhooks; what Pana answered."""
    said: list[str] = []
    with httpx.Client(base_url=base_url) as http:
        for text in texts:
            response = post_twilio(http, twilio_form(text, sender=PERSON_ON_WHATSAPP))
            assert response.status_code == 200, response.text
            said.extend(twiml_messages(response.text))
    return said


def on_telegram(base_url: str, *texts: str) -> None:
    with httpx.Client(base_url=base_url) as http:
        for text in texts:
            update = telegram_message(text, user_id=PERSON_ON_TELEGRAM)
            assert post_telegram(http, update).status_code == 200


def open_chat(context: Any, base_url: str) -> Any:
    page = context.new_page()
    page.goto(base_url)
    page.locator(".options button:enabled").first.wait_for()
    return page


def chat(page: Any, text: str) -> None:
    """The person writes in the web chat; returns once Pana has answered (maybe silence)."""
    with page.expect_response(lambda r: urlsplit(r.url).path == "/api/chat"):
        page.fill("#text", text)
        page.press("#text", "Enter")


def test_two_agents_share_the_queue_and_answer_on_whatsapp_and_the_web_chat(
    chromium: Callable[..., Any],
    live_server: str,
    agents: tuple[str, str],
    twilio_api: FakeTwilio,
    tmp_path: Path,
) -> None:
    ana = log_in(chromium(PHONE), live_server, agents[0])
    beto = log_in(chromium(DESK), live_server, agents[1])
    assert ana.locator("#no-waiting").is_visible()

    # The web chat: asked, offered, agreed, then the bot is silent and the message waits.
    person = open_chat(chromium(PHONE), live_server)
    chat(person, "quiero hablar con una persona")
    person.locator(".msg.bot", has_text="¿Aceptas?").wait_for()
    chat(person, "1")
    person.locator(".msg.bot", has_text="Listo.").wait_for()  # in or out of its hours
    chat(person, "hola, mi visa vence la próxima semana, qué hago")

    # WhatsApp: the same, through Twilio's signed webhooks; then someone on Telegram.
    on_whatsapp(live_server, "hola, estoy en Lima", "sis gratuito")
    assert any("¿Aceptas?" in said for said in on_whatsapp(live_server, "persona"))
    on_whatsapp(live_server, "1")
    assert on_whatsapp(live_server, "no me atienden en la posta", "mi hija tiene 4 años") == []
    on_telegram(live_server, "estoy en Trujillo", "persona", "1", "necesito un abogado")

    # All wait in both inboxes, the web person first (waiting longest); a chime and a badge.
    for page in (ana, beto):
        page.locator(WAITING).nth(2).wait_for()
        items = page.locator(WAITING)
        channels = [items.nth(n).locator(".channel").inner_text() for n in range(3)]
        assert channels == ["Chat web", "WhatsApp", "Telegram"]
        assert "Espera desde hace" in items.nth(1).inner_text()
        context = items.nth(1).locator(".context").inner_text()
        assert "SIS" in context and "Lima" in context  # what Pana last answered, and where
        assert "Trujillo" in items.nth(2).locator(".context").inner_text()
        for text in items.all_inner_texts():
            assert "51911222333" not in text and str(PERSON_ON_TELEGRAM) not in text
    assert ana.locator("#badge").inner_text() == "4"  # the people's unanswered messages
    assert ana.title().startswith("(4) ")
    assert int(ana.locator("body").get_attribute("data-chimes") or 0) >= 1

    # Ana opens the WhatsApp conversation and claims it; Beto sees it taken by Ana.
    ana.locator(WAITING, has_text="WhatsApp").click()
    ana.locator(".msg.in", has_text="mi hija tiene 4 años").wait_for()
    ana.click("#claim")
    ana.locator("#context", has_text="Atendida por ti").wait_for()
    taken = beto.locator(CLAIMED, has_text="WhatsApp")
    taken.locator(".claimed", has_text="Atendida por Ana").wait_for()
    taken.click()
    beto.locator("#claimed-note", has_text="Ana").wait_for()
    assert beto.locator("#reply").is_hidden()

    # Ana replies: queued, then Twilio's callbacks say sent and delivered.
    ana.fill("#reply-text", "Hola, soy Ana de OCASIVEN. ¿Tu hija tiene DNI o carné?")
    ana.click("#send")
    reply = ana.locator(".msg.out", has_text="¿Tu hija tiene DNI o carné?")
    reply.locator("[data-status=delivered]").wait_for()
    assert "Entrega: entregado" in reply.inner_text()
    (sent,) = [m for m in twilio_api.sent() if m["to"] == PERSON_ON_WHATSAPP]
    assert sent["body"].endswith("¿Tu hija tiene DNI o carné?")
    assert "OCASIVEN" in sent["body"]
    beto.locator(".msg.out [data-status=delivered]").wait_for()  # Beto reads along
    ana.screenshot(path=str(tmp_path / "inbox-conversation.png"))
    keep_screenshot(tmp_path / "inbox-conversation.png", "inbox-conversation.png")

    # Back to the queue on the phone; then the web person, answered without a claim first.
    ana.click("#back")
    ana.locator("#queue-title").wait_for()
    ana.screenshot(path=str(tmp_path / "inbox-queue.png"))
    keep_screenshot(tmp_path / "inbox-queue.png", "inbox-queue.png")
    ana.locator(WAITING, has_text="Chat web").click()
    ana.locator(".msg.in", has_text="mi visa vence").wait_for()
    ana.fill("#reply-text", "Hola, te ayudo con la visa. ¿En qué ciudad estás?")
    ana.dblclick("#send")  # a double click sends it once
    ana.locator("#context", has_text="Atendida por ti").wait_for()
    shown = person.locator(".msg.bot", has_text="¿En qué ciudad estás?")
    shown.wait_for()  # the page's poll of /api/chat/updates brought it
    assert shown.inner_text().startswith("OCASIVEN: Hola, te ayudo con la visa.")
    ana.locator(".msg.out [data-status=delivered]").wait_for()
    person.wait_for_timeout(3500)  # one more poll of the chat page, one more of the inbox
    assert shown.count() == 1 and ana.locator(".msg.out").count() == 1
    beto.locator(CLAIMED).nth(1).wait_for()
    assert beto.locator(WAITING).count() == 1  # the Telegram person

    # Ana closes it as resolved: the person is told, the bot answers again, Beto's queue
    # loses it.
    ana.locator("#manage summary").click()
    ana.select_option("#outcome", "resolved")
    ana.click("#close button[type=submit]")
    ana.locator("#status", has_text="Conversación cerrada").wait_for()
    person.locator(".msg.bot", has_text="cerró la conversación").wait_for()
    chat(person, "menu")
    person.locator(".options button:enabled", has_text="Salud").first.wait_for()
    beto.locator(CLAIMED).nth(1).wait_for(state="detached")
    assert "WhatsApp" in beto.locator(CLAIMED).inner_text()
    assert "Telegram" in beto.locator(WAITING).inner_text()


def test_a_failed_reply_shows_twilios_error_and_past_24_hours_the_reply_waits(
    chromium: Callable[..., Any],
    live_server: str,
    agents: tuple[str, str],
    settings: Settings,
    twilio_api: FakeTwilio,
) -> None:
    on_whatsapp(live_server, "persona", "1", "hola, necesito ayuda")
    page = log_in(chromium(DESK), live_server, agents[0])
    page.locator(WAITING).first.click()
    page.locator(".msg.in", has_text="necesito ayuda").wait_for()
    assert page.locator("#window-note").is_hidden()

    twilio_api.fail_with = (21610, "Attempt to send to unsubscribed recipient")
    page.fill("#reply-text", "¿Sigues ahí?")
    page.click("#send")
    failed = page.locator(".msg.out", has_text="¿Sigues ahí?")
    failed.locator("[data-status=failed]").wait_for()
    assert "21610" in failed.locator(".failure").inner_text()
    twilio_api.fail_with = None

    # A day and more since the person wrote: the page says so before Ana writes.
    age_last_message(settings, hours=25)
    page.locator("#window-note", has_text="se le enviará una plantilla").wait_for()
    page.fill("#reply-text", "Perdona la demora")
    page.click("#send")
    page.locator("#held-note", has_text="Se envió la plantilla").wait_for()
    held = page.locator(".msg.out", has_text="Perdona la demora")
    held.locator("[data-status=held]").wait_for()
    page.locator(".msg.kind-template", has_text="Tienes una respuesta de").wait_for()

    # The person writes back: the held reply goes out and is delivered.
    on_whatsapp(live_server, "hola, ya estoy")
    held.locator("[data-status=delivered]").wait_for()
    page.locator("#window-note").wait_for(state="hidden")

    # Another partner starts answering; Ana passes the conversation to it.
    staff_account(settings, "eva@veneactiva.example", "veneactiva", "Eva")
    page.locator("#manage summary").click()
    page.locator("#partner option", has_text="Vene Activa").wait_for(state="attached")
    page.select_option("#partner", "VENEACTIVA")
    page.click("#transfer button[type=submit]")
    page.locator("#status", has_text="Conversación transferida a Vene Activa").wait_for()
    page.locator("#no-waiting").wait_for()
    # A poll that left before the transfer may still draw it once; the next one does not.
    page.locator(".queue .item").first.wait_for(state="detached")


def test_the_inbox_in_english_on_a_phone_has_no_serious_accessibility_violations(
    chromium: Callable[..., Any], live_server: str, agents: tuple[str, str]
) -> None:
    on_whatsapp(live_server, "persona", "1", "necesito renovar mi carné")
    context = chromium(PHONE)
    login = context.new_page()
    login.goto(f"{live_server}/inbox")
    login.locator("#email").wait_for()
    assert serious_violations(login) == []
    page = log_in(context, live_server, agents[0])
    page.locator(WAITING).first.wait_for()
    assert serious_violations(page) == []
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0

    words = "Object.keys(window.PANA_INBOX_WORDS.{}).sort().join()"
    assert page.evaluate(words.format("es")) == page.evaluate(words.format("en"))
    page.click("#language")
    assert page.locator("html").get_attribute("lang") == "en"
    page.locator(".group", has_text="Waiting").wait_for()
    assert "Waiting for" in page.locator(WAITING).first.inner_text()
    page.locator(WAITING).first.click()
    page.locator(".msg.in", has_text="renovar mi carné").wait_for()
    assert page.locator("#claim").inner_text() == "Take this conversation"
    assert page.locator("label[for=reply-text]").inner_text() == "Your reply"
    page.locator("#manage summary").click()
    assert serious_violations(page) == []
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    for selector in ("#reply-text", "#send", "#claim"):
        place = page.locator(selector).bounding_box()
        assert place["x"] >= 0 and place["x"] + place["width"] <= PHONE["width"]

    # The choice is remembered: a reload stays in English, on the same conversation.
    page.reload()
    page.locator("#claim", has_text="Take this conversation").wait_for()
    assert page.title().endswith("Inbox · Pana")


def test_the_inbox_runs_under_its_content_security_policy(
    chromium: Callable[..., Any], live_server: str, agents: tuple[str, str]
) -> None:
    context = chromium(DESK, strict=True)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    response = page.goto(f"{live_server}/inbox")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self' 'nonce-" in policy and "'unsafe-inline'" not in policy
    assert "frame-ancestors 'none'" in policy and "connect-src 'self'" in policy
    assert response.headers["cache-control"] == "no-store"
    page.fill("#email", agents[0])
    page.fill("#password", "not the password")
    page.click("#login button[type=submit]")
    page.locator("#login-error", has_text="no son correctos").wait_for()
    page.fill("#password", PASSWORD)
    page.click("#login button[type=submit]")
    page.locator("#me", has_text="Ana").wait_for()  # the script ran and the API answered
    assert not [p for p in problems if "Content Security Policy" in p], problems
    page.click("#logout")
    page.locator("#email").wait_for()
