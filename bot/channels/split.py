"""Cutting long replies into the pieces a channel accepts.

>>> split_text("a\\n\\nb", limit=1)
['a', 'b']
>>> split_text("uno dos tres", limit=8)
['uno dos', 'tres']
"""

from __future__ import annotations

WHATSAPP_LIMIT = 1600
TELEGRAM_LIMIT = 4096
SMS_LIMIT = 320


def _pieces(text: str, separator: str) -> list[str]:
    return [p for p in text.split(separator) if p.strip()]


def split_text(text: str, limit: int) -> list[str]:
    """Split at paragraph boundaries, then lines, then words; each piece ≤ ``limit``."""
    text = text.strip()
    if len(text) <= limit:
        return [text] if text else []
    for separator in ("\n\n", "\n", " "):
        parts = _pieces(text, separator)
        if len(parts) > 1:
            return _pack(parts, separator, limit)
    return [text[i : i + limit] for i in range(0, len(text), limit)]


def _pack(parts: list[str], separator: str, limit: int) -> list[str]:
    chunks: list[str] = []
    current = ""
    for part in parts:
        candidate = f"{current}{separator}{part}" if current else part
        if len(candidate) <= limit:
            current = candidate
            continue
        if current:
            chunks.append(current)
        if len(part) <= limit:
            current = part
        else:
            chunks.extend(split_text(part, limit)[:-1])
            current = split_text(part, limit)[-1]
    if current:
        chunks.append(current)
    return chunks
