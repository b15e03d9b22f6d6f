"""The managers' report on known data: exact medians, p90s, means and SLA shares.

Every ticket's business minutes are worked out by hand below on the desks' calendar (Mon-Fri
09:00-17:00 Asia/Tokyo = 480 minutes a day; Japanese holidays and the 29 Dec - 3 Jan closure
off), stored on the rows as the SLA engine would, and checked against the calendar once.
Targets: first response 480 business minutes, resolution 2400.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from helpdesk.extensions import db
from helpdesk.models import Attachment, Channel, Direction, Mailbox, Message, Role
from helpdesk.reports import export, services
from helpdesk.reports.services import ReportRequest
from helpdesk.tickets.workflow import TicketStatus

JST = ZoneInfo("Asia/Tokyo")
PERIOD = (date(2025, 12, 1), date(2026, 1, 31))
# The end of the period: Sunday 1 February 2026 00:00 JST.
PERIOD_END = datetime(2026, 2, 1, tzinfo=JST)
FIRST_RESPONSE_TARGET = 480
RESOLUTION_TARGET = 2400


def jst(month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A desk-local instant; December is 2025, the other months 2026."""
    return datetime(2025 if month >= 11 else 2026, month, day, hour, minute, tzinfo=JST)


@dataclass(frozen=True)
class Spec:
    """One ticket: where, who, how, when, and its stored business minutes."""

    name: str
    desk: str
    agent: str | None
    channel: str
    language: str
    created: datetime
    first_response: datetime | None
    first_response_minutes: int | None
    resolved: datetime | None = None
    resolution_minutes: int | None = None
    fields_completed: datetime | None = None
    awaiting_minutes: int | None = None
    first_response_breached: bool | None = None
    closed: datetime | None = None
    os: str | None = None
    browser: str | None = None


