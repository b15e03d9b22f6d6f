"""Audit trail: who did what to which ticket, when."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk import clock
from helpdesk.extensions import Model
from helpdesk.models.types import UTCDateTime

if TYPE_CHECKING:
    from helpdesk.models.ticket import Ticket


class AuditEvent(Model):
    """One recorded action; actor None means the system (poller, scheduler)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int | None] = mapped_column(
        ForeignKey("ticket.id", ondelete="CASCADE"), index=True
    )
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now, index=True)

    # Lets an event name a ticket that is not flushed yet (mail ingestion writes per batch).
    ticket: Mapped[Ticket | None] = relationship()
