"""Audit events are ordinary rows of the session: written with the change, readable back."""

from datetime import UTC, datetime

from sqlalchemy import select

from helpdesk import audit
from helpdesk.models import AuditEvent, Ticket

AT = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


def _events(db_session):
    """The events of each test's own, not the ones the ticket factory records."""
    rows = db_session.execute(
        select(AuditEvent.action, AuditEvent.ticket_id, AuditEvent.detail, AuditEvent.created_at)
        .where(AuditEvent.action != "ticket.opened")
        .order_by(AuditEvent.id)
    )
    return [tuple(row) for row in rows]


def test_events_are_written_in_order_naming_tickets_not_flushed_yet(db_session, make):
    desk = make.desk()
    existing = make.ticket(desk)
    fresh = Ticket(number="HD-2026-900001", desk=desk, subject="new", created_at=AT)
    db_session.add(fresh)
    with db_session.no_autoflush:
        audit.record("first", fresh, None, AT, n=1)
        audit.record("second", existing, None, AT, n=2)
        audit.record("third", None, None, AT)
    assert fresh.id is None
    assert _events(db_session) == [  # the query's autoflush writes the ticket first
        ("first", fresh.id, {"n": 1}, AT),
        ("second", existing.id, {"n": 2}, AT),
        ("third", None, {}, AT),
    ]


def test_an_event_reads_back_in_the_same_session(db_session, make):
    ticket = make.ticket(make.desk())
    audit.record("looked.at", ticket, None, AT, why="a test")
    (event,) = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "looked.at"))
    assert event.ticket is ticket and event.detail == {"why": "a test"}


def test_a_savepoint_rolled_back_takes_its_events_with_it(db_session, make):
    ticket = make.ticket(make.desk())
    savepoint = db_session.begin_nested()
    audit.record("undone", ticket, None, AT)
    savepoint.rollback()
    audit.record("after", ticket, None, AT)
    assert [event[0] for event in _events(db_session)] == ["after"]