SPECS = [
    # Desk A: System operation helpdesk.
    # Mon 1 Dec 00:00 (the period's first instant): clock from 09:00; answer 09:30 = 30;
    # resolved 13:00 = 240.
    Spec(
        "A1",
        "A",
        "sato",
        "email",
        "ja",
        jst(12, 1),
        jst(12, 1, 9, 30),
        30,
        jst(12, 1, 13),
        240,
        os="Windows",
        browser="Edge",
    ),
    # Mon 09:00, answered Tue 10:00 = 480 + 60 = 540 (first response breached);
    # resolved Wed 17:00 = 3 x 480 = 1440.
    Spec(
        "A2",
        "A",
        "sato",
        "web",
        "ja",
        jst(12, 1, 9),
        jst(12, 2, 10),
        540,
        jst(12, 3, 17),
        1440,
        os="Windows",
        browser="Chrome",
    ),
    # Fri 5 Dec 16:00 without the required fields; completed Mon 09:30: waited 60 (Fri) + 30
    # (Mon) = 90 across the weekend. The clock starts Mon 09:30: answered 10:00 = 30; resolved
    # Tue 11:00 = 450 + 120 = 570.
    Spec(
        "A3",
        "A",
        "tanaka",
        "email",
        "en",
        jst(12, 5, 16),
        jst(12, 8, 10),
        30,
        jst(12, 9, 11),
        570,
        fields_completed=jst(12, 8, 9, 30),
        awaiting_minutes=90,
        os="macOS",
        browser="Safari",
    ),
    # Sat 6 Dec 10:00 (weekend): the clock starts Mon 09:00; answered 09:30 = 30;
    # resolved Mon 15:00 = 360.
    Spec(
        "A4",
        "A",
        "tanaka",
        "email",
        "ja",
        jst(12, 6, 10),
        jst(12, 8, 9, 30),
        30,
        jst(12, 8, 15),
        360,
        os="Windows",
        browser="Edge",
    ),
    # Wed 10 Dec 14:00 by phone, answered on the call = 0; resolved 16:00 = 120.
    Spec(
        "A5", "A", "sato", "phone", "ja", jst(12, 10, 14), jst(12, 10, 14), 0, jst(12, 10, 16), 120
    ),
    # Thu 11 Dec 09:00, answered 13:00 = 240; resolved Fri 17:00 = 480 + 480 = 960; closed a
    # week later.
    Spec(
        "A12",
        "A",
        "tanaka",
        "email",
        "ja",
        jst(12, 11, 9),
        jst(12, 11, 13),
        240,
        jst(12, 12, 17),
        960,
        closed=jst(12, 19, 10),
    ),
    # Thu 25 Dec 16:30, answered Fri 10:00 = 30 + 60 = 90; resolved Mon 5 Jan 10:00 after the
    # year-end closure (29 Dec - 3 Jan) and a weekend = 30 + 480 + 60 = 570.
    Spec(
        "A6",
        "A",
        "sato",
        "email",
        "en",
        jst(12, 25, 16, 30),
        jst(12, 26, 10),
        90,
        jst(1, 5, 10),
        570,
        os="iOS",
        browser="Safari",
    ),
    # Sun 28 Dec 11:00, weekend then closure: the clock starts Mon 5 Jan 09:00; answered 09:45
    # = 45; resolved Wed 7 Jan 12:00 = 480 + 480 + 180 = 1140.
    Spec(
        "A7",
        "A",
        "tanaka",
        "email",
        "ja",
        jst(12, 28, 11),
        jst(1, 5, 9, 45),
        45,
        jst(1, 7, 12),
        1140,
    ),
    # Tue 30 Dec 10:00 during the closure, unassigned: answered Tue 6 Jan 09:00 = all of Mon
    # 5 Jan = 480, exactly the target (met). Still open.
    Spec("A8", "A", None, "web", "ja", jst(12, 30, 10), jst(1, 6, 9), 480),
    # Fri 9 Jan 16:00; Mon 12 Jan is Coming of Age Day: answered Tue 13 Jan 10:00 = 60 + 60 =
    # 120; resolved Tue 20 Jan 16:00 = 60 + 5 x 480 (13-16, 19 Jan) + 420 = 2880 (resolution
    # breached).
    Spec(
        "A9",
        "A",
        "sato",
        "email",
        "ja",
        jst(1, 9, 16),
        jst(1, 13, 10),
        120,
        jst(1, 20, 16),
        2880,
        os="Android",
        browser="Chrome",
    ),
    # Wed 14 Jan 10:00, answered 11:00 = 60. Still open.
    Spec("A10", "A", "tanaka", "email", "en", jst(1, 14, 10), jst(1, 14, 11), 60),
    # Mon 19 Jan 09:00, never answered: due Tue 09:00, breached. Still open.
    Spec(
        "A11", "A", "sato", "email", "ja", jst(1, 19, 9), None, None, first_response_breached=True
    ),
    # Desk B: Specified skilled worker desk.
    # Mon 1 Dec 10:00, answered 12:00 = 120; resolved Thu 12:00 = 420 + 480 + 480 + 180 = 1560.
    Spec(
        "B1",
        "B",
        "nguyen",
        "email",
        "ja",
        jst(12, 1, 10),
        jst(12, 1, 12),
        120,
        jst(12, 4, 12),
        1560,
    ),
    # Tue 2 Dec 23:00 without the fields; completed Wed 09:30: waited 30 (only Wed 09:00-09:30
    # is business time). Answered 09:40 = 10; resolved 11:00 = 90.
    Spec(
        "B2",
        "B",
        "nguyen",
        "email",
        "vi",
        jst(12, 2, 23),
        jst(12, 3, 9, 40),
        10,
        jst(12, 3, 11),
        90,
        fields_completed=jst(12, 3, 9, 30),
        awaiting_minutes=30,
        os="Windows",
        browser="Chrome",
    ),
    # Fri 19 Dec 23:00 (Friday night): the clock starts Mon 09:00; answered 11:00 = 120;
    # resolved 16:00 = 420.
    Spec(
        "B3",
        "B",
        "nguyen",
        "email",
        "en",
        jst(12, 19, 23),
        jst(12, 22, 11),
        120,
        jst(12, 22, 16),
        420,
    ),
    # Mon 22 Dec 09:00 (23 Dec is no longer a holiday), unassigned: answered Tue 12:00 = 480 +
    # 180 = 660 (breached); resolved Fri 26 Dec 17:00 = 5 x 480 = 2400, exactly the target.
    Spec(
        "B4", "B", None, "email", "ja", jst(12, 22, 9), jst(12, 23, 12), 660, jst(12, 26, 17), 2400
    ),
    # Sat 10 Jan 09:00; Mon 12 Jan is a holiday: the clock starts Tue 09:00; answered 09:20 =
    # 20; resolved 10:00 = 60.
    Spec(
        "B5",
        "B",
        "nguyen",
        "email",
        "en",
        jst(1, 10, 9),
        jst(1, 13, 9, 20),
        20,
        jst(1, 13, 10),
        60,
        os="macOS",
        browser="Firefox",
    ),
    # Mon 26 Jan 10:00 without the fields; completed Tue 09:00: waited 420. Answered Tue 10:00
    # = 60. Still open.
    Spec(
        "B6",
        "B",
        "nguyen",
        "web",
        "ja",
        jst(1, 26, 10),
        jst(1, 27, 10),
        60,
        fields_completed=jst(1, 27, 9),
        awaiting_minutes=420,
    ),
    # Outside the period (one minute before it, and its first instant after).
    # Sun 30 Nov 23:59: answered Mon 09:10 = 10; resolved 10:00 = 60 (open at the start).
    Spec(
        "X1",
        "A",
        "sato",
        "email",
        "ja",
        jst(11, 30, 23, 59),
        jst(12, 1, 9, 10),
        10,
        jst(12, 1, 10),
        60,
    ),
    Spec("X2", "B", "nguyen", "email", "ja", jst(2, 1), None, None),
]


