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

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import phonenumbers
import segno
from PIL import Image, ImageDraw, ImageFont
from reportlab import rl_config
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from knowledge import KnowledgeBase
from knowledge.schema import Organisation, display_phone

#: Page sizes in points (1/72 inch): (width, height, type scale).
PAGES: dict[str, tuple[float, float, float]] = {
    "a4": (595.28, 841.89, 1.0),
    "a5": (419.53, 595.28, 0.74),
}
#: Smallest type on any flyer, in points: the privacy line must stay readable.
MIN_TYPE = 9.0
#: reportlab ships Bitstream Vera; both renderers use the same files, so text
#: measured for the PDF wraps identically in the PNG.
FONT_DIR = Path(rl_config.__file__).resolve().parent / "fonts"
FONTS = {False: ("PanaVera", FONT_DIR / "Vera.ttf"), True: ("PanaVeraBd", FONT_DIR / "VeraBd.ttf")}

#: The flyer's own words; what Pana helps with comes from the main menu.
WORDS: dict[str, dict[str, str]] = {
    "es": {
        "tagline": "Información gratuita para personas migrantes y refugiadas en el Perú",
        "helps": "Te ayudo con:",
        "scan": "Escanea un código con la cámara de tu teléfono.",
        "type": "¿No puedes escanear? Escribe HOLA {code} por WhatsApp al {number}",
        "shared_by": "Te lo comparte:",
        "free": "Es gratis. No es un servicio del gobierno.",
    },
    "en": {
        "tagline": "Free information for migrants and refugees in Peru",
        "helps": "I can help with:",
        "scan": "Scan a code with your phone's camera.",
        "type": "Can't scan? Send HOLA {code} on WhatsApp to {number}",
        "shared_by": "Shared with you by:",
        "free": "It is free. It is not a government service.",
    },
}


@dataclass(frozen=True)
class FlyerContent:
    """Everything a flyer says, already in one language."""

    lang: str
    tagline: str
    helps_heading: str
    helps_with: list[str]
    whatsapp_display: str
    whatsapp_link: str
    telegram_handle: str
    telegram_link: str
    scan_hint: str
    type_hint: str
    shared_by: str
    org_name: str
    org_contact: list[str]
    footer: list[str]


def find_organisation(kb: KnowledgeBase, name: str) -> Organisation:
    """The organisation whose id or referral code is ``name`` (any case); LookupError if none."""
    wanted = name.strip().lower()
    for org in kb.organisations.values():
        if wanted in (org.id, org.code.lower()):
            return org
    raise LookupError(f"no organisation with id or code {name!r}")


def whatsapp_link(number: str, code: str) -> str:
    """``https://wa.me/<digits>?text=HOLA%20<CODE>``; ValueError if ``number`` is not E.164."""
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"WhatsApp number {number!r} is not E.164 (+51…)") from exc
    if not phonenumbers.is_possible_number(parsed):
        raise ValueError(f"WhatsApp number {number!r} is not a possible number")
    digits = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)[1:]
    return f"https://wa.me/{digits}?text={quote(f'HOLA {code}')}"


def telegram_link(username: str, code: str) -> str:
    """``https://t.me/<bot>?start=<CODE>``: Telegram sends ``/start CODE`` on the first tap."""
    return f"https://t.me/{username.lstrip('@')}?start={code}"


def flyer_content(
    kb: KnowledgeBase, org: Organisation, lang: str, whatsapp_number: str, telegram_username: str
) -> FlyerContent:
    """The texts and links of ``org``'s flyer in ``lang`` (``es`` or ``en``)."""
    words = WORDS["en" if lang == "en" else "es"]
    number = display_phone(whatsapp_number)
    contact = [
        " · ".join([*(p.display for p in org.phones[:2]), *org.emails[:1]]),
        " · ".join(
            [*(link.url for link in org.links[:1])]
            + [f"{net.capitalize()} {handle}" for net, handle in list(org.social.items())[:1]]
        ),
    ]
    # WhatsApp's *bold* marks the words to type; on paper, quotes say the same.
    privacy = re.sub(r"\*([^*]+)\*", "“\\1”", kb.message("privacy_short", lang))
    return FlyerContent(
        lang=lang,
        tagline=words["tagline"],
        helps_heading=words["helps"],
        helps_with=[option.label.get(lang) for option in kb.menus["main"].options],
        whatsapp_display=number,
        whatsapp_link=whatsapp_link(whatsapp_number, org.code),
        telegram_handle=f"@{telegram_username.lstrip('@')}",
        telegram_link=telegram_link(telegram_username, org.code),
        scan_hint=words["scan"],
        type_hint=words["type"].format(code=org.code, number=number.replace(" ", "\u00a0")),
        shared_by=words["shared_by"],
        org_name=org.name if not org.short_name else f"{org.short_name} — {org.name}",
        org_contact=[line for line in contact if line],
        footer=[privacy, words["free"]],
    )


# -- layout -------------------------------------------------------------------


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


def _font(bold: bool) -> str:
    name, path = FONTS[bold]
    if name not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(name, str(path)))
    return name


def _printable(text: str, bold: bool) -> str:
    """Drop characters the font cannot draw (emoji in knowledge texts)."""
    face = pdfmetrics.getFont(_font(bold)).face
    kept = "".join(ch for ch in text if ord(ch) in face.charToGlyph or ch == " ")
    return re.sub(r"\s{2,}", " ", kept).strip()


