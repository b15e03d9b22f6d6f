"""Why a due time is where it is: the nights, weekends, holidays and closures a span skipped."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Protocol

from babel.dates import get_day_names

from helpdesk.sla.calendar import BusinessCalendar, DayInfo


class Translator(Protocol):
    """A catalog of one language (babel's ``Translations``, Flask-Babel's current one)."""

    def gettext(self, message: str) -> str: ...

    def ngettext(self, singular: str, plural: str, n: int) -> str: ...


def N_(message: str) -> str:
    """Mark ``message`` for the catalog; :class:`Translator` translates it where it is used."""
    return message


YEAR_END = N_("Year-end closure (年末年始休業)")


@dataclass(frozen=True)
class ClosedRun:
    """Consecutive closed dates inside the span."""

    first: date
    last: date
    days: tuple[DayInfo, ...]

    def labels(self, words: Translator, locale: str) -> list[str]:
        """One label per reason, in date order, without repeats."""
        labels: list[str] = []
        for info in self.days:
            label = day_label(info, words, locale)
            if label not in labels:
                labels.append(label)
        return labels

    def line(self, words: Translator, locale: str) -> str:
        """ "2026-09-19 – 2026-09-23: Saturday, Sunday, 敬老の日 (Respect for the Aged Day), …"."""
        when = self.first.isoformat()
        if self.last != self.first:
            when += f" – {self.last.isoformat()}"
        return f"{when}: {', '.join(self.labels(words, locale))}"


@dataclass(frozen=True)
class DueExplanation:
    """What lies between a clock's start and its due time."""

    start: datetime
    due: datetime
    business_minutes: int
    nights: int
    breaks: int
    closed_runs: tuple[ClosedRun, ...]

    def lines(self, words: Translator, locale: str) -> list[str]:
        """Human-readable lines in the language of ``words``; ``locale`` ("ja", "en") names
        the days."""
        return [
            self._summary(words, locale),
            *self._gaps(words),
            *(r.line(words, locale) for r in self.closed_runs),
        ]

    def _summary(self, words: Translator, locale: str) -> str:
        hours, minutes = divmod(self.business_minutes, 60)
        text = words.gettext(
            "From %(start)s to %(due)s (%(zone)s): "
            "%(minutes)d business minutes (%(hours)d h %(rest)d min)"
        )
        return text % {
            "start": _stamp(self.start, locale),
            "due": _stamp(self.due, locale),
            "zone": str(self.due.tzinfo),
            "minutes": self.business_minutes,
            "hours": hours,
            "rest": minutes,
        }

    def _gaps(self, words: Translator) -> list[str]:
        lines = []
        if self.nights:
            text = words.ngettext(
                "Skipped %(num)d night outside opening hours",
                "Skipped %(num)d nights outside opening hours",
                self.nights,
            )
            lines.append(text % {"num": self.nights})
        if self.breaks:
            text = words.ngettext(
                "Skipped %(num)d break within opening days",
                "Skipped %(num)d breaks within opening days",
                self.breaks,
            )
            lines.append(text % {"num": self.breaks})
        return lines


def day_label(info: DayInfo, words: Translator, locale: str) -> str:
    """Why a date is closed, in one short phrase."""
    if info.closure == "year_end":
        return words.gettext(YEAR_END)
    if info.closure == "national_holiday" and info.holiday_ja:
        if locale == "ja" or not info.holiday_en or info.holiday_en == info.holiday_ja:
            return info.holiday_ja
        return f"{info.holiday_ja} ({info.holiday_en})"
    if info.closure == "admin":
        return words.gettext("%(name)s (desk closure)") % {"name": info.name}
    return str(get_day_names("wide", locale=locale)[info.weekday])


def _stamp(at: datetime, locale: str) -> str:
    """ "2026-09-18 (Fri) 16:00"."""
    weekday = get_day_names("abbreviated", locale=locale)[at.weekday()]
    return f"{at.date().isoformat()} ({weekday}) {at:%H:%M}"


def _closed_runs(calendar: BusinessCalendar, start: datetime, due: datetime) -> list[ClosedRun]:
    """Group the closed local dates that the span [start, due) touches."""
    runs: list[ClosedRun] = []
    current: list[DayInfo] = []
    day, last_day = start.date(), due.date()
    if due.time() == time.min and due > start:
        last_day -= timedelta(days=1)
    while day <= last_day:
        info = calendar.day_info(day)
        if not info.is_open:
            current.append(info)
        elif current:
            runs.append(ClosedRun(current[0].day, current[-1].day, tuple(current)))
            current = []
        day += timedelta(days=1)
    if current:
        runs.append(ClosedRun(current[0].day, current[-1].day, tuple(current)))
    return runs


def explain_due(calendar: BusinessCalendar, start: datetime, due: datetime) -> DueExplanation:
    """List what the span from ``start`` to ``due`` skipped, in the calendar's local dates."""
    business_minutes = calendar.business_minutes_between(start, due)  # rejects naive datetimes
    local_start, local_due = start.astimezone(calendar.tz), due.astimezone(calendar.tz)
    nights = breaks = 0
    for closed_at, reopens_at in calendar.closed_gaps(local_start, local_due):
        if closed_at.date() == reopens_at.date():
            breaks += 1
        else:
            nights += 1
    return DueExplanation(
        start=local_start,
        due=local_due,
        business_minutes=business_minutes,
        nights=nights,
        breaks=breaks,
        closed_runs=tuple(_closed_runs(calendar, local_start, local_due)),
    )


__all__ = ["ClosedRun", "DueExplanation", "Translator", "day_label", "explain_due"]
