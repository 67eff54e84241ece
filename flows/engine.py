"""The conversation engine: a menu-and-keyword state machine, pure.

``Engine(kb).handle(state, incoming)`` returns a :class:`~flows.turn.Turn`.
No I/O happens here, so a whole conversation can be tested with plain calls::

    engine = Engine(load_knowledge())
    turn = engine.handle(State(), Incoming(channel="console", text="hola"))
    print(turn.replies[0].text)        # greeting and the numbered main menu
    turn = engine.handle(turn.state, Incoming(channel="console", text="4"))

Order of precedence for one message: a pending deletion confirmation, global
words (menu, atrás, ayuda, privacidad, borrar mis datos, stop, english), a
number when options are showing, small talk, then understanding (see
:mod:`flows.understanding`), with safety words always answered first.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from flows import intents
from flows.language import LanguageGuesser
from flows.places import CityFinder
from flows.render import Renderer, phone_line
from flows.turn import MAX_TEXT_LENGTH, Event, Incoming, Location, Reply, State, Turn
from flows.understanding import Decision, Understanding
from knowledge.base import KnowledgeBase
from knowledge.text import normalise

#: Messages the engine itself needs from the messages table.
REQUIRED_MESSAGES = (
    "welcome", "privacy_short", "privacy", "help", "menu_hint", "source", "stale", "update",
    "clarify", "not_understood", "not_understood_no_guess", "bad_choice", "media_only", "empty",
    "thanks", "okay", "insult", "ask_city", "person", "person_ask_city", "ngos_in_city",
    "ngos_nearest", "no_ngos_in_city", "ngo_more", "consulates", "consulate_title",
    "emergency_first", "delete_confirm", "delete_done", "delete_cancelled", "opted_out",
    "language_set", "see_also", "ngos_for_service", "main_menu",
)  # fmt: skip

EMERGENCY_TOPIC = "emergencias"


def clean_text(text: str) -> str:
    """Drop control characters (NUL, zero-width) and cut overlong messages."""
    kept = "".join(ch for ch in text[: MAX_TEXT_LENGTH * 2] if ch.isprintable() or ch in "\n\t")
    return kept.replace("\u200b", "").replace("\u200d", "").replace("\ufeff", "")[:MAX_TEXT_LENGTH]


class Engine:
    """Answers messages from one knowledge base.

    ``stale_after_days``: answers whose facts are older carry a "confirm on
    the official link" line. ``retention_days`` is quoted in the privacy notice.
    """

    def __init__(
        self, kb: KnowledgeBase, stale_after_days: int = 730, retention_days: int = 90
    ) -> None:
        self.kb = kb
        self.render = Renderer(kb, stale_after_days)
        self.understanding = Understanding(kb)
        self.cities: CityFinder = self.understanding.cities
        self.retention_days = retention_days
        self.codes = {org.code.lower(): org.id for org in kb.organisations.values()}
        self.languages = LanguageGuesser(kb)

    # -- entry point --------------------------------------------------------

    def handle(self, state: State, incoming: Incoming) -> Turn:
        """The reply to one message and the user's next state."""
        text = clean_text(incoming.text or "")
        norm = normalise(text)
        lang = self._language(state, norm, incoming.language_hint)
        first_contact = not state.welcomed
        state = replace(state, lang=lang, opted_out=False)
        turn = self._dispatch(state, incoming, text, norm)
        if first_contact:
            turn = self._with_welcome(turn, lang)
        return turn

    def _dispatch(self, state: State, incoming: Incoming, text: str, norm: str) -> Turn:
        lang = state.lang
        if incoming.location is not None:
            return self._near_location(state, incoming.location)
        if not norm:
            if incoming.has_media:
                return self._say(state, "media_only")
            return self._say(state, "okay" if text.strip() else "empty")
        if state.awaiting == "delete":
            return self._confirm_delete(state, norm)
        for step in (self._command, self._choice, self._small_talk):
            turn = step(state, norm)
            if turn is not None:
                return turn
        return self._understand(state, norm, text, incoming.today, lang)

    # -- helpers ------------------------------------------------------------

    def _say(self, state: State, key: str, **values: object) -> Turn:
        return Turn(state, [Reply(self.kb.message(key, state.lang, **values))])

    def _language(self, state: State, norm: str, hint: str | None) -> str:
        if norm in intents.ENGLISH:
            return "en"
        if norm in intents.SPANISH:
            return "es"
        detected = self.languages.guess(norm, self.understanding.index.correct)
        if detected:
            return detected
        if not state.welcomed and hint:
            return "en" if hint.lower().startswith("en") else "es"
        return state.lang

    def _with_welcome(self, turn: Turn, lang: str) -> Turn:
        notice = self.kb.message("privacy_short", lang)
        replies = list(turn.replies)
        if replies:
            last = replies[-1]
            replies[-1] = replace(last, text=f"{last.text}\n\n{notice}")
        return replace(turn, state=replace(turn.state, welcomed=True), replies=replies)

    # -- global words ---------------------------------------------------------

    def _command(self, state: State, norm: str) -> Turn | None:
        lang = state.lang
        if norm in intents.MENU or intents.contains_phrase(norm, intents.MENU_PHRASES):
            return self.goto(replace(state, trail=()), "menu:main")
        if norm in intents.BACK:
            return self._back(state)
        if norm in intents.HELP:
            return self._say(state, "help")
        if norm in intents.PRIVACY or "privacidad" in norm.split():
            return self._say(state, "privacy", days=self.retention_days)
        if intents.is_delete_request(norm):
            return Turn(
                replace(state, awaiting="delete", options=()),
                [Reply(self.kb.message("delete_confirm", lang))],
            )
        if norm in intents.STOP:
            return Turn(
                replace(State(lang=lang, welcomed=True), opted_out=True),
                [Reply(self.kb.message("opted_out", lang))],
                [Event("opt_out")],
            )
        if norm in intents.ENGLISH or norm in intents.SPANISH:
            turn = self.goto(replace(state, trail=()), "menu:main")
            return self._prefixed(turn, self.kb.message("language_set", lang))
        return self._greeting(state, norm)

    def _back(self, state: State) -> Turn:
        """On "atrás": from an answer, its menu; from a menu, the parent menu."""
        trail = state.trail
        menu = self.kb.menus.get(trail[-1]) if trail else None
        # The options still showing tell a menu from an answer reached through it.
        if menu is not None and state.options != tuple(o.target for o in menu.options):
            return self.goto(replace(state, trail=trail[:-1]), f"menu:{menu.id}")
        trail = trail[:-1]
        previous = trail[-1] if trail else "main"
        return self.goto(replace(state, trail=trail[:-1]), f"menu:{previous}")

    def _greeting(self, state: State, norm: str) -> Turn | None:
        words = norm.split()
        codes = [w for w in words if w in self.codes]
        greetings = [w for w in words if w in intents.GREETINGS]
        others = [w for w in words if w not in self.codes and w not in intents.GREETINGS]
        # A flyer code only counts next to a greeting ("HOLA OCASIVEN"); alone it is a name.
        if not greetings:
            return None
        if others and not (len(others) == 1 and not codes and self._looks_like_code(others[0])):
            return None
        turn = self.goto(replace(state, trail=()), "menu:main")
        turn = self._prefixed(turn, self.kb.message("welcome", state.lang))
        if codes:
            turn.events.append(Event("referral", self.codes[codes[0]]))
        return turn

    def _looks_like_code(self, word: str) -> bool:
        """An unknown flyer code ("hola XYZ123"): no topic word, no city. Ignored quietly."""
        if self.understanding.index.correct(word) or self.cities.find(word):
            return False
        return word.isalnum() and len(word) >= 3

    def _prefixed(self, turn: Turn, intro: str) -> Turn:
        first = turn.replies[0]
        replies = [replace(first, text=f"{intro}\n\n{first.text}"), *turn.replies[1:]]
        return replace(turn, replies=replies)

    def _confirm_delete(self, state: State, norm: str) -> Turn:
        lang = state.lang
        if norm in intents.YES:
            return Turn(
                State(lang=lang, welcomed=True),
                [Reply(self.kb.message("delete_done", lang))],
                [Event("delete_user")],
            )
        return Turn(
            replace(state, awaiting=None), [Reply(self.kb.message("delete_cancelled", lang))]
        )

    # -- numbers --------------------------------------------------------------

    def _choice(self, state: State, norm: str) -> Turn | None:
        if not norm.isdigit() or len(norm) > 2 or not state.options:
            return None
        number = int(norm)
        if not 1 <= number <= len(state.options):
            return Turn(state, [Reply(self.kb.message("bad_choice", state.lang))])
        return self.goto(state, state.options[number - 1])

    # -- small talk -----------------------------------------------------------

    def _small_talk(self, state: State, norm: str) -> Turn | None:
        words = norm.split()
        if intents.is_only(norm, intents.THANKS) and {
            "gracias",
            "thanks",
            "thank",
            "ty",
            "thx",
        } & set(words):
            return self._say(state, "thanks")
        if intents.is_only(norm, intents.OKAY):
            return self._say(state, "okay")
        if intents.contains_phrase(norm, intents.PERSON):
            mention = self.cities.find(norm)
            city = mention.city if mention else state.city
            if city and self.kb.organisations_in(city):
                intro = self.kb.message("person", state.lang, city=self.kb.cities[city].name)
                return self._organisations_in(replace(state, city=city), city, intro)
            intro = self.kb.message("person_ask_city", state.lang)
            return self._prefixed(self._ask_city(state), intro)
        if len(words) <= 5 and set(words) & intents.INSULTS:
            return self._say(state, "insult")
        return None

    # -- understanding --------------------------------------------------------

    def _understand(
        self, state: State, norm: str, text: str, today: date | None, lang: str
    ) -> Turn:
        decision = self.understanding.decide(state, norm)
        if decision.city:
            state = replace(state, city=decision.city)
        if decision.kind == "answer":
            turn = self.goto(state, decision.targets[0], today)
        elif decision.kind == "clarify":
            intro = self.kb.message("clarify", lang)
            reply = self.render.choices(intro, decision.targets, lang)
            turn = Turn(
                replace(state, options=decision.targets, awaiting=None),
                [reply],
                [Event("near_miss", text, ", ".join(decision.targets))],
            )
        else:
            turn = self._not_understood(state, text, decision)
        if decision.safety:
            turn = self._emergency_first(turn)
        return turn

    def _not_understood(self, state: State, text: str, decision: Decision) -> Turn:
        lang = state.lang
        guesses = (*decision.targets[:2], "menu:main")
        events = [Event("unanswered", text)]
        if decision.targets:
            events.append(Event("near_miss", text, ", ".join(decision.targets[:2])))
            reply = self.render.choices(self.kb.message("not_understood", lang), guesses, lang)
        else:
            intro = self.kb.message("not_understood_no_guess", lang)
            menu = self.goto(replace(state, trail=()), "menu:main")
            return replace(self._prefixed(menu, intro), events=events)
        return Turn(replace(state, options=guesses, awaiting=None), [reply], events)

    def _emergency_first(self, turn: Turn) -> Turn:
        lang = turn.state.lang
        topic = self.kb.topics.get(EMERGENCY_TOPIC)
        if topic is None or any(e.value == f"topic:{EMERGENCY_TOPIC}" for e in turn.events):
            return turn
        lines = [self.kb.message("emergency_first", lang)]
        lines += [phone_line(p, lang) for p in topic.phones]
        first = Reply("\n".join(lines), short=" ".join(lines))
        return replace(turn, replies=[first, *turn.replies])

    # -- going to a target ----------------------------------------------------

    def goto(self, state: State, target: str, today: date | None = None) -> Turn:
        """Show ``target`` (``menu:…``, ``topic:…``, ``org:…``, ``consulate:…``,
        ``city:…``, ``list:…``) and move the state there."""
        kind, _, ident = target.partition(":")
        lang = state.lang
        kb = self.kb
        answered = [Event("answered", target)]
        if kind == "menu" and ident in kb.menus:
            menu = kb.menus[ident]
            trail = (*state.trail, ident) if ident != "main" else ()
            new = replace(
                state, menu=ident, trail=trail, options=tuple(o.target for o in menu.options)
            )
            return Turn(new, [self.render.menu(menu, lang)], answered if ident != "main" else [])
        if kind == "topic" and ident in kb.topics:
            topic = kb.topics[ident]
            reply = self.render.topic(topic, lang, today)
            related = tuple(f"topic:{r}" for r in topic.related)
            replies = [reply]
            if related:
                replies.append(self.render.choices(kb.message("see_also", lang), related, lang))
            new = replace(state, last=target, options=related, awaiting=None)
            return Turn(new, replies, answered)
        if kind == "org" and ident in kb.organisations:
            reply = self.render.organisation(kb.organisations[ident], lang, today)
            return Turn(replace(state, last=target, awaiting=None, options=()), [reply], answered)
        if kind == "consulate" and ident in kb.consulates:
            reply = self.render.consulate(kb.consulates[ident], lang, today)
            return Turn(replace(state, last=target, awaiting=None, options=()), [reply], answered)
        if kind == "city" and ident in kb.cities:
            return self._organisations_in(replace(state, city=ident), ident)
        if kind == "service" and ident in kb.services:
            return self._organisations_offering(state, ident)
        if target == "list:consulates":
            return Turn(
                replace(state, last=target, options=()),
                [self.render.consulates(lang, today)],
                answered,
            )
        if target == "list:ngos":
            if state.city and kb.organisations_in(state.city):
                return self._organisations_in(state, state.city)
            return self._ask_city(state)
        if target == "list:emergency" and EMERGENCY_TOPIC in kb.topics:
            return self.goto(state, f"topic:{EMERGENCY_TOPIC}", today)
        return self.goto(state, "menu:main")

    def _ask_city(self, state: State) -> Turn:
        covered = tuple(f"city:{c.id}" for c in self.kb.covered_cities())[:12]
        reply = self.render.choices(self.kb.message("ask_city", state.lang), covered, state.lang)
        return Turn(replace(state, awaiting="city", options=covered), [reply])

    def _organisations_in(self, state: State, city_id: str, intro: str | None = None) -> Turn:
        lang = state.lang
        kb = self.kb
        city = kb.cities[city_id]
        orgs = kb.organisations_in(city_id)
        if not orgs:
            names = ", ".join(c.name for c in kb.covered_cities())
            intro = kb.message("no_ngos_in_city", lang, city=city.name, cities=names)
            orgs = self.understanding.nationwide_organisations()
        intro = intro or kb.message("ngos_in_city", lang, city=city.name)
        reply = self.render.organisations(intro, orgs, lang)
        options = tuple(f"org:{o.id}" for o in orgs)
        new = replace(state, city=city_id, awaiting=None, options=options, last=f"city:{city_id}")
        return Turn(new, [reply], [Event("answered", f"list:ngos:{city_id}")])

    def _organisations_offering(self, state: State, service_id: str) -> Turn:
        """Organisations with a service, in the user's city when some there offer it."""
        lang = state.lang
        offering = [o for o in self.kb.organisations.values() if service_id in o.services]
        local = [o for o in offering if state.city in o.cities]
        label = self.kb.services[service_id].label.get(lang)
        place = self.kb.cities[state.city].name if local and state.city else None
        intro = self.kb.message("ngos_for_service", lang, service=label)
        if place:
            intro = f"{intro} ({place})"
        orgs = local or offering
        reply = self.render.organisations(intro, orgs, lang)
        options = tuple(f"org:{o.id}" for o in orgs)
        events = [Event("answered", f"service:{service_id}")]
        return Turn(replace(state, awaiting=None, options=options), [reply], events)

    def _near_location(self, state: State, location: Location) -> Turn:
        covered = [c.id for c in self.kb.covered_cities()]
        city = self.cities.nearest(location.latitude, location.longitude, covered)
        if city is None:
            return self._ask_city(state)
        intro = self.kb.message("ngos_nearest", state.lang, city=city.name)
        return self._organisations_in(state, city.id, intro)
