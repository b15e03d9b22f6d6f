"""Audit events recorded as objects, or as plain rows inside a ``collecting`` block."""

from datetime import UTC, datetime

import pytest
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


def test_collected_events_are_written_in_order_naming_tickets_made_in_the_block(db_session, make):
    desk = make.desk()
    existing = make.ticket(desk)
    with audit.collecting() as rows:
        fresh = Ticket(number="HD-2026-900001", desk=desk, subject="new", created_at=AT)
        db_session.add(fresh)  # no key yet: writing the rows flushes it first
        audit.record("first", fresh, None, AT, n=1)
        audit.record("second", existing, None, AT, n=2)
        audit.record("third", None, None, AT)
        assert len(rows) == 3
        with db_session.no_autoflush:
            assert _events(db_session) == []  # kept as rows until the block ends
        assert fresh.id is None
    assert fresh.id is not None
    assert _events(db_session) == [
        ("first", fresh.id, {"n": 1}, AT),
        ("second", existing.id, {"n": 2}, AT),
        ("third", None, {}, AT),
    ]


def test_a_block_that_raises_writes_nothing_and_recording_goes_back_to_the_session(
    db_session, make
):
    ticket = make.ticket(make.desk())
    with pytest.raises(RuntimeError), audit.collecting():
        audit.record("undone", ticket, None, AT)
        raise RuntimeError("the batch failed")
    audit.record("after", ticket, None, AT)
    db_session.flush()
    assert [event[0] for event in _events(db_session)] == ["after"]


def test_a_nested_block_writes_its_own_rows_and_gives_the_outer_its_own_back(db_session, make):
    ticket = make.ticket(make.desk())
    with audit.collecting() as outer:
        audit.record("outer", ticket, None, AT)
        with audit.collecting():
            audit.record("inner", ticket, None, AT)
        audit.record("outer again", ticket, None, AT)
        assert len(outer) == 2
    assert [event[0] for event in _events(db_session)] == ["inner", "outer", "outer again"]
