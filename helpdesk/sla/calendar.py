"""A desk's business calendar and fast business-time arithmetic.

Semantics, shared by every method and by the brute-force oracle in the tests:

* Opening intervals are half-open: a desk open 09:00-17:00 is open at 09:00:00 and closed at
  17:00:00.
* Sub-minute parts are kept: 09:00:30 plus one business minute is 09:01:30 (microseconds too).
* ``add_business_minutes`` returns the instant the last business minute ends, so a target reached
  exactly at closing time is that closing instant (Friday 16:00 + 60 = Friday 17:00), while a
  start at or after closing counts from the next opening.
* ``business_minutes_between`` counts whole business minutes, rounded down.
* Opening hours are desk-local wall times. A wall time that does not exist (a DST gap) means the
  first instant after the gap; an ambiguous one (a DST overlap) means its first occurrence.
* Supported years are those of the ``holidays`` package for Japan (1949-2099); anything outside
  raises ``CalendarRangeError``.

Business time is looked up in lazily built tables of open intervals in UTC epoch microseconds
with cumulative business time, so every query is a couple of binary searches, whatever the span.
"""

from __future__ import annotations

import functools
import logging
import math
import threading
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

import holidays
from holidays.countries.japan import Japan

log = logging.getLogger(__name__)

Hours = tuple[tuple[time, time], ...]
ClosureKind = Literal["weekend", "national_holiday", "year_end", "admin"]

DEFAULT_HOURS: Hours = ((time(9, 0), time(17, 0)),)
DEFAULT_OPENING_HOURS: Mapping[int, Hours] = {weekday: DEFAULT_HOURS for weekday in range(5)}
DEFAULT_TIMEZONE = "Asia/Tokyo"
FIRST_YEAR: int = max(Japan.start_year, 1949)
# Beyond 2105 a float timestamp can no longer carry exact microseconds.
LAST_YEAR: int = min(Japan.end_year, 2099)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)
_US_PER_SECOND = 1e6
_US_PER_MINUTE = 6e7


class NaiveDatetimeError(ValueError):
    """A naive datetime was given where an aware instant is required."""


class CalendarRangeError(ValueError):
    """An instant falls outside the years the calendar can compute."""


@dataclass(frozen=True)
class DayOverride:
    """An admin decision for one date: closed (with a name) or specially open."""

    day: date
    name: str
    is_open: bool
    opens: time | None = None
    closes: time | None = None


@dataclass(frozen=True)
class DayInfo:
    """What the calendar says about one local date."""

    day: date
    is_open: bool
    hours: Hours = ()
    closure: ClosureKind | None = None
    name: str | None = None
    holiday_ja: str | None = None
    holiday_en: str | None = None
    special_opening: bool = False

    @property
    def weekday(self) -> int:
        """Monday is 0."""
        return self.day.weekday()


@dataclass(frozen=True)
class _Table:
    """Open intervals of the years first..last, as epoch microseconds, with running totals.

    The numbers are floats holding whole microseconds: exact below 2**53 (until the year 2255),
    and faster to compare with the float timestamps of the queries than ints. ``midnights`` holds
    the local midnight of each date from ordinal ``day0`` on, or NaN for a date whose length is
    not 24 hours (a DST change): it turns a wall time in the calendar's zone into an instant
    without the costly ``datetime.timestamp()``.
    """

    first: int
    last: int
    lo: float
    hi: float
    starts: list[float]
    ends: list[float]
    cum: list[float]
    cum_end: list[float]
    day0: int
    midnights: list[float]


@functools.lru_cache(maxsize=512)
def japanese_holidays(year: int) -> dict[date, tuple[str, str]]:
    """Japan's national holidays of ``year`` as date -> (Japanese name, English name)."""
    ja = holidays.country_holidays("JP", years=year, language="ja")
    en = holidays.country_holidays("JP", years=year, language="en_US")
    return {day: (str(name), str(en.get(day, name))) for day, name in sorted(ja.items())}


def in_year_end_closure(day: date) -> bool:
    """True from 29 December to 3 January inclusive."""
    return (day.month == 12 and day.day >= 29) or (day.month == 1 and day.day <= 3)


