"""Property tests: the calendar's tables agree with a minute-by-minute oracle."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from helpdesk.sla.calendar import DayOverride
from tests.unit.helpdesk.sla.oracle import CalendarSpec, Oracle

# Calendar zones whose DST changes happen before 04:00 local, where no opening hours are drawn.
CALENDAR_ZONES = ["Asia/Tokyo", "America/New_York", "Europe/London", "Australia/Sydney", "UTC"]
INSTANT_ZONES = CALENDAR_ZONES + ["Asia/Kathmandu", "America/St_Johns", "Pacific/Chatham"]
MINUTE = timedelta(minutes=1)
SECOND = timedelta(seconds=1)
ORACLE_SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@dataclass
class Scenario:
    """A random calendar and a random start instant near the calendar's rules."""

    spec: CalendarSpec
    start: datetime

    def weekly_minutes(self) -> int:
        """Regular open minutes per week."""
        return sum(
            (c.hour * 60 + c.minute) - (o.hour * 60 + o.minute)
            for hours in self.spec.hours.values()
            for o, c in hours
        )


def _clock(minute_of_day: int) -> time:
    return time(minute_of_day // 60, minute_of_day % 60)


@st.composite
def day_hours(draw: st.DrawFn) -> tuple[tuple[time, time], ...]:
    """Zero to two intervals (split hours) between 04:00 and 23:59."""
    count = draw(st.sampled_from([0, 1, 1, 1, 2]))
    bounds = draw(
        st.lists(
            st.integers(4 * 60, 23 * 60 + 59), min_size=2 * count, max_size=2 * count, unique=True
        )
    )
    bounds.sort()
    return tuple((_clock(bounds[i]), _clock(bounds[i + 1])) for i in range(0, len(bounds), 2))


# Dates where the rules bunch up: year end, Golden Week, Silver Week, a spring equinox.
ANCHORS = [(12, 24), (12, 24), (4, 26), (9, 16), (3, 17), (7, 14)]


@st.composite
def dates(draw: st.DrawFn) -> date:
    """A date 2024-2030, often within a fortnight of a holiday cluster."""
    if draw(st.booleans()):
        return draw(st.dates(date(2024, 1, 1), date(2030, 11, 30)))
    month, day = draw(st.sampled_from(ANCHORS))
    anchor = date(draw(st.integers(2024, 2029)), month, day)
    return anchor + timedelta(days=draw(st.integers(0, 14)))


@st.composite
def instants(draw: st.DrawFn, zone: str, boundaries: list[time]) -> datetime:
    """An instant in a random zone: often an opening or closing time in the calendar's zone."""
    day = draw(dates())
    if draw(st.booleans()) and boundaries:
        local = datetime.combine(day, draw(st.sampled_from(boundaries)))
        offset = draw(st.sampled_from([timedelta(0)] * 3 + [-MINUTE, MINUTE, -SECOND]))
        start = (local + offset).replace(tzinfo=ZoneInfo(zone))
        # Often left in the calendar's zone, which has a fast path of its own.
        return start.astimezone(ZoneInfo(draw(st.sampled_from(INSTANT_ZONES + [zone] * 4))))
    naive = datetime.combine(day, draw(st.times()))
    if draw(st.booleans()):
        naive = naive.replace(second=0, microsecond=0)
    zone_info = ZoneInfo(draw(st.sampled_from(INSTANT_ZONES)))
    return naive.replace(tzinfo=zone_info, fold=draw(st.integers(0, 1)))


@st.composite
def overrides_near(draw: st.DrawFn, around: date) -> list[DayOverride]:
    """Admin closures and special openings within two weeks of ``around``."""
    result = []
    for offset in draw(st.lists(st.integers(-1, 14), max_size=3, unique=True)):
        is_open = draw(st.booleans())
        hours = draw(day_hours()) if is_open and draw(st.booleans()) else ()
        opens, closes = hours[0] if hours else (None, None)
        day = around + timedelta(days=offset)
        result.append(DayOverride(day, f"override {offset}", is_open, opens, closes))
    return result


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    """A random calendar with at least one open weekday, and a start instant."""
    hours = {weekday: draw(day_hours()) for weekday in range(7)}
    assume(any(hours.values()))
    zone = draw(st.sampled_from(CALENDAR_ZONES))
    boundaries = sorted({clock for day in hours.values() for pair in day for clock in pair})
    start = draw(instants(zone, boundaries))
    spec = CalendarSpec(
        hours=hours,
        timezone=zone,
        overrides=draw(overrides_near(start.date())),
        national_holidays=draw(st.booleans()),
        year_end_closure=draw(st.booleans()),
    )
    return Scenario(spec, start)


@st.composite
def additions(draw: st.DrawFn) -> tuple[Scenario, int]:
    """A scenario and up to about three business days of minutes, often whole intervals."""
    scenario = draw(scenarios())
    lengths = [
        (c.hour * 60 + c.minute) - (o.hour * 60 + o.minute)
        for hours in scenario.spec.hours.values()
        for o, c in hours
    ]
    if draw(st.booleans()):
        return scenario, sum(draw(st.lists(st.sampled_from(lengths), min_size=1, max_size=3)))
    limit = min(2400, 3 * scenario.weekly_minutes() // 5 + 1)
    return scenario, draw(st.integers(0, limit))


@ORACLE_SETTINGS
@given(additions())
def test_add_business_minutes_matches_oracle(case: tuple[Scenario, int]) -> None:
    scenario, minutes = case
    calendar = scenario.spec.calendar()
    got = calendar.add_business_minutes(scenario.start, minutes)
    assert got == Oracle(scenario.spec).add(scenario.start, minutes)
    assert got.tzinfo == calendar.tz


@ORACLE_SETTINGS
@given(scenarios(), st.timedeltas(timedelta(0), timedelta(days=6)))
def test_business_minutes_between_matches_oracle(scenario: Scenario, span: timedelta) -> None:
    end = scenario.start + span
    oracle = Oracle(scenario.spec)
    calendar = scenario.spec.calendar()
    assert calendar.business_minutes_between(scenario.start, end) == oracle.between(
        scenario.start, end
    )
    assert calendar.is_open(scenario.start) == oracle.is_open(scenario.start)


@settings(max_examples=150, deadline=None)
@given(scenarios(), st.integers(0, 20_000))
def test_between_inverts_add(scenario: Scenario, minutes: int) -> None:
    calendar = scenario.spec.calendar()
    due = calendar.add_business_minutes(scenario.start, minutes)
    assert calendar.business_minutes_between(scenario.start, due) == minutes
    assert calendar.business_minutes_between(due, scenario.start) == 0
    if minutes:
        assert calendar.business_minutes_between(scenario.start, due - timedelta(seconds=1)) == (
            minutes - 1
        )


@settings(max_examples=150, deadline=None)
@given(scenarios())
def test_next_opening_is_open_and_nothing_open_before_it(scenario: Scenario) -> None:
    calendar = scenario.spec.calendar()
    opening = calendar.next_opening(scenario.start)
    assert calendar.is_open(opening)
    assert opening >= scenario.start
    assert calendar.business_minutes_between(scenario.start, opening) == 0
    assert (opening == scenario.start) == calendar.is_open(scenario.start)
