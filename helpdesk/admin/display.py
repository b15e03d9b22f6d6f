"""What the admin templates show, computed here so the templates only format."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date

from flask_babel import gettext, pgettext
from flask_babel import lazy_gettext as _l

from helpdesk import i18n
from helpdesk.admin.forms import (
    ATTACHMENT_ACTIONS_SHORT,
    SECURITY_LABELS,
    SLA_TARGET_LABELS,
    SLA_TARGETS,
    format_hours,
)
from helpdesk.models import Desk, Mailbox, MailboxState
from helpdesk.sla.calendar import DayInfo
from helpdesk.sla.policy import PRIORITIES, targets_for
from helpdesk.tickets.sla_clock import calendar_for

# What a mailbox's polling state says (the poller writes the keys).
MAILBOX_STATES = {
    MailboxState.IDLE: _l("not polled yet"),
    MailboxState.OK: _l("working"),
    MailboxState.ERROR: _l("failing"),
}
# What retrying a failed message did (the pipeline's outcome names).
RETRY_OUTCOMES = {
    "new_ticket": _l("new ticket"),
    "follow_up": _l("added to its ticket"),
    "duplicate": _l("already imported"),
    "refused": _l("refused"),
    "bounce": _l("delivery failure recorded"),
    "ignored": _l("ignored"),
    "failed": _l("failed"),
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


def holiday_name(info: DayInfo) -> str:
    """A national holiday's name for the reader: its Japanese name, and for a reader of
    English the English one beside it."""
    if i18n.current_language() == "ja" or not info.holiday_en:
        return info.holiday_ja or info.holiday_en or ""
    return " / ".join(n for n in (info.holiday_ja, info.holiday_en) if n)


def _closed() -> str:
    # A closed day, not a closed ticket.
    return str(pgettext("day", "Closed"))


def day_cell(info: DayInfo) -> DayCell:
    """How one date reads in the month view, in the reader's language."""
    hours = ", ".join(f"{o:%H:%M}-{c:%H:%M}" for o, c in info.hours)
    holiday = holiday_name(info)
    if info.special_opening:
        label = gettext("Special opening: %(name)s", name=info.name)
        css = "open special"
    elif info.is_open:
        label, css = pgettext("day", "Open"), "open"
    elif info.closure == "admin":
        label = gettext("Closed: %(name)s", name=info.name)
        if holiday:
            label = gettext(
                "Closed: %(name)s (holiday: %(holiday)s)", name=info.name, holiday=holiday
            )
        css = "closed admin"
    elif info.closure == "national_holiday":
        label, css = gettext("Holiday: %(name)s", name=holiday), "closed holiday"
    else:
        label = gettext("Year-end closure") if info.closure == "year_end" else _closed()
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
        title=i18n.month_title(year, month),
        weeks=weeks,
        previous=_month_key(year, month, -1),
        following=_month_key(year, month, 1),
        open_days=sum(1 for info in days if info.is_open),
    )


def weekly_hours(desk: Desk) -> list[tuple[str, str]]:
    """(short weekday name, hours or "closed") for the desk list, in the reader's language."""
    hours = desk.opening_hours or {}
    names = i18n.weekday_names("abbreviated")
    closed = gettext("closed")
    return [(names[day], format_hours(hours.get(str(day), [])) or closed) for day in range(7)]


def attachment_action(desk: Desk) -> str:
    """What the desk does with a forbidden file, in a word."""
    return str(ATTACHMENT_ACTIONS_SHORT[desk.attachment_action.value])


def sla_target_headings() -> list[tuple[str, str]]:
    """(target, its heading) for the table of SLA targets."""
    return [(target, str(SLA_TARGET_LABELS[target])) for target in SLA_TARGETS]


def mailbox_state(mailbox: Mailbox) -> str:
    """A mailbox's polling state in words."""
    return str(MAILBOX_STATES[mailbox.state])


def security_label(mailbox: Mailbox) -> str:
    """How the connection to the mailbox is protected, in words."""
    return str(SECURITY_LABELS[mailbox.security.value])


def retry_outcome(outcome: str) -> str:
    """What retrying a failed message did, in words."""
    label = RETRY_OUTCOMES.get(outcome)
    return str(label) if label is not None else outcome.replace("_", " ")


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
