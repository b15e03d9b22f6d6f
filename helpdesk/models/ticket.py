"""Tickets, their numbering and the history of their statuses."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, WriteOnlyMapped, mapped_column, relationship

from helpdesk import clock
from helpdesk.extensions import Model
from helpdesk.models.desk import Desk
from helpdesk.models.types import UTCDateTime, enum_column
from helpdesk.sla.policy import Priority, SlaState
from helpdesk.tickets.workflow import TicketStatus

if TYPE_CHECKING:
    from helpdesk.models.message import Message
    from helpdesk.models.user import User


class Channel(enum.Enum):
    """How the enquiry reached the desk."""

    EMAIL = "email"
    WEB = "web"
    PHONE = "phone"


class TicketCounter(Model):
    """The last ticket sequence number handed out in a year (row-locked when taken)."""

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(default=0)


class Ticket(Model):
    """An enquiry and everything the desk did about it."""

    __table_args__ = (
        Index("ix_ticket_queue", "desk_id", "status", "first_response_due_at", "id"),
        Index("ix_ticket_due", "sla_due_at", "id"),
        # The managers' report (migration a9d3e7c41b20 says what reads each).
        Index(
            "ix_ticket_report_desk",
            "desk_id",
            "env_os_family",
            "env_browser_family",
            "created_at",
            "first_response_minutes",
            "resolution_minutes",
            "awaiting_information_minutes",
            "first_response_breached",
            "resolution_breached",
        ),
        Index("ix_ticket_desk_first_response", "desk_id", "first_response_minutes", "created_at"),
        Index("ix_ticket_desk_resolution", "desk_id", "resolution_minutes", "created_at"),
        Index("ix_ticket_desk_awaiting", "desk_id", "awaiting_information_minutes", "created_at"),
        Index("ix_ticket_created", "created_at", "id", "desk_id"),
        Index("ix_ticket_finished", "resolved_at", "closed_at", "created_at", "desk_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    desk_id: Mapped[int] = mapped_column(ForeignKey("desk.id"))  # indexed by ix_ticket_queue
    status: Mapped[TicketStatus] = mapped_column(
        enum_column(TicketStatus), default=TicketStatus.NEW
    )
    priority: Mapped[Priority] = mapped_column(enum_column(Priority), default=Priority.NORMAL)
    channel: Mapped[Channel] = mapped_column(enum_column(Channel), default=Channel.EMAIL)
    subject: Mapped[str] = mapped_column(String(500), default="")
    requester_email: Mapped[str | None] = mapped_column(String(320), index=True)
    requester_name: Mapped[str | None] = mapped_column(String(200))
    organisation: Mapped[str | None] = mapped_column(String(300))
    contact: Mapped[str | None] = mapped_column(String(300))
    environment: Mapped[str | None] = mapped_column(String(300))
    env_os_family: Mapped[str | None] = mapped_column(String(32))
    env_os_version: Mapped[str | None] = mapped_column(String(32))
    env_browser_family: Mapped[str | None] = mapped_column(String(32))
    env_browser_version: Mapped[str | None] = mapped_column(String(32))
    language: Mapped[str] = mapped_column(String(8), default="ja")
    language_code: Mapped[str | None] = mapped_column(String(16))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    previous_ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    fields_completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sla_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_response_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_response_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The earliest of the due times that still apply: what queues order by.
    sla_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sla_state: Mapped[SlaState] = mapped_column(enum_column(SlaState, 16), default=SlaState.OK)
    first_response_minutes: Mapped[int | None]
    resolution_minutes: Mapped[int | None]
    awaiting_information_minutes: Mapped[int | None]
    first_response_breached: Mapped[bool] = mapped_column(default=False)
    resolution_breached: Mapped[bool] = mapped_column(default=False)
    notes: Mapped[str | None] = mapped_column(Text)

    desk: Mapped[Desk] = relationship()
    assignee: Mapped[User | None] = relationship()
    previous_ticket: Mapped[Ticket | None] = relationship(remote_side=[id])
    messages: WriteOnlyMapped[Message] = relationship(
        back_populates="ticket", order_by="Message.id", passive_deletes=True
    )
    status_periods: Mapped[list[StatusPeriod]] = relationship(
        back_populates="ticket", order_by="StatusPeriod.id", cascade="all, delete-orphan"
    )

    @property
    def has_required_fields(self) -> bool:
        """Whether organisation, contact and environment are all known."""
        return bool(self.organisation and self.contact and self.environment)

    def __repr__(self) -> str:
        return f"<Ticket {self.number} {self.status.value}>"


class StatusPeriod(Model):
    """A span of time a ticket spent in one status; the SLA clock is computed from these."""

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"), index=True)
    status: Mapped[TicketStatus] = mapped_column(enum_column(TicketStatus))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    ticket: Mapped[Ticket] = relationship(back_populates="status_periods")
