"""SLA targets per priority and the pausing ticket clock."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from helpdesk.sla.calendar import BusinessCalendar, DayOverride, NaiveDatetimeError
from helpdesk.sla.policy import (
    ClockPeriod,
    SlaTargets,
    clock_state,
    due_at,
    elapsed_business_minutes,
    sla_state,
    targets_for,
)

TOKYO = ZoneInfo("Asia/Tokyo")


def jst(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, us: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, us, tzinfo=TOKYO)


@pytest.fixture
def standard() -> BusinessCalendar:
    return BusinessCalendar.standard()


def test_default_targets() -> None:
    assert SlaTargets() == SlaTargets(first_response=480, next_response=480, resolution=2400)
    assert targets_for("normal") == SlaTargets()


def test_priorities_are_ordered_by_urgency() -> None:
    targets = [targets_for(p) for p in ("urgent", "high", "normal", "low")]
    assert [t.first_response for t in targets] == [60, 240, 480, 960]
    assert [t.resolution for t in targets] == [480, 1440, 2400, 4800]


def test_a_business_day_is_the_desks_standard_day() -> None:
    long_day = BusinessCalendar({d: [(time(8, 30), time(17, 15))] for d in range(5)})
    targets = targets_for("normal", long_day.standard_day_minutes())
    assert (targets.first_response, targets.resolution) == (480, 5 * 525)


def test_desk_overrides() -> None:
    overrides = {"high": {"first_response": 120}, "low": {"resolution": 9600}}
    assert targets_for("high", overrides=overrides) == SlaTargets(120, 240, 1440)
    assert targets_for("low", overrides=overrides).resolution == 9600
    assert targets_for("normal", overrides=overrides) == SlaTargets()


def test_bad_priorities_and_targets_are_rejected() -> None:
    with pytest.raises(ValueError, match="unknown priority"):
        targets_for("critical")
    with pytest.raises(ValueError, match="unknown SLA target"):
        targets_for("high", overrides={"high": {"first_reply": 10}})
    with pytest.raises(ValueError, match="positive"):
        SlaTargets(first_response=0)


def test_clock_periods_are_checked() -> None:
    with pytest.raises(ValueError, match="unknown ticket status"):
        ClockPeriod("pending", jst(2026, 6, 8, 9))
    with pytest.raises(NaiveDatetimeError):
        ClockPeriod("open", datetime(2026, 6, 8, 9))
    with pytest.raises(ValueError, match="before it starts"):
        ClockPeriod("open", jst(2026, 6, 8, 9), jst(2026, 6, 8, 8))
    with pytest.raises(ValueError, match="in order"):
        due_at(
            BusinessCalendar(),
            60,
            [ClockPeriod("new", jst(2026, 6, 8, 9)), ClockPeriod("open", jst(2026, 6, 8, 10))],
        )


def test_clock_state() -> None:
    start = jst(2026, 6, 8, 9)
    assert clock_state([]) == "stopped"
    assert clock_state([ClockPeriod("new", start)]) == "running"
    assert clock_state([ClockPeriod("awaiting_information", start)]) == "paused"
    assert clock_state([ClockPeriod("resolved", start)]) == "stopped"


def test_friday_night_before_a_holiday_weekend_starts_at_the_next_opening(
    standard: BusinessCalendar,
) -> None:
    # Friday 2026-09-18 23:00; Saturday to Wednesday are closed (Silver Week).
    periods = [ClockPeriod("new", jst(2026, 9, 18, 23))]
    assert due_at(standard, 480, periods) == jst(2026, 9, 24, 17)
    assert due_at(standard, 60, periods) == jst(2026, 9, 24, 10)


def test_paused_time_does_not_count(standard: BusinessCalendar) -> None:
    periods = [
        ClockPeriod("new", jst(2026, 6, 8, 9), jst(2026, 6, 8, 10)),
        ClockPeriod("awaiting_customer", jst(2026, 6, 8, 10), jst(2026, 6, 8, 14)),
        ClockPeriod("open", jst(2026, 6, 8, 14)),
    ]
    # 60 minutes used on Monday morning; 420 remain from 14:00: 180 on Monday, 240 on Tuesday.
    assert due_at(standard, 480, periods) == jst(2026, 6, 9, 13)
    assert elapsed_business_minutes(standard, periods, jst(2026, 6, 8, 15, 30)) == 150
    assert elapsed_business_minutes(standard, periods, jst(2026, 6, 8, 12)) == 60


def test_no_due_time_while_paused_or_stopped(standard: BusinessCalendar) -> None:
    first = ClockPeriod("new", jst(2026, 6, 8, 9), jst(2026, 6, 8, 10))
    for status in ("awaiting_customer", "awaiting_information", "resolved", "closed"):
        assert due_at(standard, 480, [first, ClockPeriod(status, jst(2026, 6, 8, 10))]) is None
    assert due_at(standard, 480, []) is None


def test_a_target_reached_in_an_earlier_period_is_already_due(standard: BusinessCalendar) -> None:
    periods = [
        ClockPeriod("open", jst(2026, 6, 8, 9), jst(2026, 6, 8, 12)),
        ClockPeriod("awaiting_customer", jst(2026, 6, 8, 12), jst(2026, 6, 9, 9)),
        ClockPeriod("open", jst(2026, 6, 9, 9)),
    ]
    assert due_at(standard, 60, periods) == jst(2026, 6, 8, 10)
    assert sla_state(jst(2026, 6, 8, 10), jst(2026, 6, 9, 9), standard) == "breached"


def test_seconds_used_in_earlier_periods_are_not_rounded_away(standard: BusinessCalendar) -> None:
    periods = [
        ClockPeriod("new", jst(2026, 6, 8, 9), jst(2026, 6, 8, 9, 0, 40)),
        ClockPeriod("awaiting_customer", jst(2026, 6, 8, 9, 0, 40), jst(2026, 6, 8, 10)),
        ClockPeriod("open", jst(2026, 6, 8, 10), None),
    ]
    assert due_at(standard, 1, periods) == jst(2026, 6, 8, 10, 0, 20)


def test_sla_state(standard: BusinessCalendar) -> None:
    due = jst(2026, 6, 8, 15)
    assert sla_state(None, jst(2026, 6, 8, 9), standard) == "paused"
    assert sla_state(due, jst(2026, 6, 8, 13, 59), standard) == "ok"
    assert sla_state(due, jst(2026, 6, 8, 14), standard) == "near"
    assert sla_state(due, jst(2026, 6, 8, 15), standard) == "breached"
    assert sla_state(due, jst(2026, 6, 8, 14), standard, warn_minutes=30) == "ok"


def test_near_counts_business_minutes_not_wall_clock(standard: BusinessCalendar) -> None:
    monday_due = jst(2026, 6, 8, 9, 30)
    assert sla_state(monday_due, jst(2026, 6, 6, 12), standard) == "near"
    assert sla_state(jst(2026, 6, 8, 11), jst(2026, 6, 5, 16, 30), standard) == "ok"


def test_due_at_uses_the_calendars_overrides() -> None:
    calendar = BusinessCalendar(overrides=[DayOverride(date(2026, 6, 9), "Maintenance", False)])
    periods = [ClockPeriod("new", jst(2026, 6, 8, 16))]
    assert due_at(calendar, 120, periods) == jst(2026, 6, 10, 10)
    assert (
        elapsed_business_minutes(calendar, periods, jst(2026, 6, 10, 9) + timedelta(minutes=5))
        == 65
    )
