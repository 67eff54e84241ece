"""Where everything goes on the page: drawing operations in points, top-left origin.

Both renderers use the Bitstream Vera fonts that reportlab ships, so text
measured here wraps identically in the PDF and the PNG.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from reportlab import rl_config
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from bot.flyer.content import FlyerContent

#: Page sizes in points (1/72 inch): (width, height, type scale).
PAGES: dict[str, tuple[float, float, float]] = {
    "a4": (595.28, 841.89, 1.0),
    "a5": (419.53, 595.28, 0.74),
}
#: Smallest type on any flyer, in points: the privacy line must stay readable.
MIN_TYPE = 9.0
FONT_DIR = Path(rl_config.__file__).resolve().parent / "fonts"
FONTS = {False: ("PanaVera", FONT_DIR / "Vera.ttf"), True: ("PanaVeraBd", FONT_DIR / "VeraBd.ttf")}


@dataclass(frozen=True)
class Text:
    x: float
    y: float  # baseline, from the top of the page
    text: str
    size: float
    bold: bool = False
    centred: bool = False


@dataclass(frozen=True)
class Rule:
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class QR:
    x: float
    y: float
    size: float
    data: str


Op = Text | Rule | QR


def font_name(bold: bool) -> str:
    """The registered reportlab name of the regular or bold font."""
    name, path = FONTS[bold]
    if name not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(name, str(path)))
    return name


def _printable(text: str, bold: bool) -> str:
    """Drop characters the font cannot draw (emoji in knowledge texts)."""
    face = pdfmetrics.getFont(font_name(bold)).face
    kept = "".join(ch for ch in text if ord(ch) in face.charToGlyph or ch == " ")
    return re.sub(r"\s{2,}", " ", kept).strip()


def _wrap(text: str, size: float, bold: bool, width: float) -> list[str]:
    """Greedy line breaking; a no-break space keeps a phone number on one line."""
    lines: list[str] = []
    for word in _printable(text, bold).split(" "):
        candidate = f"{lines[-1]} {word}" if lines else word
        if lines and pdfmetrics.stringWidth(candidate, font_name(bold), size) <= width:
            lines[-1] = candidate
        elif word:
            lines.append(word)
    return lines


class _Column:
    """A cursor that stacks wrapped text blocks down the page."""

    def __init__(self, left: float, width: float, top: float) -> None:
        self.left, self.width, self.y = left, width, top
        self.ops: list[Op] = []

    def text(self, text: str, size: float, bold: bool = False) -> None:
        size = max(size, MIN_TYPE)
        for line in _wrap(text, size, bold, self.width):
            self.y += size * 1.18
            self.ops.append(Text(self.left, self.y, line.replace("\u00a0", " "), size, bold))
        self.y += size * 0.3

    def space(self, height: float) -> None:
        self.y += height


def _compose(
    content: FlyerContent, page: str, list_size: float, code_share: float, bullets: bool
) -> _Column:
    width, _, scale = PAGES[page]
    margin = 34 * scale
    sheet = _Column(margin, width - 2 * margin, margin)
    sheet.text("Pana", 56 * scale, bold=True)
    sheet.text(content.tagline, 18 * scale, bold=True)
    sheet.ops.append(Rule(margin, sheet.y, sheet.width, 3 * scale))
    sheet.space(14 * scale)

    gap = 20 * scale
    column = (sheet.width - gap) / 2
    code = column * code_share
    label = 22 * scale
    codes = [
        ("WhatsApp", content.whatsapp_display, 0.8, content.whatsapp_link),
        ("Telegram", content.telegram_handle, 0.6, content.telegram_link),
    ]
    for index, (name, under, under_scale, link) in enumerate(codes):
        centre = margin + column / 2 + index * (column + gap)
        top = sheet.y
        sheet.ops.append(Text(centre, top + label, name, label, bold=True, centred=True))
        sheet.ops.append(QR(centre - code / 2, top + label * 1.3, code, link))
        baseline = top + label * 2.1 + code
        sheet.ops.append(Text(centre, baseline, under, label * under_scale, True, True))
    sheet.space(label * 2.5 + code)
    sheet.text(content.scan_hint, 14 * scale, bold=True)
    sheet.text(content.type_hint, 14 * scale)
    sheet.space(8 * scale)

    if bullets:
        sheet.text(content.helps_heading, list_size * 1.1, bold=True)
        for item in content.helps_with:
            sheet.text(f"•  {item}", list_size)
    else:
        sheet.text(f"{content.helps_heading} {' · '.join(content.helps_with)}", list_size)
    sheet.space(8 * scale)

    sheet.ops.append(Rule(margin, sheet.y, sheet.width, 1.5 * scale))
    sheet.space(4 * scale)
    sheet.text(content.shared_by, 12 * scale)
    sheet.text(content.org_name, 16 * scale, bold=True)
    for line in content.org_contact:
        sheet.text(line, 13 * scale)
    sheet.space(6 * scale)
    for line in content.footer:
        sheet.text(line, 10.5 * scale)
    return sheet


def layout(content: FlyerContent, page: str = "a4") -> list[Op]:
    """The flyer as drawing operations on a ``page`` (``a4`` or ``a5``) in points.

    The QR codes come first in priority: when the texts do not fit, the list of
    what Pana helps with gets smaller type before the codes get smaller.
    """
    _, height, scale = PAGES[page]
    bottom = height - 34 * scale
    # About 62 mm codes on A4 (44 mm on A5) scan from arm's length; more only costs text.
    attempts = [(size * scale, 0.7, True) for size in (16, 15, 14)]
    attempts += [(size * scale, 0.7, False) for size in (16, 15, 14, 13, 12)]
    attempts += [(12 * scale, share / 100, False) for share in range(65, 30, -5)]
    for list_size, share, bullets in attempts:
        composed = _compose(content, page, list_size, share, bullets)
        if composed.y <= bottom:
            return composed.ops
    raise ValueError("the flyer's texts do not fit on the page")
