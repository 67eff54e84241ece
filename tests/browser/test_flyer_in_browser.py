"""A flyer shared as an image is opened in Chromium; its QR codes still scan from the screen."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
import zxingcpp
from PIL import Image

from bot.cli import main


def test_flyer_image_opened_in_the_browser_scans_from_the_screen(
    browser: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("WHATSAPP_NUMBER", "+51999888777")
    monkeypatch.setenv("TELEGRAM_BOT_USERNAME", "PanaAyudaBot")
    assert main(["flyer", "--org", "OCASIVEN", "--out", str(tmp_path / "flyer.pdf")]) == 0

    page = browser.new_page()
    page.goto((tmp_path / "flyer-a5.png").as_uri())  # Chromium fits the image to the window
    shot = Image.open(io.BytesIO(page.screenshot()))
    links = {result.text for result in zxingcpp.read_barcodes(shot)}
    assert links == {
        "https://wa.me/51999888777?text=HOLA%20OCASIVEN",
        "https://t.me/PanaAyudaBot?start=OCASIVEN",
    }
