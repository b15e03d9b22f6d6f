"""Business calendar and SLA policy: pure arithmetic, no Flask, no database, no clock."""

from helpdesk.sla.calendar import (
    BusinessCalendar,
    CalendarRangeError,
    DayInfo,
    DayOverride,
    NaiveDatetimeError,
)
from helpdesk.sla.explain import DueExplanation, explain_due
from helpdesk.sla.policy import (
    ClockPeriod,
    Priority,
    SlaState,
    SlaTargets,
    clock_state,
    due_at,
    elapsed_business_minutes,
    sla_state,
    targets_for,
)

__all__ = [
    "BusinessCalendar",
    "CalendarRangeError",
    "ClockPeriod",
    "DayInfo",
    "DayOverride",
    "DueExplanation",
    "NaiveDatetimeError",
    "Priority",
    "SlaState",
    "SlaTargets",
    "clock_state",
    "due_at",
    "elapsed_business_minutes",
    "explain_due",
    "sla_state",
    "targets_for",
]
