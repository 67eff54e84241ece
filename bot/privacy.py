"""Pseudonyms and scrubbing: how Pana avoids storing who people are.

>>> key = b"k" * 32
>>> pseudonymise(key, "whatsapp", "+51987654321") == pseudonymise(key, "whatsapp", "+51987654321")
True
>>> scrub("me llamo Yusmary Pérez, mi cel es 987 654 321 y mi correo ana(at)gmail.com")
'me llamo [nombre], mi cel es [número] y mi correo [correo]'
"""

from __future__ import annotations

import hashlib
import hmac
import re

from knowledge.search import STOPWORDS

# What a question may carry that points at a person, replaced in this order (links and
# e-mails before the digits inside them, dates before plain numbers). Each placeholder
# says what was there, so an editor still reads the question.

_WORD = r"[^\W\d_][\w'’-]*"  # a word: starts with a letter, any script
_DOT = r"(?:\s*(?:\.|\(\s*dot\s*\)|\[\s*dot\s*\]|\{\s*dot\s*\}|\bdot\b|\bpunto\b)\s*)"
_AT = r"(?:\s*(?:@|\(\s*(?:at|arroba)\s*\)|\[\s*(?:at|arroba)\s*\]|\{\s*(?:at|arroba)\s*\}|\bat\b|\barroba\b)\s*)"  # noqa: E501
_PROVIDERS = r"(?:gmail|hotmail|outlook|yahoo|icloud|live|protonmail|proton|aol|msn)"
_TLD = r"(?:com|net|org|edu|gob|gov|pe|ve|co|es|ar|cl|ec|info|io|me)"
_MONTH = (
    r"(?:enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|setiembre|octubre"
    r"|noviembre|diciembre|january|february|march|april|june|july|august|september|october"
    r"|november|december|(?:ene|feb|mar|abr|may|jun|jul|ago|sept?|set|oct|nov|dic|jan|apr"
    r"|aug|dec)\b\.?)"
)

