"""Counting days for the audit (the same everywhere in eightstep, like notice periods).

Every rule of the audit is "more than N days since some date", N in calendar or working days (Chinese statutory
calendar):

* Days are Asia/Shanghai calendar dates. The starting day is not counted: a stage entered on 09-29 has spent
  1 day in it on 09-30. In working days only working days in ``(start, as_of]`` count (调休 weekends count,
  holidays do not), so a stage whose limit is in working days also shows its age in working days.
* A case *exceeds* its limit when the count is strictly greater than the limit: on the N-th day it is still
  within the limit (the ``due`` date), from the next day on it is over. ``days_over`` = count - limit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from eightstep.i18n import _
from eightstep.rules.workcalendar import WorkCalendar
from eightstep.store.tables import SUSPENDED
from eightstep.timeutil import local_date, local_midnight_utc, now_utc
from eightstep.workflow.schema import Period, Stage

ONE_DAY = timedelta(days=1)
_SEARCH_HORIZON_DAYS = 1 << 15  # ~90 years: far beyond any limit a workflow may set (3650 days)



@dataclass(frozen=True)
class Limit:
    """A limit of ``days`` calendar days or working days."""

    days: int
    calendar: str  # calendar | working

    @classmethod
    def of(cls, period: Period) -> Limit:
        return _limit(period.days, period.calendar)

    @property
    def working(self) -> bool:
        return self.calendar == "working"

    def text(self, days: int | None = None) -> str:
        """``days`` (default: the limit's own) with the unit, in the chosen language: "15 working days"."""
        return (_("{days} working days") if self.working else _("{days} days")).format(
            days=self.days if days is None else days)

    def __str__(self) -> str:
        return f"{self.days} {'wd' if self.working else 'd'}"

    def as_dict(self) -> dict[str, Any]:
        return {"days": self.days, "calendar": self.calendar}


@lru_cache(maxsize=256)
def _limit(days: int, calendar: str) -> Limit:
    """One shared ``Limit`` per value (findings keep theirs: a city's audit holds tens of thousands)."""
    return Limit(days, calendar)


def today() -> date:
    """Today in Asia/Shanghai: the default audit date."""
    return local_date(now_utc())


def end_of(day: date) -> datetime:
    """The first instant after ``day`` ends in Asia/Shanghai (UTC): everything before it counts as of ``day``."""
    return local_midnight_utc(day + ONE_DAY)


def check_time(day: date) -> datetime:
    """What the guards are asked about: the last instant of ``day`` (for a future day, the blockers that will
    still stand then, such as a notice period running past it)."""
    return end_of(day) - timedelta(microseconds=1)


@lru_cache(maxsize=1 << 16)
def count_days(calendar: WorkCalendar, start: date, end: date, working: bool) -> int:
    """Days in ``(start, end]``: the start day is not counted. (Cached: an audit asks about the same few
    hundred start dates thousands of times; a calendar never changes once loaded.)"""
    return calendar.days_between(start, end, working=working)


@lru_cache(maxsize=1 << 16)
def add_days(calendar: WorkCalendar, start: date, days: int, working: bool) -> date:
    """The last day within a limit of ``days`` counted after ``start``."""
    return calendar.add_days(start, days, working=working)


def signed_days(calendar: WorkCalendar, due: date, as_of: date, working: bool) -> int:
    """Days from ``due`` to ``as_of``: positive when past it, negative when still ahead."""
    if as_of >= due:
        return count_days(calendar, due, as_of, working)
    return -count_days(calendar, as_of, due, working)


def over_cutoff(as_of: date, over: Callable[[date], bool]) -> date | None:
    """The cutoff C with ``over(d) <=> d < C`` for every ``d <= as_of``; None when no date is over.

    ``over`` must be monotone: true for old enough dates, false from some date on (every rule of the audit
    is "too long since d"). Exponential search back from ``as_of``, then bisection: a dozen or two calls.
    """
    if over(as_of):
        return as_of + ONE_DAY
    within = as_of  # over(within) is False
    step = 1
    while True:
        probe = as_of - timedelta(days=step)
        if over(probe):
            break
        within = probe
        if step > _SEARCH_HORIZON_DAYS:
            return None
        step *= 2
    while (within - probe).days > 1:  # over(probe) and not over(within)
        middle = probe + timedelta(days=(within - probe).days // 2)
        if over(middle):
            probe = middle
        else:
            within = middle
    return within


def limit_cutoff(calendar: WorkCalendar, as_of: date, limit: Limit) -> date | None:
    """Dates before the cutoff are more than ``limit`` days before ``as_of``."""
    return over_cutoff(as_of, lambda d: count_days(calendar, d, as_of, limit.working) > limit.days)


def clock_days(calendar: WorkCalendar, case: Any, stage: Stage, as_of: date) -> int:
    """How long the case has been in its stage as of ``as_of``, suspended time excluded.

    Counted in working days when the stage limit is in working days, else in calendar days. The clock starts
    at ``clock_started_at`` (stage entry moved forward by earlier suspensions) and stands still while the case
    is suspended.
    """
    working = stage.stall_limit is not None and stage.stall_limit.calendar == "working"
    end = as_of
    if case.status == SUSPENDED and case.suspended_at is not None:
        end = min(end, local_date(case.suspended_at))
    return count_days(calendar, local_date(case.clock_started_at), end, working)
