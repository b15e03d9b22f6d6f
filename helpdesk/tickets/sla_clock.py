"""SLA clocks on tickets: due times from the desk calendar, kept on the row, and the sweep.

The arithmetic is the pure ``helpdesk.sla`` package; this module feeds it a ticket's status
periods and stores what it answers, so queues sort and reports aggregate without recomputing
calendars.
"""

from __future__ import annotations

import json
import logging
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime

from babel.dates import format_skeleton, get_timezone_location
from flask import current_app
from flask_babel import get_translations
from sqlalchemy import select

from helpdesk import audit, clock, i18n
from helpdesk.extensions import db
from helpdesk.models import Desk, Ticket
from helpdesk.sla import (
    BusinessCalendar,
    ClockPeriod,
    SlaState,
    SlaTargets,
    elapsed_business_minutes,
    explain_due,
    sla_state,
    targets_for,
)
from helpdesk.sla import due_at as clock_due_at
from helpdesk.tickets.workflow import FINISHED, TicketStatus

log = logging.getLogger(__name__)

_CALENDARS: OrderedDict[str, BusinessCalendar] = OrderedDict()
_CALENDAR_CACHE_SIZE = 64


def _fingerprint(desk: Desk) -> str:
    overrides = [
        (str(o.day), o.name, o.is_open, str(o.opens), str(o.closes))
        for o in desk.calendar_overrides
    ]
    return json.dumps(
        [
            desk.id,
            desk.timezone,
            desk.opening_hours,
            desk.national_holidays,
            desk.year_end_closure,
            overrides,
        ],
        sort_keys=True,
        default=str,
    )


def calendar_for(desk: Desk) -> BusinessCalendar:
    """The desk's business calendar, cached until its settings change."""
    key = _fingerprint(desk)
    calendar = _CALENDARS.get(key)
    if calendar is None:
        calendar = BusinessCalendar.for_desk(desk)
        _CALENDARS[key] = calendar
        while len(_CALENDARS) > _CALENDAR_CACHE_SIZE:
            _CALENDARS.popitem(last=False)
    return calendar


def targets(ticket: Ticket, calendar: BusinessCalendar | None = None) -> SlaTargets:
    """The ticket's targets: its desk's for its priority, defaults where the desk says nothing.
    ``calendar`` is the desk's, when the caller has it already."""
    calendar = calendar or calendar_for(ticket.desk)
    return targets_for(
        ticket.priority.value, calendar.standard_day_minutes(), ticket.desk.sla_targets or None
    )


def business_minutes(desk: Desk, start: datetime, end: datetime) -> int:
    """Business minutes between two instants on the desk's calendar."""
    return calendar_for(desk).business_minutes_between(start, end)


def clock_periods(ticket: Ticket) -> list[ClockPeriod]:
    """The ticket's status periods since its clock started, in the policy's terms."""
    since = ticket.sla_started_at
    if since is None:
        return []
    periods = []
    for period in ticket.status_periods:
        if period.ended_at is not None and period.ended_at <= since:
            continue
        periods.append(ClockPeriod(period.status, max(period.started_at, since), period.ended_at))
    return periods


def refresh(ticket: Ticket, now: datetime) -> None:
    """Recompute and store the ticket's due times and SLA state."""
    if ticket.sla_started_at is None:
        ticket.first_response_due_at = ticket.resolution_due_at = ticket.sla_due_at = None
        ticket.sla_state = SlaState.PAUSED
        return
    calendar = calendar_for(ticket.desk)
    goal, periods = targets(ticket, calendar), clock_periods(ticket)
    finished = ticket.status in FINISHED
    if ticket.first_response_at is None and not finished:
        ticket.first_response_due_at = clock_due_at(calendar, goal.first_response, periods)
    ticket.resolution_due_at = (
        None if finished else clock_due_at(calendar, goal.resolution, periods)
    )
    running = ticket.status not in FINISHED and ticket.resolution_due_at is not None
    candidates = [ticket.resolution_due_at, ticket.next_response_due_at]
    if ticket.first_response_at is None:
        candidates.append(ticket.first_response_due_at)
    dues = [due for due in candidates if due is not None]
    ticket.sla_due_at = min(dues) if running and dues else None
    warn = current_app.config["SLA_WARN_MINUTES"]
    ticket.sla_state = (
        SlaState.DONE if finished else sla_state(ticket.sla_due_at, now, calendar, warn)
    )


