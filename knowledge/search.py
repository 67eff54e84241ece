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

import numpy as np
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
#: Up to this many postings for a message's words, phrases are looked at one by one;
#: past it (words in thousands of phrases) numpy counts them all at once.
FEW_POSTINGS = 150
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
    """Inverted index from normalised words to the phrases that contain them.

    Postings are numpy arrays (word -> phrases), so a message's candidates are
    gathered and counted in a few calls even when a word is in thousands of
    phrases. Typo correction looks only at vocabulary words whose letters could
    reach the cutoff (see :meth:`_closest_word`).
    """

    phrases: list[Phrase] = field(default_factory=list)
    by_word: dict[str, list[int]] = field(default_factory=dict)
    idf: dict[str, float] = field(default_factory=dict)
    vocabulary: list[str] = field(default_factory=list)
    #: Word -> its row in the postings; ``_starts[row]`` is its first posting.
    _rows: dict[str, int] = field(default_factory=dict, repr=False)
    _starts: np.ndarray = field(default_factory=lambda: np.zeros(1, np.int64), repr=False)
    _postings: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64), repr=False)
    #: Per phrase: how many words it has, and its target's number in ``_targets``.
    _sizes: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64), repr=False)
    _phrase_target: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64), repr=False)
    _targets: list[str] = field(default_factory=list, repr=False)
    _row_idf: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)
    _spelling: Spelling | None = field(default=None, repr=False)
    _corrections: dict[str, str | None] = field(default_factory=dict, repr=False)

    @classmethod
    def build(cls, kb: KnowledgeBase, extra: Iterable[tuple[str, str]] = ()) -> SearchIndex:
        """Index ``kb``; ``extra`` adds (target, phrase) pairs (e.g. menu keywords)."""
        index = cls()
        seen: set[tuple[str, str]] = set()
        targets_with_word: dict[str, set[str]] = defaultdict(set)
        by_word = index.by_word
        for target, raw in [*_phrases_of(kb), *extra]:
            text = normalise(raw)
            words = index_words(text)
            if not words or (target, text) in seen:
                continue
            seen.add((target, text))
            for word in words:
                by_word.setdefault(word, []).append(len(index.phrases))
            index.phrases.append(Phrase(target, text, words))
            for word in words:
                targets_with_word[word].add(target)
        total = len({p.target for p in index.phrases}) or 1
        index.idf = {w: math.log(1 + total / len(t)) for w, t in targets_with_word.items()}
        index.vocabulary = sorted(w for w in index.idf if len(w) >= MIN_FUZZY_LENGTH)
        index._spelling = Spelling.build(index.vocabulary)

        index._rows = {word: row for row, word in enumerate(by_word)}
        index._starts = np.cumsum([0, *(len(p) for p in by_word.values())], dtype=np.int64)
        index._postings = np.array([p for ps in by_word.values() for p in ps], dtype=np.int64)
        index._row_idf = np.array([index.idf[w] for w in by_word])
        index._targets = sorted({p.target for p in index.phrases})
        number = {target: n for n, target in enumerate(index._targets)}
        index._sizes = np.array([len(p.words) for p in index.phrases], dtype=np.int64)
        index._phrase_target = np.array([number[p.target] for p in index.phrases], np.int64)
        return index

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
        if len(word) < MIN_FUZZY_LENGTH or self._spelling is None:
            return None
        return self._spelling.closest(word)

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
        if not words:
            return []
        if sum(len(self.by_word[w]) for w in words) <= FEW_POSTINGS:
            base, complete = self._score_few(words)
        else:
            # Unboosted, the first ``limit`` are the answer: the rest need no sorting.
            base, complete = self._score_many(words, limit if boost is None else None)
        return self._hits(_best(base, limit, boost, max_boost), complete, words)

    def _score_few(self, words: set[str]) -> tuple[list[tuple[str, float]], list[int]]:
        """Each candidate's score, best first, and the complete phrases: phrase by phrase."""
        full: dict[str, set[str]] = defaultdict(set)
        partial: dict[str, set[str]] = defaultdict(set)
        complete = []
        # A phrase with several of the message's words is looked at once, not once per word.
        for position in {p for word in words for p in self.by_word[word]}:
            phrase = self.phrases[position]
            present = phrase.words & words
            if present == phrase.words:
                full[phrase.target] |= present
                complete.append(position)
            elif len(phrase.words) > 1 and 2 * len(present) >= len(phrase.words):
                partial[phrase.target] |= present
        idf = self.idf
        base = []
        for target in full.keys() | partial.keys():
            covered = full.get(target, set())
            score = sum(idf[w] for w in covered)
            score += 0.5 * sum(idf[w] for w in partial.get(target, set()) - covered)
            base.append((target, score))
        base.sort(key=lambda item: (-item[1], item[0]))
        return base, complete

    def _score_many(
        self, words: set[str], limit: int | None
    ) -> tuple[list[tuple[str, float]], list[int]]:
        """The same as :meth:`_score_few`, in numpy: for words in thousands of phrases.
        With a ``limit``, only the best ``limit`` candidates (and any tied with the last)."""
        ordered = sorted(words)
        rows = np.array([self._rows[w] for w in ordered], dtype=np.int64)
        begin, end = self._starts[rows], self._starts[rows + 1]
        lengths = end - begin
        # Every posting of the message's words: its phrase, and which word it is.
        phrase = self._postings[
            np.repeat(begin - np.cumsum(lengths) + lengths, lengths) + np.arange(lengths.sum())
        ]
        word = np.repeat(np.arange(len(ordered)), lengths)
        # A phrase lists each of its words once, so its postings here count its present words.
        present = np.bincount(phrase, minlength=len(self.phrases))[phrase]
        sizes = self._sizes[phrase]
        complete = present == sizes
        half = ~complete & (sizes > 1) & (2 * present >= sizes)
        # Which message words each target covers with complete phrases, and with half ones.
        targets, row = np.unique(self._phrase_target[phrase], return_inverse=True)
        full = np.zeros((len(targets), len(ordered)), dtype=bool)
        partial = np.zeros_like(full)
        full[row[complete], word[complete]] = True
        partial[row[half], word[half]] = True
        weight = self._row_idf[rows]
        score = full @ weight + 0.5 * ((partial & ~full) @ weight)
        found = np.flatnonzero(full.any(axis=1) | partial.any(axis=1))
        if limit is not None and len(found) > limit:
            # Only what can be among the first ``limit``: at least the limit-th best score.
            last = np.partition(-score[found], limit - 1)[limit - 1]
            found = found[-score[found] <= last]
        # Targets are numbered in alphabetical order: ties between scores go by name.
        order = found[np.lexsort((targets[found], -score[found]))]
        names = self._targets
        scores = score[order].tolist()
        base = [(names[t], s) for t, s in zip(targets[order].tolist(), scores, strict=True)]
        return base, np.unique(phrase[complete]).tolist()

    def _hits(
        self, ranked: list[tuple[float, str]], complete: list[int], words: set[str]
    ) -> list[Hit]:
        """The ranked targets as hits, with the complete phrases that found them."""
        wanted = {name for _, name in ranked}
        matched: dict[str, list[Phrase]] = defaultdict(list)
        for position in complete:
            found = self.phrases[position]
            if found.target in wanted:
                matched[found.target].append(found)
        hits = []
        for score, name in ranked:
            found = matched.get(name, [])
            hits.append(
                Hit(
                    name,
                    round(score, 3),
                    tuple(sorted({p.text for p in found})),
                    any(p.words == words for p in found),
                    frozenset().union(*(p.words for p in found)),
                )
            )
        return hits


