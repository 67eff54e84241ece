"""Coordinates from a channel, checked before anything computes with them.

JSON allows ``NaN`` and ``1e999`` (infinity) where a number goes, and the
engine's distance arithmetic fails on them; a latitude of 500 is no place.

>>> checked_location(-12.05, -77.04)
Location(latitude=-12.05, longitude=-77.04)
>>> checked_location(float("nan"), 0.0)
Traceback (most recent call last):
ValueError: coordinates must be finite, latitude -90..90 and longitude -180..180
"""

from __future__ import annotations

import math

from flows.turn import Location


def checked_location(latitude: float, longitude: float) -> Location:
    """A :class:`Location`, or ValueError for non-finite or out-of-range coordinates."""
    if not (
        math.isfinite(latitude)
        and math.isfinite(longitude)
        and -90 <= latitude <= 90
        and -180 <= longitude <= 180
    ):
        raise ValueError("coordinates must be finite, latitude -90..90 and longitude -180..180")
    return Location(latitude, longitude)
