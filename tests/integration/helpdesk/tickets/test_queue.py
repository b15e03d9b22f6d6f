"""Queues: order by due time, marks, filters, keyset pages, bulk changes, refresh."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from helpdesk.models import Priority
from helpdesk.tickets.queries import Cursor
from helpdesk.tickets.workflow import TicketStatus

from .conftest import NOW


def _numbers(page: str) -> list[str]:
    return re.findall(
        r'data-ticket="\d+">.*?<a href="/tickets/\d+">([A-Z]+-\d{4}-\d+)</a>', page, re.S
    )


def _due_cells(page: str) -> list[str]:
    """The text of each row's due cell, tags dropped and spaces collapsed."""
    cells = re.findall(r'<td class="due">(.*?)</td>', page, re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", cell).split()) for cell in cells]


@pytest.fixture
def queue(staff, enquiry, make, db_session):
    """Tickets due at different times, one without a due time, one on the other desk."""
    late = enquiry(staff.desk, at=NOW - timedelta(days=2), subject="Old one")
    soon = enquiry(staff.desk, at=NOW - timedelta(hours=23, minutes=30), subject="Due soon")
    fresh = enquiry(staff.desk, at=NOW, subject="Fresh", language="en")
    waiting = make.ticket(
        staff.desk,
        subject="Waiting",
        status=TicketStatus.AWAITING_INFORMATION,
        priority=Priority.HIGH,
    )
    other = enquiry(staff.other_desk, subject="Elsewhere")
    done = enquiry(staff.desk, subject="Done")
    done.status = TicketStatus.CLOSED
    fresh.assignee = staff.agent
    db_session.flush()
    return {
        "late": late,
        "soon": soon,
        "fresh": fresh,
        "waiting": waiting,
        "other": other,
        "done": done,
    }


def test_queue_is_ordered_by_due_time_with_no_due_time_last(queue, login_as, client, staff):
    login_as(staff.agent)
    page = client.get("/").get_data(as_text=True)
    expected = [queue[k].number for k in ("late", "soon", "fresh", "waiting")]
    assert _numbers(page) == expected
    assert "Elsewhere" not in page and "Done" not in page
    assert 'class="mark sla-breached"' in page and 'class="mark sla-near"' in page
    # Due times in desk time, and the business time left or past: "Old one" came on Monday
    # 23rd, a national holiday, so its clock started Tuesday 09:00 and it was due Tuesday
    # 17:00 Tokyo, 17 clock hours ago but one business hour (Wednesday 09:00-10:00).
    cells = _due_cells(page)
    assert cells[0] == "Breached 11-24 (Tue) 17:00 overdue by 1 h 0 min business time"
    assert cells[1] == "Due soon 11-25 (Wed) 10:30 0 h 30 min business time left"


def test_filters(queue, login_as, client, staff):
    login_as(staff.agent)
    assert _numbers(client.get("/?priority=high").get_data(as_text=True)) == [
        queue["waiting"].number
    ]
    assert _numbers(client.get("/?language=en").get_data(as_text=True)) == [queue["fresh"].number]
    assert _numbers(client.get("/?assignee=me").get_data(as_text=True)) == [queue["fresh"].number]
    assert _numbers(client.get("/mine").get_data(as_text=True)) == [queue["fresh"].number]
    unassigned = _numbers(client.get("/?assignee=none").get_data(as_text=True))
    assert queue["fresh"].number not in unassigned and len(unassigned) == 3
    awaiting = client.get("/?awaiting=y").get_data(as_text=True)
    assert _numbers(awaiting) == [queue["waiting"].number]
    assert _numbers(client.get("/?status=closed").get_data(as_text=True)) == [queue["done"].number]
    assert client.get("/?status=bogus").status_code == 400
    assert client.get("/?language=xx").status_code == 400


def test_desk_queue_and_another_desk_is_a_404(queue, login_as, client, staff):
    login_as(staff.agent)
    page = client.get(f"/desks/{staff.desk.slug}").get_data(as_text=True)
    assert len(_numbers(page)) == 4
    assert client.get(f"/desks/{staff.other_desk.slug}").status_code == 404
    assert client.get("/desks/nope").status_code == 404


def test_keyset_pages_walk_the_whole_queue_without_repeats(
    queue, login_as, client, staff, app, monkeypatch
):
    monkeypatch.setitem(app.config, "QUEUE_PAGE_SIZE", 1)
    login_as(staff.agent)
    seen, url = [], "/"
    while url:
        page = client.get(url).get_data(as_text=True)
        seen.extend(_numbers(page))
        found = re.search(r'<a href="([^"]+)" rel="next"', page)
        url = found.group(1).replace("&amp;", "&") if found else None
        assert "offset" not in (url or "")
    assert seen == [queue[k].number for k in ("late", "soon", "fresh", "waiting")]


def test_cursor_round_trip_and_garbage():
    cursor = Cursor(NOW, 42)
    assert Cursor.decode(cursor.encode()) == cursor
    assert Cursor.decode(Cursor(None, 7).encode()) == Cursor(None, 7)
    assert Cursor.decode("not-a-cursor") is None and Cursor.decode("") is None


def test_partial_refresh_returns_only_the_rows(queue, login_as, client, staff):
    login_as(staff.agent)
    fragment = client.get("/?partial=1").get_data(as_text=True)
    assert "<html" not in fragment and queue["late"].number in fragment


def test_bulk_assign_and_status(queue, login_as, client, staff, csrf):
    login_as(staff.agent)
    ids = [queue["late"].id, queue["soon"].id, queue["other"].id]
    response = client.post(
        "/tickets/bulk",
        data={
            "csrf_token": csrf(),
            "ticket_ids": [str(i) for i in ids],
            "assignee": str(staff.colleague.id),
            "status": "open",
            "next": "/?priority=normal",
        },
    )
    assert response.status_code == 302 and response.headers["Location"] == "/?priority=normal"
    for key in ("late", "soon"):
        assert queue[key].assignee is staff.colleague and queue[key].status is TicketStatus.OPEN
    assert queue["other"].assignee is None  # another desk's ticket is out of scope


def test_bulk_reports_refused_transitions(queue, login_as, client, staff, csrf):
    login_as(staff.agent)
    client.post(
        "/tickets/bulk",
        data={
            "csrf_token": csrf(),
            "ticket_ids": [str(queue["waiting"].id)],
            "status": "awaiting_customer",
        },
    )
    page = client.get("/").get_data(as_text=True)
    assert "cannot go from Awaiting information to Awaiting customer" in page


def test_bulk_leaves_a_refused_ticket_as_it_was(queue, login_as, client, staff, csrf):
    login_as(staff.agent)
    waiting, late = queue["waiting"], queue["late"]
    client.post(
        "/tickets/bulk",
        data={
            "csrf_token": csrf(),
            "ticket_ids": [str(waiting.id), str(late.id)],
            "assignee": str(staff.colleague.id),
            "status": "awaiting_customer",  # not from awaiting information
        },
    )
    assert late.assignee is staff.colleague and late.status is TicketStatus.AWAITING_CUSTOMER
    assert waiting.assignee is None and waiting.status is TicketStatus.AWAITING_INFORMATION


def test_posts_without_a_csrf_token_are_refused(queue, login_as, client, staff):
    login_as(staff.agent)
    ticket = queue["late"]
    for path, data in [
        ("/tickets/bulk", {"ticket_ids": [str(ticket.id)], "status": "open"}),
        (f"/tickets/{ticket.id}/reply", {"reply-text": "hello"}),
        (f"/tickets/{ticket.id}/note", {"note-text": "hello"}),
        (f"/tickets/{ticket.id}/status", {"status-status": "open"}),
        (f"/tickets/{ticket.id}/presence", {"activity": "viewing"}),
        ("/tickets/new", {"subject": "x"}),
    ]:
        assert client.post(path, data=data).status_code == 400, path
    assert ticket.status is TicketStatus.NEW


def test_japanese_labels_follow_the_browser(queue, login_as, client, staff):
    login_as(staff.agent)
    page = client.get("/", headers={"Accept-Language": "ja,en;q=0.5"}).get_data(as_text=True)
    assert '<html lang="ja">' in page and "期限超過" in page and "担当窓口すべて" in page


def _desk_tabs(client, language: str) -> str:
    page = client.get("/", headers={"Accept-Language": language}).get_data(as_text=True)
    return page.split('<nav class="desks"', 1)[1].split("</nav>", 1)[0]


def test_desk_tabs_are_named_in_the_readers_language(queue, login_as, client, staff):
    login_as(staff.agent)
    japanese = _desk_tabs(client, "ja,en;q=0.5")
    assert ">システム操作ヘルプデスク</a>" in japanese and "System operation" not in japanese
    english = _desk_tabs(client, "en")
    assert ">System operation helpdesk</a>" in english and "システム" not in english


def test_no_query_runs_once_per_row(queue, login_as, client, staff, db_session, statements_of):
    """Rows bring their desks, assignees and columns along: no statement is repeated."""
    queue["late"].assignee = staff.colleague
    db_session.flush()
    login_as(staff.agent)
    run = statements_of("/")
    assert len(_numbers(client.get("/").get_data(as_text=True))) == 4
    assert len(run) == len(set(run)), run


def test_due_times_count_business_time_left_across_the_weekend(
    staff, enquiry, login_as, client, frozen_now, db_session
):
    """Seen on Friday at 16:00, a ticket due on Monday at 10:00 has 2 business hours left
    (Friday 16-17, Monday 9-10), not the 66 clock hours between; one due Friday 17:00 seen on
    Monday at 09:30 is overdue by half an hour of business time, not 64.5 hours."""
    tokyo = ZoneInfo("Asia/Tokyo")
    monday = enquiry(staff.desk, subject="Due Monday")
    friday = enquiry(staff.desk, subject="Due Friday")
    monday.sla_due_at = datetime(2026, 11, 30, 10, 0, tzinfo=tokyo)
    friday.sla_due_at = datetime(2026, 11, 27, 17, 0, tzinfo=tokyo)
    monday.sla_state = friday.sla_state = "ok"
    db_session.flush()
    login_as(staff.agent)

    frozen_now(datetime(2026, 11, 27, 16, 0, tzinfo=tokyo))
    page = client.get("/").get_data(as_text=True)
    assert _due_cells(page) == [
        "Due soon 11-27 (Fri) 17:00 1 h 0 min business time left",
        "On time 11-30 (Mon) 10:00 2 h 0 min business time left",
    ]
    assert "66 h" not in page
    # The whole due moment, with its zone, is the tooltip of the desk-time moment.
    assert (
        '<time datetime="2026-11-30T10:00+09:00" title="2026-11-30 (Mon) 10:00 JST">'
        "11-30 (Mon) 10:00</time>"
    ) in page
    japanese = client.get("/", headers={"Accept-Language": "ja"}).get_data(as_text=True)
    assert "期限内 11-30 (月) 10:00 残り営業時間2時間0分" in _due_cells(japanese)

    frozen_now(datetime(2026, 11, 30, 9, 30, tzinfo=tokyo))
    page = client.get("/").get_data(as_text=True)
    assert _due_cells(page) == [
        "Breached 11-27 (Fri) 17:00 overdue by 0 h 30 min business time",
        "Due soon 11-30 (Mon) 10:00 0 h 30 min business time left",
    ]
    japanese = client.get("/", headers={"Accept-Language": "ja"}).get_data(as_text=True)
    assert "期限超過 11-27 (金) 17:00 営業時間で0時間30分超過" in _due_cells(japanese)
