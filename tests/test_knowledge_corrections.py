"""Issue 13: what the knowledge tells people at risk is true today and says where it
comes from. Each story is what a user sees through the real engine; the last part
shows that `pana kb check` fails when a correction is undone."""

from __future__ import annotations

import dataclasses
import re
from datetime import date

import pytest

from bot.knowledge_check import consulate_answer_problems
from flows import render
from flows.engine import Engine
from flows.turn import Incoming, Reply, State
from knowledge import KnowledgeBase
from knowledge.check_content import content_problems
from knowledge.schema import Link, Text

TODAY = date(2026, 12, 3)
#: The July 2024 line every consulate answer and the list must carry, per language.
CONSULATE_LINE = {
    "es": "podrían no estar atendiendo desde entonces",
    "en": "may not have been operating since then",
}
CHECK_ORDER = ("es", "en")


def replies(engine: Engine, question: str, lang: str = "es") -> list[Reply]:
    state = State(welcomed=True, lang=lang)
    return list(engine.handle(state, Incoming("console", question, today=TODAY)).replies)


def ask(engine: Engine, question: str, lang: str = "es") -> str:
    return "\n".join(r.text for r in replies(engine, question, lang))


def show(engine: Engine, target: str, lang: str = "es") -> list[Reply]:
    return list(engine.goto(State(welcomed=True, lang=lang), target, TODAY).replies)


def problems_after(kb: KnowledgeBase, kind: str, entry_id: str, **changes: object) -> list[str]:
    """`pana kb check`'s content problems once one entry is changed back."""
    table = dict(getattr(kb, kind))
    table[entry_id] = table[entry_id].model_copy(update=changes)
    changed = dataclasses.replace(kb, **{kind: table})
    return [str(p) for p in content_problems(changed)]


# -- 1. consulates in Venezuela, the update line on every consulate answer ------------


@pytest.mark.parametrize("lang", CHECK_ORDER)
def test_every_consulate_answer_carries_the_july_2024_line_in_text_and_sms(
    engine: Engine, lang: str
) -> None:
    for consulate in engine.kb.consulates.values():
        (reply,) = show(engine, f"consulate:{consulate.id}", lang)
        assert CONSULATE_LINE[lang] in reply.text, consulate.id
        assert CONSULATE_LINE[lang] in (reply.short or ""), consulate.id


@pytest.mark.parametrize("lang", CHECK_ORDER)
def test_consulate_list_carries_the_july_2024_line_and_lists_venezuela_last(
    engine: Engine, lang: str
) -> None:
    (reply,) = show(engine, "list:consulates", lang)
    assert CONSULATE_LINE[lang] in reply.text
    assert CONSULATE_LINE[lang] in (reply.short or "")
    cities = re.findall(r"^• (\S[^(:]*?) \(", reply.text, re.MULTILINE)
    assert cities[:3] == ["Bogotá", "Medellín", "Leticia"]
    assert cities[-2:] == ["Caracas", "Puerto Ordaz"]


def test_asking_where_the_visa_is_processed_says_venezuelan_consulates_may_be_closed(
    engine: Engine,
) -> None:
    reply = ask(engine, "donde se tramita la visa humanitaria")
    assert "podrían no estar atendiendo" in reply
    assert reply.index("Colombia") < reply.index("Venezuela: Caracas")
    assert "confirma por correo" in reply


def test_caracas_consulate_number_comes_with_the_may_be_closed_note(engine: Engine) -> None:
    reply = ask(engine, "numero del consulado de peru en caracas")
    number_line = reply.index("+58 212-2619389")
    assert reply.index("podría no estar atendiendo", number_line) - number_line < 40


# -- 2. the CEM's coordination with embassies -------------------------------------------


def test_cem_answer_says_consulate_coordination_also_settles_residence_and_return(
    engine: Engine,
) -> None:
    (reply, *_) = show(engine, "topic:cem-aurora")
    assert "determinar tu situación de residencia en el Perú y tu retorno" in reply.text
    assert "consultar antes con una organización del directorio" in reply.text


# -- 3. irregular entry, regularisation, PTP and CPP -------------------------------------


