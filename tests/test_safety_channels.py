"""People in danger, through the real channels: the fitting number comes first, a
follow-up stays in protection, ordinary messages raise no alarm, and nothing they
wrote is kept.

The messages are written for this file (indirect, as people in danger write: they
rarely name the danger), not copied from knowledge/data/safety.yaml.
"""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select

from bot.models import UnansweredQuestion
from bot.settings import Settings
from knowledge import KnowledgeBase
from tests.support.fake_telegram import FakeTelegram
from tests.test_privacy import database_dump
from tests.test_understanding_channels_v2 import CHANNELS, Chat, open_chat

#: kind → (a message describing it without naming it, the numbers that fit it first).
DANGERS = {
    "partner_violence": (
        "mi marido me revisa el celular, no me deja ver a mi familia y cuando se enoja "
        "me empuja contra la pared",
        {"100"},
    ),
    "sexual_violence": (
        "el dueño del cuarto entro de noche mientras dormia y me toco a la fuerza, "
        "no se a quien decirle",
        {"100", "105"},
    ),
    "child_abuse": (
        "el novio de mi hermana le pega con la correa a mi sobrinito de 6 años y lo deja "
        "encerrado sin comer",
        {"100"},
    ),
    "trafficking": (
        "la señora de la agencia que me trajo se quedo con mi cedula, me encierra en el local "
        "y dice que le debo el pasaje",
        {"1818"},
    ),
    "extortion": (
        "unos tipos me mandan audios diciendo que si no les pago cupo cada semana me queman "
        "el puesto de comida",
        {"111"},
    ),
    "threats": (
        "el vecino dijo que me va a matar apenas me vea en la calle y anda con un cuchillo",
        {"105"},
    ),
    "suicide": (
        "ya no aguanto mas, siento que todos estarian mejor sin mi y solo quiero dormir "
        "para siempre",
        {"113"},
    ),
    "lost_child": (
        "mi hija de 7 años se solto de mi mano en el mercado y no la encuentro por ningun lado",
        {"105"},
    ),
    "medical": (
        "mi esposo se cayo de la escalera, no reacciona y le sale mucha sangre de la cabeza",
        {"106"},
    ),
    "hunger_homeless": (
        "nos botaron del cuarto y llevamos dos dias durmiendo en el parque con los niños "
        "sin comer nada",
        set(),  # no emergency number: the danger reply, then humanitarian help
    ),
}
ORDINARY = [
    "la policia me pidio el carne",
    "trabajo de noche en una discoteca, necesito el sis",
]


@pytest.fixture(params=CHANNELS)
def channel(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def chat(channel: str, client: TestClient, fake_telegram: FakeTelegram) -> Chat:
    return open_chat(client, fake_telegram, channel)


def first_number(text: str) -> str | None:
    """The first number of the danger block ("📞 *113, opción 5*: …" → "113")."""
    found = re.search(r"📞 \*(\d+)", text)
    return found.group(1) if found else None


@pytest.mark.parametrize("kind", list(DANGERS))
def test_danger_message_gets_the_fitting_number_first(
    chat: Chat, kb: KnowledgeBase, kind: str
) -> None:
    message, numbers = DANGERS[kind]
    replies = chat.send(message)
    first = replies[0]
    if numbers:
        # Nothing precedes the numbers: on Telegram the replies are joined, so the first
        # message must begin with the danger block, not with a topic.
        assert first.startswith(kb.message("danger_first", "es")), first[:300]
        assert first_number(first) in numbers, first[:300]
    else:
        danger = kb.safety.kind(kind)
        assert danger is not None
        assert first.startswith(danger.reply.get("es")), first[:300]
        answer = "\n".join(replies)
        assert "ayuda humanitaria" in answer and "organizaciones" in answer


def test_follow_up_in_safety_mode_about_papers_stays_in_protection(chat: Chat) -> None:
    chat.send(DANGERS["partner_violence"][0])
    reply = "\n".join(chat.send("y si no tengo papeles?"))
    assert "30364" in reply or "CEM" in reply or "Línea 100" in reply, reply[:500]
    assert "¿Te refieres a" not in reply and "No encontré" not in reply


@pytest.mark.parametrize(
    "message",
    [
        "mi jefe tiene mi pasaporte guardado, igual puedo sacar el carne?",
        "my boss keeps my passport in his office, can I still get the CPP?",
    ],
)
def test_a_boss_keeping_the_passport_gets_the_trafficking_line_before_papers(
    chat: Chat, kb: KnowledgeBase, message: str
) -> None:
    first = chat.send(message)[0]
    lang = "en" if message.startswith("my") else "es"
    assert first.startswith(kb.message("danger_first", lang)), first[:300]  # nothing before
    assert first_number(first) == "1818", first[:300]


def test_a_possible_danger_with_no_clear_subject_gets_the_check_and_that_dangers_help(
    chat: Chat,
) -> None:
    reply = "\n".join(
        chat.send("el dueño del cuarto tiene mi pasaporte y no me lo quiere dar hasta que pague")
    )
    assert reply.startswith("¿Estás en peligro ahora?") and "1818" in reply[:120], reply[:300]
    assert "Trata de personas" in reply  # that danger's help, not unrelated topics
    assert "¿Te refieres a" not in reply and "No estoy seguro" not in reply


@pytest.mark.parametrize("message", ORDINARY)
def test_ordinary_message_that_looks_alarming_gets_no_emergency_block(
    chat: Chat, kb: KnowledgeBase, message: str
) -> None:
    reply = "\n".join(chat.send(message))
    assert kb.message("danger_first", "es") not in reply, reply[:300]
    assert "¿Estás en peligro ahora?" not in reply, reply[:300]
    assert not reply.startswith("*Números de emergencia*"), reply[:300]


def stored_questions(settings: Settings) -> list[str]:
    database = create_engine(settings.database_url)
    with database.connect() as connection:
        texts = list(connection.execute(select(UnansweredQuestion.text)).scalars())
    database.dispose()
    return texts


@pytest.mark.parametrize("kind", list(DANGERS))
def test_danger_message_is_not_kept_as_an_unanswered_question(
    chat: Chat, settings: Settings, kind: str
) -> None:
    message = DANGERS[kind][0]
    chat.send(message)
    chat.send("y si no tengo papeles?")
    opening = " ".join(message.split()[:5])
    for stored in stored_questions(settings):
        assert opening not in stored, stored
    assert opening not in database_dump(settings)  # nor anywhere else