def build_known_data(make: Any) -> dict[str, Any]:
    """Create the desks, people, tickets and attachments of the known data set."""
    desk_a = make.desk(
        slug="sys", name="System operation helpdesk", name_ja="システム運用ヘルプデスク"
    )
    desk_b = make.desk(slug="ssw", name="Specified skilled worker desk", name_ja="特定技能窓口")
    desks = {"A": desk_a, "B": desk_b}
    users = {
        "sato": make.user(Role.AGENT, desks=[desk_a], name="Sato"),
        "tanaka": make.user(Role.AGENT, desks=[desk_a], name="Tanaka"),
        "nguyen": make.user(Role.AGENT, desks=[desk_b], name="Nguyen"),
    }
    tickets = {}
    for spec in SPECS:
        ticket = make.ticket(
            desks[spec.desk],
            at=spec.created,
            channel=Channel(spec.channel),
            language=spec.language,
            subject=f"Enquiry {spec.name}",
        )
        start = spec.fields_completed or spec.created
        ticket.assignee = users[spec.agent] if spec.agent else None
        ticket.fields_completed_at = spec.fields_completed
        ticket.sla_started_at = start
        ticket.awaiting_information_minutes = spec.awaiting_minutes
        ticket.first_response_at = spec.first_response
        ticket.first_response_minutes = spec.first_response_minutes
        ticket.resolved_at = spec.resolved
        ticket.resolution_minutes = spec.resolution_minutes
        ticket.closed_at = spec.closed
        ticket.first_response_breached = (
            spec.first_response_breached
            if spec.first_response_breached is not None
            else (spec.first_response_minutes or 0) > FIRST_RESPONSE_TARGET
        )
        ticket.resolution_breached = (spec.resolution_minutes or 0) > RESOLUTION_TARGET
        ticket.first_response_due_at = spec.created
        ticket.resolution_due_at = spec.created
        ticket.env_os_family, ticket.env_browser_family = spec.os, spec.browser
        ticket.status = (
            TicketStatus.CLOSED
            if spec.closed
            else TicketStatus.RESOLVED
            if spec.resolved
            else TicketStatus.OPEN
        )
        tickets[spec.name] = ticket
    mailbox = Mailbox(
        name="ssw-mailbox",
        address="ssw@support.example.test",
        host="127.0.0.1",
        username="ssw",
        secret_env="SSW_PASSWORD",
        default_desk_id=desk_b.id,
    )
    db.session.add(mailbox)
    db.session.flush()
    _message(
        tickets["A2"].id,
        None,
        jst(12, 1, 9),
        [
            ("setup.exe", "application/x-dosexec", False, "forbidden_extension"),
            ("screen.png", "image/png", True, "ok"),
        ],
    )
    # A refused message never becomes a ticket: it counts for its mailbox's desk (B).
    _message(None, mailbox.id, jst(12, 2, 8), [("docs.zip", "application/zip", False, "too_deep")])
    _message(
        tickets["B1"].id,
        None,
        jst(12, 1, 10),
        [
            (
                "invoice.xlsm",
                "application/vnd.ms-excel.sheet.macroEnabled.12",
                False,
                "forbidden_extension",
            )
        ],
    )
    # Received before the period: not counted.
    _message(
        tickets["X1"].id,
        None,
        jst(11, 30, 23, 59),
        [("old.exe", "application/x-dosexec", False, "forbidden_extension")],
    )
    db.session.flush()
    return {"desks": desks, "users": users, "tickets": tickets}


