"""Column types: aware UTC datetimes on every database."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Enum
from sqlalchemy.types import TypeDecorator

# Row ids are INTEGER columns: PostgreSQL's INTEGER ends here (SQLite's at 2**63 - 1). A larger
# number from a URL or a form names no row; passing it on would make the database raise.
MAX_ROW_ID = 2**31 - 1


def row_id(value: int) -> int | None:
    """``value`` if it can be a row id, else None (nothing has that id)."""
    return value if 0 < value <= MAX_ROW_ID else None


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as UTC and always gives them back aware (SQLite included)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r} cannot be stored; make it aware")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def enum_column(cls: type[enum.Enum], length: int = 32) -> Enum:
    """A portable enum column storing the members' values: a plain VARCHAR of ``length`` (no
    CHECK constraint, so a new member needs no migration), and a string that names no member
    is refused before it reaches the database."""
    return Enum(
        cls,
        native_enum=False,
        length=length,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )
