"""Ticket queries as Select builders."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select

from helpdesk.access import scope_tickets
from helpdesk.models import Ticket, User
from helpdesk.tickets.workflow import FINISHED


def queue(user: User, desk_id: int | None = None) -> Select[Any]:
    """Unfinished tickets the user may see, due first (no due time last), then oldest."""
    query = select(Ticket).where(Ticket.status.not_in(list(FINISHED)))
    if desk_id is not None:
        query = query.where(Ticket.desk_id == desk_id)
    query = scope_tickets(query, user)
    return query.order_by(Ticket.sla_due_at.asc().nulls_last(), Ticket.id.asc())