@pytest.mark.parametrize(
    "question",
    ["entre x trocha y nunca me sellaron nada", "I entered irregularly through the border"],
)
def test_irregular_entry_points_to_an_organisation_before_migraciones_and_says_the_risk(
    engine: Engine, question: str
) -> None:
    lang = "en" if question.startswith("I ") else "es"
    reply = ask(engine, question, lang)
    guidance = {"es": "asesoría legal", "en": "legal advice"}[lang]
    assert reply.index(guidance) < reply.index("https://www.gob.pe/13001")
    assert re.search(r"expulsi[oó]n", reply)
    assert "1582" in reply and "infobae.com" in reply and "2025" in reply
    assert {"es": "refugio", "en": "refuge"}[lang] in reply


@pytest.mark.parametrize("question", ["estoy irregular", "como me regularizo"])
def test_irregular_status_answer_comes_with_risks_and_the_2025_process(
    engine: Engine, question: str
) -> None:
    reply = ask(engine, question)
    assert "asesoría legal" in reply and "expulsión" in reply
    assert "15 de septiembre de 2025" in reply and "gestion.pe" in reply


def test_cpp_answer_is_dated_news_with_the_deadlines_and_what_the_2025_process_excludes(
    engine: Engine,
) -> None:
    reply = ask(engine, "se me vencio el cpp que hago")
    for fact in ("10 de noviembre de 2023", "4 de diciembre de 2023", "rpp.pe", "panamericana.pe"):
        assert fact in reply, fact
    assert "nunca tuvo permiso ni residencia" in reply
    assert "no de páginas oficiales" in reply


def test_expired_ptp_answer_says_what_an_irregular_situation_risks(engine: Engine) -> None:
    reply = ask(engine, "todavia se puede sacar el ptp")
    assert "31 de diciembre de 2018" in reply
    assert "situación irregular" in reply and "meridiano.net" in reply
    assert "expulsión" in reply


# -- 4. the survey's scope -------------------------------------------------------------


@pytest.mark.parametrize("topic", ["ayuda-humanitaria", "orientacion-tramites"])
def test_regular_or_irregular_alike_is_said_of_the_7_of_13_that_answered(
    engine: Engine, topic: str
) -> None:
    (reply, *_) = show(engine, f"topic:{topic}")
    assert "contactó a 13 organizaciones y 7 respondieron" in reply.text
    assert "Las organizaciones del directorio atienden igual" not in reply.text


# -- 5. labour complaints ----------------------------------------------------------------


def test_labour_complaint_goes_through_an_organisation_and_dates_sunafils_offer(
    engine: Engine,
) -> None:
    reply = ask(engine, "como denuncio a mi jefe que no me paga")
    assert reply.index("asesoría legal") < reply.index("mesa de partes virtual")
    assert "ofreció recibir denuncias laborales de extranjeros" in reply
    assert "(perfil migratorio de 2020)" in reply
    assert "puedes presentar una denuncia laboral ante" not in reply


# -- 6. free SIS and its condition -------------------------------------------------------


def test_no_cost_sis_is_said_together_with_its_document_condition(engine: Engine) -> None:
    (reply, *_) = show(engine, "topic:salud-derecho")
    item = next(line for line in reply.text.splitlines() if "no tienen costo" in line)
    assert "DNI o carné de extranjería" in item and "vigente" in item


# -- 7. the bare-IP appointment link --------------------------------------------------------


def test_tourist_visa_shows_the_official_page_first_and_warns_on_the_ip_link(
    engine: Engine,
) -> None:
    (reply, *_) = show(engine, "topic:visa-turista")
    official = reply.text.index("http://www.consulado.pe/")
    ip_line = next(line for line in reply.text.splitlines() if "137.184.129.142" in line)
    assert official < reply.text.index("137.184.129.142")
    assert ip_line.startswith("🔗 ⚠️") and "no una página oficial" in ip_line
    assert "137.184" not in (reply.short or "")


# -- 8. Colombian numbers in the old format ------------------------------------------------


