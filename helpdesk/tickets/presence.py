"""Collision notice: which other agents are viewing or replying to a ticket right now."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.dialects import postgresql, sqlite

from helpdesk.extensions import db
from helpdesk.models import Ticket, User
from helpdesk.models.presence import PresenceActivity, TicketPresence
from helpdesk.tickets import queries

# The page sends a heartbeat every 15 s; three missed beats and the agent has gone.
STALE_AFTER = timedelta(seconds=45)


def heartbeat(ticket: Ticket, user: User, activity: str, at: datetime) -> None:
    """Record that ``user`` is viewing or replying to ``ticket`` as of ``at``."""
    replying = activity == PresenceActivity.REPLYING
    doing = PresenceActivity.REPLYING if replying else PresenceActivity.VIEWING
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(TicketPresence).values(
        ticket_id=ticket.id, user_id=user.id, activity=doing, seen_at=at
    )
    db.session.execute(
        statement.on_conflict_do_update(
            index_elements=["ticket_id", "user_id"],
            set_={"activity": doing, "seen_at": statement.excluded.seen_at},
        )
    )


def others(ticket: Ticket, user: User, now: datetime) -> list[tuple[str, PresenceActivity]]:
    """(name, activity) of the other agents seen on the ticket within the last beats."""
    rows = db.session.execute(queries.presence(ticket, now - STALE_AFTER, user))
    return [(name, activity) for name, activity in rows]
