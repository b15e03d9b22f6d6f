"""Desk settings: hours, timezone, extensions and SLA targets, validated with clear messages."""

from datetime import date

import pytest
from sqlalchemy import select

from helpdesk.admin.forms import parse_extensions, parse_hours
from helpdesk.models import AuditEvent, Desk, Mailbox
from helpdesk.models.desk import AttachmentAction
from helpdesk.tickets.workflow import TicketStatus


def _form(desk, **changes):
    data = {
        "name": desk.name,
        "name_ja": "窓口",
        "reply_from": "desk@support.example.test",
        "requires_fields": "y",
        "applies_attachment_policy": "y",
        "attachment_action": "reject",
        "forbidden_extensions": "",
        "timezone": "Asia/Tokyo",
        "national_holidays": "y",
        "year_end_closure": "y",
        "accepts_email": "y",
        **{f"hours_{day}": "09:00-17:00" for day in range(5)},
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_desk_settings_are_saved(client, admin, make, post):
    desk = make.desk()
    response = post(
        f"/admin/desks/{desk.id}",
        _form(
            desk,
            name="General information centre",
            requires_fields=None,
            attachment_action="strip",
            forbidden_extensions="exe, js  zip",
            hours_0="08:30-12:00, 13:00-17:15",
            hours_4="",
            hours_5="10:00-12:00",
            timezone="Europe/London",
            sla_high_first_response="120",
            sla_low_resolution="9600",
        ),
    )
    assert response.status_code == 302
    assert desk.name == "General information centre" and desk.requires_fields is False
    assert desk.attachment_action is AttachmentAction.STRIP
    assert desk.forbidden_extensions == ["exe", "js", "zip"]
    assert desk.opening_hours == {
        "0": [["08:30", "12:00"], ["13:00", "17:15"]],
        "1": [["09:00", "17:00"]],
        "2": [["09:00", "17:00"]],
        "3": [["09:00", "17:00"]],
        "5": [["10:00", "12:00"]],
    }
    assert desk.timezone == "Europe/London"
    assert desk.sla_targets == {"high": {"first_response": 120}, "low": {"resolution": 9600}}


def test_calendar_switches_and_intake_are_saved_and_change_business_time(client, admin, make, post):
    desk = make.desk()
    response = post(
        f"/admin/desks/{desk.id}",
        _form(desk, national_holidays=None, year_end_closure=None, accepts_email=None),
    )
    assert response.status_code == 302
    assert (desk.national_holidays, desk.year_end_closure, desk.accepts_email) == (
        False,
        False,
        False,
    )
    # 3 November 2025 (Culture Day, a Monday) is now a business day for this desk.
    from helpdesk.tickets.sla_clock import calendar_for

    assert calendar_for(desk).day_info(date(2025, 11, 3)).is_open
    assert calendar_for(desk).day_info(date(2025, 12, 30)).is_open
    closed = client.get(f"/enquiry/{desk.slug}")
    assert closed.status_code == 404
    page = client.get(f"/admin/desks/{desk.id}").get_data(as_text=True)
    assert 'id="national_holidays"' in page and 'id="national_holidays" checked' not in page


def test_a_new_desk_is_created_with_defaults(client, admin, make, post, db_session):
    response = post(
        "/admin/desks/new",
        {"slug": "tax-office", "name": "Tax office", "name_ja": "税務", "timezone": "Asia/Tokyo"},
    )
    assert response.status_code == 302
    desk = db_session.scalars(select(Desk).where(Desk.slug == "tax-office")).one()
    assert response.headers["Location"].endswith(f"/admin/desks/{desk.id}")
    assert desk.name_ja == "税務" and desk.active and desk.national_holidays
    assert desk.opening_hours["0"] == [["09:00", "17:00"]] and "5" not in desk.opening_hours
    events = db_session.scalars(
        select(AuditEvent).where(AuditEvent.action == "admin.desk_created")
    ).all()
    assert [e.detail["desk"] for e in events] == ["tax-office"]


@pytest.mark.parametrize(
    ("slug", "message"),
    [
        ("Tax Office", "Use lower-case letters, digits and hyphens"),
        ("-tax", "Use lower-case letters, digits and hyphens"),
        ("", "This field is required."),
        ("taken", "Another desk already has this short name."),
    ],
)
def test_a_new_desk_needs_a_free_well_formed_short_name(client, admin, make, post, slug, message):
    make.desk(slug="taken")
    response = post(
        "/admin/desks/new", {"slug": slug, "name": "Tax office", "timezone": "Asia/Tokyo"}
    )
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)


