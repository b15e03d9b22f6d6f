"""Who has a ticket open right now: one heartbeat row per agent and ticket."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk.extensions import db
from helpdesk.models.types import UTCDateTime


class TicketPresence(db.Model):
    """An agent viewing or replying to a ticket, as of their last heartbeat."""

    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("ticket.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
    )
    activity: Mapped[str] = mapped_column(String(16), default="viewing")
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
