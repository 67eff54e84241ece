"""The knowledge base: complete, sourced, and reachable through a real conversation."""

from __future__ import annotations

import ast
import dataclasses
import re
from pathlib import Path

import pytest

from bot.cli import main as pana
from bot.knowledge_check import check, required_messages
from flows.engine import Engine
from flows.turn import Incoming, State
from knowledge import KnowledgeBase
from knowledge.loader import load_files
from knowledge.schema import Phone

ROOT = Path(__file__).resolve().parents[1]
SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"
CONSULATE_CITIES = {
    "caracas", "puerto-ordaz", "bogota", "medellin", "leticia",
    "guayaquil", "quito", "cuenca", "machala", "loja",
}  # fmt: skip
ORGANISATIONS = 13
SIS_PLANS = {
    "sis gratuito",
    "sis para todos",
    "sis emprendedor",
    "sis microempresas",
    "sis independiente",
}
ESSALUD = {"regular", "potestativo", "riesgo", "agrario", "vida"}
# Each migratory category in the seeds, as a word its topic's id contains.
TEMPORARY = [
    "turista",
    "negocios",
    "investigacion",
    "artistas",
    "formacion",
    "deportistas",
    "trabajador",
    "acuerdos-internacionales",
    "cooperante",
    "especial",
    "intercambio",
    "oficial",
    "periodismo",
    "tripulante",
]
RESIDENT = ["rentista", "familiar", "trabajador", "investigacion", "inversionista", "religioso",
            "formacion", "designado", "especial-residente", "cooperante", "periodista",
            "suspendida", "intercambio", "humanitaria", "convenios-internacionales", "consular",
            "diplomatico", "oficial", "familiar-de-oficial"]  # fmt: skip


def test_pana_kb_check_passes(capsys: pytest.CaptureFixture[str]) -> None:
    assert pana(["kb", "check"]) == 0
    assert "OK" in capsys.readouterr().out


def test_pana_kb_check_shows_only_the_files_asked_for(capsys: pytest.CaptureFixture[str]) -> None:
    assert pana(["kb", "check", "health/"]) == 0
    assert "OK" in capsys.readouterr().out


@pytest.mark.parametrize("key", required_messages())
def test_kb_check_fails_when_a_message_the_code_says_is_deleted(
    kb: KnowledgeBase, key: str
) -> None:
    messages = {k: text for k, text in kb.messages.items() if k != key}
    problems = [str(p) for p in check(dataclasses.replace(kb, messages=messages))]
    assert f"knowledge/data/messages.yaml: messages.{key}: missing message" in problems


def said_keys(path: Path) -> set[str]:
    """The message keys a module passes, as literals, to ``….message(key, …)`` or ``_say``."""
    keys = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not (isinstance(node, ast.Call) and node.args):
            continue
        name = getattr(node.func, "attr", getattr(node.func, "id", ""))
        first = node.args[1] if name == "_say" else node.args[0]
        if name in ("message", "_say") and isinstance(first, ast.Constant):
            keys.add(str(first.value))
    return keys


def test_every_message_the_code_says_is_declared_so_kb_check_requires_it() -> None:
    declared = set(required_messages())
    for path in sorted([*ROOT.glob("bot/**/*.py"), *ROOT.glob("flows/**/*.py")]):
        undeclared = said_keys(path) - declared
        assert not undeclared, (
            f"{path.relative_to(ROOT)} says {sorted(undeclared)}: add to MESSAGES"
        )
    assert {"busy", "slow_down"} <= declared


