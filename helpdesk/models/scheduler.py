"""The scheduler leader's lease (used where PostgreSQL advisory locks are not available)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk.extensions import Model
from helpdesk.models.types import UTCDateTime


class SchedulerLease(Model):
    """Who leads the scheduled jobs, until when; renewed by the leader, taken when expired."""

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
