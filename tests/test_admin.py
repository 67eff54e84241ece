"""The /admin dashboard through HTTP: token login, aggregate figures for a period,
SVG charts, CSV exports, and nothing that identifies a person."""

from __future__ import annotations

import csv
import io
import random
import re
import threading
import time
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from xml.etree import ElementTree

import pytest
from fastapi.testclient import TestClient

from bot.admin.queries import TABLES
from bot.app import create_app
from bot.cli import main
from bot.reports import MAX_GROUPS, group_questions
from bot.settings import Settings
from flows.turn import Incoming
from knowledge import KnowledgeBase
from tests.support.channels import (
    post_telegram,
    post_twilio,
    telegram_message,
    twilio_form,
    twiml_messages,
)

TOKEN = "admin-test-token"  # the settings fixture's ADMIN_TOKEN
READER = "whatsapp:+51944000111"
SVG = "{http://www.w3.org/2000/svg}"
#: A message in danger: counted by its kind, never kept or shown.
IN_DANGER = "ya no aguanto mas, quiero quitarme la vida"
#: A message Pana answers, but with low confidence in what it understood.
DOUBTFUL = "necesito ayuda con un papel"


def open_admin(settings: Settings, kb: KnowledgeBase) -> TestClient:
    # The session cookie is Secure, so the browser-like client must speak https.
    return TestClient(create_app(settings, kb), base_url="https://testserver")


@pytest.fixture
def admin(client: TestClient) -> TestClient:
    """The app's client, logged in to the dashboard."""
    client.base_url = "https://testserver"  # type: ignore[assignment]
    response = client.post("/admin/login", data={"token": TOKEN}, follow_redirects=False)
    assert response.status_code == 303
    return client


def rows(admin: TestClient, table: str, query: str = "") -> list[list[str]]:
    response = admin.get(f"/admin/export/{table}.csv?{query}")
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(response.text.removeprefix("\ufeff"))))


def people_write_in(client: TestClient) -> None:
    post_twilio(client, twilio_form("HOLA OCASIVEN", sender=READER))
    post_twilio(client, twilio_form("sis gratuito", sender=READER))
    post_twilio(client, twilio_form("como cocino unas arepas? mi cel 987 654 321"))
    post_telegram(client, telegram_message("/start OCASIVEN", user_id=5550001))
    post_telegram(client, telegram_message("como cocino arepas", user_id=5550001))


def web_chat(client: TestClient, person: str, *texts: str) -> None:
    for text in texts:
        reply = client.post("/api/chat", json={"user_id": f"browser-{person}", "text": text})
        assert reply.status_code == 200


def people_rate_doubt_and_ask_for_help(client: TestClient) -> None:
    """Two people find the SIS answer helpful, one the visa answer not; two ask about
    the dollar (out of scope); two get a doubtful answer; one writes in danger."""
    web_chat(client, "rates-sis-1", "sis gratuito", "👍")
    web_chat(client, "rates-sis-2", "sis gratuito", "gracias me sirvio")
    web_chat(client, "rates-visa", "visa humanitaria", "👎")
    post_twilio(client, twilio_form("cuanto esta el dolar hoy", sender="whatsapp:+51944000201"))
    post_twilio(client, twilio_form("a cuanto esta el dolar?", sender="whatsapp:+51944000202"))
    web_chat(client, "doubtful-1", DOUBTFUL)
    web_chat(client, "doubtful-2", DOUBTFUL)
    post_twilio(client, twilio_form(IN_DANGER, sender="whatsapp:+51944000203"))


def total(admin: TestClient, name: str, query: str = "") -> int:
    """The figure on the dashboard's ``name`` card."""
    card = re.search(
        rf'id="total-{name}"><span class="figure">(\d+)<',
        admin.get(f"/admin?{query}").text,
    )
    assert card, f"no {name} card"
    return int(card.group(1))


def section(page: str, table: str) -> str:
    """The HTML of one table's section of the dashboard."""
    start = page.index(f'<section class="table" id="{table}">')
    return page[start : page.index("</section>", start)]


# -- getting in ---------------------------------------------------------------


