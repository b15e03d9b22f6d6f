"""Recording the SQL statements the app's engine runs, for tests of how rows are written."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event

from helpdesk.extensions import db


class Statements:
    """Collects the (statement, parameters) the engine runs while ``on``."""

    def __init__(self, on: bool = True) -> None:
        self.on = on
        self.seen: list[tuple[str, Any]] = []

    def __call__(self, conn, cursor, statement, parameters, context, executemany) -> None:
        if self.on:
            self.seen.append((statement, parameters))

    def __enter__(self) -> Statements:
        event.listen(db.engine, "before_cursor_execute", self)
        return self

    def __exit__(self, *exc_info: object) -> None:
        event.remove(db.engine, "before_cursor_execute", self)
