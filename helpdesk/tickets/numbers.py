"""Customer-facing ticket numbers such as HD-2026-000123."""

from __future__ import annotations

import re

from sqlalchemy import update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from helpdesk.models import TicketCounter

NUMBER_RE = re.compile(r"\b([A-Z]{2,8})-(\d{4})-(\d{6,})\b")


def next_ticket_number(session: Session, year: int, prefix: str = "HD") -> str:
    """Take the next number of ``year``; the counter row is locked until the transaction ends."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(
        insert(TicketCounter)
        .values(year=year, last=0)
        .on_conflict_do_nothing(index_elements=["year"])
    )
    last = session.execute(
        update(TicketCounter)
        .where(TicketCounter.year == year)
        .values(last=TicketCounter.last + 1)
        .returning(TicketCounter.last)
    ).scalar_one()
    return format_number(prefix, year, last)


def format_number(prefix: str, year: int, sequence: int) -> str:
    """HD-2026-000123."""
    return f"{prefix}-{year:04d}-{sequence:06d}"


def find_numbers(text: str, prefix: str = "HD") -> list[str]:
    """Ticket numbers of this desk's prefix named in a subject or body, in order."""
    return [m.group(0) for m in NUMBER_RE.finditer(text) if m.group(1) == prefix]