def _wrap(text: str, size: float, bold: bool, width: float) -> list[str]:
    """Greedy line breaking; a no-break space keeps a phone number on one line."""
    lines: list[str] = []
    for word in _printable(text, bold).split(" "):
        candidate = f"{lines[-1]} {word}" if lines else word
        if lines and pdfmetrics.stringWidth(candidate, _font(bold), size) <= width:
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
    page_ = _Column(margin, width - 2 * margin, margin)
    page_.text("Pana", 56 * scale, bold=True)
    page_.text(content.tagline, 18 * scale, bold=True)
    page_.ops.append(Rule(margin, page_.y, page_.width, 3 * scale))
    page_.space(14 * scale)

    gap = 20 * scale
    column = (page_.width - gap) / 2
    code = column * code_share
    label = 22 * scale
    codes = [
        ("WhatsApp", content.whatsapp_display, 0.8, content.whatsapp_link),
        ("Telegram", content.telegram_handle, 0.6, content.telegram_link),
    ]
    for index, (name, under, under_scale, link) in enumerate(codes):
        centre = margin + column / 2 + index * (column + gap)
        top = page_.y
        page_.ops.append(Text(centre, top + label, name, label, bold=True, centred=True))
        page_.ops.append(QR(centre - code / 2, top + label * 1.3, code, link))
        baseline = top + label * 2.1 + code
        page_.ops.append(Text(centre, baseline, under, label * under_scale, True, True))
    page_.space(label * 2.5 + code)
    page_.text(content.scan_hint, 14 * scale, bold=True)
    page_.text(content.type_hint, 14 * scale)
    page_.space(8 * scale)

    if bullets:
        page_.text(content.helps_heading, list_size * 1.1, bold=True)
        for item in content.helps_with:
            page_.text(f"•  {item}", list_size)
    else:
        page_.text(f"{content.helps_heading} {' · '.join(content.helps_with)}", list_size)
    page_.space(8 * scale)

    page_.ops.append(Rule(margin, page_.y, page_.width, 1.5 * scale))
    page_.space(4 * scale)
    page_.text(content.shared_by, 12 * scale)
    page_.text(content.org_name, 16 * scale, bold=True)
    for line in content.org_contact:
        page_.text(line, 13 * scale)
    page_.space(6 * scale)
    for line in content.footer:
        page_.text(line, 10.5 * scale)
    return page_


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


# -- drawing ------------------------------------------------------------------


def _modules(data: str) -> tuple[tuple[bytearray, ...], int]:
    """The QR matrix (1 = dark) and its side in modules, with the 4-module quiet zone."""
    code = segno.make(data, error="q", micro=False)
    return code.matrix, len(code.matrix) + 8


def render_pdf(ops: list[Op], page: str, path: Path, title: str) -> None:
    """Draw ``ops`` as a one-page vector PDF; the QR codes are also clickable links."""
    width, height, _ = PAGES[page]
    pdf = Canvas(str(path), pagesize=(width, height), invariant=True)
    pdf.setTitle(title)
    pdf.setAuthor("Pana")
    pdf.setFillGray(0)
    for op in ops:
        if isinstance(op, Text):
            pdf.setFont(_font(op.bold), op.size)
            draw = pdf.drawCentredString if op.centred else pdf.drawString
            draw(op.x, height - op.y, op.text)
        elif isinstance(op, Rule):
            pdf.rect(op.x, height - op.y - op.height, op.width, op.height, stroke=0, fill=1)
        else:
            matrix, side = _modules(op.data)
            unit = op.size / side
            for row, cells in enumerate(matrix):
                for col, dark in enumerate(cells):
                    if dark:
                        x, top = op.x + (col + 4) * unit, op.y + (row + 4) * unit
                        pdf.rect(x, height - top - unit, unit, unit, stroke=0, fill=1)
            box = (op.x, height - op.y - op.size, op.x + op.size, height - op.y)
            pdf.linkURL(op.data, box, relative=0)
    pdf.showPage()
    pdf.save()


def render_png(ops: list[Op], page: str, path: Path, dpi: int = 150) -> None:
    """Draw ``ops`` as a grayscale PNG at ``dpi``; QR modules snap to whole pixels."""
    width, height, _ = PAGES[page]
    px = dpi / 72
    image = Image.new("L", (round(width * px), round(height * px)), 255)
    draw = ImageDraw.Draw(image)
    for op in ops:
        if isinstance(op, Text):
            font = ImageFont.truetype(str(FONTS[op.bold][1]), round(op.size * px))
            anchor = "ms" if op.centred else "ls"
            draw.text((op.x * px, op.y * px), op.text, fill=0, font=font, anchor=anchor)
        elif isinstance(op, Rule):
            x, y = op.x * px, op.y * px
            draw.rectangle([x, y, x + op.width * px - 1, y + op.height * px - 1], fill=0)
        else:
            matrix, side = _modules(op.data)
            unit = max(1, int(op.size * px / side))
            left = round(op.x * px + (op.size * px - unit * side) / 2) + 4 * unit
            top = round(op.y * px + (op.size * px - unit * side) / 2) + 4 * unit
            for row, cells in enumerate(matrix):
                for col, dark in enumerate(cells):
                    if dark:
                        x, y = left + col * unit, top + row * unit
                        draw.rectangle([x, y, x + unit - 1, y + unit - 1], fill=0)
    image.save(path, optimize=True, dpi=(dpi, dpi))


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
