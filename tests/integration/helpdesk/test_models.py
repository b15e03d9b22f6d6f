"""Model constraints on the test database (SQLite or PostgreSQL)."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError, StatementError

from helpdesk.models import (
    Attachment,
    AuditEvent,
    Desk,
    Direction,
    Mailbox,
    Message,
    Ticket,
)
from helpdesk.sla import SlaState
from helpdesk.tickets.numbers import find_numbers, format_number, next_ticket_number
from helpdesk.tickets.services import change_status
from helpdesk.tickets.workflow import InvalidTransition, TicketStatus


def _mailbox(session, desk, name="support"):
    mailbox = Mailbox(
        name=name,
        address=f"{name}@x.test",
        host="127.0.0.1",
        username=name,
        secret_env="X",
        default_desk=desk,
    )
    session.add(mailbox)
    session.flush()
    return mailbox


def test_a_message_is_unique_per_mailbox_by_message_id_and_content(db_session, make):
    """What keeps two processes from both storing one message; a sender who reuses the
    Message-ID for another content gets both kept."""
    desk = make.desk()
    mailbox = _mailbox(db_session, desk)

    def message(content):
        return Message(
            mailbox_id=mailbox.id,
            direction=Direction.INBOUND,
            message_id="a@x",
            content_sha256=content,
        )

    db_session.add_all([message("a" * 64), message("b" * 64)])
    db_session.flush()
    db_session.add(message("a" * 64))
    with pytest.raises(IntegrityError):
        db_session.flush()


def test_same_message_id_in_another_mailbox_is_allowed(db_session, make):
    desk = make.desk()
    first, second = _mailbox(db_session, desk, "one"), _mailbox(db_session, desk, "two")
    for mailbox in (first, second):
        db_session.add(
            Message(mailbox_id=mailbox.id, direction=Direction.INBOUND, message_id="a@x")
        )
    db_session.flush()
    assert len(db_session.scalars(select(Message).where(Message.message_id == "a@x")).all()) == 2


def test_ticket_numbers_are_sequential_per_year_and_unique(db_session, make):
    first = make.ticket()
    second = make.ticket(desk=first.desk)
    year = first.created_at.astimezone(timezone(timedelta(hours=9))).year
    assert first.number == format_number("HD", year, int(first.number[-6:]))
    assert int(second.number[-6:]) == int(first.number[-6:]) + 1
    duplicate = Ticket(number=first.number, desk=first.desk)
    db_session.add(duplicate)
    with pytest.raises(IntegrityError):
        db_session.flush()


def test_counter_restarts_each_year(db_session):
    assert next_ticket_number(db_session, 2031) == "HD-2031-000001"
    assert next_ticket_number(db_session, 2031) == "HD-2031-000002"
    assert next_ticket_number(db_session, 2032) == "HD-2032-000001"


def test_ticket_year_is_the_desk_year_not_utc(db_session, make):
    # 2026-12-31 16:00 UTC is already 2027-01-01 01:00 in Tokyo.
    ticket = make.ticket(at=datetime(2026, 12, 31, 16, 0, tzinfo=UTC))
    assert ticket.number.startswith("HD-2027-")


def test_find_numbers_in_a_subject():
    assert find_numbers("Re: [HD-2026-000123] ログインできません") == ["HD-2026-000123"]
    assert find_numbers("XX-2026-000123 and HD-26-1") == []


def test_allowed_status_change_records_period_and_audit(db_session, make):
    ticket = make.ticket()
    at = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)
    change_status(ticket, TicketStatus.OPEN, at=at)
    change_status(ticket, TicketStatus.RESOLVED, at=at + timedelta(hours=1))
    assert [p.status for p in ticket.status_periods] == [
        TicketStatus.NEW,
        TicketStatus.OPEN,
        TicketStatus.RESOLVED,
    ]
    assert ticket.status_periods[1].ended_at == at + timedelta(hours=1)
    assert ticket.resolved_at == at + timedelta(hours=1)
    actions = db_session.scalars(
        select(AuditEvent.action).where(AuditEvent.ticket_id == ticket.id)
    ).all()
    assert actions == ["ticket.opened", "ticket.status", "ticket.status"]


def test_refused_status_change_changes_nothing(db_session, make):
    ticket = make.ticket()
    change_status(ticket, TicketStatus.CLOSED)
    with pytest.raises(InvalidTransition):
        change_status(ticket, TicketStatus.OPEN)
    assert ticket.status is TicketStatus.CLOSED
    assert len(ticket.status_periods) == 2


def test_datetimes_come_back_aware_in_utc(db_session, make):
    tokyo = timezone(timedelta(hours=9))
    ticket = make.ticket(at=datetime(2026, 11, 25, 9, 30, tzinfo=tokyo))
    db_session.expire_all()
    loaded = db_session.get(Ticket, ticket.id)
    assert loaded.created_at == datetime(2026, 11, 25, 0, 30, tzinfo=UTC)
    assert loaded.created_at.utcoffset() == timedelta(0)


def test_naive_datetime_is_refused(db_session, make):
    desk = make.desk()
    desk.created_at = datetime(2026, 1, 1)  # noqa: DTZ001 - the point of the test
    with pytest.raises(Exception, match="naive datetime"):
        db_session.flush()


def test_refused_attachment_keeps_its_facts_without_a_stored_copy(db_session, make):
    desk = make.desk()
    message = Message(direction=Direction.INBOUND, message_id="r@x", refused=True, desk_id=desk.id)
    message.attachments.append(
        Attachment(
            filename="invoice.pdf.exe",
            declared_type="application/pdf",
            detected_type="application/x-dosexec",
            size=1234,
            sha256="0" * 64,
            storage_key=None,
            allowed=False,
            reason="executable_content",
        )
    )
    db_session.add(message)
    db_session.flush()
    stored = db_session.scalars(select(Attachment).where(Attachment.message_id == message.id)).one()
    assert stored.allowed is False and stored.storage_key is None
    assert (stored.filename, stored.reason, stored.detected_type, stored.size) == (
        "invoice.pdf.exe",
        "executable_content",
        "application/x-dosexec",
        1234,
    )
    assert stored.message.desk_id == desk.id and stored.message.refused is True


def test_desk_defaults(db_session, make):
    desk = make.desk()
    db_session.expire_all()
    loaded = db_session.get(Desk, desk.id)
    assert loaded.timezone == "Asia/Tokyo"
    assert loaded.opening_hours["0"] == [["09:00", "17:00"]]
    assert "5" not in loaded.opening_hours
    assert loaded.requires_fields is True


def test_states_are_stored_as_their_values_and_unknown_ones_are_refused(db_session, make):
    """The state columns keep the strings they always held (no data migration), and a string
    that names no member never reaches the database."""
    ticket = make.ticket()
    ticket.sla_state = SlaState.NEAR
    db_session.flush()
    stored = db_session.execute(
        text("SELECT sla_state FROM ticket WHERE id = :id"), {"id": ticket.id}
    )
    assert stored.scalar_one() == "near"
    db_session.expire(ticket)
    assert ticket.sla_state is SlaState.NEAR

    ticket.sla_state = "late"
    with pytest.raises(StatementError, match="late"):
        db_session.flush()
