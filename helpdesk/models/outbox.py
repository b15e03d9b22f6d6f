"""Outgoing mail, written with the ticket change and sent by a job after commit."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk import clock
from helpdesk.extensions import Model
from helpdesk.models.types import UTCDateTime, enum_column

if TYPE_CHECKING:
    from helpdesk.models.message import Message
    from helpdesk.models.ticket import Ticket


class OutboxStatus(enum.Enum):
    """Delivery state of an outgoing message."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class OutboxMessage(Model):
    """A message waiting for (or done with) SMTP delivery."""

    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id", ondelete="SET NULL"))
    message_row_id: Mapped[int | None] = mapped_column(
        ForeignKey("message.id", ondelete="SET NULL")
    )
    kind: Mapped[str] = mapped_column(String(32))
    sender: Mapped[str] = mapped_column(String(320))
    recipient: Mapped[str] = mapped_column(String(320), index=True)
    message_id: Mapped[str] = mapped_column(String(500), unique=True)
    # Rendered from message_row when sent (then kept); set at once for mail carrying files.
    raw: Mapped[bytes | None] = mapped_column(LargeBinary)
    automatic: Mapped[bool] = mapped_column(default=False)
    status: Mapped[OutboxStatus] = mapped_column(
        enum_column(OutboxStatus), default=OutboxStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now, index=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # Set on rows not yet flushed, so a batch of mail is written in one flush.
    ticket: Mapped[Ticket | None] = relationship()
    message_row: Mapped[Message | None] = relationship()