def _normalise_hours(hours: Sequence[tuple[time, time]]) -> Hours:
    """Sort one day's intervals, check them, and merge touching or overlapping ones."""
    merged: list[tuple[time, time]] = []
    for opens, closes in sorted((o, c) for o, c in hours):
        if opens.tzinfo is not None or closes.tzinfo is not None:
            raise ValueError("opening hours are local wall times; give them without a tzinfo")
        if not opens < closes:
            raise ValueError(f"opening hours {opens}-{closes}: opening must precede closing")
        if merged and opens <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(closes, merged[-1][1]))
        else:
            merged.append((opens, closes))
    return tuple(merged)


def _parse_clock(value: str | time) -> time:
    """Parse "HH:MM" (or pass a time through)."""
    return value if isinstance(value, time) else time.fromisoformat(value)


class BusinessCalendar:
    """Opening hours, holidays and closures of one desk, with business-time arithmetic."""

    def __init__(
        self,
        opening_hours: Mapping[int, Sequence[tuple[time, time]]] | None = None,
        timezone: str = DEFAULT_TIMEZONE,
        overrides: Iterable[DayOverride] = (),
        national_holidays: bool = True,
        year_end_closure: bool = True,
    ) -> None:
        source = DEFAULT_OPENING_HOURS if opening_hours is None else opening_hours
        if any(weekday not in range(7) for weekday in source):
            raise ValueError("opening hours are keyed by weekday 0 (Monday) to 6 (Sunday)")
        self.opening_hours: dict[int, Hours] = {
            weekday: _normalise_hours(source.get(weekday, ())) for weekday in range(7)
        }
        self.timezone = timezone
        self.tz = ZoneInfo(timezone)
        self.overrides: dict[date, DayOverride] = {}
        for override in overrides:
            self.overrides[override.day] = override
            if override.is_open:
                self._special_hours(override)  # raises early on impossible hours
        self.national_holidays = national_holidays
        self.year_end_closure = year_end_closure
        self._years: dict[int, list[tuple[int, int]]] = {}
        self._midnights: dict[int, list[float]] = {}
        self._table: _Table | None = None
        self._standard_minutes: int | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return (
            f"BusinessCalendar(timezone={self.timezone!r}, hours={self.opening_hours!r}, "
            f"overrides={len(self.overrides)}, national_holidays={self.national_holidays}, "
            f"year_end_closure={self.year_end_closure})"
        )

    @classmethod
    def standard(cls) -> BusinessCalendar:
        """Mon-Fri 09:00-17:00 Asia/Tokyo with Japanese holidays and the year-end closure."""
        return cls()

    @classmethod
    def for_desk(cls, desk: Any) -> BusinessCalendar:
        """Build a desk's calendar (duck-typed: timezone, opening_hours, calendar_overrides...)."""
        hours = {
            int(weekday): [(_parse_clock(o), _parse_clock(c)) for o, c in intervals]
            for weekday, intervals in (desk.opening_hours or {}).items()
        }
        overrides = [
            DayOverride(o.day, o.name, bool(o.is_open), o.opens, o.closes)
            for o in (desk.calendar_overrides or ())
        ]
        return cls(
            opening_hours=hours,
            timezone=desk.timezone,
            overrides=overrides,
            national_holidays=bool(desk.national_holidays),
            year_end_closure=bool(desk.year_end_closure),
        )

    # -- what a date is ---------------------------------------------------------------------

    def default_hours(self, weekday: int) -> Hours:
        """Hours for a special opening on ``weekday``: its own, else Monday's, else any day's."""
        for candidate in (weekday, 0, 1, 2, 3, 4, 5, 6):
            if self.opening_hours[candidate]:
                return self.opening_hours[candidate]
        return DEFAULT_HOURS

    def standard_day_minutes(self) -> int:
        """Length of the desk's standard day: the commonest non-zero weekday length (worked
        out once: every SLA refresh asks, and the hours do not change)."""
        if self._standard_minutes is None:
            lengths = [self._hours_minutes(self.opening_hours[weekday]) for weekday in range(7)]
            counts = Counter(length for length in lengths if length > 0)
            self._standard_minutes = (
                max(counts, key=lambda length: (counts[length], -lengths.index(length)))
                if counts
                else self._hours_minutes(DEFAULT_HOURS)
            )
        return self._standard_minutes

    @staticmethod
    def _hours_minutes(hours: Hours) -> int:
        """Total whole minutes of one day's intervals."""
        today = date(2000, 1, 3)
        total = sum(
            (datetime.combine(today, c) - datetime.combine(today, o) for o, c in hours),
            timedelta(),
        )
        return int(total.total_seconds() // 60)

    def _special_hours(self, override: DayOverride) -> Hours:
        """Hours of a special opening day."""
        fallback = self.default_hours(override.day.weekday())
        if override.opens is None and override.closes is None:
            return fallback
        opens = fallback[0][0] if override.opens is None else override.opens
        closes = fallback[-1][1] if override.closes is None else override.closes
        try:
            return _normalise_hours([(opens, closes)])
        except ValueError as error:
            raise ValueError(f"special opening on {override.day}: {error}") from None

    def day_info(self, day: date) -> DayInfo:
        """Open hours of ``day``, or why it is closed."""
        names = japanese_holidays(day.year).get(day) if self.national_holidays else None
        ja, en = names if names else (None, None)
        override = self.overrides.get(day)
        if override is not None:
            if override.is_open:
                hours = self._special_hours(override)
                return DayInfo(day, True, hours, None, override.name, ja, en, special_opening=True)
            return DayInfo(day, False, (), "admin", override.name, ja, en)
        if self.year_end_closure and in_year_end_closure(day):
            return DayInfo(day, False, (), "year_end", None, ja, en)
        if names:
            return DayInfo(day, False, (), "national_holiday", None, ja, en)
        hours = self.opening_hours[day.weekday()]
        if not hours:
            return DayInfo(day, False, (), "weekend")
        return DayInfo(day, True, hours)

    def month_days(self, year: int, month: int) -> list[DayInfo]:
        """Every date of the month with its hours or closure."""
        first = date(year, month, 1)
        following = date(year + month // 12, month % 12 + 1, 1)
        return [self.day_info(first + timedelta(days=n)) for n in range((following - first).days)]

    # -- the tables ---------------------------------------------------------------------------

    def _wall_us(self, day: date, clock: time) -> int:
        """Epoch microseconds of a local wall time; a time in a DST gap means the gap's end."""
        local = datetime.combine(day, clock, tzinfo=self.tz)
        us = (local - _EPOCH) // _ONE_US
        if self._local_naive(us) == local.replace(tzinfo=None):
            return us
        low = (local.replace(fold=1) - _EPOCH) // _ONE_US
        high = max(us, low)
        low = min(us, low)
        while low < high:
            middle = (low + high) // 2
            if self._local_naive(middle) >= local.replace(tzinfo=None):
                high = middle
            else:
                low = middle + 1
        return low

    def _local_naive(self, us: int) -> datetime:
        """Local wall time of an epoch-microsecond instant, without tzinfo."""
        return (_EPOCH + us * _ONE_US).astimezone(self.tz).replace(tzinfo=None)

    def _year_intervals(self, year: int) -> list[tuple[int, int]]:
        """Open intervals of one local year, merged where they touch."""
        cached = self._years.get(year)
        if cached is not None:
            return cached
        intervals: list[tuple[int, int]] = []
        day = date(year, 1, 1)
        while day.year == year:
            for opens, closes in self.day_info(day).hours:
                start, end = self._wall_us(day, opens), self._wall_us(day, closes)
                if end <= start:
                    continue
                if intervals and start <= intervals[-1][1]:
                    intervals[-1] = (intervals[-1][0], max(end, intervals[-1][1]))
                else:
                    intervals.append((start, end))
            day += timedelta(days=1)
        self._years[year] = intervals
        return intervals

    def _year_start_us(self, year: int) -> float:
        """Epoch microseconds of local midnight starting 1 January ``year``."""
        return float(self._wall_us(date(year, 1, 1), time()))

    def _year_of(self, us: int) -> int:
        """Local year of an epoch-microsecond instant."""
        try:
            return self._local_naive(us).year
        except (OverflowError, ValueError):
            raise CalendarRangeError("instant outside the supported years") from None

    def _build(self, first: int, last: int) -> _Table:
        """Make (and publish) a table covering the local years first..last."""
        if first < FIRST_YEAR or last > LAST_YEAR:
            raise CalendarRangeError(
                f"years {first}-{last} are outside the supported {FIRST_YEAR}-{LAST_YEAR}"
            )
        with self._lock:
            current = self._table
            if current is not None:
                first, last = min(first, current.first), max(last, current.last)
                if (first, last) == (current.first, current.last):
                    return current
            table = self._concatenate(first, last)
            self._table = table
            log.debug("business calendar table %s-%s: %d intervals", first, last, len(table.starts))
            return table

    def _concatenate(self, first: int, last: int) -> _Table:
        """Join the years' intervals and add the running business-time totals."""
        starts: list[float] = []
        ends: list[float] = []
        cum: list[float] = []
        cum_end: list[float] = []
        total = 0.0
        for year in range(first, last + 1):
            for start, end in self._year_intervals(year):
                starts.append(float(start))
                ends.append(float(end))
                cum.append(total)
                total += end - start
                cum_end.append(total)
        lo, hi = self._year_start_us(first), self._year_start_us(last + 1)
        midnights = [m for year in range(first, last + 1) for m in self._year_midnights(year)]
        day0 = date(first, 1, 1).toordinal()
        return _Table(first, last, lo, hi, starts, ends, cum, cum_end, day0, midnights)

    def _year_midnights(self, year: int) -> list[float]:
        """Local midnights of the year's dates as epoch microseconds; NaN on DST-change dates."""
        cached = self._midnights.get(year)
        if cached is not None:
            return cached
        day, midnights = date(year, 1, 1), []
        start = self._wall_us(day, time())
        while day.year == year:
            day += timedelta(days=1)
            following = self._wall_us(day, time())
            regular = following - start == 86_400 * _US_PER_SECOND
            midnights.append(float(start) if regular else math.nan)
            start = following
        self._midnights[year] = midnights
        return midnights

    def _covering(self, *instants: float) -> _Table:
        """A table whose years include every instant given."""
        table = self._table
        if table is not None and all(table.lo <= us < table.hi for us in instants):
            return table
        years = [self._year_of(int(us)) for us in instants]
        return self._build(min(years), max(years))

    def _grow_forward(self, table: _Table) -> _Table:
        """Double the table's span towards the future."""
        if table.last >= LAST_YEAR:
            raise CalendarRangeError(f"no business time left before the end of {LAST_YEAR}")
        span = table.last - table.first + 1
        return self._build(table.first, min(LAST_YEAR, table.last + span))

    # -- the arithmetic -----------------------------------------------------------------------
    # The public methods inline the common path (a table already covers the instant): at a few
    # hundred thousand calls per second, every Python call level shows.

    def _to_us(self, at: datetime) -> float:
        """Epoch microseconds of an aware datetime.

        A wall time in the calendar's own zone on a 24-hour date is looked up in the table's
        midnights; anything else goes through the float timestamp (whole seconds) plus the
        datetime's microseconds, exact for zones whose offsets are whole seconds.
        """
        if at.tzinfo is self.tz:
            table = self._table
            if table is not None:
                k = at.toordinal() - table.day0
                if 0 <= k < len(table.midnights):
                    midnight = table.midnights[k]
                    if midnight == midnight:  # not NaN
                        seconds = (at.hour * 60 + at.minute) * 60 + at.second
                        return midnight + seconds * _US_PER_SECOND + at.microsecond
        elif at.tzinfo is None:
            raise NaiveDatetimeError(f"a timezone-aware datetime is required, got {at!r}")
        try:
            return at.timestamp() // 1 * _US_PER_SECOND + at.microsecond
        except TypeError:
            raise NaiveDatetimeError(
                f"a datetime with a UTC offset is required, got {at!r}"
            ) from None

    def _from_us(self, us: float) -> datetime:
        """Aware datetime in the calendar's timezone from epoch microseconds."""
        return datetime.fromtimestamp(us / _US_PER_SECOND, self.tz)

    def _next_open_us(self, t: float) -> float:
        """First instant at or after ``t`` inside opening hours."""
        table = self._covering(t)
        while True:
            i = bisect_right(table.starts, t) - 1
            if i >= 0 and t < table.ends[i]:
                return t
            if i + 1 < len(table.starts):
                return table.starts[i + 1]
            table = self._grow_forward(table)

    def _add_us(self, t: float, duration: float) -> float:
        """Instant at which ``duration`` (> 0) business microseconds have passed after ``t``."""
        table = self._table
        if table is None or not table.lo <= t < table.hi:
            table = self._covering(t)
        while True:
            starts = table.starts
            i = bisect_right(starts, t) - 1
            if i < 0:
                target = duration
            elif t < table.ends[i]:
                target = table.cum[i] + t - starts[i] + duration
            else:
                target = table.cum_end[i] + duration
            j = bisect_left(table.cum_end, target)
            if j < len(starts):
                return starts[j] + target - table.cum[j]
            table = self._grow_forward(table)

    def _between_us(self, s: float, e: float) -> float:
        """Business microseconds in [s, e)."""
        if e <= s:
            return 0.0
        table = self._table
        if table is None or not (table.lo <= s and e < table.hi):
            table = self._covering(s, e)
        starts, ends, cum = table.starts, table.ends, table.cum
        i = bisect_right(starts, s) - 1
        before_s = 0.0 if i < 0 else cum[i] + min(s, ends[i]) - starts[i]
        k = bisect_right(starts, e) - 1
        before_e = 0.0 if k < 0 else cum[k] + min(e, ends[k]) - starts[k]
        return before_e - before_s

    def add_business_minutes(self, start: datetime, minutes: int) -> datetime:
        """The instant (in the calendar's zone) when ``minutes`` business minutes have passed."""
        if minutes <= 0:
            if minutes < 0:
                raise ValueError("minutes must not be negative")
            return self._from_us(self._next_open_us(self._to_us(start)))
        return datetime.fromtimestamp(
            self._add_us(self._to_us(start), minutes * _US_PER_MINUTE) / _US_PER_SECOND, self.tz
        )

    def add_business_time(self, start: datetime, duration: timedelta) -> datetime:
        """Like add_business_minutes, for an exact (non-negative) duration."""
        if duration <= timedelta():
            if duration < timedelta():
                raise ValueError("duration must not be negative")
            return self._from_us(self._next_open_us(self._to_us(start)))
        return self._from_us(self._add_us(self._to_us(start), float(duration // _ONE_US)))

    def business_minutes_between(self, start: datetime, end: datetime) -> int:
        """Whole business minutes in [start, end), rounded down; 0 when end <= start."""
        return int(self._between_us(self._to_us(start), self._to_us(end)) // _US_PER_MINUTE)

    def business_time_between(self, start: datetime, end: datetime) -> timedelta:
        """Exact business time in [start, end); zero when end <= start."""
        return timedelta(microseconds=self._between_us(self._to_us(start), self._to_us(end)))

    def is_open(self, at: datetime) -> bool:
        """True when ``at`` falls inside opening hours."""
        t = self._to_us(at)
        table = self._table
        if table is None or not table.lo <= t < table.hi:
            table = self._covering(t)
        i = bisect_right(table.starts, t) - 1
        return i >= 0 and t < table.ends[i]

    def next_opening(self, at: datetime) -> datetime:
        """First instant at or after ``at`` inside opening hours (``at`` itself when open)."""
        return self._from_us(self._next_open_us(self._to_us(at)))

    def open_intervals(self, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
        """Opening intervals overlapping [start, end), clipped to it, in the calendar's zone."""
        s, e = self._to_us(start), self._to_us(end)
        if e <= s:
            return []
        table = self._covering(s, e)
        first = max(bisect_right(table.starts, s) - 1, 0)
        last = bisect_left(table.starts, e)
        return [
            (self._from_us(max(s, table.starts[i])), self._from_us(min(e, table.ends[i])))
            for i in range(first, last)
            if table.ends[i] > s
        ]

    def closed_gaps(self, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
        """Closed stretches between consecutive openings that overlap [start, end), unclipped."""
        s, e = self._to_us(start), self._to_us(end)
        if e <= s:
            return []
        table = self._around(s, e)
        starts, ends = table.starts, table.ends
        first = max(bisect_right(starts, s) - 1, 0)
        last = min(bisect_left(starts, e), len(starts) - 1)
        return [
            (self._from_us(ends[k]), self._from_us(starts[k + 1]))
            for k in range(first, last)
            if ends[k] < e and starts[k + 1] > s
        ]

    def _around(self, s: float, e: float) -> _Table:
        """A table with an opening at or before ``s`` and one at or after ``e``, where possible."""
        table = self._covering(s, e)
        while bisect_left(table.starts, e) == len(table.starts) and table.last < LAST_YEAR:
            table = self._grow_forward(table)
        while bisect_right(table.starts, s) == 0 and table.first > FIRST_YEAR:
            table = self._build(max(FIRST_YEAR, 2 * table.first - table.last - 1), table.last)
        return table


__all__ = [
    "BusinessCalendar",
    "CalendarRangeError",
    "ClosureKind",
    "DayInfo",
    "DayOverride",
    "Hours",
    "NaiveDatetimeError",
    "in_year_end_closure",
    "japanese_holidays",
]
