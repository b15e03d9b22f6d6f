"""SLA targets per priority and the ticket clock (pure: the caller passes calendar and now).

Targets are business minutes. A "business day" in a target is the desk's standard day length
(``BusinessCalendar.standard_day_minutes``: 480 for 09:00-17:00, 525 for 08:30-17:15), so "five
business days" means 2400 minutes on the first kind of desk and 2625 on the second.

The clock runs while a ticket is ``new`` or ``open``, pauses while it awaits the customer or
missing information, and stops once ``resolved`` or ``closed``.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from datetime import datetime, timedelta
from typing import Literal

from helpdesk.sla.calendar import BusinessCalendar, NaiveDatetimeError
from helpdesk.tickets.workflow import CLOCK_PAUSED, CLOCK_RUNNING, FINISHED, TicketStatus


class Priority(enum.StrEnum):
    """How urgent a ticket is; SLA targets differ by priority."""

    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class SlaState(enum.StrEnum):
    """Where a ticket stands against its due time (``Ticket.sla_state``)."""

    OK = "ok"
    NEAR = "near"
    BREACHED = "breached"
    PAUSED = "paused"
    DONE = "done"  # resolved or closed: no clock any more


ClockState = Literal["running", "paused", "stopped"]

PRIORITIES: tuple[Priority, ...] = tuple(Priority)
# The ticket workflow's own sets: one vocabulary of statuses.
RUNNING_STATUSES = CLOCK_RUNNING
PAUSED_STATUSES = CLOCK_PAUSED
STOPPED_STATUSES = FINISHED
STATUSES: frozenset[TicketStatus] = frozenset(TicketStatus)


@dataclass(frozen=True)
class SlaTargets:
    """Business minutes allowed for the first response, each next response and resolution."""

    first_response: int = 8 * 60
    next_response: int = 8 * 60
    resolution: int = 5 * 8 * 60

    def __post_init__(self) -> None:
        for target in fields(self):
            if getattr(self, target.name) <= 0:
                raise ValueError(f"SLA target {target.name} must be positive")


@dataclass(frozen=True)
class PriorityDefaults:
    """Default targets of one priority: responses in business hours, resolution in days."""

    first_response_hours: float
    next_response_hours: float
    resolution_days: float

    def targets(self, day_minutes: int) -> SlaTargets:
        """Targets in business minutes for a desk whose standard day is ``day_minutes`` long."""
        return SlaTargets(
            first_response=round(self.first_response_hours * 60),
            next_response=round(self.next_response_hours * 60),
            resolution=round(self.resolution_days * day_minutes),
        )


DEFAULT_PRIORITY_TARGETS: Mapping[Priority, PriorityDefaults] = {
    Priority.URGENT: PriorityDefaults(1, 2, 1),
    Priority.HIGH: PriorityDefaults(4, 4, 3),
    Priority.NORMAL: PriorityDefaults(8, 8, 5),
    Priority.LOW: PriorityDefaults(16, 16, 10),
}


def targets_for(
    priority: str,
    day_minutes: int = 8 * 60,
    overrides: Mapping[str, Mapping[str, int]] | None = None,
) -> SlaTargets:
    """Targets of a priority, with a desk's overrides ({"high": {"first_response": 120}})."""
    if priority not in DEFAULT_PRIORITY_TARGETS:
        raise ValueError(f"unknown priority {priority!r}; expected one of {', '.join(PRIORITIES)}")
    targets = DEFAULT_PRIORITY_TARGETS[Priority(priority)].targets(day_minutes)
    changes = dict((overrides or {}).get(priority, {}))
    unknown = set(changes) - {target.name for target in fields(SlaTargets)}
    if unknown:
        raise ValueError(f"unknown SLA target(s) {sorted(unknown)} for priority {priority!r}")
    return replace(targets, **changes)


@dataclass(frozen=True)
class ClockPeriod:
    """A stretch of a ticket's life in one status; ``end`` is None for the current one."""

    status: TicketStatus
    start: datetime
    end: datetime | None = None

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown ticket status {self.status!r}")
        for instant in (self.start, self.end):
            if instant is not None and instant.utcoffset() is None:
                raise NaiveDatetimeError(f"clock periods need aware datetimes, got {instant!r}")
        if self.end is not None and self.end < self.start:
            raise ValueError("a clock period cannot end before it starts")

    @property
    def running(self) -> bool:
        """Does the SLA clock run during this period?"""
        return self.status in RUNNING_STATUSES


def clock_state(periods: Sequence[ClockPeriod]) -> ClockState:
    """State of the clock: that of the latest period ("stopped" when there is none)."""
    if not periods:
        return "stopped"
    if periods[-1].running:
        return "running"
    return "paused" if periods[-1].status in PAUSED_STATUSES else "stopped"


def _check_order(periods: Sequence[ClockPeriod]) -> None:
    """Periods must follow each other; only the last may be open-ended."""
    for earlier, later in zip(periods, periods[1:], strict=False):
        if earlier.end is None or later.start < earlier.end:
            raise ValueError("clock periods must be in order, and only the last may be open")


def due_at(
    calendar: BusinessCalendar, target_minutes: int, periods: Sequence[ClockPeriod]
) -> datetime | None:
    """When running business time reaches the target; None while the clock is paused or stopped.

    Business time already used in earlier running periods counts, so a due time may lie in the
    past (the target was reached in an earlier period: the ticket is breached).
    """
    _check_order(periods)
    if clock_state(periods) != "running":
        return None
    remaining = timedelta(minutes=target_minutes)
    for period in periods[:-1]:
        if not period.running or period.end is None:
            continue
        used = calendar.business_time_between(period.start, period.end)
        if used >= remaining:
            return calendar.add_business_time(period.start, remaining)
        remaining -= used
    return calendar.add_business_time(periods[-1].start, remaining)


def elapsed_business_minutes(
    calendar: BusinessCalendar, periods: Sequence[ClockPeriod], now: datetime
) -> int:
    """Whole business minutes the clock has run up to ``now``."""
    _check_order(periods)
    total = timedelta()
    for period in periods:
        if period.running:
            end = now if period.end is None else min(period.end, now)
            total += calendar.business_time_between(period.start, end)
    return total // timedelta(minutes=1)


def sla_state(
    due: datetime | None, now: datetime, calendar: BusinessCalendar, warn_minutes: int = 60
) -> SlaState:
    """ "paused" without a due time, "breached" from the due instant on, "near" within the warning.

    "near" means at most ``warn_minutes`` business minutes remain; on a weekend before a Monday
    09:30 due time only 30 business minutes remain, so such a ticket is already near.
    """
    if due is None:
        return SlaState.PAUSED
    if now >= due:
        return SlaState.BREACHED
    remaining = calendar.business_time_between(now, due)
    return SlaState.NEAR if remaining <= timedelta(minutes=warn_minutes) else SlaState.OK


__all__ = [
    "DEFAULT_PRIORITY_TARGETS",
    "PAUSED_STATUSES",
    "PRIORITIES",
    "RUNNING_STATUSES",
    "STATUSES",
    "STOPPED_STATUSES",
    "ClockPeriod",
    "ClockState",
    "Priority",
    "PriorityDefaults",
    "SlaState",
    "SlaTargets",
    "clock_state",
    "due_at",
    "elapsed_business_minutes",
    "sla_state",
    "targets_for",
]
