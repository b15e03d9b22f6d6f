"""Why a due time is where it is: the nights, weekends, holidays and closures a span skipped."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal

from helpdesk.sla.calendar import BusinessCalendar, DayInfo

Language = Literal["ja", "en"]

WEEKDAYS = {
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "ja": ("月曜日", "火曜日", "水曜日", "木曜日", "金曜日", "土曜日", "日曜日"),
}
SHORT_WEEKDAYS = {
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
    "ja": ("月", "火", "水", "木", "金", "土", "日"),
}
YEAR_END = {"en": "Year-end closure (年末年始休業)", "ja": "年末年始休業"}


@dataclass(frozen=True)
class ClosedRun:
    """Consecutive closed dates inside the span."""

    first: date
    last: date
    days: tuple[DayInfo, ...]

    def labels(self, lang: Language) -> list[str]:
        """One label per reason, in date order, without repeats."""
        labels: list[str] = []
        for info in self.days:
            label = day_label(info, lang)
            if label not in labels:
                labels.append(label)
        return labels

    def line(self, lang: Language) -> str:
        """ "2026-09-19 – 2026-09-23: Saturday, Sunday, 敬老の日 (Respect for the Aged Day), …"."""
        when = self.first.isoformat()
        if self.last != self.first:
            when += f" – {self.last.isoformat()}"
        return f"{when}: {', '.join(self.labels(lang))}"


@dataclass(frozen=True)
class DueExplanation:
    """What lies between a clock's start and its due time."""

    start: datetime
    due: datetime
    business_minutes: int
    nights: int
    breaks: int
    closed_runs: tuple[ClosedRun, ...]

    def lines(self, lang: Language = "en") -> list[str]:
        """Human-readable lines in Japanese ("ja") or English ("en")."""
        return [self._summary(lang), *self._gaps(lang), *(r.line(lang) for r in self.closed_runs)]

    def _summary(self, lang: Language) -> str:
        start, due = _stamp(self.start, lang), _stamp(self.due, lang)
        hours, minutes = divmod(self.business_minutes, 60)
        zone = str(self.due.tzinfo)
        if lang == "ja":
            return (
                f"{start} から {due} まで ({zone}): "
                f"営業時間 {self.business_minutes} 分 ({hours} 時間 {minutes} 分)"
            )
        return (
            f"From {start} to {due} ({zone}): "
            f"{self.business_minutes} business minutes ({hours} h {minutes} min)"
        )

    def _gaps(self, lang: Language) -> list[str]:
        lines = []
        if self.nights:
            nights = "night" if self.nights == 1 else "nights"
            en = f"Skipped {self.nights} {nights} outside opening hours"
            lines.append(f"営業時間外の夜間: {self.nights} 回" if lang == "ja" else en)
        if self.breaks:
            breaks = "break" if self.breaks == 1 else "breaks"
            en = f"Skipped {self.breaks} {breaks} within opening days"
            lines.append(f"営業日中の休憩: {self.breaks} 回" if lang == "ja" else en)
        return lines


def day_label(info: DayInfo, lang: Language) -> str:
    """Why a date is closed, in one short phrase."""
    if info.closure == "year_end":
        return YEAR_END[lang]
    if info.closure == "national_holiday" and info.holiday_ja:
        if lang == "ja" or not info.holiday_en or info.holiday_en == info.holiday_ja:
            return info.holiday_ja
        return f"{info.holiday_ja} ({info.holiday_en})"
    if info.closure == "admin":
        return f"{info.name} (臨時休業)" if lang == "ja" else f"{info.name} (desk closure)"
    return WEEKDAYS[lang][info.weekday]


def _stamp(at: datetime, lang: Language) -> str:
    """ "2026-09-18 (Fri) 16:00"."""
    weekday = SHORT_WEEKDAYS[lang][at.weekday()]
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


__all__ = ["ClosedRun", "DueExplanation", "day_label", "explain_due"]
