"""Template filters: desk-local times."""

from __future__ import annotations

from datetime import datetime

from flask import Flask

from helpdesk.clock import to_desk_time


def desk_time(value: datetime | None, timezone: str = "Asia/Tokyo") -> str:
    """Format an instant in the desk's timezone, e.g. 2026-11-25 (Wed) 09:30 JST."""
    local = to_desk_time(value, timezone)
    if local is None:
        return "—"
    return local.strftime("%Y-%m-%d (%a) %H:%M %Z")


def init_templating(app: Flask) -> None:
    """Register the filters."""
    app.add_template_filter(desk_time, "desk_time")