@pytest.mark.parametrize("city", ["bogota", "medellin", "leticia"])
def test_colombian_consulate_number_comes_with_its_old_format_note(
    engine: Engine, city: str
) -> None:
    consulate = engine.kb.consulates_in(city)[0]
    (reply,) = show(engine, f"consulate:{consulate.id}")
    lines = reply.text.splitlines()
    number = next(i for i, line in enumerate(lines) if line.startswith("📞"))
    assert consulate.phones[0].number[3:] in lines[number].replace(" ", "")
    assert "formato antiguo" in lines[number + 1] and "correo" in lines[number + 1]


# -- 9. emergency numbers, each with its source and date; Línea 113 -------------------------


def test_each_emergency_number_names_its_outlet_and_the_answer_is_dated_2022(
    engine: Engine,
) -> None:
    (reply, *_) = show(engine, "topic:emergencias")
    lines = [line for line in reply.text.splitlines() if line.startswith("📞")]
    assert len(lines) == 7
    for line in lines:
        assert re.search(r"\(([a-z.]+\.pe|[a-z.]+\.com|Ministerio del Interior, gob\.pe)", line), (
            line
        )
    assert "octubre 2022" in reply.text
    assert "⚠️ Esta información es de octubre 2022" in reply.text


def test_violence_answer_is_dated_by_its_2022_report_and_shows_the_stale_line(
    engine: Engine,
) -> None:
    (reply, *_) = show(engine, "topic:violencia")
    assert "Esta información es de enero 2022" in reply.text
    assert "(larazon.pe y eltiempo.pe, sin fecha)" in reply.text


@pytest.mark.parametrize(
    ("question", "lang"),
    [
        ("quiero suicidarme", "es"),
        ("me quiero quitar la vida", "es"),
        ("i want to kill myself", "en"),
    ],
)
def test_suicidal_message_reaches_line_113_option_5(
    engine: Engine, question: str, lang: str
) -> None:
    reply = ask(engine, question, lang)
    assert "113" in reply and {"es": "opción 5", "en": "option 5"}[lang] in reply
    assert "106" in reply


def test_danger_answers_give_the_numbers_that_fit_not_all_of_them(engine: Engine) -> None:
    # A threat gets the police first; Línea 113 is for suicidal thoughts, not every danger.
    threat, *_ = replies(engine, "un tipo me manda mensajes q me va a matar")
    assert "105" in threat.text and "113" not in threat.text
    despair, *_ = replies(engine, "ya no quiero vivir, nada tiene sentido")
    assert "113, opción 5" in despair.text and "salud mental" in despair.text


# -- 10. smaller points ----------------------------------------------------------------------


def test_essalud_is_for_people_who_meet_certain_conditions(engine: Engine) -> None:
    assert "ciertas condiciones" in show(engine, "topic:essalud")[0].text


def test_vulnerability_criteria_in_every_office_are_an_aim(engine: Engine) -> None:
    text = show(engine, "topic:residencia-por-vulnerabilidad")[0].text
    assert "Es un objetivo" in text
    assert "se aplican en todas las Jefaturas Zonales" not in text


def test_solidaridad_venezuela_medicines_are_for_people_hit_by_the_crisis_in_venezuela(
    engine: Engine,
) -> None:
    text = ask(engine, "solidaridad venezuela")
    assert "crisis humanitaria que se vive en Venezuela" in text
    assert "pregunta si la da en el Perú" in text


def test_r4v_update_holds_as_of_the_end_of_september_2024(kb: KnowledgeBase) -> None:
    assert kb.sources["004_41e9b2cad3ec8c0c.txt"].as_of >= date(2024, 9, 30)


# -- 11. Venezuelan and other foreign offices in Peru -----------------------------------------


def test_venezuelan_embassy_answer_sends_to_organisations_and_has_no_other_consulates(
    engine: Engine,
) -> None:
    reply = ask(engine, "la embajada de venezuela esta atendiendo? necesito renovar pasaporte")
    assert "suspensión indefinida" in reply and "consulados de Venezuela en el Perú" in reply
    assert "asesoría legal" in reply
    assert "no tiene datos de los consulados de otros países" in reply
    (listed,) = show(engine, "list:consulates")
    assert "No tengo datos de los consulados de otros países en el Perú" in listed.text


