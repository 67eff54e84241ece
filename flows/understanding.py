"""From a free-text message to a decision: answer, ask which one, or admit it.

Three signals rank the candidates (see :mod:`flows.scoring`): complete keyword
phrases (:mod:`knowledge.search`), BM25 over each entry's document, and the
similarity to the example questions. Their scores are blended, multiplied by
the context (the menu the user is in, the last answer, who the question is
about, the city), and the decision is taken on the blend and its margin over
the runner-up:

- **answer** when the best reading is clear;
- **clarify** when two or three readings are close, offering only those;
- **unknown** otherwise: the engine admits it.

Intents (small talk, out of scope, repair) are targets like any other
(``intent:thanks``), learnt from the examples in ``knowledge/data/intents.yaml``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from flows import intents
from flows.places import CityFinder, CityMention
from flows.scoring.danger import Danger
from flows.scoring.models import fit_models
from flows.turn import State
from knowledge.base import KnowledgeBase
from knowledge.schema import AREAS, Organisation
from knowledge.search import Hit, SearchIndex, content_words
from knowledge.text import normalise

#: How much each signal weighs in the blend (chosen on the tuned set; see
#: docs/understanding.md for the measurement and the ablation).
WEIGHTS = {"phrases": 0.3, "bm25": 0.4, "examples": 0.6}
#: BM25 score at which its part of the blend is half way to its maximum.
BM25_HALF = 8.0
#: The blend needed to answer, and the lead over the runner-up that makes it clear.
BLEND_ANSWER = 0.45
BLEND_MARGIN = 0.0
#: Below this blend a candidate is not even offered as a reading.
BLEND_OFFER = 0.42
#: Readings within this share of the best are close enough to ask about.
BLEND_CLOSE = 0.92
#: A message longer than this is a story; its last TAIL_WORDS are also read alone.
STORY_WORDS, TAIL_WORDS = 14, 10
#: How many signals must choose a reading first for it to be answered.
AGREEMENT = 2
#: Small talk answers only short messages, and only when clearly small talk.
INTENT_ANSWER = 0.6
SMALL_TALK_WORDS = 7

#: A complete phrase hit this strong is the phrase signal at full strength.
ANSWER_SCORE = 3.0
CONTEXT_BOOST = 1.3
AUDIENCE_BOOST = 1.5
CITY_BOOST = 1.2
LAST_BOOST = 1.2
#: An organisation the message names ("Veneactiva", "SJS"): the person means that one.
NAMED_BOOST = 1.5
#: The most any candidate can be boosted (all boosts at once), for the search's pruning.
MAX_BOOST = CONTEXT_BOOST * LAST_BOOST * AUDIENCE_BOOST * CITY_BOOST * NAMED_BOOST
#: Context multiplies a blended score by its boost to this power.
BOOST_POWER = 0.5

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
class Blend:
    """Candidates with their blended score, best first, and each signal's first choice."""

    ranked: list[tuple[str, float]]
    tops: tuple[str, ...] = ()

    def votes(self, target: str) -> int:
        return sum(t == target for t in self.tops)


@dataclass(frozen=True)
class Decision:
    """What to do with a message: ``answer`` targets[0], ``clarify`` between
    targets, or ``unknown`` (targets are guesses, maybe none)."""

    kind: Literal["answer", "clarify", "unknown", "intent"]
    targets: tuple[str, ...] = ()
    city: str | None = None
    score: float = 0.0
    #: Other plausible readings, best first, for repair ("eso no").
    alternatives: tuple[str, ...] = ()


