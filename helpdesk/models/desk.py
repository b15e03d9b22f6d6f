"""Desks (queues), their calendars and canned answers."""

from __future__ import annotations

import enum
from datetime import date, datetime, time
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk import clock
from helpdesk.extensions import Model
from helpdesk.models.types import UTCDateTime, enum_column
from mail_ingest.policy import DEFAULT_FORBIDDEN_EXTENSIONS

if TYPE_CHECKING:
    from helpdesk.models.user import User

WEEKDAY_9_TO_17: dict[str, list[list[str]]] = {str(d): [["09:00", "17:00"]] for d in range(5)}


class AttachmentAction(enum.Enum):
    """What a desk does with a message that carries a forbidden file."""

    REJECT = "reject"
    STRIP = "strip"


class Desk(Model):
    """A queue of tickets with its own calendar, SLA targets and rules."""

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_ja: Mapped[str] = mapped_column(String(200), default="")
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Tokyo")
    opening_hours: Mapped[dict[str, Any]] = mapped_column(JSON, default=lambda: WEEKDAY_9_TO_17)
    national_holidays: Mapped[bool] = mapped_column(default=True)
    year_end_closure: Mapped[bool] = mapped_column(default=True)
    # {"normal": {"first_response": 480, "next_response": 480, "resolution": 2400}, ...}
    sla_targets: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    requires_fields: Mapped[bool] = mapped_column(default=True)
    applies_attachment_policy: Mapped[bool] = mapped_column(default=True)
    attachment_action: Mapped[AttachmentAction] = mapped_column(
        enum_column(AttachmentAction), default=AttachmentAction.REJECT
    )
    forbidden_extensions: Mapped[list[str] | None] = mapped_column(JSON)
    reply_from: Mapped[str] = mapped_column(String(320), default="")
    languages: Mapped[list[str]] = mapped_column(JSON, default=lambda: ["ja", "en"])
    channels: Mapped[list[str]] = mapped_column(JSON, default=lambda: ["email"])
    accepts_email: Mapped[bool] = mapped_column(default=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    calendar_overrides: Mapped[list[CalendarOverride]] = relationship(
        back_populates="desk", cascade="all, delete-orphan", order_by="CalendarOverride.day"
    )
    members: Mapped[list[User]] = relationship(secondary="desk_members", back_populates="desks")

    @property
    def forbidden_extension_set(self) -> frozenset[str]:
        """The extensions this desk refuses: its own list, or the portal's when it has none."""
        if self.forbidden_extensions is None:
            return DEFAULT_FORBIDDEN_EXTENSIONS
        return frozenset(self.forbidden_extensions)

    def name_in(self, lang: str) -> str:
        """The name a reader of ``lang`` sees: the Japanese name for Japanese, when there is one."""
        return self.name_ja if lang == "ja" and self.name_ja else self.name

    def __repr__(self) -> str:
        return f"<Desk {self.slug}>"


class CalendarOverride(Model):
    """An admin's change to a desk calendar: an extra closure or a special opening day."""

    __table_args__ = (UniqueConstraint("desk_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    desk_id: Mapped[int] = mapped_column(ForeignKey("desk.id", ondelete="CASCADE"))
    day: Mapped[date]
    name: Mapped[str] = mapped_column(String(200))
    is_open: Mapped[bool] = mapped_column(default=False)
    opens: Mapped[time | None]
    closes: Mapped[time | None]

    desk: Mapped[Desk] = relationship(back_populates="calendar_overrides")


class CannedAnswer(Model):
    """A reusable reply text of a desk, in one language, with placeholders."""

    id: Mapped[int] = mapped_column(primary_key=True)
    desk_id: Mapped[int | None] = mapped_column(ForeignKey("desk.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(8))
    body: Mapped[str] = mapped_column(Text)