def _message(ticket_id: int | None, mailbox_id: int | None, at: datetime, files: list) -> None:
    message = Message(
        ticket_id=ticket_id,
        mailbox_id=mailbox_id,
        direction=Direction.INBOUND,
        received_at=at,
        created_at=at,
        refused=ticket_id is None,
    )
    for filename, detected, allowed, reason in files:
        message.attachments.append(
            Attachment(
                filename=filename,
                detected_type=detected,
                size=100,
                sha256=filename.ljust(64, "0")[:64],
                allowed=allowed,
                reason=reason,
            )
        )
    db.session.add(message)


@pytest.fixture
def known(make: Any) -> dict[str, Any]:
    """The known data set, in the test's rolled-back transaction."""
    return build_known_data(make)


def _request(desk_ids: tuple[int, ...] | None = None, lang: str = "en") -> ReportRequest:
    return ReportRequest(PERIOD[0], PERIOD[1], desk_ids, lang)


@pytest.fixture
def report(app: Any, known: dict[str, Any]) -> services.Report:
    """The report for December 2025 - January 2026 over all desks, as of the period's end."""
    with app.test_request_context():
        return services.build_report(_request(), now=PERIOD_END)


def _rows(table: services.Table) -> dict[Any, list[Any]]:
    return {row.cells[0]: row.cells[1:] for row in table.rows}


def test_the_stored_minutes_agree_with_the_desk_calendar(known):
    from helpdesk.sla.calendar import BusinessCalendar

    calendar = BusinessCalendar.for_desk(known["desks"]["A"])
    for spec in SPECS:
        start = spec.fields_completed or spec.created
        if spec.first_response is not None:
            minutes = calendar.business_minutes_between(start, spec.first_response)
            assert minutes == spec.first_response_minutes, spec.name
        if spec.resolved is not None:
            minutes = calendar.business_minutes_between(start, spec.resolved)
            assert minutes == spec.resolution_minutes, spec.name
        if spec.fields_completed is not None:
            waited = calendar.business_minutes_between(spec.created, spec.fields_completed)
            assert waited == spec.awaiting_minutes, spec.name