_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    # Links, with or without a scheme: t.me/…, wa.me/…, www.…, anything.tld/…
    (
        re.compile(
            r"(?:https?://|www\.)\S+"
            r"|\b(?:t|telegram|wa|instagram|facebook|fb|tiktok|twitter|x)\.(?:me|com)/\S*"
            rf"|(?<![\w.-])[\w-]+(?:\.[\w-]+)*\.{_TLD}/\S*",
            re.IGNORECASE,
        ),
        "[enlace]",
    ),
    # E-mails in any disguise: a@b.c, a(at)b(dot)c, "a arroba gmail punto com", "a at gmail".
    (
        re.compile(
            # Each starts where a word starts, or a long run of letters costs n² steps.
            rf"(?<![\w.+-])[\w.+-]+{_AT}[\w-]+(?:{_DOT}[\w-]+)*{_DOT}{_TLD}\b"
            r"|(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)*"
            rf"|(?<![\w.+-])[\w.+-]+{_AT}{_PROVIDERS}\b"
            rf"|\b{_PROVIDERS}{_DOT}{_TLD}\b",
            re.IGNORECASE,
        ),
        "[correo]",
    ),
    # @handles.
    (re.compile(r"(?<![\w.])@[A-Za-z0-9_.]{2,}"), "[usuario]"),
    # Dates: 15/03/1990, 1990-03-15, 15 de marzo (de 1990), March 15, 1990, 15 march 1990.
    (
        re.compile(
            r"\b\d{1,4}\s*[/.-]\s*\d{1,2}\s*[/.-]\s*\d{2,4}\b"
            rf"|\b\d{{1,2}}\s*(?:de\s+)?{_MONTH}(?:\s*(?:del?|,)?\s*\d{{2,4}})?\b"
            rf"|\b{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?(?:\s*,?\s*\d{{4}})?\b",
            re.IGNORECASE,
        ),
        "[fecha]",
    ),
    # A birth year said as such ("nací en 1990", "born in 1990").
    (
        re.compile(
            r"\b(nac(?:í|i|ió|io|ido|ida)|born)(\s+(?:en|el|in|on))?\s+(?:19|20)\d\d\b", re.I
        ),
        r"\1\2 [fecha]",
    ),
    # Street addresses: Jr. Huallaga 452, Av. Arequipa 1234 dpto 301, Mz. B Lt. 12, calle 5 #3.
    (
        re.compile(
            r"\b(?:av|avda|avenida|jr|jir[oó]n|psje?|pje|pasaje|prolongaci[oó]n|prol|urb"
            r"|urbanizaci[oó]n|aa\.?\s?hh|asentamiento\s+humano|carretera|ctra)\b\.?"
            rf"(?:(?:\s+{_WORD}\.?){{1,4}}?\s+(?:n[°º]\s*|#\s*|nro\.?\s*)?\d+[a-z]?\b"
            rf"|(?:\s+{_WORD}\.?){{1,2}})"
            r"|\b(?:calle|street|st|road|rd|avenue|ave|edificio|block|bloque)\b\.?"
            rf"(?:\s+{_WORD}){{0,4}}\s+(?:n[°º]\s*|#\s*|nro\.?\s*)?\d+[a-z]?\b"
            r"|\b(?:mz|manzana|lt|lote|dpto|departamento|dpt|int|interior)\b\.?\s*[a-z]?\d*[a-z]?"
            r"(?<=[\w])(?=\W|$)",
            re.IGNORECASE,
        ),
        "[dirección]",
    ),
    # A street named with capitals, without a number: "calle Los Pinos".
    (
        re.compile(r"\b(?:[Cc]alle|CALLE|[Ss]treet)\s+[A-ZÁÉÍÓÚÑ]\w+(?:\s+[A-ZÁÉÍÓÚÑ]\w+){0,3}"),
        "[dirección]",
    ),
    # An address given as such: everything up to the end of the clause.
    (re.compile(r"\b(?:mi\s+)?direcci[oó]n\s*(?:es|:)\s*[^,;!?\n]{1,60}", re.I), "[dirección]"),
    # Document numbers with their kind: DNI 4567891, CE N° 001234567, pasaporte V-1234.
    (
        re.compile(
            r"\b(dni|c[eé]dula|pasaporte|passport|carn[eé]t?|ce|ptp|cpp|documento|id|ruc)\b"
            r"(\s+(?:es|is))?\s*(?:n[°º.]?|nro\.?|no\.?|n[uú]mero|#)?\s*:?\s*"
            r"(?:[A-Za-z]{1,2}-?)?\d[\d\s.-]{2,}\d",
            re.IGNORECASE,
        ),
        r"\1\2 [documento]",
    ),
    # Any run of six or more digits, spaced, dotted, dashed or bracketed: phones, ids.
    # A span of years ("2018-2022") is not a number of anyone's.
    (
        re.compile(
            r"(?:\+|(?<!\d))(?!(?:19|20)\d\d\s*-\s*(?:19|20)\d\d\b)"
            r"(?:\(\d{1,5}\)[\s.-]*)?\d(?:[\s.-]*\d){5,}"
        ),
        "[número]",
    ),
    # Codes of letters and digits: V12345678, AB1234567.
    (re.compile(r"(?<!\w)[A-Za-z]{1,3}-?\d{5,12}(?!\w)"), "[documento]"),
]

_NUMBER_WORDS = (
    "cero uno una dos tres cuatro cinco seis siete ocho nueve diez once doce trece catorce "
    "quince dieciseis dieciséis diecisiete dieciocho diecinueve veinte treinta cuarenta "
    "cincuenta sesenta setenta ochenta noventa cien ciento doscientos trescientos "
    "cuatrocientos quinientos seiscientos setecientos ochocientos novecientos mil "
    "zero oh one two three four five six seven eight nine ten eleven twelve hundred "
    "thousand"
).split()
#: Four or more number words (or digits) in a row: a phone or document number spelled out.
_SPELLED_NUMBER = re.compile(
    rf"\b(?:(?:{'|'.join(_NUMBER_WORDS)}|\d+)(?:[\s,.-]+(?:y|and)?\s*|$)){{4,}}",
    re.IGNORECASE,
)

