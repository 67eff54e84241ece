"""Flyers for organisations: `pana flyer` writes printable PDFs and PNGs whose QR codes,
read back with a real decoder, open WhatsApp and Telegram with the organisation's code."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pypdfium2
import pytest
import zxingcpp
from fastapi.testclient import TestClient
from PIL import Image

from bot.cli import main
from bot.flyer import (
    PAGES,
    PLACEHOLDERS,
    QR,
    Text,
    find_organisation,
    flyer_content,
    layout,
    organisation_name,
)
from knowledge import KnowledgeBase
from tests.support.channels import (
    post_telegram,
    post_twilio,
    telegram_message,
    twilio_form,
    twiml_messages,
)
from tests.support.screenshots import keep_screenshot

NUMBER = "+51999888777"
BOT = "PanaAyudaBot"
WHATSAPP = "https://wa.me/51999888777?text=HOLA%20OCASIVEN"
TELEGRAM = f"https://t.me/{BOT}?start=OCASIVEN"
ROOT = Path(__file__).resolve().parents[1]


def qr_links(image: Image.Image) -> set[str]:
    return {
        result.text
        for result in zxingcpp.read_barcodes(image)
        if result.format == zxingcpp.BarcodeFormat.QRCode
    }


def pdf_pages(path: Path) -> list[pypdfium2.PdfPage]:
    return list(pypdfium2.PdfDocument(str(path)))


def pdf_text(path: Path) -> str:
    return "\n".join(page.get_textpage().get_text_range() for page in pdf_pages(path))


def run_cli(*args: str) -> int:
    return main(["flyer", *args])


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Settings read .env from the working directory: keep a developer's own out of the tests.
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("WHATSAPP_NUMBER", NUMBER)
    monkeypatch.setenv("TELEGRAM_BOT_USERNAME", BOT)


@pytest.fixture(scope="module")
def flyers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("flyers")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        patch.setenv("WHATSAPP_NUMBER", NUMBER)
        patch.setenv("TELEGRAM_BOT_USERNAME", BOT)
        assert run_cli("--org", "ocasiven", "--out", str(folder / "flyer.pdf")) == 0
    keep_screenshot(folder / "flyer.png", "flyer.png")
    yield folder


def test_pana_flyer_writes_a4_and_a5_as_pdf_and_png(
    flyers: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("flyer.pdf", "flyer.png", "flyer-a5.pdf", "flyer-a5.png"):
        assert (flyers / name).stat().st_size > 10_000
    a4, a5 = pdf_pages(flyers / "flyer.pdf"), pdf_pages(flyers / "flyer-a5.pdf")
    assert len(a4) == 1 and len(a5) == 1
    assert a4[0].get_size() == pytest.approx(PAGES["a4"][:2], abs=1)
    assert a5[0].get_size() == pytest.approx(PAGES["a5"][:2], abs=1)


@pytest.mark.parametrize("name", ["flyer.png", "flyer-a5.png"])
def test_png_qr_codes_decode_to_whatsapp_and_telegram_links_with_the_code(
    flyers: Path, name: str
) -> None:
    image = Image.open(flyers / name)
    assert image.mode == "L"  # grayscale: prints the same in black and white
    assert qr_links(image) == {WHATSAPP, TELEGRAM}


@pytest.mark.parametrize("name", ["flyer.pdf", "flyer-a5.pdf"])
def test_pdf_qr_codes_decode_when_printed(flyers: Path, name: str) -> None:
    # 150 dpi, as an office printer or a photocopy would reproduce it.
    page = pdf_pages(flyers / name)[0]
    image = page.render(scale=150 / 72, grayscale=True).to_pil()
    assert qr_links(image) == {WHATSAPP, TELEGRAM}


def words_of(text: str) -> list[str]:
    """The words of a text as they can be searched for in extracted PDF text."""
    return re.findall(r"[\w@.+]+", text)


def menu_and_privacy(kb: KnowledgeBase, lang: str) -> list[str]:
    """What the flyer takes from the knowledge base: the main menu and the privacy line."""
    labels = [option.label.get(lang) for option in kb.menus["main"].options]
    return [*labels, " ".join(words_of(kb.message("privacy_short", lang))[:5])]


def test_pdf_says_what_pana_helps_with_the_number_the_organisation_and_privacy(
    flyers: Path, kb: KnowledgeBase
) -> None:
    text = " ".join(words_of(pdf_text(flyers / "flyer.pdf")))
    org = kb.organisations["ocasiven"]
    expected = [
        "Pana",
        "+51 999 888 777",
        "HOLA OCASIVEN",
        f"@{BOT}",
        org.name,
        org.phones[0].display,
        org.emails[0],
        *menu_and_privacy(kb, "es"),
    ]
    for phrase in expected:
        assert " ".join(words_of(phrase)) in text, phrase


def test_english_flyer_uses_the_english_menu(tmp_path: Path, kb: KnowledgeBase) -> None:
    assert run_cli("--org", "OCASIVEN", "--lang", "en", "--out", str(tmp_path / "en.pdf")) == 0
    text = " ".join(words_of(pdf_text(tmp_path / "en.pdf")))
    for phrase in menu_and_privacy(kb, "en"):
        assert " ".join(words_of(phrase)) in text, phrase


def test_english_flyer_asks_for_hello_in_its_text_and_its_qr_code(
    tmp_path: Path, client: TestClient
) -> None:
    assert run_cli("--org", "VENEACTIVA", "--lang", "en", "--out", str(tmp_path / "en.pdf")) == 0
    text = " ".join(words_of(pdf_text(tmp_path / "en.pdf")))
    assert "Send HELLO VENEACTIVA on WhatsApp" in text
    for spanish in ("HOLA", "Escribe", "Te ayudo", "Te lo comparte", "Escanea"):
        assert spanish not in text
    links = qr_links(Image.open(tmp_path / "en.png"))
    assert "https://wa.me/51999888777?text=HELLO%20VENEACTIVA" in links
    # What the QR code pre-fills is answered in English and counts for the organisation.
    reply = post_twilio(client, twilio_form("HELLO VENEACTIVA", sender="whatsapp:+51944000333"))
    assert "I'm *Pana*" in " ".join(twiml_messages(reply.text))
    client.base_url = "https://testserver"  # the session cookie is Secure
    client.post("/admin/login", data={"token": "admin-test-token"})
    assert client.get("/admin/export/referrals.csv").text.splitlines()[1].startswith("VENEACTIVA,")


def test_the_organisations_name_is_printed_once(tmp_path: Path, kb: KnowledgeBase) -> None:
    assert run_cli("--org", "VENEACTIVA", "--out", str(tmp_path / "es.pdf")) == 0
    text = pdf_text(tmp_path / "es.pdf")
    assert text.count("Vene Activa") == 1 and "Veneactiva —" not in text  # @Veneactiva stays
    names = {org.id: organisation_name(org) for org in kb.organisations.values()}
    assert names["veneactiva"] == "Vene Activa"
    assert names["aldeas-infantiles"] == "Aldeas Infantiles SOS"
    assert names["ocasiven"].startswith("OCASIVEN — Organización de Colaboradores")


@pytest.mark.parametrize("setting", ["WHATSAPP_NUMBER", "TELEGRAM_BOT_USERNAME"])
def test_a_flyer_with_the_example_number_or_bot_from_env_example_is_refused(
    setting: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    example = dict(
        line.split("=", 1)
        for line in (ROOT / ".env.example").read_text().splitlines()
        if "=" in line and not line.startswith("#")
    )
    assert PLACEHOLDERS[setting] == example[setting]  # the values checked are the file's
    monkeypatch.setenv(setting, example[setting])
    assert run_cli("--org", "ocasiven", "--out", str(tmp_path / "flyer.pdf")) == 2
    error = capsys.readouterr().err
    assert setting in error and ".env.example" in error
    assert not (tmp_path / "flyer.pdf").exists()
    if setting == "TELEGRAM_BOT_USERNAME":  # unset, the setting's default is that example
        monkeypatch.delenv(setting)
        assert run_cli("--org", "ocasiven", "--out", str(tmp_path / "flyer.pdf")) == 2


def test_org_is_found_by_code_in_any_case(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli("--org", "oCaSiVeN") == 0
    written = capsys.readouterr().out.split()
    assert written == [
        "flyer-ocasiven-es.pdf",
        "flyer-ocasiven-es.png",
        "flyer-ocasiven-es-a5.pdf",
        "flyer-ocasiven-es-a5.png",
    ]
    assert (tmp_path / "flyer-ocasiven-es.pdf").exists()


def test_unknown_organisation_is_refused_with_the_known_codes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert run_cli("--org", "NOSUCHORG") == 2
    error = capsys.readouterr().err
    assert "NOSUCHORG" in error and "OCASIVEN" in error


def test_flyer_needs_the_whatsapp_number(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("WHATSAPP_NUMBER", "")
    assert run_cli("--org", "ocasiven") == 2
    assert "WHATSAPP_NUMBER" in capsys.readouterr().err


def test_malformed_whatsapp_number_is_refused(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("WHATSAPP_NUMBER", "999 888 777")
    assert run_cli("--org", "ocasiven") == 2
    assert "E.164" in capsys.readouterr().err


@pytest.mark.parametrize("page", ["a4", "a5"])
@pytest.mark.parametrize("lang", ["es", "en"])
def test_every_organisations_flyer_fits_its_page_with_readable_type(
    kb: KnowledgeBase, page: str, lang: str
) -> None:
    width, height, _ = PAGES[page]
    for org in kb.organisations.values():
        ops = layout(flyer_content(kb, org, lang, NUMBER, BOT), page)
        texts = [op for op in ops if isinstance(op, Text)]
        codes = [op for op in ops if isinstance(op, QR)]
        assert all(0 < op.y < height and op.size >= 9 for op in texts), org.id
        assert min(op.size for op in codes) >= 110, org.id  # about 39 mm: scans at arm's length
        assert all(op.x >= 0 and op.x + op.size <= width for op in codes), org.id


def test_find_organisation_accepts_id_or_code(kb: KnowledgeBase) -> None:
    assert find_organisation(kb, "ocasiven").code == "OCASIVEN"
    assert find_organisation(kb, " Ocasiven ").id == "ocasiven"
    with pytest.raises(LookupError):
        find_organisation(kb, "nadie")


def test_people_who_scan_the_flyer_are_counted_for_the_organisation(
    flyers: Path, client: TestClient
) -> None:
    links = qr_links(Image.open(flyers / "flyer.png"))
    whatsapp = next(link for link in links if link.startswith("https://wa.me/"))
    telegram = next(link for link in links if link.startswith("https://t.me/"))
    typed = parse_qs(urlparse(whatsapp).query)["text"][0]  # what WhatsApp pre-fills
    start = parse_qs(urlparse(telegram).query)["start"][0]  # what Telegram sends after /start

    reply = post_twilio(client, twilio_form(typed, sender="whatsapp:+51944000111"))
    assert "Pana" in reply.text and "Salud" in reply.text  # the normal greeting and menu
    post_telegram(client, telegram_message(f"/start {start}", user_id=424242))
    # Writing again from the same phone is the same person: not a second referral.
    post_twilio(client, twilio_form(typed, sender="whatsapp:+51944000111"))

    client.base_url = "https://testserver"  # the session cookie is Secure
    client.post("/admin/login", data={"token": "admin-test-token"})
    csv_text = client.get("/admin/export/referrals.csv").text
    assert "OCASIVEN,Organización de Colaboradores" in csv_text
    assert csv_text.splitlines()[1].endswith(",2")


def test_an_unknown_code_counts_no_referral(client: TestClient) -> None:
    post_twilio(client, twilio_form("HOLA NOEXISTE", sender="whatsapp:+51944000222"))
    post_telegram(client, telegram_message("/start NOEXISTE", user_id=434343))
    client.base_url = "https://testserver"  # the session cookie is Secure
    client.post("/admin/login", data={"token": "admin-test-token"})
    assert client.get("/admin/export/referrals.csv").text.splitlines()[1:] == []


def test_an_unknown_code_gets_the_normal_greeting(client: TestClient) -> None:
    reply = " ".join(twiml_messages(post_twilio(client, twilio_form("HOLA NOEXISTE")).text))
    assert "Soy *Pana*" in reply and "No encontré" not in reply
