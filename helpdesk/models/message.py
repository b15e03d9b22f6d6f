"""Messages on tickets (inbound, outbound, internal notes) and their attachments."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk import clock
from helpdesk.extensions import Model
from helpdesk.models.types import UTCDateTime, enum_column
from mail_ingest.markup import HtmlWithheld
from mail_ingest.policy import AttachmentOrigin, AttachmentReason

if TYPE_CHECKING:
    from helpdesk.models.ticket import Ticket
    from helpdesk.models.user import User


class Direction(enum.Enum):
    """Which way a message went."""

    INBOUND = "inbound"
    OUTBOUND = "outbound"
    NOTE = "note"


class Message(Model):
    """One message of a thread; inbound ones point at their raw bytes in the raw store.

    An inbound message is the same message as another when it came to the same mailbox with the
    same Message-ID and says the same thing (``content_sha256``, see
    ``mail_ingest.digest.content_digest``): the constraint keeps two processes from both
    storing it. A sender may give two different messages one Message-ID: both are kept, and the
    later is flagged ``message_id_reused``. Messages imported without a mailbox have none, and
    NULLs differ in a unique constraint: a partial index holds them to the same rule. A message
    without a Message-ID has one made from its bytes (``mail_ingest.pipeline.message_key``), so
    only the same bytes collide.
    """

    __table_args__ = (
        UniqueConstraint("mailbox_id", "message_id", "content_sha256"),
        Index(
            "uq_message_no_mailbox_message_id_content_sha256",
            "message_id",
            "content_sha256",
            unique=True,
            postgresql_where=text("mailbox_id IS NULL"),
            sqlite_where=text("mailbox_id IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int | None] = mapped_column(
        ForeignKey("ticket.id", ondelete="CASCADE"), index=True
    )
    mailbox_id: Mapped[int | None] = mapped_column(ForeignKey("mailbox.id", ondelete="SET NULL"))
    # The desk a message without a ticket was meant for (a refused message); a message on a
    # ticket belongs to the ticket's desk.
    desk_id: Mapped[int | None] = mapped_column(ForeignKey("desk.id"))
    direction: Mapped[Direction] = mapped_column(enum_column(Direction))
    message_id: Mapped[str | None] = mapped_column(String(500), index=True)
    in_reply_to: Mapped[str | None] = mapped_column(String(500))
    references: Mapped[list[str]] = mapped_column(JSON, default=list)
    from_address: Mapped[str | None] = mapped_column(String(320))
    from_name: Mapped[str | None] = mapped_column(String(200))
    to: Mapped[list[str]] = mapped_column(JSON, default=list)
    cc: Mapped[list[str]] = mapped_column(JSON, default=list)
    subject: Mapped[str] = mapped_column(String(500), default="")
    text: Mapped[str] = mapped_column(Text, default="")
    # Sanitised when the mail came in (mail_ingest.markup) and shown as stored.
    html: Mapped[str | None] = mapped_column(Text)
    # Why the HTML part was not kept, when it was too costly to clean.
    html_withheld: Mapped[HtmlWithheld | None] = mapped_column(enum_column(HtmlWithheld, 16))
    raw_sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    # Inbound only; None on rows stored before it was kept (worked out from the raw bytes when
    # a message with the same Message-ID comes in).
    content_sha256: Mapped[str | None] = mapped_column(String(64))
    message_id_reused: Mapped[bool] = mapped_column(default=False)
    imap_uid: Mapped[int | None] = mapped_column(BigInteger)
    auto_generated: Mapped[bool] = mapped_column(default=False)
    refused: Mapped[bool] = mapped_column(default=False)
    oversized: Mapped[bool] = mapped_column(default=False)
    # Parts of the mail not kept beyond those listed as attachment rows, counted by reason
    # (mail_ingest.policy.NOT_KEPT_REASONS); None when every part not kept is listed.
    not_listed: Mapped[dict[str, int] | None] = mapped_column(JSON(none_as_null=True))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    ticket: Mapped[Ticket | None] = relationship(back_populates="messages")
    author: Mapped[User | None] = relationship()
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="message", cascade="all, delete-orphan", order_by="Attachment.id"
    )


class MessageRepeat(Model):
    """Another copy of a stored inbound message: the same Message-ID and content in the same
    mailbox, in other bytes (a second delivery, whose relays added their own headers). Nothing
    is made of it but this record; its bytes are in the raw store."""

    __table_args__ = (UniqueConstraint("message_id", "raw_sha256"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("message.id", ondelete="CASCADE"))
    raw_sha256: Mapped[str] = mapped_column(String(64), index=True)
    mailbox_id: Mapped[int | None] = mapped_column(ForeignKey("mailbox.id", ondelete="SET NULL"))
    imap_uid: Mapped[int | None] = mapped_column(BigInteger)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    message: Mapped[Message] = relationship()


class Attachment(Model):
    """A file that came with a message; refused files keep their facts but no servable copy."""

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(
        ForeignKey("message.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str | None] = mapped_column(String(500))
    declared_type: Mapped[str] = mapped_column(String(200), default="application/octet-stream")
    detected_type: Mapped[str] = mapped_column(String(200), default="")
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    storage_key: Mapped[str | None] = mapped_column(String(64))
    allowed: Mapped[bool] = mapped_column(default=True)
    reason: Mapped[AttachmentReason] = mapped_column(
        enum_column(AttachmentReason, 64), default=AttachmentReason.OK
    )
    detail: Mapped[str] = mapped_column(Text, default="")
    inline: Mapped[bool] = mapped_column(default=False)
    content_id: Mapped[str | None] = mapped_column(String(500))
    origin: Mapped[AttachmentOrigin] = mapped_column(
        enum_column(AttachmentOrigin, 16), default=AttachmentOrigin.MESSAGE
    )

    message: Mapped[Message] = relationship(back_populates="attachments")
