"""Text normalisation shared by the search index and the conversation engine.

People write "q necesito pa la visa???" or "Cuánto cuesta el SIS"; both the
keywords in the knowledge files and the incoming messages go through
:func:`normalise`, so matching compares like with like.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

#: WhatsApp abbreviations and spellings, expanded before matching.
ABBREVIATIONS: dict[str, str] = {
    "q": "que",
    "k": "que",
    "ke": "que",
    "xq": "porque",
    "pq": "porque",
    "xk": "porque",
    "porq": "porque",
    "pa": "para",
    "pal": "para el",
    "x": "por",
    "d": "de",
    "tb": "tambien",
    "tmb": "tambien",
    "tbn": "tambien",
    "tlf": "telefono",
    "tlfn": "telefono",
    "tlfno": "telefono",
    "telf": "telefono",
    "tel": "telefono",
    "cel": "celular",
    "nro": "numero",
    "num": "numero",
    "info": "informacion",
    "porfa": "por favor",
    "xfa": "por favor",
    "pls": "please",
    "plz": "please",
    "u": "you",
    "r": "are",
    "bb": "bebe",
    "doc": "documento",
    "docs": "documentos",
    "cne": "cne",
    "ong": "ong",
    "ongs": "ong",
    "ngos": "ngo",
    "dnd": "donde",
    "dond": "donde",
    "aki": "aqui",
    "hla": "hola",
    "ola": "hola",
    "msj": "mensaje",
    "cole": "colegio",
    "coles": "colegios",
    "tmp": "tampoco",
    "tampoko": "tampoco",
}

#: Names people split in two ("es salud"), joined back so they match as one word.
SPLIT_NAMES: dict[str, str] = {
    "es salud": "essalud",
    "cuna mas": "cunamas",
}

_PUNCTUATION = re.compile(r"[^\w\s+@.]|_", re.UNICODE)
_SPACES = re.compile(r"\s+")
_REPEATS = re.compile(r"([a-z])\1{2,}")
_SENTENCE_DOTS = re.compile(r"(?<![\w@])\.|\.(?![\w])")


def strip_accents(text: str) -> str:
    """Remove diacritics but keep ñ as n (people type both)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@lru_cache(maxsize=8192)
def normalise(text: str) -> str:
    """Lowercase, strip accents and punctuation, fold letter runs, expand abbreviations.

    >>> normalise("Q necesitooo pa la VISA??")
    'que necesito para la visa'
    >>> normalise("Cuánto cuesta el S.I.S.")
    'cuanto cuesta el sis'
    """
    text = strip_accents(text.lower())
    # "S.I.S." and "e.g." collapse to a word; a dot inside a URL or e-mail stays.
    text = re.sub(r"\b([a-z])\.(?=[a-z]\.)", r"\1", text)
    text = re.sub(r"\b([a-z])\.(?=\s|$)", r"\1", text)
    text = _SENTENCE_DOTS.sub(" ", text)
    text = _PUNCTUATION.sub(" ", text)
    text = _REPEATS.sub(r"\1", text)
    words = [ABBREVIATIONS.get(word, word) for word in text.split()]
    text = f" {' '.join(words)} "
    for split, joined in SPLIT_NAMES.items():
        text = text.replace(f" {split} ", f" {joined} ")
    return _SPACES.sub(" ", text).strip()


def tokens(text: str) -> list[str]:
    """The words of an already normalised text."""
    return text.split()
