"""Drawing a laid-out flyer: a vector PDF with reportlab, a grayscale PNG with Pillow."""

from __future__ import annotations

from pathlib import Path

import segno
from PIL import Image, ImageDraw, ImageFont
from reportlab.pdfgen.canvas import Canvas

from bot.flyer.layout import FONTS, PAGES, Op, Rule, Text, font_name


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
            pdf.setFont(font_name(op.bold), op.size)
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
