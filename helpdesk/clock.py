"""The only place that reads "now"; conversion of instants to desk time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

_now_source: Callable[[], datetime] = lambda: datetime.now(UTC)  # noqa: E731


def now() -> datetime:
    """The current instant, timezone-aware in UTC."""
    return _now_source()


def set_now_source(source: Callable[[], datetime] | None) -> None:
    """Replace the source of "now" (tests freeze time through this); None restores it."""
    global _now_source
    _now_source = source or (lambda: datetime.now(UTC))


def require_aware(value: datetime, what: str = "datetime") -> datetime:
    """Return ``value`` if it is timezone-aware, else raise ValueError."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got naive {value.isoformat()}")
    return value


def to_desk_time(value: datetime | None, timezone: str) -> datetime | None:
    """Convert an aware instant to the desk's local time."""
    if value is None:
        return None
    return require_aware(value).astimezone(ZoneInfo(timezone))
