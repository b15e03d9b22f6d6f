"""Who has a ticket open right now: one heartbeat row per agent and ticket."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk.extensions import Model
from helpdesk.models.types import UTCDateTime, enum_column


class PresenceActivity(enum.StrEnum):
    """What an agent on a ticket is doing."""

    VIEWING = "viewing"
    REPLYING = "replying"


class TicketPresence(Model):
    """An agent viewing or replying to a ticket, as of their last heartbeat."""

    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("ticket.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
    )
    activity: Mapped[PresenceActivity] = mapped_column(
        enum_column(PresenceActivity, 16), default=PresenceActivity.VIEWING
    )
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
