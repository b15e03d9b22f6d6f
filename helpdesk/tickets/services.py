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
from mail_ingest.environment import normalise_environment
from mail_ingest.fields import RequiredFields, merge


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
    if ticket.sla_started_at is not None:
        from helpdesk.tickets import sla

        sla.on_status_change(ticket, previous, at)


def _close_period(ticket: Ticket, at: datetime) -> None:
    for period in ticket.status_periods:
        if period.ended_at is None:
            period.ended_at = at


def apply_fields(
    ticket: Ticket, fields: RequiredFields, *, actor: User | None = None, at: datetime | None = None
) -> list[str]:
    """Fill the ticket's missing enquiry fields from ``fields``; returns the names filled."""
    known = RequiredFields(ticket.organisation, ticket.contact, ticket.environment)
    merged = merge(known, fields)
    filled = [name for name in known.missing if getattr(merged, name) is not None]
    for name in filled:
        setattr(ticket, name, str(getattr(merged, name))[:300])
    if "environment" in filled:
        set_environment(ticket, ticket.environment or "")
    if filled:
        audit.record("ticket.fields", ticket, actor, at, filled=filled)
    return filled


def set_environment(ticket: Ticket, text: str) -> None:
    """Store the environment as written and in its normalised form."""
    env = normalise_environment(text)
    ticket.environment = text[:300] or None
    ticket.env_os_family = env.os_family
    ticket.env_os_version = env.os_version
    ticket.env_browser_family = env.browser_family
    ticket.env_browser_version = env.browser_version


def complete_if_ready(ticket: Ticket, *, actor: User | None = None, at: datetime) -> bool:
    """Move a ticket awaiting information to "new" once it has all three fields."""
    if ticket.status is not TicketStatus.AWAITING_INFORMATION or not ticket.has_required_fields:
        return False
    change_status(ticket, TicketStatus.NEW, actor=actor, at=at)
    start_clock(ticket, at)
    return True


def start_clock(ticket: Ticket, at: datetime) -> None:
    """Start the SLA clock: the enquiry is complete and the desk owes an answer from now."""
    from helpdesk.tickets import sla

    if ticket.sla_started_at is None:
        ticket.sla_started_at = at
        ticket.fields_completed_at = at
        if ticket.created_at < at:
            ticket.awaiting_information_minutes = sla.business_minutes(
                ticket.desk, ticket.created_at, at
            )
    sla.refresh(ticket, at)


def customer_replied(ticket: Ticket, *, at: datetime) -> None:
    """The requester wrote again: reopen if resolved or waiting on them, restart the clock."""
    from helpdesk.tickets import sla

    target = workflow.after_customer_reply(ticket.status)
    if target is not None and target is not ticket.status:
        change_status(ticket, target, at=at)
    if ticket.first_response_at is not None and ticket.status in workflow.CLOCK_RUNNING:
        sla.start_next_response(ticket, at)
    sla.refresh(ticket, at)
