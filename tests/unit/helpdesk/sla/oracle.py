"""A brute-force, minute-by-minute business-time oracle, independent of the calendar's tables.

It walks UTC minute cells. Opening boundaries are whole local minutes, and every zone used with it
has a whole-minute offset, so a cell is either wholly open or wholly closed and its state is the
state at its first instant. Holidays come from ``jpholiday``, not from the ``holidays`` package the
calendar uses.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import jpholiday

from helpdesk.sla.calendar import BusinessCalendar, DayOverride

MINUTE = timedelta(minutes=1)
DEFAULT_HOURS = {weekday: ((time(9), time(17)),) for weekday in range(5)}


@dataclass
class CalendarSpec:
    """The rules of a calendar, read literally by the oracle."""

    hours: Mapping[int, Sequence[tuple[time, time]]] = field(default_factory=lambda: DEFAULT_HOURS)
    timezone: str = "Asia/Tokyo"
    overrides: Sequence[DayOverride] = ()
    national_holidays: bool = True
    year_end_closure: bool = True

    def calendar(self) -> BusinessCalendar:
        """The calendar under test built from the same rules."""
        return BusinessCalendar(
            self.hours, self.timezone, self.overrides, self.national_holidays, self.year_end_closure
        )


class Oracle:
    """Answers business-time questions by walking minute cells."""

    def __init__(self, spec: CalendarSpec) -> None:
        self.spec = spec
        self.tz = ZoneInfo(spec.timezone)
        self.overrides = {o.day: o for o in spec.overrides}
        self._days: dict[date, Sequence[tuple[time, time]]] = {}

    def hours_on(self, day: date) -> Sequence[tuple[time, time]]:
        """Opening hours of a local date, straight from the rules."""
        if day not in self._days:
            self._days[day] = self._rule(day)
        return self._days[day]

    def _rule(self, day: date) -> Sequence[tuple[time, time]]:
        override = self.overrides.get(day)
        if override is not None:
            if not override.is_open:
                return ()
            if override.opens is not None and override.closes is not None:
                return ((override.opens, override.closes),)
            for weekday in (day.weekday(), 0, 1, 2, 3, 4, 5, 6):
                if self.spec.hours.get(weekday):
                    return self.spec.hours[weekday]
            return ((time(9), time(17)),)
        year_end = (day.month, day.day) >= (12, 29) or (day.month, day.day) <= (1, 3)
        if self.spec.year_end_closure and year_end:
            return ()
        if self.spec.national_holidays and jpholiday.is_holiday(day):
            return ()
        return self.spec.hours.get(day.weekday(), ())

    def is_open(self, at: datetime) -> bool:
        """Is the desk open at this instant?"""
        local = at.astimezone(self.tz)
        clock = local.time().replace(tzinfo=None)
        return any(o <= clock < c for o, c in self.hours_on(local.date()))

    def add(self, start: datetime, minutes: int) -> datetime:
        """The instant ``minutes`` business minutes after ``start``."""
        pos = start.astimezone(UTC)
        remaining = minutes * MINUTE
        while True:
            cell = pos.replace(second=0, microsecond=0)
            cell_end = cell + MINUTE
            if self.is_open(cell):
                if remaining <= cell_end - pos:
                    return pos + remaining
                remaining -= cell_end - pos
            pos = cell_end

    def between(self, start: datetime, end: datetime) -> int:
        """Whole business minutes in [start, end)."""
        pos, end = start.astimezone(UTC), end.astimezone(UTC)
        total = timedelta()
        while pos < end:
            cell_end = pos.replace(second=0, microsecond=0) + MINUTE
            step_end = min(cell_end, end)
            if self.is_open(pos):
                total += step_end - pos
            pos = step_end
        return total // MINUTE
