"""From a free-text message to a decision: answer, ask which one, or admit it.

Combines the keyword search (:mod:`knowledge.search`), the city finder
(:mod:`flows.places`) and who the question is about
(:func:`flows.intents.audiences`), weighted by where the user is in the menus.
Never answers an entry it is not confident about: below the threshold the
engine says so and offers the most likely topics.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from flows import intents
from flows.places import CityFinder, CityMention
from flows.turn import State
from knowledge.base import KnowledgeBase
from knowledge.schema import AREAS, Organisation
from knowledge.search import Hit, SearchIndex, content_words
from knowledge.text import normalise

#: A hit at least this strong, with no close rival, is answered directly.
ANSWER_SCORE = 3.0
#: Hits scoring at least this share of the best one count as close rivals.
CLOSE_RATIO = 0.9
#: Weaker than this, a hit is not even offered as a guess.
GUESS_SCORE = 1.0
CONTEXT_BOOST = 1.3
AUDIENCE_BOOST = 1.5
CITY_BOOST = 1.2
LAST_BOOST = 1.2
#: The most any candidate can be boosted (all boosts at once), for the search's pruning.
MAX_BOOST = CONTEXT_BOOST * LAST_BOOST * AUDIENCE_BOOST * CITY_BOOST

CONSULATE_WORDS = {"consulado", "consulados", "consulate", "consulates", "consul", "consular"}
NGO_WORDS = {
    "ong", "ngo", "fundacion", "fundaciones", "organizacion", "organizaciones", "asociacion",
    "asociaciones", "organization", "organizations", "organisation", "organisations",
    "foundation", "charity", "charities", "ayudan", "apoyan", "help",
}  # fmt: skip
NGO_PHRASES = (
    "quien ayuda",
    "quien me ayuda",
    "quien me puede ayudar",
    "who helps",
    "who can help",
)


@dataclass(frozen=True)
class Decision:
    """What to do with a message: ``answer`` targets[0], ``clarify`` between
    targets, or ``unknown`` (targets are guesses, maybe none)."""

    kind: Literal["answer", "clarify", "unknown"]
    targets: tuple[str, ...] = ()
    city: str | None = None
    safety: bool = False
    score: float = 0.0


class Understanding:
    """Interprets free text against one knowledge base."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self.index = SearchIndex.build(kb, extra=self._menu_phrases())
        self.cities = CityFinder(kb.cities.values(), topic_words=set(self.index.idf))
        self.menu_area = self._menu_areas()
        self.service_phrases = sorted(
            (
                (normalise(phrase), service.id)
                for service in kb.services.values()
                for phrase in (*service.keywords.all(), service.label.es, service.label.en)
            ),
            key=lambda item: -len(item[0]),
        )
        # Positions in service_phrases by first word: a message can only contain a phrase
        # whose first word it has, so only those are tried (same order, same result).
        self.service_phrases_by_word: dict[str, list[int]] = defaultdict(list)
        for position, (phrase, _) in enumerate(self.service_phrases):
            if phrase:
                self.service_phrases_by_word[phrase.split()[0]].append(position)

    def _menu_phrases(self) -> list[tuple[str, str]]:
        phrases = []
        for menu in self.kb.menus.values():
            phrases += [(f"menu:{menu.id}", k) for k in menu.keywords.all()]
            for option in menu.options:
                if option.target.startswith("menu:"):
                    phrases += [(option.target, option.label.es), (option.target, option.label.en)]
        return phrases

    def _menu_areas(self) -> dict[str, str]:
        """Each menu's area: the area whose menu leads to it."""
        areas: dict[str, str] = {}
        for area in AREAS:
            queue = [area]
            while queue:
                menu_id = queue.pop()
                if menu_id in areas or menu_id not in self.kb.menus:
                    continue
                areas[menu_id] = area
                queue += [
                    o.target[5:]
                    for o in self.kb.menus[menu_id].options
                    if o.target.startswith("menu:")
                ]
        return areas

    def area_of(self, target: str) -> str | None:
        kind, _, ident = target.partition(":")
        if kind == "topic" and ident in self.kb.topics:
            return self.kb.topics[ident].area
        if kind == "org":
            return "ngos"
        if kind == "consulate":
            return "entry"
        if kind == "menu":
            return self.menu_area.get(ident)
        return None

    def nationwide_organisations(self, limit: int = 5) -> list[Organisation]:
        """Organisations covering the most cities, as a fallback for uncovered places."""
        orgs = sorted(self.kb.organisations.values(), key=lambda o: -len(o.cities))
        return [o for o in orgs if len(o.cities) >= 3][:limit] or orgs[:limit]

    # -- deciding -------------------------------------------------------------

    def decide(self, state: State, norm: str) -> Decision:
        safety = intents.is_safety(norm)
        mention = self.cities.find(norm)
        city = mention.city if mention else None
        route = self._city_route(state, norm, mention)
        if route:
            return Decision("answer", (route,), city, safety, ANSWER_SCORE)
        if state.last and intents.is_attribute_question(norm, self.index.known_words(norm)):
            # "y cuánto cuesta?", "link?": a question about what was just answered.
            return Decision("answer", (state.last,), city, safety, ANSWER_SCORE)
        boost = self._booster(state, norm, city)
        hits = self.index.search(norm, boost=boost, max_boost=MAX_BOOST)
        decision = self._rank(hits, city, safety)
        service = self._service_asked(norm, asks_ngo=bool(set(norm.split()) & NGO_WORDS))
        vague = decision.kind == "unknown" or decision.targets[0].startswith("menu:")
        if service and (vague or service[1]):
            return Decision("answer", (f"service:{service[0]}",), city, safety, ANSWER_SCORE)
        if decision.kind != "answer" and self._wants_ngo_list(norm):
            return Decision("answer", ("list:ngos",), city, safety, ANSWER_SCORE)
        if decision.kind != "answer" and hits and state.last:
            decision = self._follow_up(state, norm, hits, boost, decision)
        return decision

    def _booster(self, state: State, norm: str, city: str | None) -> Callable[[str], float]:
        """How much to favour each candidate: menu context, audience, city, last answer."""
        audience = intents.audiences(norm)
        context_city = city or state.city
        context_area = self.menu_area.get(state.menu or "")
        last_area = self.area_of(state.last) if state.last else None

        def boost(target: str) -> float:
            factor = 1.0
            area = self.area_of(target)
            if area and area in (context_area, last_area):
                factor *= CONTEXT_BOOST
            if target == state.last:
                factor *= LAST_BOOST
            kind, _, ident = target.partition(":")
            if kind == "topic" and audience & set(self.kb.topics[ident].audience):
                factor *= AUDIENCE_BOOST
            if kind == "org" and context_city in self.kb.organisations[ident].cities:
                factor *= CITY_BOOST
            return factor

        return boost

    def _follow_up(
        self,
        state: State,
        norm: str,
        hits: list[Hit],
        boost: Callable[[str], float],
        decision: Decision,
    ) -> Decision:
        """Read a short follow-up ("y para mi bebé?") in the light of the last answer."""
        if len(content_words(norm)) > 4 or state.last is None:
            return decision
        kind, _, ident = state.last.partition(":")
        if kind != "topic" or ident not in self.kb.topics:
            return decision
        title = self.kb.topics[ident].title
        extended = f"{norm} {normalise(title.es)} {normalise(title.en)}"
        again = self._rank(
            self.index.search(extended, boost=boost, max_boost=MAX_BOOST),
            decision.city,
            decision.safety,
        )
        if again.kind == "answer" and again.score > hits[0].score:
            return again
        return decision

    def _rank(self, hits: list[Hit], city: str | None, safety: bool) -> Decision:
        """Answer, clarify or admit. Only candidates with a complete keyword phrase
        in the message may be answered; partial matches are offered as guesses."""
        hits = [h for h in hits if h.score >= GUESS_SCORE]
        complete = [h for h in hits if h.phrases]
        if not complete:
            return Decision("unknown", tuple(h.target for h in hits[:2]), city, safety)
        top = complete[0]
        # A rival whose matched words the best hit also covers explains less of the
        # message ("papeles colegio" vs "no tengo papeles colegio"): not a real rival.
        close = [
            h.target
            for h in complete
            if h.score >= top.score * CLOSE_RATIO and (h is top or not h.covered < top.covered)
        ]
        exact = [h.target for h in complete if h.exact and h.target in close]
        if len(close) == 1 and (top.score >= ANSWER_SCORE or top.exact):
            return Decision("answer", (top.target,), city, safety, top.score)
        if len(exact) == 1 and top.exact:
            # The whole message is one entry's keyword ("sis"): that entry, not its cousins.
            return Decision("answer", (top.target,), city, safety, top.score)
        menu = self._menu_covering(close)
        if menu and (top.score >= ANSWER_SCORE or top.exact):
            return Decision("answer", (menu,), city, safety, top.score)
        if top.score >= ANSWER_SCORE or top.exact:
            return Decision("clarify", tuple(close[:3]), city, safety, top.score)
        return Decision("unknown", tuple(h.target for h in hits[:2]), city, safety, top.score)

    def _service_asked(self, norm: str, asks_ngo: bool) -> tuple[str, bool] | None:
        """The service tag a message names, and whether it clearly asks for an organisation.

        "una ong que dé apoyo psicológico" names the service and asks for an NGO;
        "apoyo psicológico gratis" (two or more words of a service) is offered only
        when nothing else answers; a single word ("hijo") is never enough alone.
        """
        padded = f" {norm} "
        by_word = self.service_phrases_by_word
        positions = sorted({p for word in set(norm.split()) for p in by_word.get(word, ())})
        for position in positions:
            phrase, service = self.service_phrases[position]
            if f" {phrase} " in padded and (asks_ngo or " " in phrase):
                return service, asks_ngo
        return None

    def _wants_ngo_list(self, norm: str) -> bool:
        """ "hay alguna ong?" with no city and no organisation named."""
        return bool(set(norm.split()) & NGO_WORDS) and len(content_words(norm)) <= 4

    def _menu_covering(self, targets: list[str]) -> str | None:
        """A menu among ``targets`` that lists all the others ("los planes del SIS")."""
        for target in targets:
            if target.startswith("menu:") and target[5:] in self.kb.menus:
                listed = {o.target for o in self.kb.menus[target[5:]].options}
                if all(t in listed or t == target for t in targets):
                    return target
        return None

    def _city_route(self, state: State, norm: str, mention: CityMention | None) -> str | None:
        """Answers decided by a city: its consulate, its NGOs, or the NGO list."""
        words = set(norm.split())
        if words & CONSULATE_WORDS:
            if mention and self.kb.consulates_in(mention.city):
                return f"consulate:{self.kb.consulates_in(mention.city)[0].id}"
            remaining = set(content_words(norm)) - CONSULATE_WORDS
            return "list:consulates" if len(remaining) <= 2 else None
        wants_ngos = (
            bool(words & NGO_WORDS)
            or intents.contains_phrase(norm, NGO_PHRASES)
            or state.awaiting == "city"
        )
        if mention is None:
            return None
        only_city = not (set(content_words(norm)) - mention.words)
        if wants_ngos or only_city:
            if self.kb.organisations_in(mention.city) or not self.kb.consulates_in(mention.city):
                return f"city:{mention.city}"
            return f"consulate:{self.kb.consulates_in(mention.city)[0].id}"
        return None