def on_status_change(ticket: Ticket, previous: TicketStatus, at: datetime) -> None:
    """Record resolution time when a ticket finishes; recompute due times."""
    if ticket.status in FINISHED and previous not in FINISHED:
        periods = clock_periods(ticket)
        ticket.resolution_minutes = elapsed_business_minutes(calendar_for(ticket.desk), periods, at)
        ticket.resolution_breached = bool(
            ticket.resolution_due_at and at > ticket.resolution_due_at
        )
    elif ticket.status not in FINISHED and previous in FINISHED:
        ticket.resolution_minutes = None
    refresh(ticket, at)


def record_response(ticket: Ticket, at: datetime) -> None:
    """An agent answered the requester: stop the first-response clock, clear the next one."""
    if ticket.first_response_at is None and ticket.sla_started_at is not None:
        calendar = calendar_for(ticket.desk)
        ticket.first_response_at = at
        ticket.first_response_minutes = elapsed_business_minutes(
            calendar, clock_periods(ticket), at
        )
        due = ticket.first_response_due_at
        ticket.first_response_breached = bool(due and at > due)
        ticket.first_response_due_at = None
    ticket.next_response_due_at = None
    refresh(ticket, at)


def start_next_response(ticket: Ticket, at: datetime) -> None:
    """The requester wrote after our answer: the desk owes the next response."""
    if ticket.next_response_due_at is None:
        calendar = calendar_for(ticket.desk)
        ticket.next_response_due_at = calendar.add_business_minutes(
            at, targets(ticket, calendar).next_response
        )


def due_for_requester(ticket: Ticket, lang: str) -> tuple[str | None, str | None]:
    """The first-response due time as ``lang`` writes a date ("Nov 25, 2026 17:00 (Wed)
    Japan Time", "2026年11月25日 17:00 (水) 日本時間"), and what closures it skips."""
    due, start = ticket.first_response_due_at, ticket.sla_started_at
    if due is None or start is None:
        return None, None
    calendar = calendar_for(ticket.desk)
    local = due.astimezone(calendar.tz)
    with i18n.language(lang):
        locale = i18n.current_language()
        day = format_skeleton("yMMMd", local, locale=locale)
        zone = get_timezone_location(calendar.tz, locale=locale)
        text = f"{day} {local:%H:%M} ({i18n.short_weekday(local)}) {zone}"
        words = get_translations()
        explanation = explain_due(calendar, start, due)
        skipped = [run.line(words, locale) for run in explanation.closed_runs]
    return text, "; ".join(skipped) or None


@dataclass
class SweepReport:
    """What one SLA sweep found."""

    near: list[int] = field(default_factory=list)
    breached: list[int] = field(default_factory=list)


def sweep(now: datetime | None = None) -> SweepReport:
    """Mark tickets whose due time is near or past; audit each change once; queue the digest
    (the job or command commits; the outbox sends it after that)."""
    now = now or clock.now()
    report = SweepReport()
    query = (
        select(Ticket)
        .where(Ticket.sla_due_at.is_not(None), Ticket.status.not_in(list(FINISHED)))
        .where(Ticket.sla_state.in_([SlaState.OK, SlaState.NEAR]))
        .order_by(Ticket.sla_due_at)
    )
    for ticket in db.session.scalars(query):
        before = ticket.sla_state
        refresh(ticket, now)
        _flag_breaches(ticket, now)
        if ticket.sla_state != before and ticket.sla_state in (SlaState.NEAR, SlaState.BREACHED):
            getattr(report, ticket.sla_state).append(ticket.id)
            audit.record(f"sla.{ticket.sla_state}", ticket, None, now, due=str(ticket.sla_due_at))
    if report.near or report.breached:
        from helpdesk.tickets.notify import send_sla_digest

        send_sla_digest(report, now)
    return report


def _flag_breaches(ticket: Ticket, now: datetime) -> None:
    if ticket.first_response_at is None and ticket.first_response_due_at is not None:
        ticket.first_response_breached = now >= ticket.first_response_due_at
    if ticket.resolution_due_at is not None and now >= ticket.resolution_due_at:
        ticket.resolution_breached = True
