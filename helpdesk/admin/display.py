"""What the admin templates show, computed here so the templates only format."""

from __future__ import annotations

import calendar as calendars
import os
from dataclasses import dataclass
from datetime import date

from helpdesk.admin.forms import SLA_TARGETS, WEEKDAYS, format_hours
from helpdesk.models import Desk, Mailbox
from helpdesk.sla.calendar import DayInfo
from helpdesk.sla.policy import PRIORITIES, targets_for
from helpdesk.tickets.sla import calendar_for

CLOSURE_LABELS = {
    "weekend": "Closed",
    "national_holiday": "National holiday",
    "year_end": "Year-end closure",
    "admin": "Closed",
}


@dataclass(frozen=True)
class DayCell:
    """One date of the month view."""

    day: date
    is_open: bool
    hours: str
    label: str
    css: str


@dataclass(frozen=True)
class MonthView:
    """A desk's month, as weeks of seven cells (None outside the month), and where to go next."""

    title: str
    weeks: list[list[DayCell | None]]
    previous: str
    following: str
    open_days: int


def parse_month(text: str | None, today: date) -> tuple[int, int]:
    """(year, month) from "2026-12"; this month when missing or malformed."""
    try:
        year, month = (int(part) for part in (text or "").split("-"))
        date(year, month, 1)
    except ValueError:
        return today.year, today.month
    if not 1949 <= year <= 2099:
        return today.year, today.month
    return year, month


def _month_key(year: int, month: int, step: int) -> str:
    index = year * 12 + (month - 1) + step
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def day_cell(info: DayInfo) -> DayCell:
    """How one date reads in the month view."""
    hours = ", ".join(f"{o:%H:%M}-{c:%H:%M}" for o, c in info.hours)
    holiday = " / ".join(n for n in (info.holiday_ja, info.holiday_en) if n)
    if info.special_opening:
        label = f"Special opening: {info.name}"
        css = "open special"
    elif info.is_open:
        label, css = "Open", "open"
    elif info.closure == "admin":
        label = f"Closed: {info.name}" + (f" (holiday: {holiday})" if holiday else "")
        css = "closed admin"
    elif info.closure == "national_holiday":
        label, css = f"Holiday: {holiday}", "closed holiday"
    else:
        label = CLOSURE_LABELS.get(info.closure or "", "Closed")
        css = f"closed {info.closure or ''}".strip()
    return DayCell(info.day, info.is_open, hours, label, css)


def month_view(desk: Desk, year: int, month: int) -> MonthView:
    """The desk's business days and closures of one month, from its SLA calendar."""
    days = calendar_for(desk).month_days(year, month)
    lead = days[0].day.weekday()
    cells: list[DayCell | None] = [None] * lead + [day_cell(info) for info in days]
    cells += [None] * (-len(cells) % 7)
    weeks = [cells[i : i + 7] for i in range(0, len(cells), 7)]
    return MonthView(
        title=f"{calendars.month_name[month]} {year}",
        weeks=weeks,
        previous=_month_key(year, month, -1),
        following=_month_key(year, month, 1),
        open_days=sum(1 for info in days if info.is_open),
    )


def weekly_hours(desk: Desk) -> list[tuple[str, str]]:
    """(weekday, hours or "closed") for the desk list."""
    hours = desk.opening_hours or {}
    return [(WEEKDAYS[day], format_hours(hours.get(str(day), [])) or "closed") for day in range(7)]


def sla_defaults(desk: Desk) -> dict[str, dict[str, int]]:
    """Default targets in business minutes by priority, for this desk's standard day."""
    day_minutes = calendar_for(desk).standard_day_minutes()
    defaults: dict[str, dict[str, int]] = {}
    for priority in PRIORITIES:
        targets = targets_for(priority, day_minutes)
        defaults[priority] = {name: getattr(targets, name) for name in SLA_TARGETS}
    return defaults


def secret_is_set(mailbox: Mailbox) -> bool:
    """Whether the mailbox's password variable is set in this process (its value never shown)."""
    return bool(os.environ.get(mailbox.secret_env))
