"""Indexes for the agents' queue and search.

PostgreSQL finds text with pg_trgm GIN indexes on the searched columns. SQLite searches an FTS5
trigram table kept in the attached ``search`` schema (see helpdesk.tickets.search); there the
trigram indexes exist only as empty partial indexes (``WHERE 0``) so both schemas match these
declarations.
"""

from __future__ import annotations

from sqlalchemy import Column, Index, text

from helpdesk.models.message import Message
from helpdesk.models.ticket import Ticket
from helpdesk.tickets.workflow import FINISHED

_UNFINISHED = Ticket.status.not_in([status.value for status in FINISHED])


def _trigram(name: str, column: Column) -> Index:  # type: ignore[type-arg]
    return Index(
        name,
        column,
        postgresql_using="gin",
        postgresql_ops={column.name: "gin_trgm_ops"},
        sqlite_where=text("0"),
    )


# The queues: unfinished tickets by due time, per desk and across desks (partial, so small).
ix_ticket_open_desk_due = Index(
    "ix_ticket_open_desk_due",
    Ticket.desk_id,
    Ticket.sla_due_at,
    Ticket.id,
    postgresql_where=_UNFINISHED,
    sqlite_where=_UNFINISHED,
)
ix_ticket_open_due = Index(
    "ix_ticket_open_due",
    Ticket.sla_due_at,
    Ticket.id,
    postgresql_where=_UNFINISHED,
    sqlite_where=_UNFINISHED,
)

# Search reads a desk's newest tickets first (helpdesk.tickets.search): in order, from the index.
ix_ticket_desk_newest = Index("ix_ticket_desk_newest", Ticket.desk_id, Ticket.id)

TRIGRAM_INDEXES = [
    _trigram("ix_ticket_number_trgm", Ticket.__table__.c.number),
    _trigram("ix_ticket_subject_trgm", Ticket.__table__.c.subject),
    _trigram("ix_ticket_requester_email_trgm", Ticket.__table__.c.requester_email),
    _trigram("ix_ticket_requester_name_trgm", Ticket.__table__.c.requester_name),
    _trigram("ix_ticket_organisation_trgm", Ticket.__table__.c.organisation),
    _trigram("ix_message_text_trgm", Message.__table__.c.text),
]