def test_dashboard_does_not_exist_without_an_admin_token(
    settings: Settings, kb: KnowledgeBase
) -> None:
    with open_admin(settings.model_copy(update={"admin_token": ""}), kb) as app:
        assert app.get("/admin", follow_redirects=False).status_code == 404
        assert app.get("/admin/login").status_code == 404
        assert app.post("/admin/login", data={"token": ""}).status_code == 404
        assert app.get("/admin/export/referrals.csv").status_code == 404
        assert app.get("/admin/admin.css").status_code == 404


def test_visitor_is_sent_to_the_login_form(client: TestClient) -> None:
    response = client.get("/admin", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/admin/login"
    form = client.get("/admin/login")
    assert 'type="password"' in form.text and 'name="viewport"' in form.text


def test_wrong_token_is_refused_and_sets_no_cookie(client: TestClient) -> None:
    response = client.post("/admin/login", data={"token": "guess"}, follow_redirects=False)
    assert response.status_code == 401
    assert "Esa clave no es correcta" in response.text
    assert "set-cookie" not in response.headers
    english = client.post("/admin/login", data={"token": "guess", "lang": "en"})
    assert "That token is not right" in english.text and 'lang="en"' in english.text


def test_login_sets_a_secure_http_only_cookie_without_the_token(client: TestClient) -> None:
    response = client.post("/admin/login", data={"token": TOKEN}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/admin"
    cookie = response.headers["set-cookie"]
    for attribute in ("Secure", "HttpOnly", "SameSite=strict", "Path=/admin"):
        assert attribute.lower() in cookie.lower()
    assert TOKEN not in cookie


def test_session_stops_working_when_the_token_changes(
    settings: Settings, kb: KnowledgeBase
) -> None:
    with open_admin(settings, kb) as first:
        first.post("/admin/login", data={"token": TOKEN})
        cookies = dict(first.cookies)
        assert first.get("/admin", follow_redirects=False).status_code == 200
    with open_admin(settings.model_copy(update={"admin_token": "a-new-token"}), kb) as second:
        second.cookies.update(cookies)
        assert second.get("/admin", follow_redirects=False).status_code == 303


def test_forged_cookie_is_not_a_session(settings: Settings, kb: KnowledgeBase) -> None:
    with open_admin(settings, kb) as app:
        app.cookies.set("pana_admin", "9999999999.0123abcd", domain="testserver", path="/admin")
        assert app.get("/admin", follow_redirects=False).status_code == 303
        assert app.get("/admin/export/referrals.csv").status_code == 401


def test_log_out_ends_the_session(admin: TestClient) -> None:
    assert admin.post("/admin/logout", follow_redirects=False).status_code == 303
    assert admin.get("/admin", follow_redirects=False).status_code == 303


def test_a_cookie_kept_from_before_logout_no_longer_opens_the_dashboard(
    settings: Settings, kb: KnowledgeBase
) -> None:
    with open_admin(settings, kb) as browser:
        browser.post("/admin/login", data={"token": TOKEN})
        kept = dict(browser.cookies)  # someone copied the cookie before the operator left
        assert browser.post("/admin/logout", follow_redirects=False).status_code == 303
    with open_admin(settings, kb) as thief:
        thief.cookies.update(kept)
        page = thief.get("/admin", follow_redirects=False)
        assert page.status_code == 303 and page.headers["location"] == "/admin/login"
        assert thief.get("/admin/export/referrals.csv").status_code == 401


def test_guessing_the_token_is_slowed_down(client: TestClient) -> None:
    statuses = [
        client.post("/admin/login", data={"token": f"guess{n}"}).status_code for n in range(12)
    ]
    assert statuses[:10] == [401] * 10 and statuses[-1] == 429


def test_guessing_from_a_new_address_each_time_is_slowed_down_too(
    settings: Settings, kb: KnowledgeBase
) -> None:
    # Behind a trusted proxy every guess may come from another address: the global limit holds.
    behind_proxy = settings.model_copy(update={"forwarded_allow_ips": "testclient"})
    with TestClient(create_app(behind_proxy, kb), base_url="https://testserver") as app:
        statuses = [
            app.post(
                "/admin/login",
                data={"token": f"guess{n}"},
                headers={"X-Forwarded-For": f"203.0.113.{n}"},
            ).status_code
            for n in range(31)
        ]
        assert statuses[:30] == [401] * 30 and statuses[30] == 429
        late = app.post(
            "/admin/login", data={"token": TOKEN}, headers={"X-Forwarded-For": "198.51.100.7"}
        )
        assert late.status_code == 429  # for this minute, nobody is let in


def test_pages_forbid_framing_caching_and_outside_resources(admin: TestClient) -> None:
    response = admin.get("/admin")
    assert "default-src 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["cache-control"] == "no-store"
    assert not re.search(r"(src|href)=\"(https?:)?//", response.text)  # no CDN, no outside link


# -- what it shows --------------------------------------------------------------


def test_dashboard_shows_a_chart_topics_and_referrals_after_a_conversation(
    admin: TestClient, kb: KnowledgeBase
) -> None:
    people_write_in(admin)
    page = admin.get("/admin").text
    charts = re.findall(r"<svg class=\"chart\".*?</svg>", page, flags=re.S)
    assert len(charts) == 2
    for chart in charts:
        svg = ElementTree.fromstring(chart)  # well-formed, drawn on the server
        bars = [e for e in svg.iter(SVG + "rect") if e.get("class") == "bar"]
        assert {bar.findtext(SVG + "title").split()[1].rstrip(":") for bar in bars} == {
            "whatsapp",
            "telegram",
        }
    assert escape(kb.topics["sis-gratuito"].title.es) in page  # "sis gratuito" was answered
    assert re.search(r"OCASIVEN</td>.*?<td class=\"num\">2</td>", page, flags=re.S)
    assert "ahora mismo" in page


def test_dashboard_shows_no_person(admin: TestClient) -> None:
    people_write_in(admin)
    people_rate_doubt_and_ask_for_help(admin)
    runtime = admin.app.state.runtime  # type: ignore[attr-defined]
    pseudonym = runtime.helpline.pseudonym("whatsapp", READER.removeprefix("whatsapp:"))
    pages = [admin.get("/admin").text, admin.get("/admin?lang=en").text]
    pages += [admin.get(f"/admin/export/{n}.csv").text for n in TABLES]
    for text in pages:
        assert pseudonym[:12] not in text
        assert "944000111" not in text and "987 654 321" not in text
        assert "944000203" not in text and "browser-" not in text
    assert "[número]" in admin.get("/admin/export/unanswered.csv").text  # there, scrubbed


def test_unanswered_questions_are_grouped_with_counts(admin: TestClient) -> None:
    people_write_in(admin)
    table = rows(admin, "unanswered")
    assert table[0] == ["Veces", "Pregunta", "Parecidas"]
    assert table[1][0] == "2"
    assert "arepas" in table[1][1] and "arepas" in table[1][2]


def test_last_message_time_is_shown(admin: TestClient) -> None:
    assert "todavía ningún mensaje" in admin.get("/admin").text
    post_twilio(admin, twilio_form("hola"))
    assert "(ahora mismo)" in admin.get("/admin").text
    assert "(just now)" in admin.get("/admin?lang=en").text


def test_period_selects_the_days_counted(admin: TestClient) -> None:
    helpline = admin.app.state.runtime.helpline  # type: ignore[attr-defined]
    long_ago = datetime(2025, 3, 4, 15, 0, tzinfo=UTC)
    helpline.receive(
        "whatsapp", "+51944000222", Incoming("whatsapp", "hola VENEACTIVA"), now=long_ago
    )
    post_twilio(admin, twilio_form("HOLA OCASIVEN"))

    recent = rows(admin, "referrals", "days=7")
    assert [r[0] for r in recent[1:]] == ["OCASIVEN"]
    march = rows(admin, "referrals", "start=2025-03-01&end=2025-03-31")
    assert [r[0] for r in march[1:]] == ["VENEACTIVA"]
    assert rows(admin, "activity", "start=2025-03-01&end=2025-03-31")[1] == [
        "2025-03-04",
        "whatsapp",
        "1",
        "1",
    ]
    page = admin.get("/admin?start=2025-03-01&end=2025-03-31").text
    assert "Del 2025-03-01 al 2025-03-31" in page and "VENEACTIVA" in page
    assert "OCASIVEN" not in page


@pytest.mark.parametrize(
    "query",
    [
        "days=0",
        "days=abc",
        "days=400",
        "start=2025-03-10&end=2025-03-01",
        "start=2025-02-30",
        "start=2020-01-01&end=2025-01-01",
    ],
)
def test_a_wrong_period_is_a_client_error(admin: TestClient, query: str) -> None:
    page = admin.get(f"/admin?{query}")
    assert page.status_code == 400 and 'class="error"' in page.text
    assert admin.get(f"/admin/export/topics.csv?{query}").status_code == 400


def test_knowledge_past_its_review_age_is_listed(settings: Settings, kb: KnowledgeBase) -> None:
    entries = [*kb.topics.values(), *kb.organisations.values(), *kb.consulates.values()]
    newest = max(entries, key=lambda entry: entry.as_of)
    oldest = min(entries, key=lambda entry: entry.as_of)
    today = datetime.now(UTC).date()
    # Review age between the two: the oldest entry is past it, the newest is not.
    review_age = (today - oldest.as_of).days - 1
    assert (today - newest.as_of).days <= review_age
    with open_admin(settings.model_copy(update={"stale_after_days": review_age}), kb) as app:
        app.post("/admin/login", data={"token": TOKEN})
        stale = rows(app, "stale")
    assert stale[0][:3] == ["Documento fuente", "Área", "Archivo"]
    ids = [row[4] for row in stale[1:]]
    assert oldest.id in ids and newest.id not in ids
    assert stale[1][6] == oldest.as_of.isoformat() and int(stale[1][7]) == review_age + 1


def test_stale_knowledge_is_a_to_do_list_by_source_document_and_area_with_each_file(
    settings: Settings, kb: KnowledgeBase
) -> None:
    with open_admin(settings.model_copy(update={"stale_after_days": 30}), kb) as app:
        app.post("/admin/login", data={"token": TOKEN})
        page = app.get("/admin").text
        stale = rows(app, "stale")[1:]
    section = page[page.index('id="stale"') :]
    documents = {row[0] for row in stale}
    assert section.count("<details") == len(documents) > 1
    # SIS Gratuito sits under its document, in the health area, with its file named.
    sis = kb.topics["sis-gratuito"]
    document = kb.sources[sis.source.seed].title.es
    health = kb.menus["main"].options[3].label.es
    todo = next(d for d in section.split("<details")[1:] if f"{escape(sis.title.es)} <" in d)
    assert escape(document) in todo
    area = next(a for a in todo.split("<h3>")[1:] if f"{escape(sis.title.es)} <" in a)
    assert area.startswith(f"{escape(health)} · ")
    line = next(li for li in area.split("<li>") if li.startswith(f"{escape(sis.title.es)} <"))
    assert "<code>knowledge/data/health/sis.yaml</code>" in area.split("</h3>")[0]
    assert "sis.yaml" in line or area.count("<code>") == 1  # one file: named once, above
    assert f"{len(stale)} entradas" in section


# -- what the understanding adds ---------------------------------------------------


def test_cards_next_to_not_understood_count_doubt_out_of_scope_ratings_and_danger(
    admin: TestClient,
) -> None:
    people_rate_doubt_and_ask_for_help(admin)
    card = re.compile(r'id="total-([a-z_]+)"><span class="figure">(\d+)</span><span>([^<]+)<')
    spanish = {key: (int(n), name) for key, n, name in card.findall(admin.get("/admin").text)}
    english = {k: name for k, _, name in card.findall(admin.get("/admin?lang=en").text)}
    understanding = ["unanswered", "low_confidence", "out_of_scope", "feedback_up"]
    understanding += ["feedback_down", "danger"]
    keys = list(spanish)
    assert keys[keys.index("unanswered") : keys.index("unanswered") + 6] == understanding
    assert {key: spanish[key] for key in understanding[2:]} == {
        "out_of_scope": (2, "Fuera de tema"),
        "feedback_up": (2, "Valoradas útiles"),
        "feedback_down": (1, "Valoradas no útiles"),
        "danger": (1, "Situaciones de peligro"),
    }
    assert spanish["low_confidence"][1] == "Respondidas con duda"
    assert [english[key] for key in understanding] == [
        "Not understood",
        "Answered with doubt",
        "Out of scope",
        "Rated helpful",
        "Rated not helpful",
        "Danger situations",
    ]


def test_answers_rated_helpful_or_not_are_shown_per_topic_by_its_name(
    admin: TestClient, kb: KnowledgeBase
) -> None:
    people_rate_doubt_and_ask_for_help(admin)  # SIS: 👍 and "gracias me sirvio"; visa: 👎
    sis, visa = kb.topics["sis-gratuito"].title, kb.topics["visa-humanitaria"].title
    assert rows(admin, "feedback") == [
        ["Tema", "Útil", "No útil"],
        [sis.es, "2", "0"],
        [visa.es, "0", "1"],
    ]
    assert rows(admin, "feedback", "lang=en") == [
        ["Topic", "Helpful", "Not helpful"],
        [sis.en, "2", "0"],
        [visa.en, "0", "1"],
    ]
    rated = section(admin.get("/admin").text, "feedback")
    assert "Respuestas valoradas por tema" in rated
    assert f'{escape(sis.es)}</td><td class="num">2</td><td class="num">0</td>' in rated
    assert not re.search(r"\b(topic|menu|list|city):", rated)
    english = section(admin.get("/admin?lang=en").text, "feedback")
    assert "Answers rated, by topic" in english and escape(visa.en) in english


def test_low_confidence_answers_are_counted_per_topic_and_their_questions_grouped(
    admin: TestClient, kb: KnowledgeBase
) -> None:
    people_rate_doubt_and_ask_for_help(admin)  # DOUBTFUL, twice
    questions = rows(admin, "low_confidence_questions")
    assert questions[0] == ["Veces", "Pregunta", "Parecidas", "Se respondió con"]
    times, question, similar, answered_with = questions[1]
    assert (times, question, similar) == ("2", DOUBTFUL, "")
    assert answered_with in {topic.title.es for topic in kb.topics.values()}  # a name, not an id
    per_topic = rows(admin, "low_confidence")
    assert per_topic[0] == ["Tema", "Veces"] and [answered_with, "2"] in per_topic
    assert total(admin, "low_confidence") == sum(int(n) for _, n in per_topic[1:])
    english = rows(admin, "low_confidence_questions", "lang=en")
    assert english[0] == ["Times", "Question", "Similar", "Answered with"]
    assert english[1][3] in {topic.title.en for topic in kb.topics.values()}
    assert rows(admin, "low_confidence", "lang=en")[0] == ["Topic", "Times"]
    page = admin.get("/admin").text
    assert "Respuestas dadas con poca seguridad, por tema" in section(page, "low_confidence")
    assert escape(DOUBTFUL) in section(page, "low_confidence_questions")
    assert DOUBTFUL not in section(page, "unanswered")


def test_out_of_scope_questions_are_counted_and_grouped_apart_from_the_not_understood(
    admin: TestClient,
) -> None:
    people_rate_doubt_and_ask_for_help(admin)  # the dollar, asked twice in other words
    assert total(admin, "out_of_scope") == 2
    table = rows(admin, "out_of_scope")
    assert table[0] == ["Veces", "Pregunta", "Parecidas"] and len(table) == 2
    assert table[1][0] == "2" and "dolar" in table[1][1] and "dolar" in table[1][2]
    assert not any("dolar" in row[1] for row in rows(admin, "unanswered")[1:])
    assert rows(admin, "out_of_scope", "lang=en")[0] == ["Times", "Question", "Similar"]
    spanish = section(admin.get("/admin").text, "out_of_scope")
    assert "Preguntas fuera de tema" in spanish and "cuanto esta el dolar" in spanish
    assert "Out-of-scope questions" in section(admin.get("/admin?lang=en").text, "out_of_scope")


def test_danger_is_counted_by_kind_with_its_name_and_the_message_is_nowhere(
    admin: TestClient, kb: KnowledgeBase
) -> None:
    people_rate_doubt_and_ask_for_help(admin)  # one message in danger: IN_DANGER
    suicide = kb.safety.kind("suicide")
    assert suicide is not None
    assert rows(admin, "danger") == [["Tipo de peligro", "Veces"], [suicide.title.es, "1"]]
    assert rows(admin, "danger", "lang=en") == [
        ["Kind of danger", "Times"],
        [suicide.title.en, "1"],
    ]
    assert total(admin, "danger") == 1
    spanish, english = admin.get("/admin").text, admin.get("/admin?lang=en").text
    assert escape(suicide.title.es) in section(spanish, "danger")
    assert escape(suicide.title.en) in section(english, "danger")
    assert "suicide" not in section(spanish, "danger")  # the kind's id is not its name
    exports = [
        admin.get(f"/admin/export/{table}.csv?lang={lang}").text
        for table in TABLES
        for lang in ("es", "en")
    ]
    for text in (spanish, english, *exports):
        for words in (IN_DANGER, "quitarme la vida", "no aguanto"):
            assert words not in text


# -- Spanish first ----------------------------------------------------------------


def test_dashboard_speaks_spanish_and_english_by_the_toggle(admin: TestClient) -> None:
    people_write_in(admin)
    spanish = admin.get("/admin").text
    assert '<html lang="es">' in spanish and "Conversaciones por día" in spanish
    toggle = re.search(r'id="language" href="([^"]+)"', spanish)
    assert toggle and "lang=en" in toggle.group(1)
    english = admin.get(toggle.group(1).replace("&amp;", "&")).text
    assert '<html lang="en">' in english and "Conversations per day" in english
    assert "Conversaciones por día" not in english
    assert 'href="/admin?days=7&amp;lang=en"' in english  # the quick periods stay in English
    assert 'name="lang" value="en"' in english  # and so does the period form
    assert rows(admin, "referrals", "lang=en")[0] == ["Code", "Organisation", "New conversations"]
    assert rows(admin, "referrals")[0] == ["Código", "Organización", "Conversaciones nuevas"]
    assert admin.get("/admin?lang=xx").text.startswith('<!doctype html>\n<html lang="es">')


def test_topics_are_named_in_the_chosen_language_never_by_their_id(
    admin: TestClient, kb: KnowledgeBase
) -> None:
    consulates = 1 + [o.target for o in kb.menus["entry"].options].index("list:consulates")
    for text in ("hola", "1", str(consulates), "menu", "4", "sis gratuito"):
        post_twilio(admin, twilio_form(text, sender=READER))
    # Someone else: after the SIS answer it would mean health organisations in Trujillo.
    post_twilio(admin, twilio_form("ongs en trujillo", sender="whatsapp:+51944000112"))
    spanish = [row[0] for row in rows(admin, "topics")[1:]]
    english = [row[0] for row in rows(admin, "topics", "lang=en")[1:]]
    assert "Consulados de Venezuela (lista)" in spanish
    assert "Venezuelan consulates (list)" in english
    assert kb.topics["sis-gratuito"].title.es in spanish
    assert kb.topics["sis-gratuito"].title.en in english
    assert "Organizaciones en Trujillo" in spanish and "Menú: Salud (SIS, EsSalud)" in spanish
    page = admin.get("/admin").text
    topics = page[page.index('id="topics"') : page.index('id="referrals"')]
    assert not re.search(r"\b(topic|list|menu|org|service|consulate|city):", topics)
    assert not any(re.match(r"^[a-z]+:", name) for name in spanish + english)


def test_the_web_chat_greeting_is_not_counted_on_the_dashboard(admin: TestClient) -> None:
    for _ in range(3):  # three page loads of the web chat
        admin.post("/api/chat/greeting", json={"user_id": "browser-greeted-1"})
    assert (total(admin, "conversations"), total(admin, "messages")) == (0, 0)
    admin.post("/api/chat", json={"user_id": "browser-greeted-1", "text": "4"})
    assert (total(admin, "conversations"), total(admin, "messages")) == (1, 1)


# -- CSV ------------------------------------------------------------------------


@pytest.mark.parametrize("table", TABLES)
def test_every_table_downloads_as_csv(admin: TestClient, table: str) -> None:
    people_write_in(admin)
    people_rate_doubt_and_ask_for_help(admin)
    response = admin.get(f"/admin/export/{table}.csv?days=30")
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"].startswith(
        f'attachment; filename="pana-{table}-'
    )
    assert response.text.startswith("\ufeff")  # so Excel reads the accents right
    assert len(list(csv.reader(io.StringIO(response.text)))) >= 2


def test_csv_needs_a_session_and_a_known_table(client: TestClient, admin: TestClient) -> None:
    assert admin.get("/admin/export/conversations.csv").status_code == 404
    admin.post("/admin/logout")
    assert client.get("/admin/export/referrals.csv").status_code == 401


@pytest.mark.parametrize(
    ("text", "table"),
    [
        ("=SUMA(A1:A9) arepas", "unanswered"),
        ("=cuanto esta el dolar hoy", "out_of_scope"),
        (f"+{DOUBTFUL}", "low_confidence_questions"),
    ],
)
def test_a_question_that_looks_like_a_formula_stays_text_in_the_csv(
    admin: TestClient, text: str, table: str
) -> None:
    post_twilio(admin, twilio_form(text))
    cells = [row[1] for row in rows(admin, table)[1:]]
    assert cells and all(cell.startswith(("'=", "'+")) for cell in cells)


# -- the report shared with `pana unanswered` ----------------------------------------


def test_similar_questions_form_one_group_and_the_largest_comes_first() -> None:
    groups = group_questions(
        [
            "donde saco el carnet",
            "Dónde saco el carnet de extranjería",
            "donde saco el carnet",
            "sis",
            "sis para mi hijo",
            "  ",
        ]
    )
    assert groups[0] == (
        "donde saco el carnet",
        3,
        ["donde saco el carnet", "Dónde saco el carnet de extranjería"],
    )
    # A one-word question does not swallow a longer one that contains it.
    assert sorted(g[0] for g in groups[1:]) == ["sis", "sis para mi hijo"]


def test_pana_unanswered_prints_the_groups(
    client: TestClient,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    people_write_in(client)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", database_url)
    assert main(["unanswered", "--days", "7"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^\s+2\s+como cocino", out, flags=re.M)
    assert "2 unanswered question(s) in 1 group(s)" in out


# -- under load -------------------------------------------------------------------


def seed_questions(settings: Settings, kb: KnowledgeBase, count: int) -> None:
    """``count`` stored unanswered questions, all different, over the last three weeks.

    Made of the knowledge base's own words, so they are as varied as real questions.
    """
    from datetime import timedelta

    from sqlalchemy import insert

    from bot.database import make_database
    from bot.models import UnansweredQuestion

    words = sorted(
        {w for t in kb.topics.values() for w in t.text.es.lower().split() if w.isalpha()}
    )
    rng = random.Random(14)
    now = datetime.now(UTC)
    rows = [
        {
            "created_at": now - timedelta(minutes=rng.randint(1, 21 * 24 * 60)),
            "lang": "es",
            "kind": "unanswered",
            "text": " ".join(rng.choice(words) for _ in range(rng.randint(3, 40))),
            "guesses": "",
        }
        for n in range(count)
    ]
    database = make_database(settings.database_url)
    with database.begin() as connection:
        connection.execute(insert(UnansweredQuestion), rows)
    database.dispose()


def test_with_5000_questions_the_dashboard_is_quick_and_messages_keep_flowing(
    admin: TestClient, settings: Settings, kb: KnowledgeBase
) -> None:
    seed_questions(settings, kb, 5000)
    webhooks: list[tuple[int, int, float]] = []

    def people_keep_writing() -> None:
        sender = TestClient(admin.app)  # another connection to the same running app
        for n in range(12):
            start = time.monotonic()
            response = post_twilio(
                sender, twilio_form("hola", sender=f"whatsapp:+519440003{n:02d}")
            )
            replies = len(twiml_messages(response.text)) if response.status_code == 200 else 0
            webhooks.append((response.status_code, replies, time.monotonic() - start))

    writer = threading.Thread(target=people_keep_writing)
    writer.start()
    timings = {}
    for path in ["/admin", *(f"/admin/export/{name}.csv" for name in TABLES)]:
        start = time.monotonic()
        assert admin.get(path).status_code == 200, path
        timings[path] = time.monotonic() - start
    writer.join(timeout=120)
    assert all(seconds < 2 for seconds in timings.values()), timings
    assert len(webhooks) == 12
    assert all(status == 200 and replies for status, replies, _ in webhooks), webhooks
    assert max(seconds for *_, seconds in webhooks) < 2, webhooks
    grouped = rows(admin, "unanswered")
    assert 1 < len(grouped) <= 1 + MAX_GROUPS
