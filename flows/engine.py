"""The conversation engine: a menu-and-keyword state machine, pure.

``Engine(kb).handle(state, incoming)`` returns a :class:`~flows.turn.Turn`.
No I/O happens here, so a whole conversation can be tested with plain calls::

    engine = Engine(load_knowledge())
    turn = engine.handle(State(), Incoming(channel="console", text="hola"))
    print(turn.replies[0].text)        # greeting and the numbered main menu
    turn = engine.handle(turn.state, Incoming(channel="console", text="4"))

Order of precedence for one message: a pending deletion confirmation, global
words (menu, atrás, ayuda, privacidad, borrar mis datos, stop, english), a
number when options are showing, then danger (see :mod:`flows.safety`: a
message that describes danger gets the fitting numbers first and never an
unrelated topic), small talk, repair ("eso no"), a follow-up about one aspect
of the last answer ("¿y cuánto cuesta?"), then understanding (see
:mod:`flows.understanding`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date

from flows import intents
from flows.aspects import AspectReader
from flows.handoff import Handoffs, asks_for_person, leaves
from flows.language import LanguageGuesser
from flows.places import CityFinder
from flows.render import Renderer
from flows.safety import DANGER_ANSWER, DANGER_CHECK, PROTECTIVE_AREAS, SafetyAnswers
from flows.scoring.danger import Danger
from flows.turn import MAX_TEXT_LENGTH, Event, Incoming, Location, Reply, State, Turn
from flows.understanding import Decision, Understanding
from knowledge.base import KnowledgeBase
from knowledge.text import normalise

#: Messages the engine says, itself or through flows.render and flows.safety.
MESSAGES = (
    "welcome", "privacy_short", "privacy", "help", "menu_hint", "source", "stale", "update",
    "clarify", "not_understood", "not_understood_no_guess", "bad_choice", "media_only", "empty",
    "thanks", "okay", "insult", "ask_city", "person", "person_ask_city", "ngos_in_city",
    "ngos_nearest", "no_ngos_in_city", "ngo_more", "consulates", "consulate_title",
    "delete_confirm", "delete_done", "delete_cancelled", "opted_out",
    "language_set", "see_also", "ngos_for_service", "main_menu", "goodbye", "out_of_scope",
    "out_of_scope_ask", "out_of_scope_city", "repair", "repair_options", "repair_person",
    "repair_person_no_city", "feedback_thanks", "no_aspect", "no_aspect_no_link", "danger_first",
    "danger_check", "danger_person", "danger_orgs", "foreign_consulate",
)  # fmt: skip

#: Shows one kind of target: (state, id, today) -> the turn.
Show = Callable[[State, str, date | None], Turn]

EMERGENCY_TOPIC = "emergencias"
#: Thumbs sent as a whole message: feedback on the last answer.
FEEDBACK_EMOJI = {"👍": "feedback up", "👎": "feedback down"}
#: Messages this short need SHORT_DANGER confidence (a certain phrase gives 0.99) for danger.
SHORT_MESSAGE, SHORT_DANGER = 3, 0.8
#: In safety mode, a follow-up up to this long stays with the danger's help.
SAFETY_FOLLOW_UP_WORDS = 8
#: ... and gets the best protection or refuge topic that reaches this blended score.
SAFETY_FOLLOW_UP_SCORE = 0.25
#: Answers below this blended score are logged for editors as low-confidence.
LOW_CONFIDENCE = 0.7
#: How many of a follow-up's readings may be the related entry it points back at.
POINTED_CANDIDATES = 3
#: A related topic answers an aspect instead when it has this many facts on it, and twice
#: the topic's own.
RICHER_FACTS = 3


def clean_text(text: str) -> str:
    """Drop control characters (NUL, zero-width) and cut overlong messages."""
    kept = "".join(ch for ch in text[: MAX_TEXT_LENGTH * 2] if ch.isprintable() or ch in "\n\t")
    return kept.replace("\u200b", "").replace("\u200d", "").replace("\ufeff", "")[:MAX_TEXT_LENGTH]


class Engine:
    """Answers messages from one knowledge base.

    ``stale_after_days``: answers whose facts are older carry a "confirm on
    the official link" line. ``retention_days`` and ``handoff_days`` (how long a closed
    hand-off's messages are kept) are quoted in the privacy notice.
    """

    def __init__(
        self,
        kb: KnowledgeBase,
        stale_after_days: int = 730,
        retention_days: int = 90,
        handoff_days: int = 30,
    ) -> None:
        self.kb = kb
        self.render = Renderer(kb, stale_after_days)
        self.understanding = Understanding(kb)
        self.cities: CityFinder = self.understanding.cities
        self.retention_days = retention_days
        self.handoff_days = handoff_days
        self.codes = {org.code.lower(): org.id for org in kb.organisations.values()}
        self.languages = LanguageGuesser(kb)
        self.safety = SafetyAnswers(kb, self.render)
        self.aspects = AspectReader(kb)
        self.handoffs = Handoffs(kb)
        #: How each kind of target (knowledge.targets.TARGET_KINDS) is shown.
        self.shows: dict[str, Show] = {
            "menu": self._show_menu,
            "topic": self._show_topic,
            "org": self._show_organisation,
            "consulate": self._show_consulate,
            "city": self._show_city,
            "service": self._show_service,
            "list": self._show_list,
        }
        #: How each ``list:`` target is shown.
        self.lists: dict[str, Callable[[State, date | None], Turn]] = {
            "consulates": self._list_consulates,
            "foreign-consulates": self._list_foreign_consulates,
            "ngos": self._list_ngos,
            "emergency": self._list_emergency,
        }

    # -- entry point --------------------------------------------------------

    def handle(self, state: State, incoming: Incoming) -> Turn:
        """The reply to one message and the user's next state."""
        text = clean_text(incoming.text or "")
        norm = normalise(text) or FEEDBACK_EMOJI.get(text.strip(), "")
        other, norm = self.languages.in_spanish(norm)
        lang = "es" if other else self._language(state, norm, incoming.language_hint)
        first_contact = not state.welcomed
        state = replace(state, lang=lang, opted_out=False)
        turn = self._dispatch(state, incoming, text, norm)
        if turn.state.repairs and turn.state.repairs == state.repairs:
            # Only "eso no" twice in a row counts: anything else in between starts again.
            turn = replace(turn, state=replace(turn.state, repairs=0))
        elif turn.state.repairs >= 2:
            turn = self._offer_person_after_repairs(turn, incoming)
        if first_contact:
            turn = self._with_welcome(turn, lang)
        if other and turn.replies:
            notice = self.kb.other_languages[other].notice
            if any(e.kind == "danger" for e in turn.events):
                # The numbers stay first; the notice follows them.
                first = turn.replies[0]
                replies = (replace(first, text=f"{first.text}\n\n{notice}"), *turn.replies[1:])
                turn = replace(turn, replies=replies)
            else:
                turn = self._prefixed(turn, notice)
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
        if state.handoff:
            return self._in_handoff(state, incoming, text, norm)
        if state.awaiting == "consent":
            turn = self.handoffs.consent(state, norm, incoming.now)
            if turn is not None:
                return turn
            state = replace(state, awaiting=None, offered=None)
        for step in (self._command, self._choice):
            turn = step(state, norm)
            if turn is not None:
                return turn
        dangers = self.understanding.dangers(norm)
        if self._needs_certainty(state, norm):
            # "no", "eso no", or "¿y para mi hija de 3 años?" after an answer: too little,
            # or too plainly a follow-up, to read danger in; a certain phrase still counts.
            dangers = [d for d in dangers if d.confidence >= SHORT_DANGER]
        if dangers and dangers[0].confidence >= DANGER_ANSWER:
            turn = self.safety.answer(state, dangers, incoming.today, self._protective(state, norm))
            return self._offer_person_after(turn, incoming)
        if asks_for_person(norm):
            mention = self.cities.find(norm)
            partner = self.handoffs.partner(state, incoming, mention.city if mention else None)
            if partner is not None:
                return self.handoffs.offer(state, partner, incoming.now)
        for step in (self._small_talk, self._feedback):
            turn = step(state, norm)
            if turn is not None:
                return turn
        turn = self._follow_up_aspect(state, norm, text, incoming.today)
        if turn is None:
            turn = self._understand(state, norm, text, incoming.today, lang, dangers)
        return turn

    # -- a person ---------------------------------------------------------------

    def _in_handoff(self, state: State, incoming: Incoming, text: str, norm: str) -> Turn:
        """A person reads this conversation: relay the message, answer only what is ours."""
        if leaves(norm):
            new, line, event = self.handoffs.left(state)
            turn = self._prefixed(self.goto(replace(new, trail=()), "menu:main"), line)
            return replace(turn, events=(event, *turn.events))
        if norm in intents.STOP or intents.is_delete_request(norm):
            turn = self._command(state, norm)
            if turn is not None:
                if turn.state.handoff is None:  # "stop": no more messages, so no hand-off
                    turn = replace(turn, events=(Event("handoff_end", state.handoff), *turn.events))
                return turn
        turn = self.handoffs.relay(state, incoming, text)
        dangers = self.understanding.dangers(norm) if norm else []
        if dangers and dangers[0].confidence >= DANGER_ANSWER:
            # Nobody may be reading yet: the fitting numbers now, and the message still goes.
            kinds = self.safety.kinds(dangers)
            reply = self.safety.numbers_reply(kinds, state.lang)
            events = (*(Event("danger", k.id) for k in kinds), *turn.events)
            turn = Turn(turn.state, (reply, *turn.replies), events)
        return turn

    def _offer_person_after(self, turn: Turn, incoming: Incoming) -> Turn:
        """After a danger answer: the offer of a person, when a partner has staff."""
        partner = self.handoffs.partner(turn.state, incoming)
        if partner is None:
            return turn
        line = self.kb.message(
            "handoff_danger_offer", turn.state.lang, org=self.handoffs.name(partner.id)
        )
        return replace(turn, replies=(*turn.replies, Reply(line)))

    def _offer_person_after_repairs(self, turn: Turn, incoming: Incoming) -> Turn:
        """ "Eso no" twice in a row: the bot has failed twice, so a person is offered."""
        partner = self.handoffs.partner(turn.state, incoming)
        if partner is None:
            return turn
        state = replace(turn.state, repairs=0)
        offer = self.handoffs.offer(state, partner, incoming.now)
        offer = self._prefixed(offer, self.kb.message("handoff_repair_offer", state.lang))
        return replace(offer, events=turn.events)

    def greet(self, state: State, incoming: Incoming) -> Turn:
        """What a page shows on opening (the web chat): the answer to a first "hola", or,
        during a hand-off, who is reading (the page keeps no history of its own)."""
        if state.handoff:
            return self.handoffs.reminder(state)
        return self.handle(state, incoming)

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
        return replace(turn, state=replace(turn.state, welcomed=True), replies=tuple(replies))

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
            days, handoff_days = self.retention_days, self.handoff_days
            return self._say(state, "privacy", days=days, handoff_days=handoff_days)
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
            turn = replace(turn, events=(*turn.events, Event("referral", self.codes[codes[0]])))
        return turn

    def _looks_like_code(self, word: str) -> bool:
        """An unknown flyer code ("hola XYZ123"): no topic word, no city. Ignored quietly."""
        if self.understanding.index.correct(word) or self.cities.find(word):
            return False
        return word.isalnum() and len(word) >= 3

    def _prefixed(self, turn: Turn, intro: str) -> Turn:
        first = turn.replies[0]
        replies = (replace(first, text=f"{intro}\n\n{first.text}"), *turn.replies[1:])
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
        if asks_for_person(norm):
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
        self,
        state: State,
        norm: str,
        text: str,
        today: date | None,
        lang: str,
        dangers: list[Danger] | None = None,
    ) -> Turn:
        decision = self.understanding.decide(self._context(state, norm), norm)
        if decision.city:
            state = replace(state, city=decision.city)
        possible_danger = bool(dangers) and dangers[0].confidence >= DANGER_CHECK
        if decision.kind == "intent":
            return self._intent(state, decision.targets[0], text)
        if possible_danger and dangers:
            kind = self.kb.safety.kind(dangers[0].kind)
            if kind is not None and not kind.numbers and not self._answers_else(decision):
                # No emergency number to check with (hunger, homelessness): the help itself,
                # unless another subject was clearly understood ("y pa mi bebe de 2 años? no
                # estamos en el padron" after the SIS is about the SIS, not hunger).
                return self.safety.answer(state, dangers, today)
        if possible_danger and dangers and decision.kind in ("clarify", "unknown"):
            decision = self._with_danger_help(decision, dangers[0])
        if state.danger and not self._changes_subject(decision, norm):
            # Safety mode: a follow-up ("¿y si no tengo papeles?") stays with the danger's
            # help, not a random topic; naming another subject clearly ends it.
            return self._safety_follow_up(state, norm, today)
        if decision.kind == "answer" and decision.targets[0].startswith("city:"):
            service = self._service_context(state)
            city = decision.targets[0][5:]
            if service and len(norm.split()) <= 4:
                # "¿y en Arequipa?" after a health answer: Arequipa's health organisations.
                return self._organisations_offering(replace(state, city=city), service)
        if not possible_danger and self.aspects.outside_sources(norm):
            return self._out_of_scope(state, text)
        waited = self._asks_wait(norm, decision)
        if waited and not possible_danger:
            # "¿cuánto se demora la comisión en responder mi refugio?": the sources rarely
            # say, so the topic's facts on it or an honest "no tengo ese dato", not the topic.
            return self._wait_of(state, waited, text, today)
        if decision.kind == "answer":
            decision = self._for_age(state, norm, decision)
            target = decision.targets[0]
            turn = self.goto(replace(state, alternatives=decision.alternatives), target, today)
            if decision.score < LOW_CONFIDENCE and not target.startswith(("menu:", "city:")):
                low = Event("low_confidence", text, targets=(target,))
                turn = replace(turn, events=(*turn.events, low))
            if not target.startswith("topic:") or self._area(target) != "protection":
                turn = replace(turn, state=replace(turn.state, danger=None))
        elif decision.kind == "clarify":
            intro = self.kb.message("clarify", lang)
            reply = self.render.choices(intro, decision.targets, lang)
            turn = Turn(
                replace(state, options=decision.targets, awaiting=None),
                [reply],
                [Event("near_miss", text, targets=decision.targets)],
            )
        else:
            turn = self._not_understood(state, text, decision)
        if possible_danger and dangers:
            check = self.safety.check_line(dangers, lang)
            turn = self._prefixed(turn, check)
            turn = replace(turn, events=(*turn.events, Event("danger_check", dangers[0].kind)))
        return turn

    def _with_danger_help(self, decision: Decision, danger: Danger) -> Decision:
        """A possible danger and no clear subject: that danger's help is the first reading
        offered (or the answer, when nothing else is plausible), never only unrelated
        topics. A refuge story that tells of past threats keeps refuge among the options."""
        kind = self.kb.safety.kind(danger.kind)
        if kind is None or kind.topic not in self.kb.topics:
            return decision
        help_topic = f"topic:{kind.topic}"
        if decision.kind == "unknown":
            return Decision("answer", (help_topic,), decision.city, score=0.0)
        options = tuple(dict.fromkeys([help_topic, *decision.targets]))[:3]
        return replace(decision, targets=options)

    def _for_age(self, state: State, norm: str, decision: Decision) -> Decision:
        """ "¿y para mi hija de 3 años?" after Cuna Más (under 3s): the related topic whose
        ages include 3 (early education), not Cuna Más again."""
        age = intents.age_in(norm)
        kind, _, ident = decision.targets[0].partition(":")
        topic = self.kb.topics.get(ident) if kind == "topic" else None
        if age is None or topic is None or topic.ages is None or topic.ages.includes(age):
            return decision
        for other in topic.related:
            fits = self.kb.topics.get(other)
            if fits is not None and fits.ages is not None and fits.ages.includes(age):
                return replace(decision, targets=(f"topic:{other}",))
        return decision

    def _asks_wait(self, norm: str, decision: Decision) -> str | None:
        """The entry whose processing time a question asks, if that is what it asks."""
        if decision.kind not in ("answer", "clarify") or not decision.targets:
            return None
        if self.aspects.asked(norm, any_length=True) != "wait":
            return None
        return decision.targets[0]

    def _wait_of(self, state: State, target: str, text: str, today: date | None) -> Turn:
        """A topic's facts on how long it takes; for an office, "no tengo ese dato" and
        its contacts, to ask them."""
        kind, _, ident = target.partition(":")
        if kind == "topic" and ident in self.kb.topics:
            return self._aspect_of_topic(state, ident, "wait", text, today)
        turn = self._prefixed(
            self.goto(state, target, today), self.kb.message("no_aspect", state.lang)
        )
        return replace(turn, events=(*turn.events, Event("unanswered", text)))

    def _answers_else(self, decision: Decision) -> bool:
        """A clear answer about a subject outside the protective areas."""
        if decision.kind != "answer" or decision.score < LOW_CONFIDENCE:
            return False
        return self._area(decision.targets[0]) not in PROTECTIVE_AREAS

    def _not_understood(self, state: State, text: str, decision: Decision) -> Turn:
        """Admit it plainly, offering only readings that are plausible, and the menu."""
        lang = state.lang
        guesses = (*decision.targets[:2], "menu:main")
        events = [Event("unanswered", text)]
        if decision.targets:
            events.append(Event("near_miss", text, targets=decision.targets[:2]))
            reply = self.render.choices(self.kb.message("not_understood", lang), guesses, lang)
        else:
            intro = self.kb.message("not_understood_no_guess", lang)
            menu = self.goto(replace(state, trail=()), "menu:main")
            return replace(self._prefixed(menu, intro), events=tuple(events))
        return Turn(replace(state, options=guesses, awaiting=None), [reply], events)

    def _protective(self, state: State, norm: str) -> str | None:
        """A protection or refuge topic the message clearly asks about, if any."""
        decision = self.understanding.decide(state, norm)
        if decision.kind != "answer" or not decision.targets[0].startswith("topic:"):
            return None
        target = decision.targets[0]
        return target[6:] if self._area(target) in PROTECTIVE_AREAS else None

    def _service_context(self, state: State) -> str | None:
        """The service the conversation is about: asked for, or the last answer's area."""
        if state.service:
            return state.service
        kind = self.kb.safety.kind(state.danger or "")
        if kind and kind.services:
            return kind.services[0]
        area = self._area(state.last) if state.last else None
        return self.kb.area_services.get(area or "")

    def _area(self, target: str) -> str | None:
        return self.understanding.area_of(target)

    def _context(self, state: State, norm: str) -> State:
        """In safety mode, the protection menu is the context of the next message."""
        if state.danger and not state.menu:
            return replace(state, menu="protection")
        return state

    def _needs_certainty(self, state: State, norm: str) -> bool:
        words = norm.split()
        if len(words) <= SHORT_MESSAGE:
            return True
        follow_up = words[0] in ("y", "and") and len(words) <= SAFETY_FOLLOW_UP_WORDS
        return follow_up and state.last is not None and not state.danger

    def _changes_subject(self, decision: Decision, norm: str) -> bool:
        """A confident answer outside protection to a message that names its subject
        ("¿y el SIS?", a long new question), not a short vague follow-up."""
        if decision.kind != "answer" or self._area(decision.targets[0]) in PROTECTIVE_AREAS:
            return False
        named = any(
            h.target == decision.targets[0] and h.phrases for h in self.understanding.hits(norm)[:3]
        )
        return named or len(norm.split()) > SAFETY_FOLLOW_UP_WORDS

    def _safety_follow_up(self, state: State, norm: str, today: date | None) -> Turn:
        """The best protection topic for a follow-up in safety mode, else the kind's help."""
        hits = self.understanding.hits(norm)
        for target, score in self.understanding.blend(norm, hits).ranked:
            protective = self._area(target) == "protection" and target.startswith("topic:")
            if protective and target != state.last and score >= SAFETY_FOLLOW_UP_SCORE:
                return self.goto(state, target, today)
        kind = self.kb.safety.kind(state.danger or "")
        if kind is None:
            return self._not_understood(state, norm, Decision("unknown"))
        reply = self.safety.numbers_reply([kind], state.lang)
        turn = self.goto(state, f"topic:{kind.topic}", today) if kind.topic else None
        replies = [reply, *(turn.replies[:1] if turn else [])]
        new = turn.state if turn else state
        return Turn(new, replies, [Event("danger", kind.id)])

    def _intent(self, state: State, intent: str, text: str) -> Turn:
        """Small talk, out of scope: short fitting replies, never logged as unanswered."""
        name = intent.partition(":")[2]
        if name == "greeting":
            turn = self.goto(replace(state, trail=()), "menu:main")
            return self._prefixed(turn, self.kb.message("welcome", state.lang))
        if name == "thanks":
            return self._feedback_up(state) or self._say(state, "thanks")
        if name == "goodbye":
            return self._say(state, "goodbye")
        if name == "repair":
            return self._repair(state, text)
        return self._out_of_scope(state, text)

    def _out_of_scope(self, state: State, text: str) -> Turn:
        """An honest "no tengo esa información", and where to ask."""
        lang = state.lang
        intro = self.kb.message("out_of_scope", lang)
        events = [Event("out_of_scope", text)]
        if state.city and self.kb.organisations_in(state.city):
            ask = self.kb.message("out_of_scope_ask", lang)
            turn = self._organisations_in(state, state.city, f"{intro}\n\n{ask}")
            return replace(turn, events=tuple(events))
        ask = self.kb.message("out_of_scope_city", lang)
        return Turn(
            replace(state, awaiting="city", options=()), [Reply(f"{intro}\n\n{ask}")], events
        )

    # -- feedback, repair and follow-ups --------------------------------------

    def _feedback(self, state: State, norm: str) -> Turn | None:
        """👍 / 👎 (or "1"/"2" after the buttons) about the last answer."""
        if norm == "feedback up":
            return self._feedback_up(state) or self._say(state, "thanks")
        if norm == "feedback down" and state.last:
            return self._repair(state, norm)
        return None

    def _feedback_up(self, state: State) -> Turn | None:
        if not state.last:
            return None
        turn = self._say(state, "feedback_thanks")
        return replace(turn, events=(Event("feedback", state.last, rating="up"),))

    def _repair(self, state: State, text: str) -> Turn:
        """ "Eso no": an apology, the next-best readings, and the offer of a person."""
        lang = state.lang
        events = [Event("feedback", state.last, rating="down")] if state.last else []
        if state.last:
            events.append(Event("near_miss", text, targets=(state.last,)))
        replies = [Reply(self.kb.message("repair", lang))]
        options = tuple(t for t in state.alternatives if t != state.last)[:3]
        if options:
            replies = [
                self.render.choices(
                    f"{replies[0].text} {self.kb.message('repair_options', lang)}", options, lang
                )
            ]
        city = self.kb.cities.get(state.city or "")
        if city and self.kb.organisations_in(city.id):
            intro = self.kb.message("repair_person", lang, city=city.name)
            orgs = self.kb.organisations_in(city.id)
            replies.append(Reply("\n".join([intro, *(self.render.org_line(o) for o in orgs)])))
        else:
            replies.append(Reply(self.kb.message("repair_person_no_city", lang)))
        new = replace(
            state, options=options, alternatives=(), awaiting=None, repairs=state.repairs + 1
        )
        return Turn(new, replies, events)

    def _follow_up_aspect(
        self, state: State, norm: str, text: str, today: date | None
    ) -> Turn | None:
        """ "¿y cuánto cuesta?" after a topic: that topic's facts on cost, not all of it."""
        if not state.last:
            return None
        aspect = self.aspects.asked(norm)
        if aspect is None:
            return None
        # In safety mode "¿me van a deportar si denuncio?" is about the danger's help.
        safety_status = bool(state.danger) and aspect == "status"
        kind, _, ident = state.last.partition(":")
        named = None if safety_status else self._named_entry(state, norm)
        pointed = self._pointed_back(norm, ident) if named and aspect != "contact" else None
        if pointed:
            # "¿y el carné ese se vence?" after asking for refuge: the applicant's card,
            # which the last answer spoke of, not a new subject.
            return self._aspect_of_topic(state, pointed, aspect, text, today)
        if named:
            return None
        if aspect == "contact":
            return self._contact_of_last(state, today)
        if kind != "topic" or ident not in self.kb.topics:
            return None
        return self._aspect_of_topic(state, ident, aspect, text, today)

    def _aspect_of_topic(
        self, state: State, ident: str, aspect: str, text: str, today: date | None
    ) -> Turn:
        """A topic's facts on one aspect, or "no tengo ese dato" with its official link."""
        topic = self.kb.topics[ident]
        lang = state.lang
        facts = self.aspects.facts(topic, aspect, lang)
        others = [
            (self.kb.topics[r], self.aspects.facts(self.kb.topics[r], aspect, lang))
            for r in topic.related
            if r in self.kb.topics
        ]
        others = [(other, found) for other, found in others if found]
        if others and not facts:
            # The carné de solicitante says whether one may work while refuge is decided.
            topic, facts = others[0]
        elif others:
            # "¿qué papeles piden?" after the visa: its requirements entry says far more.
            richest = max(others, key=lambda item: len(item[1]))
            if len(richest[1]) >= max(RICHER_FACTS, 2 * len(facts)):
                topic, facts = richest
        label = self.kb.aspects[aspect].label.get(lang)
        header = f"*{topic.title.get(lang)}: {label}*"
        links = [f"🔗 {link.url}" for link in topic.links[:2]]
        if facts:
            body = "\n".join([header, *(f"• {f}" for f in facts), *links])
            source = self.render.provenance(topic, lang, today)
            reply = Reply("\n\n".join([body, "\n".join(source)]), short=header)
        elif links:
            reply = Reply("\n".join([header, self.kb.message("no_aspect", lang), *links]))
        else:
            reply = Reply("\n".join([header, self.kb.message("no_aspect_no_link", lang)]))
        last = f"topic:{ident}"
        events = [Event("answered", last, aspect=aspect)]
        if not facts:
            # The sources do not say: editors see the question with the unanswered ones.
            events.append(Event("unanswered", text))
        return Turn(replace(state, last=last), [reply], events)

    def _named_entry(self, state: State, norm: str) -> str | None:
        """ "¿y el SIS cuánto cuesta?" names another entry than the last answer's."""
        hits = self.understanding.hits(norm)[:3]
        blend = self.understanding.blend(norm, hits).ranked
        aspect_words = set(self.aspects.words)
        content = [w for w in norm.split() if w not in aspect_words]
        if not content or not blend:
            return None
        target, score = blend[0]
        if target != state.last and score >= 0.62 and not target.startswith("intent:"):
            return target
        return None

    def _pointed_back(self, norm: str, last: str) -> str | None:
        """An entry the last answer relates to, named and pointed at with "ese"/"esa"."""
        topic = self.kb.topics.get(last)
        if topic is None or not set(norm.split()) & intents.DEMONSTRATIVES:
            return None
        blend = self.understanding.blend(norm, self.understanding.hits(norm)[:3]).ranked
        for target, score in blend[:POINTED_CANDIDATES]:
            if target.startswith("topic:") and target[6:] in topic.related and score >= 0.4:
                return target[6:]
        return None

    def _contact_of_last(self, state: State, today: date | None) -> Turn | None:
        """ "¿y el teléfono?": the last organisation's or consulate's contact, or the
        contacts of the organisations just listed."""
        kind, _, ident = (state.last or "").partition(":")
        if kind in ("org", "consulate"):
            return self.goto(state, state.last or "", today)
        listed = [t[4:] for t in state.options if t.startswith("org:")]
        orgs = [self.kb.organisations[i] for i in listed if i in self.kb.organisations]
        if orgs:
            lines = [self.render.org_line(o) for o in orgs]
            listed = f"list:ngos:{state.city}" if state.city else "list:ngos"
            answered = Event("answered", listed, aspect="contact")
            return Turn(state, [Reply("\n".join(lines))], [answered])
        consulates = self.kb.consulates_in(state.city or "")
        if consulates and self._area(state.last or "") == "entry":
            # "¿tienen teléfono ahí?" after the visa for someone in Leticia.
            return self.goto(state, f"consulate:{consulates[0].id}", today)
        if kind == "topic" and ident in self.kb.topics:
            topic = self.kb.topics[ident]
            if topic.phones or topic.emails:
                return self.goto(state, state.last or "", today)
        return None

    # -- going to a target ----------------------------------------------------

    def goto(self, state: State, target: str, today: date | None = None) -> Turn:
        """Show ``target`` (``menu:…``, ``topic:…``, ``org:…``, ``consulate:…``,
        ``city:…``, ``service:…``, ``list:…``) and move the state there; the main menu
        when it names nothing. Each kind of :data:`~knowledge.targets.TARGET_KINDS`
        has one handler in :attr:`shows`."""
        if not self.kb.has_target(target):
            return self.goto(state, "menu:main")
        kind, _, ident = target.partition(":")
        return self.shows[kind](state, ident, today)

    def _show_menu(self, state: State, ident: str, today: date | None) -> Turn:
        menu = self.kb.menus[ident]
        trail = (*state.trail, ident) if ident != "main" else ()
        new = replace(state, menu=ident, trail=trail, options=tuple(o.target for o in menu.options))
        answered = [Event("answered", f"menu:{ident}")] if ident != "main" else []
        return Turn(new, [self.render.menu(menu, state.lang)], answered)

    def _show_topic(self, state: State, ident: str, today: date | None) -> Turn:
        lang = state.lang
        topic = self.kb.topics[ident]
        replies = [self.render.topic(topic, lang, today)]
        related = tuple(f"topic:{r}" for r in topic.related)
        if related:
            replies.append(self.render.choices(self.kb.message("see_also", lang), related, lang))
        replies[-1] = replace(replies[-1], feedback=True)
        target = f"topic:{ident}"
        new = replace(state, last=target, options=related, awaiting=None, service=None)
        return Turn(new, replies, [Event("answered", target)])

    def _show_organisation(self, state: State, ident: str, today: date | None) -> Turn:
        reply = self.render.organisation(self.kb.organisations[ident], state.lang, today)
        new = replace(state, last=f"org:{ident}", awaiting=None, options=())
        return Turn(new, [reply], [Event("answered", f"org:{ident}")])

    def _show_consulate(self, state: State, ident: str, today: date | None) -> Turn:
        reply = self.render.consulate(self.kb.consulates[ident], state.lang, today)
        new = replace(state, last=f"consulate:{ident}", awaiting=None, options=())
        return Turn(new, [reply], [Event("answered", f"consulate:{ident}")])

    def _show_city(self, state: State, ident: str, today: date | None) -> Turn:
        return self._organisations_in(replace(state, city=ident), ident)

    def _show_service(self, state: State, ident: str, today: date | None) -> Turn:
        return self._organisations_offering(state, ident)

    def _show_list(self, state: State, ident: str, today: date | None) -> Turn:
        return self.lists[ident](state, today)

    def _list_consulates(self, state: State, today: date | None) -> Turn:
        reply = self.render.consulates(state.lang, today)
        new = replace(state, last="list:consulates", options=())
        return Turn(new, [reply], [Event("answered", "list:consulates")])

    def _list_foreign_consulates(self, state: State, today: date | None) -> Turn:
        # An honest "no data": counted with the out-of-scope questions.
        reply = Reply(self.kb.message("foreign_consulate", state.lang))
        return Turn(replace(state, last=None, options=()), [reply], [Event("out_of_scope", "")])

    def _list_ngos(self, state: State, today: date | None) -> Turn:
        if state.city and self.kb.organisations_in(state.city):
            return self._organisations_in(state, state.city)
        return self._ask_city(state)

    def _list_emergency(self, state: State, today: date | None) -> Turn:
        if EMERGENCY_TOPIC in self.kb.topics:
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
        new = replace(state, awaiting=None, options=options, service=service_id)
        return Turn(new, [reply], events)

    def _near_location(self, state: State, location: Location) -> Turn:
        covered = [c.id for c in self.kb.covered_cities()]
        city = self.cities.nearest(location.latitude, location.longitude, covered)
        if city is None:
            return self._ask_city(state)
        intro = self.kb.message("ngos_nearest", state.lang, city=city.name)
        return self._organisations_in(state, city.id, intro)
