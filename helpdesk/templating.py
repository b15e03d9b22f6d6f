"""Template filters: desk-local times, and values shown in the reader's language."""

from __future__ import annotations

from datetime import datetime

from flask import Flask

from helpdesk import i18n
from helpdesk.clock import to_desk_time
from helpdesk.models import Desk


def desk_time(value: datetime | None, timezone: str = "Asia/Tokyo") -> str:
    """Format an instant in the desk's timezone, e.g. 2026-11-25 (Wed) 09:30 JST; the weekday
    in the current language."""
    local = to_desk_time(value, timezone)
    if local is None:
        return "—"
    return f"{local:%Y-%m-%d} ({i18n.short_weekday(local)}) {local:%H:%M %Z}"


def desk_name(desk: Desk) -> str:
    """A desk's name in the current language (its Japanese name, when it has one, in Japanese)."""
    return desk.name_in(i18n.current_language())


def file_size(size: int) -> str:
    """A size in bytes, KB or MB."""
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / 1024 / 1024:.1f} MB"


def init_templating(app: Flask) -> None:
    """Register the filters."""
    app.add_template_filter(desk_time, "desk_time")
    app.add_template_filter(desk_name, "desk_name")
    app.add_template_filter(file_size, "filesize")
    app.add_template_filter(i18n.gettext, "label")
    app.add_template_filter(i18n.language_name, "language_name")
    app.add_template_filter(i18n.short_weekday, "short_weekday")
