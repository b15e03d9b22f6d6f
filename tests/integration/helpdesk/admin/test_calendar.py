"""Desk calendars: closures and special openings change the month view and the SLA calendar."""

from datetime import UTC, date, datetime

from helpdesk.models import CalendarOverride
from helpdesk.tickets.sla_clock import calendar_for

# Tuesday 1 December 2026, 10:00 in Tokyo.
TUESDAY_10AM = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)


def _cell(page, day):
    start = page.index(f'data-day="{day}"')
    return page[start : page.index("</td>", start)]


def test_month_view_shows_business_days_and_holidays(client, admin, make):
    desk = make.desk()
    page = client.get(f"/admin/desks/{desk.id}/calendar?month=2026-11").get_data(as_text=True)
    assert "November 2026" in page
    assert "Open" in _cell(page, "2026-11-25") and "09:00-17:00" in _cell(page, "2026-11-25")
    assert "勤労感謝の日" in _cell(page, "2026-11-23")
    assert "Closed" in _cell(page, "2026-11-28")
    assert 'month=2026-10"' in page and 'month=2026-12"' in page
    year_end = client.get(f"/admin/desks/{desk.id}/calendar?month=2026-12").get_data(as_text=True)
    assert "Year-end closure" in _cell(year_end, "2026-12-29")


def test_extra_closure_closes_the_desk_for_the_sla(client, admin, make, post, db_session):
    desk = make.desk()
    assert calendar_for(desk).is_open(TUESDAY_10AM)
    response = post(
        f"/admin/desks/{desk.id}/calendar",
        {"day": "2026-12-01", "name": "Office move", "kind": "closed"},
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith("month=2026-12")
    assert not calendar_for(desk).is_open(TUESDAY_10AM)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Closed: Office move" in _cell(page, "2026-12-01")
    assert "Office move" in page

    override = db_session.query(CalendarOverride).filter_by(desk_id=desk.id).one()
    response = post(f"/admin/desks/{desk.id}/calendar/{override.id}/delete")
    assert response.status_code == 302
    assert calendar_for(desk).is_open(TUESDAY_10AM)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Office move" not in page


def test_special_opening_on_a_holiday_with_hours(client, admin, make, post):
    desk = make.desk()
    post(
        f"/admin/desks/{desk.id}/calendar",
        {
            "day": "2026-11-23",
            "name": "Exam week",
            "kind": "open",
            "opens": "10:00",
            "closes": "12:00",
        },
    )
    calendar = calendar_for(desk)
    assert calendar.day_info(date(2026, 11, 23)).is_open
    assert calendar.is_open(datetime(2026, 11, 23, 2, 0, tzinfo=UTC))  # 11:00 in Tokyo
    assert not calendar.is_open(datetime(2026, 11, 23, 4, 0, tzinfo=UTC))  # 13:00
    page = client.get(f"/admin/desks/{desk.id}/calendar?month=2026-11").get_data(as_text=True)
    assert "Special opening: Exam week" in _cell(page, "2026-11-23")
    assert "10:00-12:00" in _cell(page, "2026-11-23")


def test_override_form_errors(client, admin, make, post):
    desk = make.desk()
    url = f"/admin/desks/{desk.id}/calendar"
    post(url, {"day": "2026-12-01", "name": "Office move", "kind": "closed"})
    page = post(url, {"day": "2026-12-01", "name": "Again", "kind": "closed"}).get_data(
        as_text=True
    )
    assert "2026-12-01 already has an entry (Office move); remove it first." in page
    page = post(
        url, {"day": "2026-12-02", "name": "X", "kind": "closed", "opens": "10:00"}
    ).get_data(as_text=True)
    assert "A closed day has no hours" in page
    page = post(
        url, {"day": "2026-12-03", "name": "X", "kind": "open", "opens": "12:00", "closes": "10:00"}
    ).get_data(as_text=True)
    assert "The closing time must come after the opening time." in page
    page = post(url, {"day": "", "name": "X", "kind": "closed"}).get_data(as_text=True)
    assert "Give a date." in page
    assert len(desk.calendar_overrides) == 1


def test_override_of_another_desk_is_not_found(client, admin, make, post):
    desk, other = make.desk(), make.desk()
    post(f"/admin/desks/{other.id}/calendar", {"day": "2026-12-01", "name": "X", "kind": "closed"})
    override = other.calendar_overrides[0]
    assert post(f"/admin/desks/{desk.id}/calendar/{override.id}/delete").status_code == 404
