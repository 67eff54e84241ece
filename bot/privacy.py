"""Pseudonyms and scrubbing: how Pana avoids storing who people are.

>>> key = b"k" * 32
>>> pseudonymise(key, "whatsapp", "+51987654321") == pseudonymise(key, "whatsapp", "+51987654321")
True
>>> scrub("mi cel es 987 654 321 y mi correo ana@mail.com, dni 45678912")
'mi cel es [número] y mi correo [correo], dni [documento]'
"""

from __future__ import annotations

import hashlib
import hmac
import re

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
_PHONE = re.compile(r"(?<!\w)\+?\d[\d\s().-]{6,}\d(?!\w)")
_DOCUMENT = re.compile(
    r"\b(dni|c[eé]dula|pasaporte|passport|carn[eé]t?|ce|ptp|cpp|documento|id)\b"
    r"\s*(?:n[°º.]?|nro\.?|no\.?|#)?\s*:?\s*[A-Za-z]{0,2}-?\d[\d.-]{4,}",
    re.IGNORECASE,
)
_CODE = re.compile(r"(?<!\w)[A-Za-z]{1,3}-?\d{6,12}(?!\w)")
_URL = re.compile(r"https?://\S+")


def pseudonymise(key: bytes, channel: str, platform_id: str) -> str:
    """A stable, keyed, one-way id for a user of a channel (HMAC-SHA256, hex)."""
    message = f"{channel}:{platform_id}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def scrub(text: str) -> str:
    """Replace e-mails, phone numbers and document numbers with placeholders."""
    text = _URL.sub("[enlace]", text)
    text = _EMAIL.sub("[correo]", text)
    text = _DOCUMENT.sub(lambda m: f"{m.group(1)} [documento]", text)
    text = _CODE.sub("[documento]", text)
    return _PHONE.sub("[número]", text)
