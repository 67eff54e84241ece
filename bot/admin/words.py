"""The dashboard's own words: one table per language, Spanish first, English by a toggle.

Names that come from the knowledge (topics, areas, sources) are taken from it in
the same language; these are only the page's labels, headings and messages.
"""

from __future__ import annotations

#: The language a page is in unless ``?lang=en`` asks otherwise.
DEFAULT_LANGUAGE = "es"

ES: dict[str, str] = {
    "other_language": "en",
    "other_language_name": "English",
    "page_title": "Panel de Pana",
    "brand": "panel",
    "log_in": "Entrar",
    "log_in_hint": "Usa la clave del panel (ADMIN_TOKEN).",
    "token": "Clave",
    "log_out": "Cerrar sesión",
    "wrong_token": "Esa clave no es correcta.",
    "too_many_attempts": "Demasiados intentos. Espera un minuto y vuelve a intentarlo.",
    "quick_periods": "Periodos rápidos",
    "n_days": "{n} días",
    "from": "Desde",
    "to": "hasta",
    "show": "Mostrar",
    "period": "Del {start} al {end} (días UTC).",
    "last_handled": "Último mensaje atendido:",
    "totals": "Totales",
    "conversations": "Conversaciones",
    "messages": "Mensajes",
    "answered": "Respuestas dadas",
    "unanswered": "No entendidas",
    "referral": "Referidos",
    "conversations_per_day": "Conversaciones por día",
    "messages_per_day": "Mensajes por día",
    "no_messages": "No hay mensajes en este periodo",
    "months": "ene feb mar abr may jun jul ago sep oct nov dic",
    "first_rows": "Se muestran 25 de {n} filas; el CSV las tiene todas.",
    "nothing": "Nada en este periodo.",
    "no_message_yet": "todavía ningún mensaje",
    "just_now": "ahora mismo",
    "minutes_ago": "hace {n} min",
    "hours_ago": "hace {n} h",
    "days_ago": "hace {n} días",
    "bad_dates": "Las fechas deben tener la forma 2025-03-31.",
    "start_after_end": "La fecha de inicio es posterior a la fecha final.",
    "bad_days": "Los días deben ser un número entero de 1 a {most}.",
    "too_long": "Un periodo puede tener como máximo {most} días.",
    # Tables: titles and column headers (also the CSV's header row).
    "activity": "Conversaciones y mensajes por día",
    "day": "Día (UTC)",
    "channel": "Canal",
    "topics": "Temas más consultados",
    "topic": "Tema",
    "times": "Veces",
    "referrals": "Referidos por organización",
    "code": "Código",
    "organisation": "Organización",
    "new_conversations": "Conversaciones nuevas",
    "unanswered_questions": "Preguntas no entendidas, agrupadas",
    "question": "Pregunta",
    "similar": "Parecidas",
    "stale": "Conocimiento por revisar (más de {days} días)",
    "stale_intro": (
        "{n} entradas tienen datos de hace más de {days} días. Compara cada una con su "
        "documento fuente o con el enlace oficial, corrige el archivo y cambia su as_of."
    ),
    "stale_none": "Nada por revisar: todo el conocimiento es más reciente que {days} días.",
    "source": "Documento fuente",
    "area": "Área",
    "file": "Archivo",
    "kind": "Tipo",
    "id": "Id",
    "title": "Título",
    "as_of": "Datos al",
    "age": "Antigüedad (días)",
    "entries": "{n} entradas",
    "one_entry": "1 entrada",
    "facts_as_of": "datos al {date}, hace {age} días",
    # What an answered target is, when the knowledge does not name it.
    "kind_topic": "tema",
    "kind_organisation": "organización",
    "kind_consulate": "consulado",
    "menu": "Menú: {name}",
    "consulates": "Consulados de Venezuela (lista)",
    "organisations_in": "Organizaciones en {city}",
    "organisations_ask_city": "Organizaciones (se preguntó la ciudad)",
    "organisations_for": "Organizaciones para: {service}",
    "no_longer_known": "Ya no está en el conocimiento ({target})",
}

EN: dict[str, str] = {
    "other_language": "es",
    "other_language_name": "Español",
    "page_title": "Pana dashboard",
    "brand": "dashboard",
    "log_in": "Log in",
    "log_in_hint": "Use the dashboard token (ADMIN_TOKEN).",
    "token": "Token",
    "log_out": "Log out",
    "wrong_token": "That token is not right.",
    "too_many_attempts": "Too many attempts. Wait a minute and try again.",
    "quick_periods": "Quick periods",
    "n_days": "{n} days",
    "from": "From",
    "to": "to",
    "show": "Show",
    "period": "{start} to {end} (UTC days).",
    "last_handled": "Last message handled:",
    "totals": "Totals",
    "conversations": "Conversations",
    "messages": "Messages",
    "answered": "Answers given",
    "unanswered": "Not understood",
    "referral": "Referrals",
    "conversations_per_day": "Conversations per day",
    "messages_per_day": "Messages per day",
    "no_messages": "No messages in this period",
    "months": "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec",
    "first_rows": "Showing 25 of {n} rows; the CSV has them all.",
    "nothing": "Nothing in this period.",
    "no_message_yet": "no message handled yet",
    "just_now": "just now",
    "minutes_ago": "{n} min ago",
    "hours_ago": "{n} h ago",
    "days_ago": "{n} days ago",
    "bad_dates": "Dates must look like 2025-03-31.",
    "start_after_end": "The start date is after the end date.",
    "bad_days": "Days must be a whole number from 1 to {most}.",
    "too_long": "A period can be at most {most} days long.",
    "activity": "Conversations and messages per day",
    "day": "Day (UTC)",
    "channel": "Channel",
    "topics": "Top topics reached",
    "topic": "Topic",
    "times": "Times",
    "referrals": "Referrals per organisation",
    "code": "Code",
    "organisation": "Organisation",
    "new_conversations": "New conversations",
    "unanswered_questions": "Unanswered questions, grouped",
    "question": "Question",
    "similar": "Similar",
    "stale": "Knowledge to review (older than {days} days)",
    "stale_intro": (
        "{n} entries hold facts older than {days} days. Check each against its source "
        "document or the official link, fix the file and update its as_of."
    ),
    "stale_none": "Nothing to review: all knowledge is newer than {days} days.",
    "source": "Source document",
    "area": "Area",
    "file": "File",
    "kind": "Kind",
    "id": "Id",
    "title": "Title",
    "as_of": "Facts as of",
    "age": "Age (days)",
    "entries": "{n} entries",
    "one_entry": "1 entry",
    "facts_as_of": "facts as of {date}, {age} days ago",
    "kind_topic": "topic",
    "kind_organisation": "organisation",
    "kind_consulate": "consulate",
    "menu": "Menu: {name}",
    "consulates": "Venezuelan consulates (list)",
    "organisations_in": "Organisations in {city}",
    "organisations_ask_city": "Organisations (city asked)",
    "organisations_for": "Organisations for: {service}",
    "no_longer_known": "No longer in the knowledge ({target})",
}

WORDS: dict[str, dict[str, str]] = {"es": ES, "en": EN}


def language(asked: str | None) -> str:
    """The dashboard language for a ``lang`` parameter: ``en`` when asked, else Spanish."""
    return asked if asked in WORDS else DEFAULT_LANGUAGE


def words(lang: str) -> dict[str, str]:
    """The words table for ``lang`` (Spanish for anything unknown)."""
    return WORDS[language(lang)]
