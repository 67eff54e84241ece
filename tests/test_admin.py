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
    assert "not right" in response.text
    assert "set-cookie" not in response.headers


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
    assert escape(kb.topics["sis-gratuito"].title.en) in page  # "sis gratuito" was answered
    assert re.search(r"OCASIVEN</td>.*?<td class=\"num\">2</td>", page, flags=re.S)
    assert "just now" in page


def test_dashboard_shows_no_person(admin: TestClient) -> None:
    people_write_in(admin)
    runtime = admin.app.state.runtime  # type: ignore[attr-defined]
    pseudonym = runtime.helpline.pseudonym("whatsapp", READER.removeprefix("whatsapp:"))
    pages = [admin.get("/admin").text]
    pages += [
        admin.get(f"/admin/export/{n}.csv").text
        for n in ("activity", "topics", "referrals", "unanswered")
    ]
    for text in pages:
        assert pseudonym[:12] not in text
        assert "944000111" not in text and "987 654 321" not in text
    assert "[número]" in pages[-1]  # the question is there, scrubbed


def test_unanswered_questions_are_grouped_with_counts(admin: TestClient) -> None:
    people_write_in(admin)
    table = rows(admin, "unanswered")
    assert table[0] == ["Times", "Question", "Similar"]
    assert table[1][0] == "2"
    assert "arepas" in table[1][1] and "arepas" in table[1][2]


def test_last_message_time_is_shown(admin: TestClient) -> None:
    assert "no message handled yet" in admin.get("/admin").text
    post_twilio(admin, twilio_form("hola"))
    assert "(just now)" in admin.get("/admin").text


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
    assert "2025-03-01 to 2025-03-31" in page and "VENEACTIVA" in page and "OCASIVEN" not in page


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
    ids = [row[1] for row in stale[1:]]
    assert oldest.id in ids and newest.id not in ids
    assert stale[1][3] == oldest.as_of.isoformat() and int(stale[1][4]) == review_age + 1


# -- CSV ------------------------------------------------------------------------


@pytest.mark.parametrize("table", ["activity", "topics", "referrals", "unanswered", "stale"])
def test_every_table_downloads_as_csv(admin: TestClient, table: str) -> None:
    people_write_in(admin)
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


def test_a_question_that_looks_like_a_formula_stays_text_in_the_csv(admin: TestClient) -> None:
    post_twilio(admin, twilio_form("=SUMA(A1:A9) arepas"))
    cells = [row[1] for row in rows(admin, "unanswered")[1:]]
    assert cells and all(cell.startswith("'=") for cell in cells)


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

    from bot.database import make_engine
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
    database = make_engine(settings.database_url)
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
