"""Finding cities: by name in a message ("truji", "gayakil") or by a shared location."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from knowledge.schema import City
from knowledge.text import normalise

FUZZY_CUTOFF = 86
MIN_FUZZY_LENGTH = 6
MAX_WORDS = 4


@dataclass(frozen=True)
class CityMention:
    """A city found in a message and the words that named it."""

    city: str
    words: frozenset[str]


class CityFinder:
    """Recognises city names and their aliases in normalised text.

    Exact matches on one to four consecutive words come first; a single
    long word that is not a known topic word may be a misspelled city.

    Example::

        finder = CityFinder(kb.cities.values(), topic_words=set(index.idf))
        finder.find("hay ongs en trujiyo").city   # 'trujillo'
    """

    def __init__(self, cities: Iterable[City], topic_words: set[str] | None = None) -> None:
        self.cities = {city.id: city for city in cities}
        self.names: dict[str, str] = {}
        for city in self.cities.values():
            for name in (city.name, city.id.replace("-", " "), *city.aliases):
                self.names.setdefault(normalise(name), city.id)
        self.single_words = [n for n in self.names if " " not in n and len(n) >= MIN_FUZZY_LENGTH]
        self.topic_words = topic_words or set()

    def find(self, normalised: str) -> CityMention | None:
        """The first city named in the message, or None."""
        words = normalised.split()
        for size in range(min(MAX_WORDS, len(words)), 0, -1):
            for start in range(len(words) - size + 1):
                span = words[start : start + size]
                city = self.names.get(" ".join(span))
                if city:
                    return CityMention(city, frozenset(span))
        for word in words:
            if len(word) < MIN_FUZZY_LENGTH or word in self.topic_words:
                continue
            found = process.extractOne(
                word, self.single_words, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF
            )
            if found:
                return CityMention(self.names[found[0]], frozenset([word]))
        return None

    def nearest(self, latitude: float, longitude: float, among: Iterable[str]) -> City | None:
        """The city in ``among`` closest to a point (great-circle distance)."""
        candidates = [self.cities[c] for c in among if c in self.cities]
        if not candidates:
            return None
        return min(candidates, key=lambda c: distance_km(latitude, longitude, c.lat, c.lon))


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Haversine distance between two points, in kilometres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(min(1.0, a)))