def test_check_names_file_entry_and_field_of_a_mistake(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(
        "topics:\n  - id: broken\n    area: health\n    title: {es: T}\n"
        "    text: {es: a, en: b}\n    links: [{url: 'www.gob.pe'}]\n"
        "    source: {seed: x.txt, heading: h}\n    as_of: 2022-01-01\n",
        encoding="utf-8",
    )
    _, problems = load_files(tmp_path)
    messages = [str(p) for p in problems]
    assert any("bad.yaml" in m and "(broken)" in m and "title.en" in m for m in messages)
    assert any("links[0].url" in m and "http" in m for m in messages)


def test_inventory_of_consulates_organisations_plans_and_statuses(kb: KnowledgeBase) -> None:
    assert {c.city for c in kb.consulates.values()} == CONSULATE_CITIES
    assert len(kb.organisations) == ORGANISATIONS
    titles = " | ".join(t.title.es.lower() for t in kb.topics.values())
    for plan in SIS_PLANS:
        assert plan in titles, plan
    essalud = [t for t in kb.topics.values() if "essalud" in t.id]
    for coverage in ESSALUD:
        assert any(coverage in t.id for t in essalud), coverage
    ids = list(kb.topics)
    for category in TEMPORARY:
        assert any(category in i for i in ids if "residente" not in i), category
    for category in RESIDENT:
        assert any(category in i for i in ids if not i.startswith("temporal")), category


def test_every_entry_has_a_known_source_and_date(kb: KnowledgeBase) -> None:
    entries = [*kb.topics.values(), *kb.organisations.values(), *kb.consulates.values()]
    assert entries
    for entry in entries:
        assert entry.source.seed in kb.sources, entry.id
        assert entry.as_of.year >= 2019, entry.id
    assert check(kb) == []


def test_no_placeholder_text_for_unknown_values(kb: KnowledgeBase) -> None:
    for org in kb.organisations.values():
        dumped = org.model_dump_json()
        assert '"S/I"' not in dumped and '"N/A"' not in dumped, org.id


def ask(engine: Engine, question: str) -> str:
    turn = engine.handle(State(welcomed=True), Incoming("console", question))
    return "\n".join(r.text for r in turn.replies)


def digits(text: str) -> set[str]:
    return {re.sub(r"\D", "", m) for m in re.findall(r"\+\d[\d\s().-]*\d", text)}


@pytest.mark.parametrize("city", sorted(CONSULATE_CITIES))
def test_asking_for_each_consulate_gives_its_exact_phone(engine: Engine, city: str) -> None:
    consulate = engine.kb.consulates_in(city)[0]
    name = engine.kb.cities[city].name
    reply = ask(engine, f"telefono del consulado en {name}")
    for phone in consulate.phones:
        assert phone.number[1:] in digits(reply), (name, reply[:300])


def test_asking_for_each_organisation_by_name_gives_its_contact(engine: Engine) -> None:
    for org in engine.kb.organisations.values():
        reply = ask(engine, f"como contacto a {org.name}")
        if org.phones:
            assert org.phones[0].number[1:] in digits(reply), (org.name, reply[:300])
        else:
            assert org.emails[0] in reply, (org.name, reply[:300])


def test_phones_are_shown_the_way_people_dial_them() -> None:
    assert Phone(number="+582122619389").display == "+58 212-2619389"
    assert Phone(number="+51929953192").display == "+51 929 953 192"
    assert Phone(number="100").display == "100"


@pytest.mark.skipif(not SEEDS.is_dir(), reason=f"seed documents not found at {SEEDS}")
def test_every_gob_pe_link_in_the_seeds_is_in_some_entry(kb: KnowledgeBase) -> None:
    seed_links = set()
    for path in SEEDS.glob("*.txt"):
        for url in re.findall(r"https?://[^\s)\"'>]*gob\.pe[^\s)\"'>]*", path.read_text()):
            seed_links.add(url.rstrip(".,;"))
    known = []
    for topic in kb.topics.values():
        known += [link.url for link in topic.links]
        known += [s.reference or "" for s in (topic.source, *topic.also_sources)]
    # The extraction cuts long URLs at line ends: a seed link must start some known link.
    missing = [url for url in seed_links if not any(k.startswith(url) for k in known)]
    assert not missing, missing


def test_check_rejects_an_age_range_upside_down(tmp_path: Path) -> None:
    (tmp_path / "ages.yaml").write_text(
        "topics:\n  - id: kids\n    area: education\n    title: {es: T, en: T}\n"
        "    text: {es: a, en: b}\n    ages: {min: 5, max: 2}\n"
        "    source: {seed: x.txt, heading: h}\n    as_of: 2022-01-01\n",
        encoding="utf-8",
    )
    _, problems = load_files(tmp_path)
    assert any("ages.yaml" in str(p) and "(kids)" in str(p) and "max 2" in str(p) for p in problems)
