"""Printable flyers for the organisations that spread Pana's number.

A flyer says what Pana helps with (the main menu), carries two QR codes that
open WhatsApp and Telegram with the organisation's referral code already
typed, and names the organisation. It is laid out once, as a list of
drawing operations in points, and drawn twice: as a vector PDF (reportlab)
and as a PNG (Pillow). Only black on white, so it photocopies well.

Example::

    content = flyer_content(kb, find_organisation(kb, "ocasiven"), "es",
                            whatsapp_number="+51999888777", telegram_username="PanaBot")
    write_flyers(content, Path("flyer.pdf"))   # flyer.pdf/.png, flyer-a5.pdf/.png
"""

from __future__ import annotations

from pathlib import Path

from bot.flyer.content import (
    PLACEHOLDERS,
    FlyerContent,
    find_organisation,
    flyer_content,
    organisation_name,
    refuse_placeholders,
    telegram_link,
    whatsapp_link,
)
from bot.flyer.layout import PAGES, QR, Rule, Text, layout
from bot.flyer.render import render_pdf, render_png

__all__ = [
    "PAGES",
    "PLACEHOLDERS",
    "QR",
    "FlyerContent",
    "Rule",
    "Text",
    "find_organisation",
    "flyer_content",
    "layout",
    "organisation_name",
    "refuse_placeholders",
    "render_pdf",
    "render_png",
    "telegram_link",
    "whatsapp_link",
    "write_flyers",
]


def write_flyers(content: FlyerContent, out: Path, dpi: int = 150) -> list[Path]:
    """Write the A4 flyer to ``out`` (PDF) and beside it its PNG and the A5 pair.

    ``flyer.pdf`` gives ``flyer.pdf``, ``flyer.png``, ``flyer-a5.pdf``, ``flyer-a5.png``.
    Returns the paths written.
    """
    base = out.with_suffix("") if out.suffix.lower() in (".pdf", ".png") else out
    base.parent.mkdir(parents=True, exist_ok=True)
    title = f"Pana — {content.org_name}"
    written: list[Path] = []
    for page, suffix in (("a4", ""), ("a5", "-a5")):
        ops = layout(content, page)
        pdf = base.with_name(f"{base.name}{suffix}.pdf")
        png = base.with_name(f"{base.name}{suffix}.png")
        render_pdf(ops, page, pdf, title)
        render_png(ops, page, png, dpi)
        written += [pdf, png]
    return written
