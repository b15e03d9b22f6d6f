"""Ticket operations. Services flush; the request, job or command commits once."""

from __future__ import annotations

from datetime import datetime

from flask import current_app

from helpdesk import audit, clock
from helpdesk.extensions import db
from helpdesk.models import Channel, Desk, Priority, StatusPeriod, Ticket, User
from helpdesk.tickets import workflow
from helpdesk.tickets.numbers import next_ticket_number
from helpdesk.tickets.workflow import TicketStatus


def open_ticket(
    desk: Desk,
    *,
    subject: str,
    requester_email: str | None,
    requester_name: str | None = None,
    channel: Channel = Channel.EMAIL,
    priority: Priority = Priority.NORMAL,
    status: TicketStatus = TicketStatus.NEW,
    language: str = "ja",
    actor: User | None = None,
    at: datetime | None = None,
) -> Ticket:
    """Create a ticket with its number and first status period."""
    at = at or clock.now()
    year = clock.to_desk_time(at, desk.timezone).year  # type: ignore[union-attr]
    prefix = current_app.config["TICKET_NUMBER_PREFIX"]
    ticket = Ticket(
        number=next_ticket_number(db.session, year, prefix),
        desk=desk,
        subject=subject[:500],
        requester_email=requester_email,
        requester_name=requester_name,
        channel=channel,
        priority=priority,
        status=status,
        language=language,
        created_at=at,
        updated_at=at,
    )
    ticket.status_periods.append(StatusPeriod(status=status, started_at=at))
    db.session.add(ticket)
    db.session.flush()
    audit.record("ticket.opened", ticket, actor, at, status=status.value, channel=channel.value)
    return ticket


def change_status(
    ticket: Ticket, target: TicketStatus, *, actor: User | None = None, at: datetime | None = None
) -> None:
    """Move a ticket to ``target`` if the workflow allows it; raises InvalidTransition."""
    at = at or clock.now()
    previous = ticket.status
    workflow.transition(previous, target)
    _close_period(ticket, at)
    ticket.status = target
    ticket.status_periods.append(StatusPeriod(status=target, started_at=at))
    ticket.updated_at = at
    if target is TicketStatus.RESOLVED:
        ticket.resolved_at = at
    elif target is TicketStatus.CLOSED:
        ticket.closed_at = at
    elif previous is TicketStatus.RESOLVED:
        ticket.resolved_at = None
    db.session.flush()
    audit.record("ticket.status", ticket, actor, at, old=previous.value, new=target.value)


def _close_period(ticket: Ticket, at: datetime) -> None:
    for period in ticket.status_periods:
        if period.ended_at is None:
            period.ended_at = at
