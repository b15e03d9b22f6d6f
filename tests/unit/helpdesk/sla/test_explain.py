"""What a due time skipped, rendered in Japanese and English (the catalog's Japanese)."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from babel.support import NullTranslations, Translations

from helpdesk.i18n import TRANSLATIONS
from helpdesk.sla.calendar import BusinessCalendar, DayOverride, NaiveDatetimeError
from helpdesk.sla.explain import explain_due

TOKYO = ZoneInfo("Asia/Tokyo")
ENGLISH = NullTranslations()  # the catalog's messages are English
JAPANESE = Translations.load(str(TRANSLATIONS), ["ja"])


def jst(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, us: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, us, tzinfo=TOKYO)


@pytest.fixture
def standard() -> BusinessCalendar:
    return BusinessCalendar.standard()


def test_silver_week_2026(standard: BusinessCalendar) -> None:
    start = jst(2026, 9, 18, 16)
    explanation = explain_due(standard, start, standard.add_business_minutes(start, 480))
    assert explanation.due == jst(2026, 9, 24, 16)
    assert (explanation.business_minutes, explanation.nights, explanation.breaks) == (480, 1, 0)
    assert explanation.lines(ENGLISH, "en") == [
        "From 2026-09-18 (Fri) 16:00 to 2026-09-24 (Thu) 16:00 (Asia/Tokyo): "
        "480 business minutes (8 h 0 min)",
        "Skipped 1 night outside opening hours",
        "2026-09-19 – 2026-09-23: Saturday, Sunday, 敬老の日 (Respect for the Aged Day), "
        "国民の休日 (National Holiday), 秋分の日 (Autumnal Equinox Day)",
    ]
    assert explanation.lines(JAPANESE, "ja") == [
        "2026-09-18 (金) 16:00 から 2026-09-24 (木) 16:00 まで (Asia/Tokyo): "
        "営業時間 480 分 (8 時間 0 分)",
        "営業時間外の夜間: 1 回",
        "2026-09-19 – 2026-09-23: 土曜日, 日曜日, 敬老の日, 国民の休日, 秋分の日",
    ]


def test_year_end_and_weekend_are_separate_runs(standard: BusinessCalendar) -> None:
    start = jst(2026, 12, 25, 23)  # a Friday night arrival
    explanation = explain_due(standard, start, standard.add_business_minutes(start, 960))
    assert explanation.due == jst(2027, 1, 4, 17)
    assert explanation.nights == 2
    assert [run.line(ENGLISH, "en") for run in explanation.closed_runs] == [
        "2026-12-26 – 2026-12-27: Saturday, Sunday",
        "2026-12-29 – 2027-01-03: Year-end closure (年末年始休業)",
    ]
    assert (
        explanation.closed_runs[1].line(JAPANESE, "ja") == "2026-12-29 – 2027-01-03: 年末年始休業"
    )


def test_admin_closure_and_single_day_run() -> None:
    calendar = BusinessCalendar(overrides=[DayOverride(date(2026, 6, 10), "Maintenance", False)])
    explanation = explain_due(calendar, jst(2026, 6, 9, 16), jst(2026, 6, 11, 10))
    assert [run.line(ENGLISH, "en") for run in explanation.closed_runs] == [
        "2026-06-10: Maintenance (desk closure)"
    ]
    assert explanation.closed_runs[0].line(JAPANESE, "ja") == "2026-06-10: Maintenance (臨時休業)"
    assert explanation.nights == 1


def test_lunch_breaks_are_counted_separately() -> None:
    calendar = BusinessCalendar({d: [(time(9), time(12)), (time(13), time(17))] for d in range(5)})
    explanation = explain_due(calendar, jst(2026, 6, 8, 11), jst(2026, 6, 9, 14))
    assert (explanation.nights, explanation.breaks) == (1, 2)
    assert explanation.lines(ENGLISH, "en")[1:] == [
        "Skipped 1 night outside opening hours",
        "Skipped 2 breaks within opening days",
    ]


def test_a_due_time_at_midnight_does_not_list_its_date(standard: BusinessCalendar) -> None:
    explanation = explain_due(standard, jst(2026, 6, 5, 16), jst(2026, 6, 6))
    assert explanation.closed_runs == ()
    assert explanation.nights == 1


def test_no_skips_inside_one_opening(standard: BusinessCalendar) -> None:
    explanation = explain_due(standard, jst(2026, 6, 8, 9), jst(2026, 6, 8, 10))
    assert explanation.lines(ENGLISH, "en") == [
        "From 2026-06-08 (Mon) 09:00 to 2026-06-08 (Mon) 10:00 (Asia/Tokyo): "
        "60 business minutes (1 h 0 min)"
    ]


def test_instants_are_shown_in_the_calendars_zone(standard: BusinessCalendar) -> None:
    start = datetime(2026, 6, 8, 0, tzinfo=ZoneInfo("UTC"))
    explanation = explain_due(standard, start, standard.add_business_minutes(start, 30))
    assert explanation.start == jst(2026, 6, 8, 9)
    assert explanation.lines(ENGLISH, "en")[0].startswith("From 2026-06-08 (Mon) 09:00 to")


def test_naive_datetimes_are_rejected(standard: BusinessCalendar) -> None:
    with pytest.raises(NaiveDatetimeError):
        explain_due(standard, datetime(2026, 6, 8, 9), jst(2026, 6, 8, 10))
