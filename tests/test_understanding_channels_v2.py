"""Understanding through the real channels: follow-ups, context, repair, small talk,
out-of-scope questions, which country an office belongs to, and other languages.

Every story runs twice: as signed Twilio (WhatsApp) requests and as Telegram updates,
each with its own sender so conversations never mix.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.testclient import TestClient

from knowledge import KnowledgeBase
from tests.support.channels import (
    post_telegram,
    post_twilio,
    telegram_callback,
    telegram_message,
    twilio_form,
    twiml_messages,
)
from tests.support.fake_telegram import FakeTelegram

CHANNELS = ("whatsapp", "telegram")
_people = itertools.count(1)


@dataclass
class Chat:
    """One person writing to Pana on one channel; ``send`` returns the texts Pana sent back."""

    client: TestClient
    fake_telegram: FakeTelegram
    channel: str
    number: int
    lang: str = "es"
    #: The Bot API calls of the last Telegram update (to read their buttons).
    last_calls: list[dict[str, Any]] = field(default_factory=list)

    def send(self, text: str) -> list[str]:
        if self.channel == "whatsapp":
            sender = f"whatsapp:+5190{self.number:07d}"
            return twiml_messages(post_twilio(self.client, twilio_form(text, sender=sender)).text)
        return self._telegram(telegram_message(text, user_id=self.telegram_id, lang=self.lang))

    def press(self, data: str) -> list[str]:
        """Press an inline button (Telegram only)."""
        assert self.channel == "telegram"
        return self._telegram(telegram_callback(data, user_id=self.telegram_id))

    def ask(self, text: str) -> str:
        """``send``, with the texts joined as the person reads them."""
        return "\n\n".join(self.send(text))

    @property
    def telegram_id(self) -> int:
        return 600_000_000 + self.number

    def _telegram(self, update: dict[str, Any]) -> list[str]:
        before = len(self.fake_telegram.sent())
        post_telegram(self.client, update)
        self.last_calls = self.fake_telegram.sent()[before:]
        return [call["text"] for call in self.last_calls]


def open_chat(
    client: TestClient, fake_telegram: FakeTelegram, channel: str, lang: str = "es"
) -> Chat:
    return Chat(client, fake_telegram, channel, next(_people), lang)


def button_data(call: dict[str, Any]) -> list[str]:
    """The callback data of the inline buttons under a ``sendMessage`` call."""
    markup = call.get("reply_markup") or {}
    if isinstance(markup, str):  # sent through Bot.send_message: JSON-encoded
        markup = json.loads(markup)
    return [button["callback_data"] for row in markup.get("inline_keyboard", []) for button in row]


@pytest.fixture
def chat(channel: str, client: TestClient, fake_telegram: FakeTelegram) -> Chat:
    return open_chat(client, fake_telegram, channel)


@pytest.fixture(params=CHANNELS)
def channel(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def telegram(client: TestClient, fake_telegram: FakeTelegram) -> Chat:
    return open_chat(client, fake_telegram, "telegram")


# Follow-ups that ask for one aspect of the last answer


def test_how_much_after_the_carne_answer_gets_only_the_cost_short(
    chat: Chat, kb: KnowledgeBase
) -> None:
    first = chat.ask("como saco el carne de extranjeria")
    assert "Carné de extranjería" in first
    cost = chat.ask("y cuanto cuesta?")
    assert "Costo" in cost
    assert "gratis" in cost or "exonerado" in cost
    assert cost != first and cost not in first
    assert kb.topics["carne-extranjeria"].text.get("es") not in cost  # not the whole answer again
    assert len(cost) < 0.6 * len(first), (len(cost), len(first))


def test_a_long_follow_up_that_opens_with_y_still_asks_about_the_last_answer(
    chat: Chat,
) -> None:
    chat.ask("me aprobaron el refugio y me dicen que ahora saque el carne de extranjeria")
    cost = chat.ask("y cuanto me va a costar eso? ahorita estoy sin un sol pa pagar nada")
    assert "Costo" in cost and "exonerado" in cost
    assert "No encontré" not in cost


def test_the_card_pointed_at_with_ese_after_refuge_is_the_applicants_card(chat: Chat) -> None:
    chat.ask("ya pedi refugio x la pagina de cancilleria")
    reply = chat.ask("y el carne ese se vence?")
    assert "Carné de solicitante" in reply and "renova" in reply
    assert "Carné de extranjería" not in reply


def test_and_for_my_three_year_old_after_cuna_mas_moves_to_early_education(chat: Chat) -> None:
    first = chat.ask("hay guarderias del estado para mi bebe de 1 año?")
    assert "Cuna Más" in first
    reply = chat.ask("y para mi hija de 3 años?")
    assert "Inicial: entre 3 y 5 años" in reply  # Cuna Más is for under 3s
    assert not reply.startswith("*Cuna Más")


def test_a_story_that_needs_someone_to_listen_gets_the_mental_health_line_not_the_hand_off(
    chat: Chat,
) -> None:
    reply = chat.ask(
        "desde que llegue no duermo, lloro mucho y extraño a mi familia. no quiero hacerme "
        "daño, solo necesito hablar con alguien. hay algun psicologo gratis?"
    )
    assert "113" in reply
    assert "asistente automático" not in reply


def test_how_long_a_procedure_takes_is_admitted_with_the_official_link_not_the_topic(
    chat: Chat, kb: KnowledgeBase
) -> None:
    reply = chat.ask("cuanto tiempo se demora la comision en responder mi solicitud de refugio?")
    assert "No tengo ese dato en mis fuentes" in reply
    assert "rree.gob.pe" in reply  # where to confirm it
    assert kb.topics["refugio-solicitud"].text.get("es") not in reply  # not the topic again


def test_and_the_phone_after_trujillo_ngos_gets_only_their_phones(chat: Chat) -> None:
    listing = chat.ask("ong en trujillo")
    assert "Trujillo" in listing
    phones = chat.ask("y el telefono?")
    assert "+51 929 953 192" in phones and "+51 918 589 055" in phones
    assert len(phones) < 0.6 * len(listing), (len(phones), len(listing))
    assert "No encontré" not in phones and "¿Te refieres a" not in phones


# Context: the city changes, the need stays


def test_and_in_arequipa_after_a_health_question_lists_arequipas_health_organisations(
    chat: Chat, kb: KnowledgeBase
) -> None:
    chat.ask("necesito atencion medica")
    reply = chat.ask("y en arequipa?")
    assert "Salud" in reply and "Arequipa" in reply
    in_arequipa = kb.organisations_in("arequipa")
    health = [o.name for o in in_arequipa if "health" in o.services]
    others = [o.name for o in in_arequipa if "health" not in o.services]
    assert health and others  # the story needs both kinds
    assert all(name in reply for name in health), reply
    assert not any(name in reply for name in others), reply


# Repair


def test_eso_no_after_an_answer_apologises_and_offers_a_person(chat: Chat) -> None:
    answer = chat.ask("requisitos visa humanitaria")
    assert "DGC 005" in answer
    repair = chat.ask("eso no")
    assert "Perdona" in repair
    assert "persona" in repair or "organizaciones" in repair.lower()
    assert "DGC 005" not in repair  # not the same answer again


def test_telegram_answer_carries_feedback_buttons_thumbs_down_repairs_thumbs_up_thanks(
    telegram: Chat, kb: KnowledgeBase
) -> None:
    telegram.send("sis gratis")
    assert {"👍", "👎"} <= set(button_data(telegram.last_calls[-1]))

    repair = "\n".join(telegram.press("👎"))
    assert "Perdona" in repair
    assert "persona" in repair or "organizaciones" in repair.lower()

    answer = "\n".join(telegram.send("sis para todos"))
    assert "Fuente:" in answer
    assert {"👍", "👎"} <= set(button_data(telegram.last_calls[-1]))
    thanks = "\n".join(telegram.press("👍"))
    assert kb.message("feedback_thanks", "es") in thanks
    assert "Perdona" not in thanks


# Small talk


def test_small_talk_gets_greeting_goodbye_and_thanks_not_an_unknown_question(
    chat: Chat, kb: KnowledgeBase
) -> None:
    greeting = chat.ask("holaa")
    assert "Hola" in greeting and "*1.*" in greeting and "*7.*" in greeting  # the main menu
    goodbye = chat.ask("chao")
    assert kb.message("goodbye", "es") in goodbye
    thanks = chat.ask("gracias mi pana dios te bendiga")
    assert kb.message("thanks", "es") in thanks
    for reply in (greeting, goodbye, thanks):
        assert "No encontré información" not in reply
        assert "No estoy seguro" not in reply


# Out of scope


def test_what_a_lawyer_or_a_fixer_charges_is_out_of_scope_not_the_official_fee(
    chat: Chat,
) -> None:
    reply = chat.ask("cuanto me cobra un tramitador por sacarme el carnet de extranjeria rapido?")
    assert "No tengo esa información" in reply
    assert "Fuente:" not in reply and "S/" not in reply  # not the carné's official fee


def test_how_long_a_consulate_takes_is_admitted_with_the_consulates_contacts(chat: Chat) -> None:
    reply = chat.ask("cuantos dias se demora el consulado de peru en quito en dar la visa?")
    assert "No tengo ese dato en mis fuentes" in reply
    assert "+593 2-601-0200" in reply  # ask them


def test_dollar_rate_is_out_of_scope_and_gets_no_topic_answer(chat: Chat) -> None:
    reply = chat.ask("cuanto esta el dolar hoy")
    assert "No tengo esa información" in reply
    assert "Fuente:" not in reply  # no topic answer
    assert "¿Te refieres a" not in reply


# Whose office: the country named with "consulado" decides


def test_venezuelan_consulate_in_lima_says_venezuelas_offices_in_peru_are_suspended(
    chat: Chat,
) -> None:
    reply = chat.ask("numero del consulado de venezuela en lima")
    assert "suspend" in reply
    assert "Consulado del Perú en" not in reply  # not Peru's consulates abroad
    assert "+58" not in reply  # no phone of a Peruvian consulate in Venezuela


def test_colombian_consulate_in_lima_says_there_is_no_data_on_foreign_consulates(
    chat: Chat,
) -> None:
    reply = chat.ask("telefono del consulado de colombia en lima")
    assert "No tengo datos de consulados de otros países en el Perú" in reply
    assert "Consulado del Perú en" not in reply
    assert "+57" not in reply


def test_peruvian_consulate_in_quito_gives_its_phone(chat: Chat) -> None:
    reply = chat.ask("consulado del peru en quito")
    assert "Quito" in reply and "+593 2-601-0200" in reply


# Other languages


@pytest.mark.parametrize(
    ("message", "telegram_lang", "notice_word"),
    [
        ("preciso de ajuda para matricular meu filho na escola", "pt-br", "espanhol"),
        ("mwen bezwen ede pou pitit mwen lekol", "ht", "panyòl"),
    ],
    ids=["portuguese", "haitian-creole"],
)
def test_other_language_gets_a_notice_in_it_then_the_school_answer_in_spanish(
    client: TestClient,
    fake_telegram: FakeTelegram,
    channel: str,
    message: str,
    telegram_lang: str,
    notice_word: str,
) -> None:
    chat = open_chat(client, fake_telegram, channel, lang=telegram_lang)
    reply = chat.ask(message)
    first_line, rest = reply.split("\n", 1)
    assert notice_word in first_line and "Pana" in first_line
    assert "Fuente:" in rest  # the answer itself is in Spanish
    assert "colegio" in rest.lower() or "matrícula" in rest.lower()
    assert "Source:" not in rest


def test_english_question_is_answered_in_english(chat: Chat) -> None:
    reply = chat.ask("how do I enrol my son in a public school")
    assert "Source:" in reply and "Fuente:" not in reply
    assert "school" in reply.lower()
