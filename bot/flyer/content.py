"""What a flyer says: the texts and links for one organisation, in one language."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import quote

from knowledge import KnowledgeBase
from knowledge.schema import E164, Organisation, display_phone

#: Messages the flyer prints, from the messages table.
MESSAGES = ("privacy_short",)
#: The values ``.env.example`` ships with: a flyer printed with them reaches nobody.
PLACEHOLDERS = {"WHATSAPP_NUMBER": "+51999999999", "TELEGRAM_BOT_USERNAME": "PanaMigrantesBot"}

#: The flyer's own words; what Pana helps with comes from the main menu.
WORDS: dict[str, dict[str, str]] = {
    "es": {
        "tagline": "Información gratuita para personas migrantes y refugiadas en el Perú",
        "helps": "Te ayudo con:",
        "scan": "Escanea un código con la cámara de tu teléfono.",
        # The greeting a reader types, and the WhatsApp QR code pre-fills, before the code.
        "greeting": "HOLA",
        "type": "¿No puedes escanear? Escribe {greeting} {code} por WhatsApp al {number}",
        "shared_by": "Te lo comparte:",
        "free": "Es gratis. No es un servicio del gobierno.",
    },
    "en": {
        "tagline": "Free information for migrants and refugees in Peru",
        "helps": "I can help with:",
        "scan": "Scan a code with your phone's camera.",
        "greeting": "HELLO",
        "type": "Can't scan? Send {greeting} {code} on WhatsApp to {number}",
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


def whatsapp_link(number: str, code: str, greeting: str = "HOLA") -> str:
    """``https://wa.me/<digits>?text=HOLA%20<CODE>``; ValueError if ``number`` is not E.164."""
    if not E164.match(number):
        raise ValueError(f"WhatsApp number {number!r} is not E.164 (+51…, no spaces)")
    return f"https://wa.me/{number[1:]}?text={quote(f'{greeting} {code}')}"


def telegram_link(username: str, code: str) -> str:
    """``https://t.me/<bot>?start=<CODE>``: Telegram sends ``/start CODE`` on the first tap.

    ValueError if ``username`` is not a Telegram username (5-32 letters, digits, ``_``).
    """
    name = username.lstrip("@")
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{4,31}", name):
        raise ValueError(f"Telegram bot username {username!r} is not valid")
    return f"https://t.me/{name}?start={code}"


def refuse_placeholders(whatsapp_number: str, telegram_username: str) -> None:
    """ValueError naming the setting that still holds its ``.env.example`` value."""
    given = {"WHATSAPP_NUMBER": whatsapp_number, "TELEGRAM_BOT_USERNAME": telegram_username}
    for setting, value in given.items():
        if value.strip().lstrip("@").lower() == PLACEHOLDERS[setting].lower():
            raise ValueError(
                f"{setting} is still the example value {PLACEHOLDERS[setting]} from "
                ".env.example: set the real one before printing flyers"
            )


def organisation_name(org: Organisation) -> str:
    """The organisation's name, said once.

    Short and full name together only when they differ ("OCASIVEN — Organización
    de Colaboradores…"); "Veneactiva" and "Vene Activa" are one name, and so are
    "Aldeas Infantiles SOS" and "Aldeas Infantiles" (the longer is kept).
    """
    short, full = org.short_name or "", org.name
    if _letters(short) in _letters(full):
        return full
    if _letters(full) in _letters(short):
        return short
    return f"{short} — {full}"


def _letters(name: str) -> str:
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", plain.lower())


def flyer_content(
    kb: KnowledgeBase, org: Organisation, lang: str, whatsapp_number: str, telegram_username: str
) -> FlyerContent:
    """The texts and links of ``org``'s flyer in ``lang`` (``es`` or ``en``).

    ValueError for a malformed number or username, or one still at its
    ``.env.example`` value.
    """
    refuse_placeholders(whatsapp_number, telegram_username)
    words = WORDS["en" if lang == "en" else "es"]
    # Checks the number before it is shown.
    link = whatsapp_link(whatsapp_number, org.code, words["greeting"])
    number = display_phone(whatsapp_number)
    contact = [
        " · ".join([*(p.display for p in org.phones[:2]), *org.emails[:1]]),
        " · ".join(
            [*(site.url for site in org.links[:1])]
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
        whatsapp_link=link,
        telegram_handle=f"@{telegram_username.lstrip('@')}",
        telegram_link=telegram_link(telegram_username, org.code),
        scan_hint=words["scan"],
        type_hint=words["type"].format(
            greeting=words["greeting"], code=org.code, number=number.replace(" ", "\u00a0")
        ),
        shared_by=words["shared_by"],
        org_name=organisation_name(org),
        org_contact=[line for line in contact if line],
        footer=[privacy, words["free"]],
    )
