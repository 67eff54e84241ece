"""When a person can take over: the partner organisations' hours and usual wait.

``knowledge/data/handoff.yaml``::

    handoff:
      utc_offset: -5                      # Peru, no daylight saving
      hours: {days: [mon, tue, wed, thu, fri], opens: "09:00", closes: "18:00"}
      wait: {es: "unas horas", en: "a few hours"}
      partners:                            # only where one differs from the defaults
        - org: ocasiven
          hours: {days: [mon, tue, wed, thu, fri, sat], opens: "08:00", closes: "20:00"}
          cities: [lima]                   # default: the organisation's own cities

Which organisations answer at all is not decided here: an organisation is a
partner while it has an active staff account (``pana staff add``). This file
only says when and how fast each one answers, which an editor can change
without touching the database.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from typing import Literal

from pydantic import Field, model_validator

from knowledge.schema import Strict, Text

Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
DAYS: tuple[Day, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_NAMES = {
    "es": ("lun", "mar", "mié", "jue", "vie", "sáb", "dom"),
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
}


class Hours(Strict):
    """The days and the local hours when someone reads the inbox."""

    days: list[Day] = Field(min_length=1)
    opens: time
    closes: time

    @model_validator(mode="after")
    def _opens_before_closing(self) -> Hours:
        if self.opens >= self.closes:
            raise ValueError("opens must be before closes")
        return self

    def is_open(self, local: datetime) -> bool:
        """Whether ``local`` (a wall-clock time in the desk's zone) falls in these hours."""
        return DAYS[local.weekday()] in self.days and self.opens <= local.time() < self.closes

    def describe(self, lang: str) -> str:
        """ "lun–vie, 09:00–18:00": consecutive days run together."""
        names = DAY_NAMES["en" if lang == "en" else "es"]
        indexes = sorted(DAYS.index(day) for day in set(self.days))
        runs: list[list[int]] = []
        for index in indexes:
            if runs and runs[-1][-1] == index - 1:
                runs[-1].append(index)
            else:
                runs.append([index])
        days = ", ".join(
            names[run[0]] if len(run) == 1 else f"{names[run[0]]}–{names[run[-1]]}" for run in runs
        )
        return f"{days}, {self.opens:%H:%M}–{self.closes:%H:%M}"


class PartnerDesk(Strict):
    """One organisation's own hours, wait or cities, where they differ from the defaults."""

    #: An organisation id from ``ngos/organisations.yaml``.
    org: str
    hours: Hours | None = None
    wait: Text | None = None
    #: City ids it takes hand-offs from; empty: the organisation's own cities.
    cities: list[str] = Field(default_factory=list)


class HandoffDesk(Strict):
    """Defaults for every partner, and the exceptions."""

    #: Hours from UTC of the hours below (Peru: -5, no daylight saving).
    utc_offset: int = Field(default=-5, ge=-12, le=14)
    hours: Hours = Hours(days=["mon", "tue", "wed", "thu", "fri"], opens="09:00", closes="18:00")
    wait: Text = Text(es="unas horas", en="a few hours")
    partners: list[PartnerDesk] = Field(default_factory=list)
    #: Help numbers repeated whenever nobody is reading (from ``safety.yaml``'s numbers).
    numbers: list[str] = Field(default_factory=lambda: ["105", "100", "106"])

    def desk(self, org: str) -> PartnerDesk | None:
        return next((p for p in self.partners if p.org == org), None)

    def hours_of(self, org: str) -> Hours:
        desk = self.desk(org)
        return desk.hours if desk and desk.hours else self.hours

    def wait_of(self, org: str) -> Text:
        desk = self.desk(org)
        return desk.wait if desk and desk.wait else self.wait

    def local(self, moment: datetime) -> datetime:
        """``moment`` (aware) as the desk's wall clock."""
        return moment.astimezone(timezone(timedelta(hours=self.utc_offset)))