# -- make it hold: `pana kb check` fails when a correction is undone ---------------------------


def test_check_fails_on_an_as_of_later_than_its_source(kb: KnowledgeBase) -> None:
    problems = problems_after(kb, "topics", "emergencias", as_of=date(2026, 11, 1))
    assert any("(emergencias).as_of" in p and "later than its source" in p for p in problems)


def test_check_fails_on_older_facts_left_undated_under_a_newer_date(kb: KnowledgeBase) -> None:
    violencia = kb.topics["violencia"]
    newer = violencia.also_sources[0].model_copy(update={"published": date(2026, 3, 2)})
    problems = problems_after(
        kb,
        "topics",
        "violencia",
        source=newer,
        also_sources=[violencia.source],
        as_of=date(2026, 3, 2),
        text=Text(es="Llama al 100 (larazon.pe).", en="Call 100 (larazon.pe)."),
        items=[],
        phones=violencia.phones[:1],
    )
    assert any("(violencia).also_sources[0]" in p and "date them" in p for p in problems)


def test_check_fails_on_a_bare_ip_link_without_warning_or_note(kb: KnowledgeBase) -> None:
    ip = Link(url="http://137.184.129.142:8080/VisaAppointments/index.jsp")
    problems = problems_after(kb, "topics", "visa-turista", links=[ip], notes=None)
    assert any("bare IP address" in p and "notes" in p for p in problems)
    assert any("links[0].label" in p and "⚠️" in p for p in problems)


def test_check_fails_on_a_plain_http_link_without_a_note(kb: KnowledgeBase) -> None:
    problems = problems_after(kb, "topics", "refugio-solicitud", notes="")
    assert any("(refugio-solicitud).links[0]" in p and "plain http" in p for p in problems)


def test_check_fails_on_an_invalid_number_without_a_note_to_users(kb: KnowledgeBase) -> None:
    bogota = kb.consulates["consulado-bogota"]
    bare = [bogota.phones[0].model_copy(update={"note": None})]
    problems = problems_after(kb, "consulates", "consulado-bogota", phones=bare)
    assert any("(consulado-bogota).phones[0]" in p and "not a valid number" in p for p in problems)


def test_check_fails_on_a_news_sourced_number_without_its_outlet(kb: KnowledgeBase) -> None:
    emergencias = kb.topics["emergencias"]
    unlabelled = [p.model_copy(update={"label": None}) for p in emergencias.phones]
    problems = problems_after(kb, "topics", "emergencias", phones=unlabelled)
    assert any("(emergencias).source" in p and "larepublica.pe" in p for p in problems)


def test_check_fails_on_an_irregular_entry_topic_without_the_rules_after_the_seeds(
    kb: KnowledgeBase,
) -> None:
    topic = kb.topics["regularizar-movimiento-migratorio"]
    problems = problems_after(
        kb,
        "topics",
        topic.id,
        also_sources=[],
        text=Text(es="Pide a Migraciones que regularice tu movimiento.", en="Ask Migraciones."),
        items=[],
    )
    assert any("peru-migration-rules-2021-2025.md" in p for p in problems)
    assert any("expulsion" in p and ".text.es" in p for p in problems)


def test_check_fails_when_a_consulate_answer_is_rendered_without_its_update_line(
    kb: KnowledgeBase, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert consulate_answer_problems(kb) == []
    original = render.Renderer.provenance

    def without_update(self: render.Renderer, entry, lang: str, today: date | None) -> list[str]:
        return [line for line in original(self, entry, lang, today) if "🆕" not in line]

    monkeypatch.setattr(render.Renderer, "provenance", without_update)
    problems = [str(p) for p in consulate_answer_problems(kb)]
    assert len([p for p in problems if "its answer (text)" in p]) == 2 * len(kb.consulates)


def test_check_fails_when_the_consulate_list_drops_an_update_line(
    kb: KnowledgeBase, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        render.Renderer, "consulates", lambda self, lang, today=None: Reply("• Bogotá: +57 1")
    )
    problems = [str(p) for p in consulate_answer_problems(kb)]
    assert len([p for p in problems if "the consulate list (text)" in p]) == 2 * len(kb.consulates)
