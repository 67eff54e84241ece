"""The hand-off in the pure engine: who is offered, consent, silence, leaving, hours."""

from __future__ import annotations

from datetime import UTC, datetime

from flows.engine import Engine
from flows.turn import Incoming, State, Turn

#: Thursday 3 December 2026, 12:00 in Lima (17:00 UTC): within the default hours.
OPEN = datetime(2026, 12, 3, 17, 0, tzinfo=UTC)
#: The same day at 22:00 in Lima: closed.
CLOSED = datetime(2026, 12, 4, 3, 0, tzinfo=UTC)
LIMA = State(welcomed=True, city="lima")


def say(
    engine: Engine,
    state: State,
    text: str,
    staffed: tuple[str, ...] = ("ocasiven",),
    now: datetime = OPEN,
) -> Turn:
    return engine.handle(state, Incoming("whatsapp", text, now=now, staffed=staffed))


def words(turn: Turn) -> str:
    return "\n".join(reply.text for reply in turn.replies)


def test_without_staff_a_person_gets_phones_and_no_consent_question(engine: Engine) -> None:
    turn = say(engine, LIMA, "quiero hablar con una persona", staffed=())
    assert "¿Aceptas?" not in words(turn) and "+51" in words(turn)
    assert turn.state.awaiting != "consent"


def test_the_offer_names_the_partner_of_the_city_its_hours_and_wait(engine: Engine) -> None:
    # SJS is listed first but does not serve Trujillo; the Trujillo association does.
    trujillo = State(welcomed=True, city="trujillo")
    turn = say(engine, trujillo, "persona", staffed=("sjs", "asoventru"))
    assert "*Asoventru*" in words(turn) and "SJS" not in words(turn)
    assert "lun–vie, 09:00–18:00" in words(turn) and "unas horas" in words(turn)
    assert "No le pases claves ni números de documento" in words(turn)
    assert [o.label for o in turn.replies[0].options] == ["Sí", "No"]
    assert turn.events == ()  # nothing is stored before consent


def test_consent_opens_and_then_the_bot_only_relays(engine: Engine) -> None:
    offered = say(engine, LIMA, "talk to a person").state
    opened = say(engine, offered, "1")
    assert [e.kind for e in opened.events] == [
        "handoff_open"
    ] and opened.state.handoff == "ocasiven"
    relayed = say(engine, opened.state, "necesito renovar mi carnet de extranjeria")
    assert relayed.replies == ()
    assert [(e.kind, e.value) for e in relayed.events] == [
        ("handoff_message", "necesito renovar mi carnet de extranjeria")
    ]
    # A number is relayed too, not read as a menu choice.
    assert say(engine, opened.state, "4").events[0].kind == "handoff_message"


def test_no_keeps_nothing_and_anything_else_is_an_ordinary_message(engine: Engine) -> None:
    offered = say(engine, LIMA, "hablar con un asesor").state
    declined = say(engine, offered, "no")
    assert "no guardo nada" in words(declined) and declined.state.handoff is None
    assert declined.events == ()
    other = say(engine, offered, "que es el sis")
    assert "SIS" in words(other) and other.state.handoff is None


def test_menu_or_salir_leaves_and_the_bot_answers_again(engine: Engine) -> None:
    opened = say(engine, say(engine, LIMA, "persona").state, "si").state
    for word in ("menu", "salir"):
        left = say(engine, opened, word)
        assert left.state.handoff is None and left.events[0].kind == "handoff_end"
        assert "Cerraste la conversación con OCASIVEN" in words(left)


def test_danger_inside_a_handoff_gets_the_fitting_numbers_and_still_reaches_staff(
    engine: Engine,
) -> None:
    opened = say(engine, say(engine, LIMA, "persona").state, "1").state
    turn = say(engine, opened, "el señor me quito el pasaporte y no me deja salir")
    assert "1818" in words(turn)
    assert {e.kind for e in turn.events} == {"danger", "handoff_message"}


def test_outside_hours_the_person_is_told_and_gets_the_emergency_numbers(engine: Engine) -> None:
    offer = say(engine, LIMA, "persona", now=CLOSED)
    assert "Ahora no hay nadie" in words(offer)
    opened = say(engine, offer.state, "1", now=CLOSED)
    assert "fuera de horario" in words(opened)
    assert all(number in words(opened) for number in ("105", "100", "106"))


def test_after_a_danger_answer_a_person_is_offered(engine: Engine) -> None:
    turn = say(engine, LIMA, "mi esposo me pega y no me deja salir de la casa")
    assert "100" in turn.replies[0].text
    assert "una persona de *OCASIVEN*" in turn.replies[-1].text


def test_a_second_eso_no_in_a_row_offers_a_person(engine: Engine) -> None:
    answered = say(engine, LIMA, "que es el sis").state
    first = say(engine, answered, "eso no")
    assert "¿Aceptas?" not in words(first)
    second = say(engine, first.state, "eso no")
    assert "no logro entenderte" in words(second) and "¿Aceptas?" in words(second)
    # Something else in between starts the count again.
    between = say(engine, say(engine, first.state, "gracias").state, "eso no")
    assert "¿Aceptas?" not in words(between)
