"""Support mailboxes, their routing rules and the messages that failed to import."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk import clock
from helpdesk.extensions import Model
from helpdesk.models.desk import Desk
from helpdesk.models.types import UTCDateTime, enum_column


class ImapSecurity(enum.Enum):
    """How the IMAP connection is protected."""

    SSL = "ssl"
    STARTTLS = "starttls"
    NONE = "none"


class MailboxState(enum.StrEnum):
    """How the mailbox's last poll went."""

    IDLE = "idle"  # not polled yet
    OK = "ok"
    ERROR = "error"


class Mailbox(Model):
    """An IMAP mailbox the poller reads; its password lives in an environment variable."""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    address: Mapped[str] = mapped_column(String(320))
    host: Mapped[str] = mapped_column(String(255))
    port: Mapped[int] = mapped_column(default=993)
    security: Mapped[ImapSecurity] = mapped_column(
        enum_column(ImapSecurity), default=ImapSecurity.SSL
    )
    username: Mapped[str] = mapped_column(String(320))
    secret_env: Mapped[str] = mapped_column(String(100))
    folder: Mapped[str] = mapped_column(String(200), default="INBOX")
    processed_folder: Mapped[str | None] = mapped_column(String(200))
    processed_flag: Mapped[str] = mapped_column(String(64), default="$HelpdeskImported")
    poll_interval: Mapped[int] = mapped_column(default=60)
    enabled: Mapped[bool] = mapped_column(default=True)
    default_desk_id: Mapped[int] = mapped_column(ForeignKey("desk.id"))
    uidvalidity: Mapped[int | None] = mapped_column(BigInteger)
    last_uid: Mapped[int] = mapped_column(BigInteger, default=0)
    state: Mapped[MailboxState] = mapped_column(
        enum_column(MailboxState, 16), default=MailboxState.IDLE
    )
    last_poll_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    consecutive_failures: Mapped[int] = mapped_column(default=0)
    next_poll_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    default_desk: Mapped[Desk] = relationship()
    rules: Mapped[list[RoutingRule]] = relationship(
        back_populates="mailbox", cascade="all, delete-orphan", order_by="RoutingRule.priority"
    )


class RoutingRule(Model):
    """Mail to this mailbox that matches every given condition goes to ``desk``."""

    id: Mapped[int] = mapped_column(primary_key=True)
    mailbox_id: Mapped[int] = mapped_column(ForeignKey("mailbox.id", ondelete="CASCADE"))
    desk_id: Mapped[int] = mapped_column(ForeignKey("desk.id", ondelete="CASCADE"))
    recipient: Mapped[str | None] = mapped_column(String(320))
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    sender_domain: Mapped[str | None] = mapped_column(String(255))
    priority: Mapped[int] = mapped_column(default=100)

    mailbox: Mapped[Mailbox] = relationship(back_populates="rules")
    desk: Mapped[Desk] = relationship()


class IngestFailure(Model):
    """A message that could not be turned into a ticket; kept raw for an admin to retry."""

    id: Mapped[int] = mapped_column(primary_key=True)
    mailbox_id: Mapped[int | None] = mapped_column(ForeignKey("mailbox.id", ondelete="SET NULL"))
    uidvalidity: Mapped[int | None] = mapped_column(BigInteger)
    uid: Mapped[int | None] = mapped_column(BigInteger)
    raw_sha256: Mapped[str] = mapped_column(String(64), index=True)
    subject: Mapped[str] = mapped_column(String(500), default="")
    error: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    retried_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved: Mapped[bool] = mapped_column(default=False)
