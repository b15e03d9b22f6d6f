"""People who work tickets: agents, managers, admins."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from flask_login import UserMixin
from sqlalchemy import JSON, BigInteger, Column, ForeignKey, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk import clock
from helpdesk.extensions import Model, db
from helpdesk.models.types import UTCDateTime, enum_column

if TYPE_CHECKING:
    from helpdesk.models.desk import Desk

desk_members = Table(
    "desk_members",
    db.metadata,
    Column("user_id", ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
    Column("desk_id", ForeignKey("desk.id", ondelete="CASCADE"), primary_key=True),
)


class Role(enum.Enum):
    """What a user may do; each role includes the rights of the one before."""

    AGENT = "agent"
    MANAGER = "manager"
    ADMIN = "admin"


class User(UserMixin, Model):  # type: ignore[misc]  # Flask-Login has no type hints
    """An account; created by an admin, never by open sign-up."""

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(enum_column(Role))
    active: Mapped[bool] = mapped_column(default=True)
    locale: Mapped[str | None] = mapped_column(String(8))
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    # The time step of the last TOTP code accepted: a code is never accepted twice.
    totp_last_counter: Mapped[int | None] = mapped_column(BigInteger)
    # SHA-256 of the unused one-time recovery codes (each is 50 random bits, so a fast hash is
    # enough); shown once when two-step sign-in is turned on or the codes are renewed.
    totp_recovery_hashes: Mapped[list[str] | None] = mapped_column(JSON)
    # Part of the session's user id: raising it signs the user out everywhere.
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    desks: Mapped[list[Desk]] = relationship(secondary=desk_members, back_populates="members")

    @property
    def mail_language(self) -> str:
        """The language of mail to this person (reports, digests): English if they chose it,
        Japanese otherwise, the desks' own language."""
        return "en" if self.locale == "en" else "ja"

    def get_id(self) -> str:
        """The id Flask-Login keeps in the session: the row id and the session version."""
        return f"{self.id}:{self.session_version}"

    @property
    def is_active(self) -> bool:
        """Flask-Login refuses inactive accounts."""
        return self.active

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role.value}>"
