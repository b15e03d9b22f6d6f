"""Named cases for the business calendar: Japanese holidays, closures, boundaries, zones."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import holidays
import jpholiday
import pytest

from helpdesk.sla.calendar import (
    BusinessCalendar,
    CalendarRangeError,
    DayOverride,
    NaiveDatetimeError,
)

TOKYO = ZoneInfo("Asia/Tokyo")
NEW_YORK = ZoneInfo("America/New_York")


def jst(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, us: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, us, tzinfo=TOKYO)


@pytest.fixture
def standard() -> BusinessCalendar:
    return BusinessCalendar.standard()


@pytest.fixture
def long_day() -> BusinessCalendar:
    """The general information centre: Mon-Fri 08:30-17:15."""
    return BusinessCalendar({d: [(time(8, 30), time(17, 15))] for d in range(5)})


def test_holidays_package_agrees_with_jpholiday_2024_to_2030() -> None:
    ours = set(holidays.country_holidays("JP", years=range(2024, 2031)))
    theirs = {day for day, _ in jpholiday.between(date(2024, 1, 1), date(2030, 12, 31))}
    assert ours == theirs
    assert len(ours) == 129


def test_citizens_holiday_2026_09_22(standard: BusinessCalendar) -> None:
    info = standard.day_info(date(2026, 9, 22))
    assert (info.is_open, info.closure, info.holiday_ja) == (
        False,
        "national_holiday",
        "国民の休日",
    )
    # Friday 16:00 + 2 h: one hour on Friday, then Sat, Sun and three holidays in a row.
    assert standard.add_business_minutes(jst(2026, 9, 18, 16), 120) == jst(2026, 9, 24, 10)


def test_substitute_holiday_2026_05_06(standard: BusinessCalendar) -> None:
    info = standard.day_info(date(2026, 5, 6))
    assert (info.closure, info.holiday_ja, info.holiday_en) == (
        "national_holiday",
        "振替休日",
        "Substitute Holiday",
    )
    assert standard.add_business_minutes(jst(2026, 5, 1, 16), 120) == jst(2026, 5, 7, 10)


def test_golden_week_2026(standard: BusinessCalendar) -> None:
    closed = {i.day.day for i in standard.month_days(2026, 5)[:10] if not i.is_open}
    assert closed == {2, 3, 4, 5, 6, 9, 10}
    assert not standard.is_open(jst(2026, 4, 29, 10))  # 昭和の日, a Wednesday
    assert standard.add_business_minutes(jst(2026, 4, 28, 17), 480) == jst(2026, 4, 30, 17)
    # 30 April, 1 May and 7 May are the only working days in the stretch.
    assert standard.business_minutes_between(jst(2026, 4, 30, 9), jst(2026, 5, 8, 9)) == 3 * 480


def test_year_end_closure(standard: BusinessCalendar) -> None:
    assert standard.add_business_minutes(jst(2026, 12, 28, 16, 30), 60) == jst(2027, 1, 4, 9, 30)
    assert standard.day_info(date(2026, 12, 29)).closure == "year_end"
    assert standard.day_info(date(2027, 1, 1)).closure == "year_end"
    assert standard.business_minutes_between(jst(2026, 12, 28, 9), jst(2027, 1, 5, 9)) == 960


def test_year_end_closure_can_be_switched_off() -> None:
    calendar = BusinessCalendar(year_end_closure=False)
    assert calendar.add_business_minutes(jst(2026, 12, 28, 16, 30), 60) == jst(2026, 12, 29, 9, 30)
    assert calendar.day_info(date(2027, 1, 1)).closure == "national_holiday"
    assert calendar.is_open(jst(2026, 12, 31, 12))


def test_national_holidays_can_be_switched_off() -> None:
    calendar = BusinessCalendar(national_holidays=False)
    info = calendar.day_info(date(2026, 9, 22))
    assert info.is_open and info.holiday_ja is None


def test_friday_16_59_arrival(standard: BusinessCalendar) -> None:
    friday = jst(2026, 6, 5, 16, 59)
    assert standard.add_business_minutes(friday, 1) == jst(2026, 6, 5, 17)
    assert standard.add_business_minutes(friday, 2) == jst(2026, 6, 8, 9, 1)
    assert standard.business_minutes_between(friday, jst(2026, 6, 8, 9, 1)) == 2


def test_opening_is_open_and_closing_is_closed(standard: BusinessCalendar) -> None:
    assert standard.is_open(jst(2026, 6, 8, 9))
    assert not standard.is_open(jst(2026, 6, 8, 8, 59, 59, 999999))
    assert not standard.is_open(jst(2026, 6, 8, 17))
    assert standard.is_open(jst(2026, 6, 8, 16, 59, 59, 999999))
    assert standard.next_opening(jst(2026, 6, 8, 9)) == jst(2026, 6, 8, 9)
    assert standard.next_opening(jst(2026, 6, 8, 17)) == jst(2026, 6, 9, 9)
    assert standard.add_business_minutes(jst(2026, 6, 8, 9), 0) == jst(2026, 6, 8, 9)
    assert standard.add_business_minutes(jst(2026, 6, 8, 17), 0) == jst(2026, 6, 9, 9)
    assert standard.add_business_minutes(jst(2026, 6, 8, 17), 1) == jst(2026, 6, 9, 9, 1)


def test_seconds_are_kept_and_minutes_floored(standard: BusinessCalendar) -> None:
    start = jst(2026, 6, 8, 9, 0, 30)
    assert standard.add_business_minutes(start, 1) == jst(2026, 6, 8, 9, 1, 30)
    assert standard.add_business_minutes(jst(2026, 6, 8, 16, 59, 30), 1) == jst(
        2026, 6, 9, 9, 0, 30
    )
    assert standard.business_minutes_between(start, jst(2026, 6, 8, 9, 1, 29)) == 0
    assert standard.business_minutes_between(start, jst(2026, 6, 8, 9, 1, 30)) == 1
    assert standard.business_time_between(start, jst(2026, 6, 8, 9, 1, 29)) == timedelta(seconds=59)
    assert standard.business_minutes_between(jst(2026, 6, 9), jst(2026, 6, 8)) == 0


def test_start_in_new_york_across_dst(standard: BusinessCalendar) -> None:
    # New York springs forward at 02:00 on 2026-03-08; Tokyo does not change.
    start = datetime(2026, 3, 8, 1, 30, tzinfo=NEW_YORK)  # Sunday 15:30 in Tokyo
    due = standard.add_business_minutes(start, 60)
    assert due == jst(2026, 3, 9, 10)
    assert due.astimezone(NEW_YORK) == datetime(2026, 3, 8, 21, tzinfo=NEW_YORK)
    assert due.tzinfo == TOKYO
    end = datetime(2026, 3, 8, 23, tzinfo=NEW_YORK)  # Monday 12:00 in Tokyo
    assert standard.business_minutes_between(start, end) == 180


def test_new_york_calendar_across_both_dst_changes() -> None:
    calendar = BusinessCalendar(timezone="America/New_York", national_holidays=False)
    friday = datetime(2026, 3, 6, 16, tzinfo=NEW_YORK)
    assert calendar.add_business_minutes(friday, 120) == datetime(2026, 3, 9, 10, tzinfo=NEW_YORK)
    fall = datetime(2026, 10, 30, 16, tzinfo=NEW_YORK)
    assert calendar.add_business_minutes(fall, 120) == datetime(2026, 11, 2, 10, tzinfo=NEW_YORK)
    assert calendar.business_minutes_between(friday, datetime(2026, 3, 9, 10, tzinfo=NEW_YORK)) == (
        120
    )


@pytest.mark.parametrize("day", [date(2026, 3, 8), date(2026, 11, 1)])
def test_wall_times_on_dst_change_dates_in_the_calendars_zone(day: date) -> None:
    calendar = BusinessCalendar(
        {6: [(time(9), time(17))]}, timezone="America/New_York", national_holidays=False
    )
    midnight = datetime.combine(day, time(), tzinfo=NEW_YORK)
    afternoon = datetime.combine(day, time(16, 30), tzinfo=NEW_YORK)
    assert calendar.is_open(afternoon)
    assert calendar.business_minutes_between(midnight, afternoon) == 450
    assert calendar.add_business_minutes(midnight, 450) == afternoon


def test_opening_inside_a_dst_gap_means_the_end_of_the_gap() -> None:
    calendar = BusinessCalendar(
        {6: [(time(2, 30), time(5))]}, timezone="America/New_York", national_holidays=False
    )
    sunday = datetime(2026, 3, 8, tzinfo=NEW_YORK)
    assert calendar.next_opening(sunday) == datetime(2026, 3, 8, 3, tzinfo=NEW_YORK)
    assert calendar.business_minutes_between(sunday, sunday + timedelta(days=1)) == 120


def test_long_day_calendar(long_day: BusinessCalendar) -> None:
    assert long_day.is_open(jst(2026, 6, 8, 8, 30))
    assert long_day.is_open(jst(2026, 6, 8, 17, 14))
    assert not long_day.is_open(jst(2026, 6, 8, 17, 15))
    assert long_day.add_business_minutes(jst(2026, 6, 5, 17), 30) == jst(2026, 6, 8, 8, 45)
    assert long_day.standard_day_minutes() == 525
    assert long_day.business_minutes_between(jst(2026, 6, 8), jst(2026, 6, 13)) == 5 * 525


def test_admin_closure() -> None:
    calendar = BusinessCalendar(overrides=[DayOverride(date(2026, 6, 10), "Maintenance", False)])
    info = calendar.day_info(date(2026, 6, 10))
    assert (info.is_open, info.closure, info.name) == (False, "admin", "Maintenance")
    assert calendar.add_business_minutes(jst(2026, 6, 9, 16), 120) == jst(2026, 6, 11, 10)


def test_special_opening_days() -> None:
    calendar = BusinessCalendar(
        overrides=[
            DayOverride(date(2026, 5, 6), "Open after Golden Week", True),
            DayOverride(date(2026, 5, 9), "Saturday session", True),
            DayOverride(date(2026, 5, 10), "Short Sunday", True, time(10), time(12)),
        ]
    )
    substitute = calendar.day_info(date(2026, 5, 6))
    assert substitute.special_opening and substitute.holiday_ja == "振替休日"
    assert substitute.hours == ((time(9), time(17)),)
    assert calendar.day_info(date(2026, 5, 9)).hours == ((time(9), time(17)),)  # Monday's
    assert calendar.add_business_minutes(jst(2026, 5, 1, 16), 120) == jst(2026, 5, 6, 10)
    assert calendar.business_minutes_between(jst(2026, 5, 9), jst(2026, 5, 11)) == 480 + 120


def test_special_opening_on_a_weekday_without_hours_uses_mondays_hours() -> None:
    calendar = BusinessCalendar(
        {0: [(time(8), time(12))], 2: [(time(13), time(18))]},
        overrides=[DayOverride(date(2026, 6, 13), "Saturday", True, opens=time(10))],
    )
    assert calendar.day_info(date(2026, 6, 13)).hours == ((time(10), time(12)),)
    assert calendar.default_hours(5) == ((time(8), time(12)),)


def test_split_hours() -> None:
    calendar = BusinessCalendar({0: [(time(13), time(17)), (time(9), time(12))]})
    monday = jst(2026, 6, 8, 11, 30)
    assert calendar.add_business_minutes(monday, 60) == jst(2026, 6, 8, 13, 30)
    assert not calendar.is_open(jst(2026, 6, 8, 12, 30))
    assert calendar.standard_day_minutes() == 420


def test_naive_datetimes_are_rejected(standard: BusinessCalendar) -> None:
    naive = datetime(2026, 6, 8, 10)
    for call in (
        lambda: standard.add_business_minutes(naive, 10),
        lambda: standard.business_minutes_between(naive, jst(2026, 6, 9)),
        lambda: standard.business_minutes_between(jst(2026, 6, 7), naive),
        lambda: standard.is_open(naive),
        lambda: standard.next_opening(naive),
    ):
        with pytest.raises(NaiveDatetimeError, match="timezone-aware"):
            call()
    assert issubclass(NaiveDatetimeError, ValueError)


def test_negative_minutes_are_rejected(standard: BusinessCalendar) -> None:
    with pytest.raises(ValueError, match="negative"):
        standard.add_business_minutes(jst(2026, 6, 8, 10), -1)


def test_years_outside_the_holiday_data_are_rejected(standard: BusinessCalendar) -> None:
    with pytest.raises(CalendarRangeError):
        standard.is_open(datetime(2100, 1, 5, 10, tzinfo=UTC))
    with pytest.raises(CalendarRangeError):
        standard.add_business_minutes(datetime(1948, 1, 5, tzinfo=UTC), 1)
    with pytest.raises(CalendarRangeError):
        standard.add_business_minutes(jst(2099, 12, 30), 480)
    for far in (datetime(1, 1, 2, tzinfo=UTC), datetime(9999, 12, 30, tzinfo=UTC)):
        with pytest.raises(CalendarRangeError):
            standard.business_minutes_between(far, far + timedelta(hours=1))


def test_spans_across_many_years_match_a_day_count(standard: BusinessCalendar) -> None:
    open_days = sum(
        info.is_open
        for year in range(2024, 2031)
        for month in range(1, 13)
        for info in standard.month_days(year, month)
    )
    assert standard.business_minutes_between(jst(2024, 1, 1), jst(2031, 1, 1)) == 480 * open_days
    assert standard.add_business_minutes(jst(2024, 1, 1), 480 * open_days) == jst(2030, 12, 27, 17)


def test_results_are_in_the_calendars_zone() -> None:
    calendar = BusinessCalendar(timezone="Europe/London", national_holidays=False)
    due = calendar.add_business_minutes(datetime(2026, 6, 8, 9, tzinfo=UTC), 30)
    assert due.tzinfo == ZoneInfo("Europe/London")
    assert due == datetime(2026, 6, 8, 10, 30, tzinfo=ZoneInfo("Europe/London"))


def test_month_days() -> None:
    calendar = BusinessCalendar(
        overrides=[
            DayOverride(date(2026, 9, 1), "Disaster drill", False),
            DayOverride(date(2026, 9, 5), "Saturday session", True),
        ]
    )
    days = calendar.month_days(2026, 9)
    assert [d.day for d in days] == [date(2026, 9, n) for n in range(1, 31)]
    by_day = {d.day.day: d for d in days}
    assert (by_day[1].closure, by_day[1].name) == ("admin", "Disaster drill")
    assert by_day[5].is_open and by_day[5].special_opening
    assert by_day[6].closure == "weekend"
    assert (by_day[21].holiday_ja, by_day[21].holiday_en) == (
        "敬老の日",
        "Respect for the Aged Day",
    )
    assert by_day[23].holiday_ja == "秋分の日"
    assert by_day[24].hours == ((time(9), time(17)),)
    assert len(calendar.month_days(2026, 12)) == 31


def test_for_desk() -> None:
    desk = SimpleNamespace(
        timezone="Asia/Tokyo",
        opening_hours={str(d): [["08:30", "17:15"]] for d in range(5)},
        national_holidays=True,
        year_end_closure=False,
        calendar_overrides=[
            SimpleNamespace(
                day=date(2026, 6, 10), name="Maintenance", is_open=False, opens=None, closes=None
            )
        ],
    )
    calendar = BusinessCalendar.for_desk(desk)
    assert calendar.opening_hours[0] == ((time(8, 30), time(17, 15)),)
    assert calendar.opening_hours[5] == ()
    assert not calendar.year_end_closure
    assert calendar.day_info(date(2026, 6, 10)).closure == "admin"


def test_invalid_hours_are_rejected() -> None:
    with pytest.raises(ValueError, match="precede"):
        BusinessCalendar({0: [(time(17), time(9))]})
    with pytest.raises(ValueError, match="weekday"):
        BusinessCalendar({7: [(time(9), time(17))]})
    with pytest.raises(ValueError, match="special opening on 2026-06-13"):
        BusinessCalendar(overrides=[DayOverride(date(2026, 6, 13), "Late", True, opens=time(18))])


def test_open_intervals_and_closed_gaps(standard: BusinessCalendar) -> None:
    start, end = jst(2026, 6, 5, 16), jst(2026, 6, 8, 10)
    assert standard.open_intervals(start, end) == [
        (jst(2026, 6, 5, 16), jst(2026, 6, 5, 17)),
        (jst(2026, 6, 8, 9), jst(2026, 6, 8, 10)),
    ]
    assert standard.closed_gaps(start, end) == [(jst(2026, 6, 5, 17), jst(2026, 6, 8, 9))]
