"""The SLA clock on tickets: started, paused, resumed, stopped; the sweep and its digest."""

from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy

import pytest
from sqlalchemy import select

from helpdesk import clock, outbox
from helpdesk.models import AuditEvent, OutboxMessage, Priority
from helpdesk.tickets import sla_clock
from helpdesk.tickets.services import change_status, customer_replied, start_clock
from helpdesk.tickets.workflow import TicketStatus

S = TicketStatus


def tokyo(day, hour, minute=0):
    """An instant given in Tokyo wall time (UTC+9, no DST)."""
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC) - timedelta(hours=9)


@pytest.fixture
def frozen():
    current = {"now": tokyo(25, 10)}
    clock.set_now_source(lambda: current["now"])
    yield current
    clock.set_now_source(None)


@pytest.fixture
def ticket(make, frozen):
    desk = make.desk()
    ticket = make.ticket(desk=desk, at=tokyo(25, 10))  # Wednesday 10:00
    start_clock(ticket, tokyo(25, 10))
    return ticket


def test_clock_starts_with_first_response_and_resolution_due(ticket):
    # 8 business hours from Wed 10:00 is Thu 10:00; 5 business days (2,400 min) is next Wed 10:00.
    assert ticket.first_response_due_at == tokyo(26, 10)
    assert ticket.resolution_due_at == datetime(2026, 12, 2, 1, 0, tzinfo=UTC)
    assert ticket.sla_due_at == ticket.first_response_due_at
    assert ticket.sla_state == "ok"


def test_waiting_on_the_customer_pauses_and_their_answer_resumes(ticket, frozen):
    sla_clock.record_response(ticket, tokyo(25, 11))  # an hour in: first response stops
    change_status(ticket, S.AWAITING_CUSTOMER, at=tokyo(25, 11))
    assert ticket.first_response_minutes == 60
    assert ticket.sla_due_at is None and ticket.sla_state == "paused"
    # The customer answers Friday 16:00: resolution clock resumes with 60 minutes used.
    frozen["now"] = tokyo(27, 16)
    customer_replied(ticket, at=tokyo(27, 16))
    assert ticket.status is S.OPEN
    # 2,400 - 60 = 2,340 business minutes from Fri 16:00: 60 on Friday, then 4 days and 420
    # minutes: Mon-Thu (1,920) and Fri 09:00 + 360 = Fri 4 Dec 15:00.
    assert ticket.resolution_due_at == datetime(2026, 12, 4, 6, 0, tzinfo=UTC)
    # The next response is owed within 8 business hours: 60 on Friday + 420 = Monday 16:00.
    assert ticket.next_response_due_at == tokyo(30, 16)
    assert ticket.sla_due_at == tokyo(30, 16)


def test_resolving_records_business_minutes_and_stops_the_clock(ticket):
    sla_clock.record_response(ticket, tokyo(25, 11))
    change_status(ticket, S.RESOLVED, at=tokyo(26, 12))  # Wed 10:00 -> Thu 12:00 = 420 + 180
    assert ticket.resolution_minutes == 600
    assert ticket.sla_due_at is None and ticket.sla_state == "done"
    assert not ticket.resolution_breached
    change_status(ticket, S.OPEN, at=tokyo(26, 13))  # reopened: the clock runs again
    assert ticket.resolution_minutes is None and ticket.resolution_due_at is not None


def test_late_first_response_is_a_breach(ticket):
    sla_clock.record_response(ticket, tokyo(26, 10, 1))
    assert ticket.first_response_breached and ticket.first_response_minutes == 481


def test_priority_changes_the_targets(make, frozen):
    ticket = make.ticket(at=tokyo(25, 10), priority=Priority.URGENT)
    start_clock(ticket, tokyo(25, 10))
    assert ticket.first_response_due_at == tokyo(25, 11)


def test_desk_overrides_its_targets(make, frozen):
    desk = make.desk(sla_targets={"normal": {"first_response": 120}})
    ticket = make.ticket(desk=desk, at=tokyo(25, 10))
    start_clock(ticket, tokyo(25, 10))
    assert ticket.first_response_due_at == tokyo(25, 12)


def test_sweep_marks_near_and_breached_once_and_sends_one_digest_each(db_session, make, frozen):
    desk = make.desk(name_ja="システム窓口")
    agent = make.user(desks=[desk], locale="en")
    colleague = make.user(desks=[desk])  # no language set: Japanese, as the weekly report
    near = make.ticket(desk=desk, at=tokyo(24, 10))
    late = make.ticket(desk=desk, at=tokyo(24, 9))
    for item in (near, late):
        start_clock(item, item.created_at)
    frozen["now"] = tokyo(25, 9, 30)  # near: due 10:00 (30 min left); late: due 09:00
    report = sla_clock.sweep()
    assert report.near == [near.id] and report.breached == [late.id]
    assert late.first_response_breached and late.sla_state == "breached"
    actions = db_session.scalars(
        select(AuditEvent.action).where(AuditEvent.action.like("sla.%"))
    ).all()
    assert sorted(actions) == ["sla.breached", "sla.near"]
    digests = db_session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "sla_digest")
    ).all()
    assert sorted(d.recipient for d in digests) == sorted([agent.email, colleague.email])
    mails = {
        d.recipient: message_from_bytes(outbox.rendered(d), policy=policy.default) for d in digests
    }
    japanese = mails[colleague.email]
    assert japanese["Subject"] == "[SLA] 期限が近い・過ぎたチケット 2 件"
    body_ja = japanese.get_content()
    assert f"[期限超過] {late.number}(システム窓口)" in body_ja
    assert f"[期限間近] {near.number}" in body_ja
    assert mails[agent.email]["Subject"] == "[SLA] 2 tickets near or past their due time"
    body = mails[agent.email].get_content()
    assert f"[BREACHED] {late.number}" in body and f"[DUE SOON] {near.number}" in body
    assert body.index(late.number) < body.index(near.number)
    assert f"http://127.0.0.1:5000/tickets/{late.id}\n" in body
    again = sla_clock.sweep()
    assert again.near == [] and again.breached == []


def test_the_sweep_only_flushes_its_job_or_command_commits(db_session, make, frozen):
    late = make.ticket(desk=make.desk(), at=tokyo(24, 9))
    make.user(desks=[late.desk])
    start_clock(late, late.created_at)
    db_session.commit()
    frozen["now"] = tokyo(25, 9, 30)
    assert sla_clock.sweep().breached == [late.id]
    db_session.rollback()  # the job's unit of work, failing after the sweep
    assert late.sla_state == "ok"
    assert db_session.scalars(select(OutboxMessage)).all() == []