def test_response_times_and_compliance_by_desk(report):
    rows = _rows(report.tables["sla_by_desk"])
    # A, first responses (11): 0 30 30 30 45 60 90 120 240 480 540 -> median 60, p90 (rank 10)
    # 480, mean 1665/11 = 151.36 min. 12 decided (A11 unanswered but breached), 2 breached.
    # A, resolutions (9): 120 240 360 570 570 960 1140 1440 2880 -> median 570, p90 at rank
    # 8.2 = 1440 + 0.2 x 1440 = 1728, mean 8280/9 = 920. One breach (A9).
    assert rows["System operation helpdesk"] == [
        12,
        11,
        1.0,
        8.0,
        2.52,
        83.3,
        9,
        9.5,
        28.8,
        15.33,
        88.9,
        3,
    ]
    # B, first responses: 10 20 60 120 120 660 -> median (60+120)/2 = 90, p90 at rank 5.5 =
    # 120 + 0.5 x 540 = 390, mean 990/6 = 165; B4 breached.
    # B, resolutions: 60 90 420 1560 2400 -> median 420, p90 at rank 4.6 = 1560 + 0.6 x 840 =
    # 2064, mean 4530/5 = 906; 2400 is exactly the target: met.
    assert rows["Specified skilled worker desk"] == [
        6,
        6,
        1.5,
        6.5,
        2.75,
        83.3,
        5,
        7.0,
        34.4,
        15.1,
        100.0,
        1,
    ]


def test_by_agent(report):
    rows = _rows(report.tables["sla_by_agent"])
    # Sato: 0 30 90 120 540 -> median 90, p90 at rank 4.6 = 120 + 0.6 x 420 = 372, mean 156;
    # six decided (A11 breached unanswered), two breached.
    assert rows["Sato"][:6] == [6, 5, 1.5, 6.2, 2.6, 66.7]
    # Unassigned: A8 (480, met) and B4 (660, breached).
    assert rows["Unassigned"][:6] == [2, 2, 9.5, 10.7, 9.5, 50.0]
    assert set(rows) == {"Sato", "Tanaka", "Nguyen", "Unassigned"}


def test_by_month_and_week(report):
    months = _rows(report.tables["sla_by_month"])
    # December (13 first responses): 0 10 30 30 30 45 90 120 120 240 480 540 660 -> median 90,
    # p90 at rank 11.8 = 480 + 0.8 x 60 = 528, mean 2395/13 = 184.23.
    assert months["2025-12"][:6] == [13, 13, 1.5, 8.8, 3.07, 84.6]
    # January: 20 60 60 120 -> median 60, p90 at rank 3.7 = 60 + 0.7 x 60 = 102, mean 65.
    assert months["2026-01"][:5] == [5, 4, 1.0, 1.7, 1.08]
    weeks = _rows(report.tables["sla_by_week"])
    # Weeks start on Monday, desk time: Sun 28 Dec belongs to the week of 22 Dec.
    assert {week: cells[0] for week, cells in weeks.items()} == {
        "2025-12-01": 6,
        "2025-12-08": 2,
        "2025-12-15": 1,
        "2025-12-22": 3,
        "2025-12-29": 1,
        "2026-01-05": 2,
        "2026-01-12": 1,
        "2026-01-19": 1,
        "2026-01-26": 1,
    }


def test_by_channel_and_language(report):
    channels = _rows(report.tables["sla_by_channel"])
    assert {k: v[0] for k, v in channels.items()} == {"Email": 14, "Phone": 1, "Web": 3}
    assert channels["Phone"][1:6] == [1, 0.0, 0.0, 0.0, 100.0]
    languages = _rows(report.tables["sla_by_language"])
    assert {k: v[0] for k, v in languages.items()} == {
        "English": 5,
        "Japanese": 12,
        "Vietnamese": 1,
    }
    # A single value is its own median and p90.
    assert languages["Vietnamese"][1:5] == [1, 0.17, 0.17, 0.17]


def test_breaches_are_listed_with_links(report, known):
    table = report.tables["breaches"]
    numbers = [known["tickets"][n].number for n in ("A2", "B4", "A9", "A11")]
    assert [row.cells[0] for row in table.rows] == numbers
    assert [row.link for row in table.rows] == [
        f"/tickets/{known['tickets'][n].id}" for n in ("A2", "B4", "A9", "A11")
    ]
    assert [row.cells[5] for row in table.rows] == [
        "First response",
        "First response",
        "Resolution",
        "First response",
    ]
    assert table.rows[0].cells[4] == "2025-12-01 09:00"


