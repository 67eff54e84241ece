"""Keyword search over the knowledge base, built once at load time.

Every entry contributes *phrases*: its keywords and titles in both languages,
normalised. A message matches a phrase when it contains all of the phrase's
content words (in any order), after each unknown word has been corrected to
the closest word of the vocabulary with rapidfuzz ("refujio" -> "refugio").
Words are weighted by how specific they are (inverse document frequency), so
"sis para todos" beats "sis" for a message that says "sis para todos".

The index is an inverted map word -> phrases, so a search costs in proportion
to the message's words, not to the size of the knowledge base.

Example::

    index = SearchIndex.build(kb)
    index.search("q es el sis para todos")[0].target   # 'topic:sis-para-todos'
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

from knowledge.base import KnowledgeBase
from knowledge.text import normalise

#: Function words that say nothing about the topic.
STOPWORDS = frozenset(
    """
    a al algo alguien ante con como cual cuales de del donde el ella ellos en entre era es esa ese
    eso esta estan este esto estoy fue ha hay he la las le les lo los me mi mis muy ni nos o
    para pero por porque puedo puede pueden que quiero se ser si sobre soy su sus tambien
    te tengo tiene tienen tu tus un una uno unos unas usted y ya yo hola buenas buenos dias tardes
    noches favor necesito saber informacion quisiera podria ayuda ayudar ayudame hacer hago
    the an of to in on for and or is are am be my me i you your it its this that what how can
    do does did with about from at by as please need want know get have has there which who
    where when would could should will im hello hi
    """.split()
)

FUZZY_CUTOFF = 82
MIN_FUZZY_LENGTH = 4


@dataclass(frozen=True)
class Hit:
    """A candidate answer: ``target`` is ``kind:id`` (``topic:sis-gratuito``)."""

    target: str
    score: float
    #: The phrases that matched completely, for the near-miss report.
    phrases: tuple[str, ...] = ()
    #: One matched phrase is the whole message ("sis", "visa humanitaria").
    exact: bool = False
    #: The message words its complete phrases cover.
    covered: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Phrase:
    target: str
    text: str
    words: frozenset[str]


def content_words(normalised: str) -> list[str]:
    return [w for w in normalised.split() if w not in STOPWORDS]


def stem(word: str) -> str:
    """Fold plurals so "colegios" meets "colegio" and "papeles" meets "papel".

    Applied alike to keywords and messages, so it only has to be consistent,
    not linguistically exact.

    >>> [stem(w) for w in ("colegios", "papeles", "visas", "sis", "requirements")]
    ['colegio', 'papel', 'visa', 'sis', 'requirement']
    """
    if len(word) <= 4 or not word.endswith("s") or word.endswith("ss"):
        return word
    if word.endswith("es") and len(word) > 5 and word[-3] in "lrndzj":
        return word[:-2]
    return word[:-1]


def index_words(normalised: str) -> frozenset[str]:
    return frozenset(stem(w) for w in content_words(normalised))


def _phrases_of(kb: KnowledgeBase) -> Iterable[tuple[str, str]]:
    """(target, raw phrase) pairs for every searchable entry."""
    for topic in kb.topics.values():
        target = f"topic:{topic.id}"
        yield from ((target, k) for k in topic.keywords.all())
        yield target, topic.title.es
        yield target, topic.title.en
    for org in kb.organisations.values():
        target = f"org:{org.id}"
        yield from ((target, k) for k in org.keywords.all())
        yield target, org.name
        if org.short_name:
            yield target, org.short_name
    for consulate in kb.consulates.values():
        target = f"consulate:{consulate.id}"
        yield from ((target, k) for k in consulate.keywords.all())


@dataclass
class SearchIndex:
    """Inverted index from normalised words to the phrases that contain them."""

    phrases: list[Phrase] = field(default_factory=list)
    by_word: dict[str, list[int]] = field(default_factory=dict)
    idf: dict[str, float] = field(default_factory=dict)
    vocabulary: list[str] = field(default_factory=list)
    _corrections: dict[str, str | None] = field(default_factory=dict, repr=False)
    _by_length: dict[int, list[str]] = field(default_factory=dict, repr=False)
    _window: dict[int, list[str]] = field(default_factory=dict, repr=False)

    @classmethod
    def build(cls, kb: KnowledgeBase, extra: Iterable[tuple[str, str]] = ()) -> SearchIndex:
        """Index ``kb``; ``extra`` adds (target, phrase) pairs (e.g. menu keywords)."""
        index = cls()
        seen: set[tuple[str, str]] = set()
        targets_with_word: dict[str, set[str]] = defaultdict(set)
        for target, raw in [*_phrases_of(kb), *extra]:
            text = normalise(raw)
            words = index_words(text)
            if not words or (target, text) in seen:
                continue
            seen.add((target, text))
            for word in words:
                index.by_word.setdefault(word, []).append(len(index.phrases))
            index.phrases.append(Phrase(target, text, words))
            for word in words:
                targets_with_word[word].add(target)
        total = len({p.target for p in index.phrases}) or 1
        index.idf = {w: math.log(1 + total / len(t)) for w, t in targets_with_word.items()}
        index.vocabulary = sorted(w for w in index.idf if len(w) >= MIN_FUZZY_LENGTH)
        for word in index.vocabulary:
            index._by_length.setdefault(len(word), []).append(word)
        return index

    def _candidates(self, length: int) -> list[str]:
        """Vocabulary words whose length allows a ratio ≥ the cutoff with a word this long.

        ``fuzz.ratio`` is 2·matches / (len a + len b), so lengths outside this
        window can never reach the cutoff; skipping them changes no result.
        """
        if length not in self._window:
            low = math.ceil(length * FUZZY_CUTOFF / (200 - FUZZY_CUTOFF))
            high = math.floor(length * (200 - FUZZY_CUTOFF) / FUZZY_CUTOFF)
            sizes = range(low, high + 1)
            self._window[length] = [w for size in sizes for w in self._by_length.get(size, ())]
        return self._window[length]

    def correct(self, word: str) -> str | None:
        """The vocabulary word closest to ``word`` (itself if known), or None."""
        if word in self.idf:
            return word
        if word not in self._corrections:
            if len(self._corrections) > 50_000:  # bound memory against random input
                self._corrections.clear()
            self._corrections[word] = self._closest_word(word)
        return self._corrections[word]

    def _closest_word(self, word: str) -> str | None:
        if len(word) < MIN_FUZZY_LENGTH or not self.vocabulary:
            return None
        found = process.extractOne(
            word, self._candidates(len(word)), scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF
        )
        return found[0] if found else None

    def known_words(self, normalised: str) -> list[str]:
        """The message's content words mapped onto the vocabulary (typos corrected)."""
        known = []
        for word in index_words(normalised):
            corrected = self.correct(word)
            if corrected:
                known.append(corrected)
        return known

    def search(
        self,
        normalised: str,
        limit: int = 5,
        boost: Callable[[str], float] | None = None,
        max_boost: float = math.inf,
    ) -> list[Hit]:
        """Candidates for a normalised message, best first.

        A target's score is the weight of the distinct message words covered by
        its complete phrases, plus half the weight of words in phrases that are
        at least half present; ``boost(target)`` multiplies a candidate's score
        (menu context, audience). When ``boost`` never exceeds ``max_boost``,
        candidates that cannot reach the top ``limit`` are not boosted at all,
        which keeps large knowledge bases fast without changing the result.
        """
        words = set(self.known_words(normalised))
        full: dict[str, set[str]] = defaultdict(set)
        partial: dict[str, set[str]] = defaultdict(set)
        matched: dict[str, list[str]] = defaultdict(list)
        exact: set[str] = set()
        # A phrase with several of the message's words is looked at once, not once per word.
        positions = {p for word in words for p in self.by_word.get(word, ())}
        for position in positions:
            phrase = self.phrases[position]
            present = phrase.words & words
            if present == phrase.words:
                full[phrase.target] |= present
                matched[phrase.target].append(phrase.text)
                if phrase.words == words:
                    exact.add(phrase.target)
            elif len(phrase.words) > 1 and 2 * len(present) >= len(phrase.words):
                partial[phrase.target] |= present
        idf = self.idf
        base = []
        for target in full.keys() | partial.keys():
            covered = full.get(target, set())
            score = sum(idf[w] for w in covered)
            score += 0.5 * sum(idf[w] for w in partial.get(target, set()) - covered)
            base.append((score, target))
        base.sort(key=lambda item: (-item[0], item[1]))
        ranked: list[tuple[float, str]] = []  # the best ``limit`` so far, best first
        for score, target in base:
            if len(ranked) == limit and score * (max_boost if boost else 1.0) < ranked[-1][0]:
                break
            candidate = (score * boost(target) if boost else score, target)
            if len(ranked) < limit or (-candidate[0], target) < (-ranked[-1][0], ranked[-1][1]):
                ranked = sorted([*ranked, candidate], key=lambda item: (-item[0], item[1]))[:limit]
        return [
            Hit(
                target,
                round(score, 3),
                tuple(sorted(set(matched.get(target, ())))),
                target in exact,
                frozenset(full.get(target, ())),
            )
            for score, target in ranked[:limit]
        ]
