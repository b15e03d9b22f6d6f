"""Recording audit events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from helpdesk import clock
from helpdesk.extensions import db
from helpdesk.models import AuditEvent, Ticket, User


def record(
    action: str,
    ticket: Ticket | None = None,
    actor: User | None = None,
    at: datetime | None = None,
    **detail: Any,
) -> None:
    """Add an audit event to the session, flushed with the change it describes."""
    db.session.add(
        AuditEvent(
            ticket=ticket,
            actor_id=actor.id if actor is not None else None,
            action=action,
            detail=detail,
            created_at=at or clock.now(),
        )
    )