def test_volume_and_backlog(report):
    daily = {row.cells[0]: row.cells[1:] for row in report.tables["volume_daily"].rows}
    assert len(daily) == 62
    # X1 (created 30 Nov 23:59) is open at the start; on 1 Dec A1, A2 and B1 arrive while X1
    # and A1 are resolved.
    assert daily["2025-12-01"] == [3, 2, 2]
    assert daily["2025-12-02"] == [1, 0, 3]
    assert daily["2026-01-31"] == [0, 0, 4]
    assert sum(v[0] for v in daily.values()) == 18
    assert sum(v[1] for v in daily.values()) == 15
    weekly = {row.cells[0]: row.cells[1:] for row in report.tables["volume_weekly"].rows}
    assert weekly["2025-12-22"] == [3, 2]
    assert sum(v[0] for v in weekly.values()) == 18


def test_backlog_age_in_business_days(report):
    rows = {(r.cells[0], r.cells[1]): r.cells[2] for r in report.tables["backlog_age"].rows}
    # Ages at the period's end (Sat 31 Jan is the last day): B6 (26 Jan) has 27-30 Jan behind
    # it = 4 business days; A11 (19 Jan) 9; A10 (14 Jan) 12; A8 (30 Dec) over ten.
    assert rows[("Specified skilled worker desk", "2-4")] == 1
    assert rows[("System operation helpdesk", "5-9")] == 1
    assert rows[("System operation helpdesk", "10+")] == 2
    assert sum(rows.values()) == 4


def test_missing_fields_refused_files_and_environments(report):
    waits = _rows(report.tables["awaiting_information"])
    assert waits["System operation helpdesk"] == [12, 1, 8.3, 1.5, 1.5, 1.5]
    # B: 30 and 420 minutes -> mean and median 225, p90 30 + 0.9 x 390 = 381.
    assert waits["Specified skilled worker desk"] == [6, 2, 33.3, 3.75, 3.75, 6.35]
    refused = [r.cells for r in report.tables["refused_attachments"].rows]
    assert refused == [
        ["application/vnd.ms-excel.sheet.macroEnabled.12", "Forbidden extension", 1],
        ["application/x-dosexec", "Forbidden extension", 1],
        ["application/zip", "Nested too deeply", 1],  # a file the parser did not keep
    ]
    envs = {(r.cells[0], r.cells[1]): r.cells[2] for r in report.tables["environments"].rows}
    assert envs[("Windows", "Edge")] == 2
    assert envs[("Unknown", "Unknown")] == 10
    assert sum(envs.values()) == 18


def test_a_desk_filter_keeps_to_that_desk(app, known):
    desk_b = known["desks"]["B"]
    with app.test_request_context():
        report = services.build_report(_request((desk_b.id,)), now=PERIOD_END)
    assert list(_rows(report.tables["sla_by_desk"])) == ["Specified skilled worker desk"]
    assert [r.cells[0] for r in report.tables["breaches"].rows] == [known["tickets"]["B4"].number]
    refused = [r.cells[0] for r in report.tables["refused_attachments"].rows]
    assert refused == ["application/vnd.ms-excel.sheet.macroEnabled.12", "application/zip"]
    assert report.desk_names == ["Specified skilled worker desk"]


def test_japanese_labels(app, known):
    with app.test_request_context():
        report = services.build_report(_request(lang="ja"), now=PERIOD_END)
    table = report.tables["sla_by_desk"]
    assert table.title == "窓口別SLA"
    assert table.labels[3] == "初回回答 中央値(時間)"
    assert "システム運用ヘルプデスク" in _rows(table)
    assert report.charts["trend"]["title"] == "週別の中央値(営業時間)"


def test_charts_carry_the_series(report):
    trend = report.charts["trend"]
    assert trend["labels"][0] == "2025-12-01"
    assert len(trend["datasets"]) == 2
    compliance = report.charts["compliance"]
    assert compliance["datasets"][0]["data"] == [83.3, 83.3]
    assert compliance["datasets"][1]["data"] == [16.7, 16.7]
    assert len(report.charts["volume"]["labels"]) == 62


