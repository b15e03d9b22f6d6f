"""Template filters: desk-local times, and values shown in the reader's language."""

from __future__ import annotations

from datetime import datetime

from flask import Flask

from helpdesk import i18n
from helpdesk.clock import to_desk_time
from helpdesk.models import Desk


def desk_time(value: datetime | None, timezone: str = "Asia/Tokyo") -> str:
    """Format an instant in the desk's timezone, e.g. 2026-11-25 (Wed) 09:30 JST."""
    local = to_desk_time(value, timezone)
    if local is None:
        return "—"
    return local.strftime("%Y-%m-%d (%a) %H:%M %Z")


def desk_name(desk: Desk) -> str:
    """A desk's name in the current language (its Japanese name, when it has one, in Japanese)."""
    return desk.name_in(i18n.current_language())


def init_templating(app: Flask) -> None:
    """Register the filters."""
    app.add_template_filter(desk_time, "desk_time")
    app.add_template_filter(desk_name, "desk_name")
