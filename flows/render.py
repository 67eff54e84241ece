"""Knowledge entries and menus as reply texts, in the user's language.

Replies use WhatsApp/Telegram-style ``*bold*`` and plain lines, so they read
well everywhere, SMS included. Each render returns a :class:`Reply` whose
``short`` form is what an SMS carries: a line and the link or phone to use.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from flows.turn import Option, Reply
from knowledge.base import KnowledgeBase
from knowledge.schema import Consulate, Entry, Menu, Organisation, Phone, Topic

COUNTRY_NAMES = {
    "es": {"PE": "Perú", "VE": "Venezuela", "CO": "Colombia", "EC": "Ecuador"},
    "en": {"PE": "Peru", "VE": "Venezuela", "CO": "Colombia", "EC": "Ecuador"},
}
MONTHS = {
    "es": "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre "
    "diciembre".split(),
    "en": "January February March April May June July August September October November "
    "December".split(),
}


def month_year(day: date, lang: str) -> str:
    return f"{MONTHS[lang][day.month - 1]} {day.year}" if lang in MONTHS else day.isoformat()


def phone_line(phone: Phone, lang: str) -> str:
    label = f"{phone.label.get(lang)}: " if phone.label else ""
    whatsapp = " (WhatsApp)" if phone.whatsapp else ""
    # The note goes on its own line: a number in an old format must not reach the
    # user without it, and digits right after the number would read as part of it.
    note = f"\n⚠️ {phone.note.get(lang)}" if phone.note else ""
    return f"📞 {label}{phone.display}{whatsapp}{note}"


def numbered(options: Iterable[Option]) -> str:
    return "\n".join(f"*{o.key}.* {o.label}" for o in options)


class Renderer:
    """Renders entries of one knowledge base; ``stale_after_days`` flags old facts."""

    def __init__(self, kb: KnowledgeBase, stale_after_days: int = 365) -> None:
        self.kb = kb
        self.stale_after_days = stale_after_days

    # -- names --------------------------------------------------------------

    def title_of(self, target: str, lang: str) -> str:
        """A short human name for a target, for menus and clarifying questions."""
        kind, _, ident = target.partition(":")
        kb = self.kb
        if kind == "topic" and ident in kb.topics:
            return kb.topics[ident].title.get(lang)
        if kind == "org" and ident in kb.organisations:
            org = kb.organisations[ident]
            return org.name
        if kind == "consulate" and ident in kb.consulates:
            return self.consulate_title(kb.consulates[ident], lang)
        if target == "menu:main":
            return kb.message("main_menu", lang)
        if kind == "menu" and ident in kb.menus:
            return self._menu_label(ident, lang)
        if kind == "city" and ident in kb.cities:
            return kb.cities[ident].name
        return ident

    def _menu_label(self, menu_id: str, lang: str) -> str:
        for menu in self.kb.menus.values():
            for option in menu.options:
                if option.target == f"menu:{menu_id}":
                    return option.label.get(lang)
        return self.kb.menus[menu_id].title.get(lang)

    def consulate_title(self, consulate: Consulate, lang: str) -> str:
        city = self.kb.cities[consulate.city].name
        country = COUNTRY_NAMES[lang].get(consulate.country, consulate.country)
        return self.kb.message("consulate_title", lang, city=city, country=country)

    # -- menus and choices --------------------------------------------------

    def menu(self, menu: Menu, lang: str, intro: str | None = None) -> Reply:
        options = tuple(
            Option(str(i), option.label.get(lang)) for i, option in enumerate(menu.options, 1)
        )
        parts = [intro] if intro else []
        parts += [
            f"*{menu.title.get(lang)}*",
            numbered(options),
            self.kb.message("menu_hint", lang),
        ]
        short = " ".join(f"{o.key}) {o.label}" for o in options)
        return Reply("\n\n".join(parts), options, short=f"{menu.title.get(lang)} {short}")

    def choices(self, intro: str, targets: Iterable[str], lang: str) -> Reply:
        options = tuple(Option(str(i), self.title_of(t, lang)) for i, t in enumerate(targets, 1))
        return Reply(f"{intro}\n{numbered(options)}", options)

    # -- entries ------------------------------------------------------------

    def provenance(self, entry: Entry, lang: str, today: date | None) -> list[str]:
        lines = []
        if entry.update:
            lines.append(self.kb.message("update", lang, text=entry.update.get(lang)))
        source = self.kb.sources.get(entry.source.seed)
        title = source.title.get(lang) if source else entry.source.seed
        lines.append(
            self.kb.message("source", lang, title=title, date=month_year(entry.as_of, lang))
        )
        if today and (today - entry.as_of).days > self.stale_after_days:
            lines.append(self.kb.message("stale", lang, date=month_year(entry.as_of, lang)))
        return lines

    def topic(self, topic: Topic, lang: str, today: date | None = None) -> Reply:
        blocks = [f"*{topic.title.get(lang)}*\n{topic.text.get(lang)}"]
        if topic.items:
            blocks.append("\n".join(f"• {item.get(lang)}" for item in topic.items))
        contact = [phone_line(p, lang) for p in topic.phones]
        contact += [f"✉️ {email}" for email in topic.emails]
        contact += [
            f"🔗 {link.label.get(lang)}: {link.url}" if link.label else f"🔗 {link.url}"
            for link in topic.links
        ]
        if contact:
            blocks.append("\n".join(contact))
        blocks.append("\n".join(self.provenance(topic, lang, today)))
        short_ref = (
            topic.links[0].url
            if topic.links
            else (topic.phones[0].display if topic.phones else (topic.emails or [""])[0])
        )
        short = f"{topic.title.get(lang)}: {short_ref}".strip(": ")
        return Reply("\n\n".join(blocks), short=short)

    def organisation(self, org: Organisation, lang: str, today: date | None = None) -> Reply:
        msg = self.kb.message
        lines = [f"*{org.name}*", org.description.get(lang)]
        details = []
        if org.serves:
            details.append(f"{msg('serves', lang)}: {org.serves.get(lang)}")
        if org.services:
            labels = [self.kb.services[s].label.get(lang) for s in org.services]
            details.append(f"{msg('services', lang)}: {', '.join(labels)}")
        if org.cities:
            details.append(
                f"{msg('cities', lang)}: {', '.join(self.kb.cities[c].name for c in org.cities)}"
            )
        contact = []
        if org.contact_person:
            contact.append(f"👤 {msg('contact_person', lang)}: {org.contact_person}")
        contact += [phone_line(p, lang) for p in org.phones]
        contact += [f"✉️ {email}" for email in org.emails]
        contact += [f"🔗 {link.url}" for link in org.links]
        contact += [f"• {network}: {handle}" for network, handle in org.social.items()]
        blocks = ["\n".join(lines), "\n".join(details), "\n".join(contact)]
        blocks.append("\n".join(self.provenance(org, lang, today)))
        first = org.phones[0].display if org.phones else (org.emails or [""])[0]
        return Reply("\n\n".join(b for b in blocks if b), short=f"{org.name}: {first}".strip(": "))

    def org_line(self, org: Organisation) -> str:
        contact = ", ".join([*(p.display for p in org.phones), *org.emails])
        return f"{org.name}: {contact}" if contact else org.name

    def organisations(self, intro: str, orgs: list[Organisation], lang: str) -> Reply:
        options = tuple(Option(str(i), org.name) for i, org in enumerate(orgs, 1))
        lines = [f"*{i}.* {self.org_line(org)}" for i, org in enumerate(orgs, 1)]
        text = "\n".join([intro, *lines, "", self.kb.message("ngo_more", lang)])
        short = "; ".join(self.org_line(org) for org in orgs[:3])
        return Reply(text, options, short=short)

    def consulate(self, consulate: Consulate, lang: str, today: date | None = None) -> Reply:
        title = self.consulate_title(consulate, lang)
        lines = [f"*{title}*", *(phone_line(p, lang) for p in consulate.phones)]
        lines += [f"✉️ {email}" for email in consulate.emails]
        blocks = ["\n".join(lines), "\n".join(self.provenance(consulate, lang, today))]
        # An SMS carries the short form: it keeps the update line (a consulate that may
        # be closed) and the first phone's note.
        first = consulate.phones[0]
        short = [f"{title}: {first.display}."]
        short += [f"⚠️ {first.note.get(lang)}"] if first.note else []
        short += (
            [self.kb.message("update", lang, text=consulate.update.get(lang))]
            if consulate.update
            else []
        )
        return Reply("\n\n".join(blocks), short=" ".join(short))

    def consulates(self, lang: str, today: date | None = None) -> Reply:
        """Every consulate in file order, with every consulate's update line and
        phone note (once each): none may be dropped because another comes first."""
        lines = [self.kb.message("consulates", lang)]
        emails: list[str] = []
        notes: list[str] = []
        updates: list[str] = []
        for consulate in self.kb.consulates.values():
            city = self.kb.cities[consulate.city].name
            country = COUNTRY_NAMES[lang].get(consulate.country, consulate.country)
            phones = ", ".join(f"{p.display} ⚠️" if p.note else p.display for p in consulate.phones)
            lines.append(f"• {city} ({country}): {phones}")
            emails += [e for e in consulate.emails if e not in emails]
            for phone in consulate.phones:
                if phone.note and f"⚠️ {phone.note.get(lang)}" not in notes:
                    notes.append(f"⚠️ {phone.note.get(lang)}")
            if consulate.update:
                line = self.kb.message("update", lang, text=consulate.update.get(lang))
                if line not in updates:
                    updates.append(line)
        lines += notes
        lines += [f"✉️ {email}" for email in emails]
        blocks = ["\n".join(lines)]
        first = next(iter(self.kb.consulates.values()), None)
        if first:
            # Update lines of all consulates, then the source line of the first (they
            # share their source); provenance() would repeat the first one's update.
            source = [line for line in self.provenance(first, lang, today) if line not in updates]
            blocks.append("\n".join([*updates, *source]))
        return Reply("\n\n".join(blocks), short=" ".join([lines[0], *updates, *lines[1:4]]))