class Understanding:
    """Interprets free text against one knowledge base."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self.index = SearchIndex.build(kb, extra=self._menu_phrases())
        self.models = fit_models(kb)
        self._hits: dict[str, list[Hit]] = {}
        self._scores: dict[str, tuple[dict[str, float], list[tuple[str, float]]]] = {}
        self.cities = CityFinder(kb.cities.values(), topic_words=set(self.index.idf))
        #: Each organisation's own names, normalised ("vene activa", "veneactiva").
        self.org_names = [
            (f" {name} ", f"org:{org.id}")
            for org in kb.organisations.values()
            for name in {normalise(org.name), normalise(org.short_name or "")}
            if len(name) >= 3
        ]
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

    def dangers(self, norm: str) -> list[Danger]:
        """Kinds of danger the message describes, most confident first."""
        return self.models.danger.read(norm)

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
        """A menu's area as the menus place it; any other target's by the knowledge's
        table of target kinds (:meth:`~knowledge.base.KnowledgeBase.area_of`)."""
        kind, _, ident = target.partition(":")
        if kind == "menu":
            return self.menu_area.get(ident)
        return self.kb.area_of(target)

    def nationwide_organisations(self, limit: int = 5) -> list[Organisation]:
        """Organisations covering the most cities, as a fallback for uncovered places."""
        orgs = sorted(self.kb.organisations.values(), key=lambda o: -len(o.cities))
        return [o for o in orgs if len(o.cities) >= 3][:limit] or orgs[:limit]

    # -- deciding -------------------------------------------------------------

    def decide(self, state: State, norm: str) -> Decision:
        mention = self.cities.find(norm)
        city = mention.city if mention else None
        route = self._city_route(state, norm, mention)
        if route:
            return Decision("answer", (route,), city, score=1.0)
        boost = self._booster(state, norm, city)
        hits = self.hits(norm)
        decision = self._choose(norm, self.blend(norm, hits, boost), hits, city)
        if decision.kind == "intent":
            return decision
        service = self._service_asked(norm, asks_ngo=bool(set(norm.split()) & NGO_WORDS))
        vague = decision.kind == "unknown" or decision.targets[0].startswith("menu:")
        if service and (vague or service[1]):
            return Decision("answer", (f"service:{service[0]}",), city, score=1.0)
        if decision.kind != "answer" and self._wants_ngo_list(norm):
            return Decision("answer", ("list:ngos",), city, score=1.0)
        if decision.kind != "answer" and state.last:
            decision = self._follow_up(state, norm, boost, decision)
        return decision

    def blend(
        self, norm: str, hits: list[Hit], boost: Callable[[str], float] | None = None
    ) -> Blend:
        """Every candidate's blended score, best first (see ``WEIGHTS``), and each
        signal's own first choice."""
        examples, bm25 = self._signals(norm)
        phrases = {h.target: phrase_strength(h) for h in hits}
        candidates = {**dict.fromkeys(examples), **dict.fromkeys(t for t, _ in bm25)}
        candidates.update(dict.fromkeys(phrases))
        bm25_of = dict(bm25)
        total = sum(WEIGHTS.values())
        scored = []
        for target in candidates:
            value = (
                WEIGHTS["phrases"] * phrases.get(target, 0.0)
                + WEIGHTS["bm25"] * saturate(bm25_of.get(target, 0.0))
                + WEIGHTS["examples"] * examples.get(target, 0.0)
            ) / total
            if boost is not None:
                value *= boost(target) ** BOOST_POWER
            scored.append((target, round(value, 4)))
        tops = tuple(
            max(signal, key=lambda t: (signal[t], t))
            for signal in (examples, bm25_of, {h.target: h.score for h in hits if h.phrases})
            if signal
        )
        return Blend(sorted(scored, key=lambda item: (-item[1], item[0])), tops)

    def hits(self, norm: str) -> list[Hit]:
        """The phrase signal's candidates for a normalised message (cached: the engine
        asks about the same message from several steps)."""
        found = self._hits.get(norm)
        if found is None:
            found = self.index.search(norm, limit=8)
            self._remember(self._hits, norm, found)
        return found

    def _signals(self, norm: str) -> tuple[dict[str, float], list[tuple[str, float]]]:
        """The example and BM25 scores of a message, which no context changes (cached)."""
        cached = self._scores.get(norm)
        if cached is not None:
            return cached
        models = self.models
        examples = models.examples.score(models.vectorise(norm), limit=8)
        words = norm.split()
        if len(words) > STORY_WORDS:
            # In a story the question is usually at the end: score it on its own too.
            tail = models.examples.score(models.vectorise(" ".join(words[-TAIL_WORDS:])), limit=8)
            for target, value in tail.items():
                examples[target] = max(value, examples.get(target, 0.0))
        bm25 = sorted(models.bm25.score(norm).items(), key=lambda item: -item[1])
        self._remember(self._scores, norm, (examples, bm25))
        return examples, bm25

    @staticmethod
    def _remember(cache: dict, key: str, value: object) -> None:
        if len(cache) > 512:  # a few recent messages are all that is asked again
            cache.clear()
        cache[key] = value

    def _choose(self, norm: str, ranking: Blend, hits: list[Hit], city: str | None) -> Decision:
        """Answer, ask between close readings, or admit.

        A reading is answered only when it is clearly ahead and at least
        ``AGREEMENT`` signals chose it first; when the signals disagree, their
        choices are the plausible readings to ask about.
        """
        blend = ranking.ranked
        if blend and blend[0][0].startswith("intent:"):
            intent, score = blend[0]
            runner_up = blend[1][1] if len(blend) > 1 else 0.0
            short = len(norm.split()) <= SMALL_TALK_WORDS or intent == "intent:out_of_scope"
            if short and score >= INTENT_ANSWER * BLEND_ANSWER and score - runner_up > 0.02:
                return Decision("intent", (intent,), city, score=score)
        readings = [(t, v) for t, v in blend if not t.startswith("intent:")]
        if not readings or readings[0][1] < BLEND_OFFER:
            guesses = tuple(t for t, v in readings[:2] if v >= BLEND_OFFER * 0.8)
            return Decision("unknown", guesses, city, score=readings[0][1] if readings else 0.0)
        top, score = readings[0]
        runner_up = readings[1][1] if len(readings) > 1 else 0.0
        others = tuple(t for t, v in readings[1:4] if v >= BLEND_OFFER)
        # The whole message is one entry's keyword ("sis"): that entry, unless it is
        # several entries' keyword ("covid"), which is a real ambiguity.
        exact = {h.target for h in hits if h.exact}
        sole_exact = len(exact) == 1 and top in exact
        agreed = ranking.votes(top) >= AGREEMENT
        if score >= BLEND_ANSWER and ((score - runner_up >= BLEND_MARGIN and agreed) or sole_exact):
            return Decision("answer", (top,), city, score=score, alternatives=others)
        close = [t for t, v in readings[:3] if v >= max(BLEND_OFFER, score * BLEND_CLOSE)]
        if not agreed:
            rivals = [t for t in ranking.tops if t != top and not t.startswith("intent:")]
            close = list(dict.fromkeys([top, *close, *rivals]))[:3]
        menu = self._menu_covering(close)
        if menu and score >= BLEND_ANSWER:
            return Decision("answer", (menu,), city, score=score, alternatives=others)
        # One subject seen from several sides (the readings are linked by ``related``),
        # and no signal prefers another side more than the first: answer the first,
        # whose answer offers the others.
        leads = all(ranking.votes(top) >= ranking.votes(t) for t in close)
        if len(close) >= 2 and score >= BLEND_ANSWER and leads and self._one_family(close):
            return Decision("answer", (top,), city, score=score, alternatives=tuple(close[1:]))
        if len(close) >= 2:
            return Decision("clarify", tuple(close), city, score=score)
        if score >= BLEND_ANSWER and agreed:
            return Decision("answer", (top,), city, score=score, alternatives=others)
        return Decision("unknown", (top, *others[:1]), city, score=score)

    def _one_family(self, targets: list[str]) -> bool:
        """Readings that are one subject seen from several sides: every other reading
        is linked to the first by ``related`` (either way)."""
        first, *others = targets
        kind, _, ident = first.partition(":")
        if kind != "topic" or ident not in self.kb.topics:
            return False
        mine = {f"topic:{r}" for r in self.kb.topics[ident].related}
        for other in others:
            kind, _, oid = other.partition(":")
            if kind != "topic" or oid not in self.kb.topics:
                return False
            theirs = {f"topic:{r}" for r in self.kb.topics[oid].related}
            if other not in mine and first not in theirs:
                return False
        return True

    def _booster(self, state: State, norm: str, city: str | None) -> Callable[[str], float]:
        """How much to favour each candidate: menu context, audience, city, last answer."""
        audience = intents.audiences(norm)
        context_city = city or state.city
        context_area = self.menu_area.get(state.menu or "")
        last_area = self.area_of(state.last) if state.last else None
        padded = f" {norm} "
        named = {target for name, target in self.org_names if name in padded}

        def boost(target: str) -> float:
            factor = NAMED_BOOST if target in named else 1.0
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
        hits = self.hits(extended)
        again = self._choose(extended, self.blend(extended, hits, boost), hits, decision.city)
        if again.kind == "answer" and again.score > decision.score:
            return again
        return decision

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

    def foreign_office(self, norm: str) -> str | None:
        """ "consulado de Venezuela en Lima": that country's office in Peru, not Peru's
        abroad. The topic about it, or ``list:foreign-consulates`` when there is none."""
        offices = self.kb.foreign_offices
        if offices is None:
            return None
        words = norm.split()
        if set(words) & set(offices.home_words):
            return None
        office = set(offices.office_words)
        for i, word in enumerate(words):
            if word not in office:
                continue
            near = [*words[max(0, i - 1) : i], *words[i + 1 : i + 4]]
            for country in near:
                if country in offices.countries:
                    topic = offices.countries[country]
                    return f"topic:{topic}" if topic else "list:foreign-consulates"
        return None

    def _city_route(self, state: State, norm: str, mention: CityMention | None) -> str | None:
        """Answers decided by a city: its consulate, its NGOs, or the NGO list."""
        words = set(norm.split())
        foreign = self.foreign_office(norm)
        if foreign:
            return foreign
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


def phrase_strength(hit: Hit) -> float:
    """A phrase hit as a 0..1 signal: the whole message is a keyword (1), a complete
    phrase (more for rarer words), or only part of one."""
    if hit.exact:
        return 1.0
    if hit.phrases:
        return min(1.0, 0.5 + hit.score / (2 * ANSWER_SCORE))
    return min(0.35, 0.35 * hit.score / ANSWER_SCORE)


def saturate(bm25: float) -> float:
    """BM25 on a 0..1 scale: half way at ``BM25_HALF``."""
    return bm25 / (bm25 + BM25_HALF)