def test_deactivating_a_desk_refuses_while_work_or_mail_depends_on_it(
    client, admin, make, post, db_session
):
    other = make.desk(slug="other")
    desk = make.desk(slug="closing")
    ticket = make.ticket(desk=desk)
    mailbox = Mailbox(
        name="closing-box",
        address="closing@support.example.test",
        host="127.0.0.1",
        username="closing",
        secret_env="CLOSING_PASSWORD",
        default_desk=desk,
    )
    db_session.add(mailbox)
    db_session.flush()

    def deactivate():
        return post(f"/admin/desks/{desk.id}/active", {"active": "0"}, follow_redirects=True)

    assert "not resolved or closed" in deactivate().get_data(as_text=True)
    assert desk.active
    ticket.status = TicketStatus.CLOSED
    assert f"default desk of mailbox {mailbox.name}" in deactivate().get_data(as_text=True)
    assert desk.active
    mailbox.default_desk = other
    db_session.flush()
    assert "is now deactivated" in deactivate().get_data(as_text=True)
    assert not desk.active
    assert client.get(f"/enquiry/{desk.slug}").status_code == 404
    back = post(f"/admin/desks/{desk.id}/active", {"active": "1"}, follow_redirects=True)
    assert "is now active" in back.get_data(as_text=True) and desk.active


def test_the_last_active_desk_stays_active(client, admin, make, post, db_session):
    for desk in db_session.scalars(select(Desk)):
        desk.active = False
    desk = make.desk(slug="only")
    page = post(f"/admin/desks/{desk.id}/active", {"active": "0"}, follow_redirects=True)
    assert "the last active desk" in page.get_data(as_text=True) and desk.active


def test_form_shows_current_values_and_defaults(client, admin, make):
    desk = make.desk(forbidden_extensions=None, sla_targets={"normal": {"first_response": 240}})
    page = client.get(f"/admin/desks/{desk.id}").get_data(as_text=True)
    assert 'value="09:00-17:00"' in page
    assert 'value="240"' in page  # the override
    assert 'placeholder="60"' in page  # urgent first response default (1 hour)
    assert "Portal default: " in page and "docm" in page and "xlsm" in page


def test_empty_extensions_mean_the_portal_default(client, admin, make, post):
    desk = make.desk(forbidden_extensions=["exe"])
    post(f"/admin/desks/{desk.id}", _form(desk, forbidden_extensions="  "))
    assert desk.forbidden_extensions is None


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("hours_0", "9-17", "is not an interval: write it as 09:00-17:00"),
        ("hours_1", "17:00-09:00", "the opening time must come before the closing time"),
        ("hours_2", "09:00-25:00", "has a time that does not exist"),
        ("hours_3", "09:00-13:00, 12:00-17:00", "the intervals overlap at 12:00"),
        ("timezone", "Asia/Tokio", "is not a known timezone"),
        ("timezone", "../../etc/passwd", "is not a known timezone"),
        ("forbidden_extensions", ".EXE, js", "not valid: .EXE"),
        ("forbidden_extensions", "exe, .js", "Write extensions in lower case without dots"),
        ("sla_normal_resolution", "0", "Give a whole number of minutes."),
    ],
)
def test_bad_values_are_refused_with_a_message(client, admin, make, post, field, value, message):
    desk = make.desk()
    response = post(f"/admin/desks/{desk.id}", _form(desk, **{field: value}))
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert desk.timezone == "Asia/Tokyo" and desk.forbidden_extensions is None


def test_parse_hours():
    assert parse_hours("") == []
    assert parse_hours(" 13:00-17:15 ,8:30 - 12:00") == [["08:30", "12:00"], ["13:00", "17:15"]]
    with pytest.raises(ValueError, match="overlap"):
        parse_hours("09:00-12:00, 11:59-13:00")


def test_parse_extensions():
    assert parse_extensions("") is None
    assert parse_extensions("zip,exe exe") == ["exe", "zip"]
    with pytest.raises(ValueError, match="not valid: Exe"):
        parse_extensions("Exe")
