"""The `pana` command line: chat in the console, register the Telegram webhook."""

from __future__ import annotations

import io

import pytest

from bot.cli import main as pana
from bot.console import run_console
from knowledge import KnowledgeBase
from tests.support.channels import TELEGRAM_SECRET, TELEGRAM_TOKEN
from tests.support.fake_telegram import FakeTelegram


def console(*lines: str) -> str:
    out = io.StringIO()
    run_console(io.StringIO("\n".join(lines) + "\n"), out)
    return out.getvalue()


def test_pana_chat_greets_and_follows_the_menu() -> None:
    out = console("hola", "4", "salir")
    assert "1. Visa" in out and "SIS" in out


def test_pana_chat_gives_every_consulate_and_organisation_phone(kb: KnowledgeBase) -> None:
    cities = [kb.cities[c.city].name for c in kb.consulates.values()]
    questions = [f"numero del consulado de {city}" for city in cities]
    questions += [f"contacto de {org.name}" for org in kb.organisations.values()]
    out = console(*questions).replace(" ", "").replace("-", "")
    for entry in [*kb.consulates.values(), *kb.organisations.values()]:
        if entry.phones:
            assert entry.phones[0].number in out, entry.id


def test_set_webhook_registers_url_and_secret(
    fake_telegram: FakeTelegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_telegram.clear()
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TELEGRAM_TOKEN)
    monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", TELEGRAM_SECRET)
    monkeypatch.setenv("TELEGRAM_API_BASE_URL", f"{fake_telegram.url}/bot")
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://pana.example.org")
    assert pana(["telegram", "set-webhook"]) == 0
    call = fake_telegram.sent("setWebhook")[0]
    assert call["url"] == "https://pana.example.org/webhooks/telegram"
    assert call["secret_token"] == TELEGRAM_SECRET


def test_set_webhook_explains_missing_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "")
    assert pana(["telegram", "set-webhook"]) == 2
