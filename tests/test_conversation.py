"""Whole conversations through the pure engine: plain values in, plain values out."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from flows.engine import Engine
from flows.turn import Incoming, Location, State, Turn


def say(engine: Engine, state: State, text: str, **extra: object) -> Turn:
    return engine.handle(state, Incoming("console", text, **extra))  # type: ignore[arg-type]


def talk(engine: Engine, *messages: str) -> Turn:
    state = State()
    turn = Turn(state)
    for message in messages:
        turn = say(engine, turn.state, message)
    return turn


def text_of(turn: Turn) -> str:
    return "\n".join(r.text for r in turn.replies)


def test_first_hola_greets_shows_menu_and_privacy_notice(engine: Engine) -> None:
    turn = talk(engine, "hola")
    text = text_of(turn)
    assert "Pana" in text and "*1.*" in text and "privacidad" in text
    assert turn.state.welcomed and turn.state.menu == "main"


def test_numbers_navigate_menus_and_atras_goes_back(engine: Engine) -> None:
    turn = talk(engine, "hola", "4")
    assert turn.state.menu == "health"
    turn = talk(engine, "hola", "4", "atras")
    assert turn.state.menu == "main"


def test_zero_and_menu_return_to_the_main_menu_from_anywhere(engine: Engine) -> None:
    for word in ("0", "menu", "inicio", "MENÚ"):
        assert talk(engine, "hola", "4", "2", word).state.menu == "main"


def test_number_outside_the_options_is_explained(engine: Engine) -> None:
    turn = talk(engine, "hola", "42")
    assert "número" in text_of(turn)


def test_free_text_sis_para_todos_gives_the_official_link(engine: Engine) -> None:
    text = text_of(talk(engine, "sis para todos"))
    assert "https://www.gob.pe/8970-afiliarte-al-sis-para-todos" in text
    assert "Fuente:" in text


def test_city_name_after_ngo_question_lists_that_citys_organisations(engine: Engine) -> None:
    turn = talk(engine, "necesito una ong", "trujillo")
    text = text_of(turn)
    assert "+51 929 953 192" in text
    assert turn.state.city == "trujillo"


def test_shared_location_finds_the_nearest_covered_city(engine: Engine) -> None:
    # A point in Trujillo's Plaza de Armas.
    turn = say(engine, State(), "", location=Location(-8.1116, -79.0288))
    assert "Trujillo" in text_of(turn)


def test_safety_words_bring_emergency_numbers_first(engine: Engine) -> None:
    turn = talk(engine, "mi pareja me pega")
    first = turn.replies[0].text
    assert "105" in first and "100" in first


def test_english_question_is_answered_in_english(engine: Engine) -> None:
    turn = talk(engine, "how do I get free health insurance")
    assert turn.state.lang == "en"
    assert "Source:" in text_of(turn)


def test_delete_my_data_asks_then_confirms(engine: Engine) -> None:
    turn = talk(engine, "hola", "borrar mis datos")
    assert turn.state.awaiting == "delete"
    done = say(engine, turn.state, "si")
    assert any(e.kind == "delete_user" for e in done.events)
    kept = say(engine, turn.state, "no")
    assert not any(e.kind == "delete_user" for e in kept.events)


def test_gibberish_is_admitted_not_answered(engine: Engine) -> None:
    turn = talk(engine, "hola", "xkcd qwerty zzzz")
    assert any(e.kind == "unanswered" for e in turn.events)
    assert not any(e.kind == "answered" for e in turn.events)


def test_state_survives_a_round_trip_through_json(engine: Engine) -> None:
    turn = talk(engine, "hola", "4")
    assert State.from_dict(turn.state.to_dict()) == turn.state
    assert State.from_dict({"options": "garbage", "unknown": 1}) == State()


@settings(max_examples=300, deadline=None)
@given(
    text=st.text(max_size=400),
    menu=st.sampled_from([None, "main", "health", "ngos", "nowhere"]),
    options=st.lists(st.sampled_from(["menu:main", "topic:sis", "org:x", "bad"]), max_size=4),
    awaiting=st.sampled_from([None, "city", "delete", "???"]),
    lang=st.sampled_from(["es", "en", "xx"]),
)
def test_any_text_in_any_state_gets_a_reply(
    engine: Engine, text: str, menu: str | None, options: list[str], awaiting: str | None, lang: str
) -> None:
    state = State(lang=lang, menu=menu, options=tuple(options), awaiting=awaiting, welcomed=True)
    turn = say(engine, state, text)
    assert turn.replies and all(r.text.strip() for r in turn.replies)


def test_old_facts_carry_a_confirm_on_the_official_link_line(kb) -> None:  # type: ignore[no-untyped-def]
    from datetime import date

    strict = Engine(kb, stale_after_days=365)
    turn = strict.handle(State(), Incoming("console", "sis para todos", today=date(2026, 11, 23)))
    assert "confirma en el enlace oficial" in text_of(turn)
    fresh = strict.handle(State(), Incoming("console", "sis para todos", today=date(2022, 3, 1)))
    assert "confirma en el enlace oficial" not in text_of(fresh)


def test_a_later_source_changing_a_fact_is_shown_as_an_update(engine: Engine) -> None:
    text = text_of(talk(engine, "visa humanitaria"))
    assert "Actualización" in text and "2024" in text


def test_every_kind_of_target_has_one_way_to_be_shown(engine: Engine) -> None:
    from knowledge.targets import TARGET_KINDS

    assert set(engine.shows) == set(TARGET_KINDS)
    assert set(engine.lists) == TARGET_KINDS["list"].ids
    for menu in engine.kb.menus.values():
        for option in menu.options:
            turn = engine.goto(State(), option.target)
            assert turn.replies, option.target
            events = {e.kind for e in turn.events}
            assert events & {"answered", "out_of_scope"} or turn.state.awaiting == "city", option


def test_a_target_that_names_nothing_shows_the_main_menu(engine: Engine) -> None:
    for target in ("topic:no-such-topic", "list:nothing", "planet:mars", "menu"):
        turn = engine.goto(State(), target)
        assert turn.state.menu == "main" and turn.events == (), target


def test_a_turn_is_immutable_and_its_events_are_typed(engine: Engine) -> None:
    import dataclasses

    import flows

    assert all(hasattr(flows, name) for name in flows.__all__)
    turn = talk(engine, "hola", "sis gratuito", "👎")
    assert isinstance(turn.replies, tuple) and isinstance(turn.events, tuple)
    feedback = next(e for e in turn.events if e.kind == "feedback")
    assert (feedback.value, feedback.rating) == ("topic:sis-gratuito", "down")
    with_aspect = talk(engine, "hola", "sis gratuito", "¿y cuánto cuesta?")
    assert any(e.kind == "answered" and e.aspect == "cost" for e in with_aspect.events)
    try:
        turn.events = ()  # type: ignore[misc]
    except dataclasses.FrozenInstanceError:
        pass
    else:
        raise AssertionError("a Turn can be changed")