def test_csv_has_a_bom_and_the_columns(report):
    body = export.table_csv(report.tables["sla_by_desk"])
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0][:4] == ["Group", "Tickets", "First responses", "First response median (h)"]
    assert rows[1] == [
        "System operation helpdesk",
        "12",
        "11",
        "1.0",
        "8.0",
        "2.52",
        "83.3",
        "9",
        "9.5",
        "28.8",
        "15.33",
        "88.9",
        "3",
    ]


def test_json_and_xlsx_exports(report):
    data = json.loads(export.report_json(report))
    assert data["period"] == {"from": "2025-12-01", "to": "2026-01-31"}
    desk_b = data["tables"]["sla_by_desk"]["rows"][1]
    assert desk_b["fr_median_h"] == 1.5 and desk_b["res_p90_h"] == 34.4
    assert desk_b["res_met_pct"] == 100.0
    assert len(data["tables"]["breaches"]["links"]) == 4
    book = load_workbook(io.BytesIO(export.report_xlsx(report)))
    assert "sla_by_desk" in book.sheetnames and "breaches" in book.sheetnames
    sheet = book["sla_by_desk"]
    assert [c.value for c in sheet[3]][:4] == ["System operation helpdesk", 12, 11, 1]


def test_page_downloads_for_a_manager(client, make, login_as, known):
    manager = make.user(Role.MANAGER)
    login_as(manager)
    query = "?date_from=2025-12-01&date_to=2026-01-31"
    page = client.get("/reports/" + query)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="report-charts"' in html and 'type="application/json"' in html
    assert f'href="/tickets/{known["tickets"]["A2"].id}"' in html
    assert "<script>" not in html
    csv_response = client.get("/reports/sla_by_desk.csv" + query)
    assert csv_response.status_code == 200
    assert csv_response.mimetype == "text/csv"
    assert csv_response.data.startswith(b"\xef\xbb\xbf")
    assert "attachment" in csv_response.headers["Content-Disposition"]
    assert client.get("/reports/nonsense.csv" + query).status_code == 404
    xlsx = client.get("/reports/report.xlsx" + query)
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    data = client.get("/reports/report.json" + query + "&lang=ja").get_json()
    assert data["tables"]["sla_by_desk"]["title"] == "窓口別SLA"


def test_a_bad_period_is_a_400(client, make, login_as):
    login_as(make.user(Role.MANAGER))
    assert client.get("/reports/?date_from=2026-01-31&date_to=2025-12-01").status_code == 400
    assert client.get("/reports/report.json?date_from=nonsense").status_code == 400


def test_cli_sla_csv_and_json(runner, known, tmp_path):
    result = runner.invoke(
        args=["report", "sla", "--desk", "ssw", "--from", "2025-12-01", "--to", "2026-01-31"]
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.output)))
    assert rows[0][:3] == ["Dimension", "Group", "Tickets"]
    assert rows[1][:4] == ["desk", "Specified skilled worker desk", "6", "6"]
    out = tmp_path / "report.json"
    result = runner.invoke(
        args=[
            "report",
            "sla",
            "--from",
            "2025-12-01",
            "--to",
            "2026-01-31",
            "--format",
            "json",
            "--output",
            str(out),
        ]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text("utf-8"))
    assert len(data["tables"]["sla_by_desk"]["rows"]) == 2
    out = tmp_path / "report.xlsx"
    result = runner.invoke(
        args=[
            "report",
            "sla",
            "--from",
            "2025-12-01",
            "--to",
            "2026-01-31",
            "--format",
            "xlsx",
            "--output",
            str(out),
        ]
    )
    assert result.exit_code == 0 and out.read_bytes()[:2] == b"PK"


def test_cli_refuses_an_unknown_desk(runner, known):
    result = runner.invoke(
        args=["report", "sla", "--desk", "nope", "--from", "2025-12-01", "--to", "2025-12-31"]
    )
    assert result.exit_code != 0
    assert "unknown desk(s): nope" in result.output