def _best(
    base: list[tuple[str, float]],
    limit: int,
    boost: Callable[[str], float] | None,
    max_boost: float,
) -> list[tuple[float, str]]:
    """The ``limit`` best of ``base`` (best first, by score then name) once boosted."""
    if boost is None:
        return [(score, name) for name, score in base[:limit]]
    ranked: list[tuple[float, str]] = []  # the best ``limit`` so far, best first
    for name, score in base:
        if len(ranked) == limit and score * max_boost < ranked[-1][0]:
            break
        candidate = (score * boost(name), name)
        if len(ranked) < limit or (-candidate[0], name) < (-ranked[-1][0], ranked[-1][1]):
            ranked = sorted([*ranked, candidate], key=lambda item: (-item[0], item[1]))[:limit]
    return ranked


@dataclass
class Spelling:
    """The vocabulary for typo correction, by length, with each word's letters.

    ``fuzz.ratio`` is 2·matches / (len a + len b) in percent, so a word can
    reach ``FUZZY_CUTOFF`` only if (1) its length is within a window of the
    typo's, and (2) the letters the two do not share, counted with repeats,
    are at most ``(100 - cutoff)%`` of both lengths together: each missing or
    extra letter is one insertion or deletion. Both are checked in numpy
    before rapidfuzz compares the few words left, in the same order as the
    whole window, so the closest word (and the first among equals) is the one
    a scan of the whole window finds.
    """

    words: list[str]  # by length, alphabetical within a length
    lengths: np.ndarray
    letters: np.ndarray  # word x LETTERS: how often each letter occurs
    present: np.ndarray  # word -> bit mask of the letters it has

    @classmethod
    def build(cls, vocabulary: list[str]) -> Spelling:
        words = sorted(vocabulary, key=len)  # stable: alphabetical within a length
        letters = np.array([_letters(w) for w in words], dtype=np.uint8).reshape(-1, LETTERS)
        return cls(
            words,
            np.array([len(w) for w in words], dtype=np.int64),
            letters,
            _masks(letters),
        )

    def _window(self, length: int) -> tuple[int, int]:
        """Positions of the words whose length allows a ratio ≥ the cutoff."""
        low = math.ceil(length * FUZZY_CUTOFF / (200 - FUZZY_CUTOFF))
        high = math.floor(length * (200 - FUZZY_CUTOFF) / FUZZY_CUTOFF)
        begin = int(np.searchsorted(self.lengths, low, side="left"))
        return begin, max(begin, int(np.searchsorted(self.lengths, high, side="right")))

    def closest(self, word: str) -> str | None:
        begin, end = self._window(len(word))
        if begin == end:
            return None
        letters = np.array(_letters(word), dtype=np.uint8)
        # Letters one word has and the other lacks, a lower bound on the edits between them.
        allowed = (100 - FUZZY_CUTOFF) / 100 * (len(word) + self.lengths[begin:end]) + 0.5
        mask = _masks(letters.reshape(1, -1))[0]
        near = np.flatnonzero(np.bitwise_count(self.present[begin:end] ^ mask) <= allowed)
        if len(near):
            unshared = np.abs(
                self.letters[begin + near].astype(np.int16) - letters.astype(np.int16)
            ).sum(axis=1)
            near = near[unshared <= allowed[near]]
        choices = [self.words[begin + i] for i in near.tolist()]
        found = process.extractOne(word, choices, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF)
        return found[0] if found else None


#: Letters a-z and digits have a column each; anything else shares the last ones.
LETTERS = 64


def _letters(word: str) -> list[int]:
    counts = [0] * LETTERS
    for char in word:
        if "a" <= char <= "z":
            counts[ord(char) - 97] += 1
        elif "0" <= char <= "9":
            counts[26 + ord(char) - 48] += 1
        else:
            counts[36 + ord(char) % (LETTERS - 36)] += 1
    return [min(c, 255) for c in counts]


def _masks(letters: np.ndarray) -> np.ndarray:
    """Each row's set of letters as one 64-bit mask."""
    bits = (letters > 0).astype(np.uint64) << np.arange(LETTERS, dtype=np.uint64)
    return np.bitwise_or.reduce(bits, axis=1)