#: Phrases after which a person's name comes: "me llamo …", "mi hija …", "señora …".
#: The following words are replaced while they are not common words, so "mi hija
#: Valentina Rojas no tiene SIS" keeps "no tiene SIS" and "mi hija necesita" is untouched.
_NAMED = re.compile(
    r"\b(me\s+llamo|mi\s+nombre\s+es|mi\s+nombre|my\s+name\s+is|my\s+name|i\s+am\s+called"
    r"|se\s+llaman?|de\s+nombre|named|sr|sra|srta|señor|señora|señorita|mr|mrs|ms"
    r"|mis?\s+(?:hij[oa]s?|niñ[oa]s?|beb[eé]|esposo|esposa|pareja|mam[aá]|pap[aá]|madre"
    r"|padre|herman[oa]s?|sobrin[oa]s?|niet[oa]s?|prim[oa]s?|t[ií][oa]s?|abuel[oa]s?|novi[oa]"
    r"|amig[oa]s?|vecin[oa]s?)"
    r"|my\s+(?:son|daughter|child|kid|baby|wife|husband|partner|mother|father|mom|dad"
    r"|brother|sister|friend))\b\.?(\s*:)?"
    rf"((?:\s+{_WORD}){{1,4}})",
    re.IGNORECASE,
)
#: Words that follow those phrases and are not names.
_COMMON = (
    frozenset(
        """
    a al ante aun aún como con de del desde donde dónde el ella ellos en entre es esta está
    estan están era es fue ha han hace la las le les lo los más mas mayor me menor mi mis muy
    nacio nació naci nacida nacido necesita necesitan no nos o para pero por porque puede
    pueden que qué quiere quieren se sin sobre su sus también tambien tiene tienen todavia
    todavía tuvo un una uno va van ya y e yo recien recién bebe bebé pequeña pequeño chiquita
    chiquito mayorcita adolescente venezolana venezolano venezolanos peruana peruano
    colombiana colombiano enferma enfermo embarazada estudia estudian trabaja vive viven llego
    llegó llegaron quedo quedó perdio perdió cumple cumplió requiere sufre tengo tenemos tiene
    estoy estamos vino vinieron soy somos necesito quiero vivo ayuda ayudar cual cuál cuando
    cuándo cuanto cuánto años año meses mes edad and or is are has have was were needs need
    does do did the an in on at to of for with without who cannot cant can't can doesnt
    doesn't isnt isn't lives live works studies i my me we you he she it they how what when
    where why please help am q k dio da dan pega pegan golpea golpean maltrata maltratan
    amenaza amenazan abusa abusan insulta viola trata echo echó bota botó quito quitó dejo dejó
    hits hit beats beat threatens threatened abuses abused hurts hurt left took kicked
    """.split()
    )
    | STOPWORDS
)
#: "[dirección] [dirección]" reads as one.
_REPEATED_PLACEHOLDER = re.compile(r"(\[[^\]\s]+\])(?:[\s,]+\1)+")


def pseudonymise(key: bytes, channel: str, platform_id: str) -> str:
    """A stable, keyed, one-way id for a user of a channel (HMAC-SHA256, hex)."""
    message = f"{channel}:{platform_id}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def scoped_delivery_id(pseudonym: str, message_id: str) -> str:
    """A delivery key for a message id chosen by the sender (the web chat's browser).

    Hashed together with the sender's pseudonym: one sender's ids can never
    collide with, and so silence, another's; and the id as sent is not stored.
    """
    return hashlib.sha256(f"{pseudonym}:{message_id}".encode()).hexdigest()


def scrub(text: str) -> str:
    """``text`` with what could identify a person replaced by placeholders.

    Links, e-mails (also written "(at)", "arroba", "punto com"), @handles,
    dates, street addresses, document numbers, any run of six or more
    digits, numbers spelled out in words, and names after "me llamo", "mi
    nombre es", "se llama", "mi hija …" and the like.
    """
    for pattern, placeholder in _PATTERNS:
        text = pattern.sub(placeholder, text)
    text = _SPELLED_NUMBER.sub(_spelled_number, text)
    text = _NAMED.sub(_name, text)
    return _REPEATED_PLACEHOLDER.sub(r"\1", text)


def _spelled_number(match: re.Match[str]) -> str:
    trailing = match.group(0)[len(match.group(0).rstrip(" ,.-")) :]
    return "[número]" + trailing


def _name(match: re.Match[str]) -> str:
    """The phrase, then "[nombre]" for the name words after it (none: unchanged)."""
    words = match.group(3).split()
    named = 0
    while named < len(words) and words[named].lower() not in _COMMON:
        if words[named].startswith("["):  # already a placeholder
            break
        named += 1
    phrase = match.group(0)[: match.start(3) - match.start(0)]
    # The words after may hold a phrase of their own: "mi esposa se llama Daniela".
    kept = _NAMED.sub(_name, " ".join(words[named:]))
    if named == 0:
        return f"{phrase} {kept}"
    return f"{phrase} [nombre]" + (f" {kept}" if kept else "")