def test_weekly_report_covers_the_previous_week(app, known):
    # Wednesday 10 December 2025: the previous week is Mon 1 - Sun 7 December.
    now = datetime(2025, 12, 10, 12, tzinfo=JST)
    with app.test_request_context():
        weekly = services.weekly_report(now, lang="en")
    assert weekly.report.request.date_from == date(2025, 12, 1)
    assert weekly.report.request.date_to == date(2025, 12, 7)
    assert weekly.subject == "Helpdesk weekly report 2025-12-01 – 2025-12-07"
    assert "System operation helpdesk" in weekly.text
    assert f"http://127.0.0.1:5000/tickets/{known['tickets']['A2'].id}" in weekly.text
    assert weekly.xlsx[:2] == b"PK"


def test_the_page_shows_one_grouping_at_a_time(client, make, login_as, known):
    login_as(make.user(Role.MANAGER))
    query = "?date_from=2025-12-01&date_to=2026-01-31"
    html = client.get("/reports/" + query).get_data(as_text=True)
    assert 'id="sla_by_desk"' in html and 'id="sla_by_agent"' not in html
    assert 'class="report-tabs"' in html and "group=week" in html
    html = client.get("/reports/" + query + "&group=agent").get_data(as_text=True)
    assert 'id="sla_by_agent"' in html and 'id="sla_by_desk"' not in html
    assert "Sato" in html
    assert client.get("/reports/" + query + "&group=nonsense").status_code == 400
    body = client.get("/reports/sla_by_week.csv" + query).data.decode("utf-8-sig")
    weeks = {row[0]: row[1] for row in csv.reader(io.StringIO(body))}
    assert weeks["2025-12-01"] == "6"
    assert client.get("/reports/sla_by_nonsense.csv" + query).status_code == 404


def test_percentiles_read_at_their_rank_match_the_histograms(app, known):
    from helpdesk.reports import queries

    with app.test_request_context():
        scope = services.scope_for(_request())
        by_desk = {r["key"]: r for r in services.sla_summaries(scope, ("desk",))["desk"]}
        for metric, prefix in (("first_response", "fr"), ("resolution", "res")):
            histogram = db.session.execute(queries.metric_percentiles("desk", metric, scope))
            for key, median, p90 in histogram:
                assert by_desk[key][f"{prefix}_median"] == pytest.approx(median)
                assert by_desk[key][f"{prefix}_p90"] == pytest.approx(p90)


def test_days_weeks_and_months_follow_a_zone_with_summer_time(app, make, monkeypatch):
    monkeypatch.setitem(app.config, "TIMEZONE", "Europe/London")
    desk = make.desk()
    # 23:30 UTC on 30 June is 00:30 on 1 July in British Summer Time; 00:30 UTC on Saturday
    # 1 March is 00:30 GMT. The period spans the change to summer time (30 March).
    make.ticket(desk, at=datetime(2025, 6, 30, 23, 30, tzinfo=UTC))
    make.ticket(desk, at=datetime(2025, 3, 1, 0, 30, tzinfo=UTC))
    request = ReportRequest(date(2025, 3, 1), date(2025, 7, 31), (desk.id,))
    with app.test_request_context():
        report = services.build_report(request, now=datetime(2025, 8, 1, tzinfo=UTC))
    daily = {row.cells[0]: row.cells[1] for row in report.tables["volume_daily"].rows}
    assert len(daily) == 153
    assert (daily["2025-03-01"], daily["2025-06-30"], daily["2025-07-01"]) == (1, 0, 1)
    assert sum(daily.values()) == 2
    assert {k: v[0] for k, v in _rows(report.tables["sla_by_month"]).items()} == {
        "2025-03": 1,
        "2025-07": 1,
    }
    assert {k: v[0] for k, v in _rows(report.tables["sla_by_week"]).items()} == {
        "2025-02-24": 1,
        "2025-06-30": 1,
    }
    weekly = {row.cells[0]: row.cells[1] for row in report.tables["volume_weekly"].rows}
    assert weekly == {"2025-02-24": 1, "2025-06-30": 1}
