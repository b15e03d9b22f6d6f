"""Ticket search: numbers, subjects, bodies, requesters, organisations, Japanese included.

PostgreSQL matches with ILIKE, served by pg_trgm GIN indexes (helpdesk.models.search). SQLite
matches against an FTS5 table with the trigram tokenizer. That table lives in a database
attached to every connection as the ``search`` schema, so it stays out of the main schema that
Alembic compares with the models; it is written in the same transaction as the tickets and
messages it indexes, by a flush hook. Trigrams need three characters: shorter queries (one or
two kanji, say) fall back to a LIKE scan.

Results are the newest matching tickets. On PostgreSQL a common word matches most of the
tickets, and collecting every match through the trigram indexes before taking the newest
fifty costs seconds at a million tickets. So the newest ``RECENT_WINDOW`` tickets the user may
read are checked first, newest first, stopping at the fiftieth match; only when that window
holds fewer matches (a rare word) do the trigram indexes find the rest among older tickets.
Either way the answer is exactly the newest matches. SQLite, a single site's database, still
takes every FTS match and sorts them.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Integer,
    Select,
    column,
    event,
    exists,
    func,
    inspect,
    or_,
    select,
    text,
    union,
)
from sqlalchemy.orm import Session

from helpdesk.access import scope_tickets
from helpdesk.extensions import db
from helpdesk.models import Message, Ticket, User
from helpdesk.models import search as search_indexes  # noqa: F401  (declares the indexes)
from helpdesk.tickets import queries

log = logging.getLogger(__name__)

SCHEMA = "search"
MIN_TRIGRAM = 3
RESULT_LIMIT = 50
# Newest tickets (of those the user reads) checked row by row before the trigram indexes.
RECENT_WINDOW = 5_000
_INDEXED_TICKET_FIELDS = ("number", "subject", "requester_name", "requester_email", "organisation")

_REINDEX = """
INSERT INTO search.ticket_fts (rowid, number, subject, people, body)
SELECT t.id, t.number, t.subject,
       coalesce(t.requester_name, '') || ' ' || coalesce(t.requester_email, '') || ' '
           || coalesce(t.organisation, ''),
       coalesce((SELECT group_concat(m.text, char(10)) FROM message AS m
                 WHERE m.ticket_id = t.id), '')
FROM ticket AS t WHERE t.id IN ({ids})
"""


def search_file_for(main_file: str) -> str:
    """The file of the attached search schema next to the main SQLite file."""
    if not main_file:
        return ":memory:"
    path = Path(main_file)
    return str(path.with_name(f"{path.stem}.search{path.suffix or '.sqlite3'}"))


def _attach(dbapi_connection: Any, record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        names = {row[1]: row[2] for row in cursor.execute("PRAGMA database_list")}
        if SCHEMA not in names:
            cursor.execute(
                "ATTACH DATABASE ? AS search", (search_file_for(names.get("main") or ""),)
            )
            cursor.execute("PRAGMA search.journal_mode=WAL")
        record.info["helpdesk_search"] = True
    finally:
        cursor.close()


def init_app(app: Flask) -> None:
    """Attach the search schema to every new SQLite connection of this app."""
    with app.app_context():
        engine: Engine = db.engine
    if engine.dialect.name == "sqlite" and not event.contains(engine, "connect", _attach):
        event.listen(engine, "connect", _attach)


def _changed_ticket_ids(session: Session) -> tuple[set[int], set[int]]:
    """Ids to reindex and ids to drop after a flush."""
    changed: set[int] = set()
    for obj in session.new:
        if isinstance(obj, Ticket):
            changed.add(obj.id)
        elif isinstance(obj, Message) and obj.ticket_id:
            changed.add(obj.ticket_id)
    for obj in session.dirty:
        if isinstance(obj, Ticket) and _fields_changed(obj, _INDEXED_TICKET_FIELDS):
            changed.add(obj.id)
        elif (
            isinstance(obj, Message)
            and obj.ticket_id
            and _fields_changed(obj, ("text", "ticket_id"))
        ):
            changed.add(obj.ticket_id)
    dropped = {obj.id for obj in session.deleted if isinstance(obj, Ticket)}
    return changed - dropped, dropped


def _fields_changed(obj: Any, names: tuple[str, ...]) -> bool:
    state = inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in names)


@event.listens_for(Session, "after_flush")
def _index_after_flush(session: Session, flush_context: Any) -> None:
    """Keep the SQLite FTS table in step with the rows just flushed (same transaction)."""
    connection = session.connection()
    if connection.dialect.name != "sqlite" or not connection.info.get("helpdesk_search"):
        return
    changed, dropped = _changed_ticket_ids(session)
    if changed or dropped:
        reindex(connection, changed | dropped, dropped)


def reindex(connection: Connection, ticket_ids: set[int], dropped: set[int] = frozenset()) -> None:  # type: ignore[assignment]
    """Rewrite the FTS rows of these tickets (SQLite only)."""
    ids = ",".join(str(int(i)) for i in sorted(ticket_ids))
    if not ids:
        return
    connection.exec_driver_sql(f"DELETE FROM search.ticket_fts WHERE rowid IN ({ids})")  # noqa: S608
    live = ",".join(str(int(i)) for i in sorted(ticket_ids - set(dropped)))
    if live:
        connection.exec_driver_sql(_REINDEX.format(ids=live))


def rebuild(connection: Connection) -> None:
    """Rebuild the whole SQLite FTS table from the tickets and messages."""
    connection.exec_driver_sql("DELETE FROM search.ticket_fts")
    connection.exec_driver_sql(_REINDEX.format(ids="SELECT id FROM ticket"))


def _like_pattern(query: str) -> str:
    escaped = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _sqlite_matches(query: str) -> Select[Any]:
    if len(query) >= MIN_TRIGRAM:
        phrase = '"' + query.replace('"', '""') + '"'
        clause = text("SELECT rowid FROM search.ticket_fts WHERE ticket_fts MATCH :q")
        return clause.bindparams(q=phrase).columns(column("rowid", Integer))  # type: ignore[return-value]
    clause = text(
        "SELECT rowid FROM search.ticket_fts WHERE number LIKE :p ESCAPE '\\' "
        "OR subject LIKE :p ESCAPE '\\' OR people LIKE :p ESCAPE '\\' OR body LIKE :p ESCAPE '\\'"
    )
    return clause.bindparams(p=_like_pattern(query)).columns(column("rowid", Integer))  # type: ignore[return-value]


def _postgresql_matches(query: str) -> Any:
    pattern = _like_pattern(query)
    in_ticket = select(Ticket.id).where(
        or_(*(getattr(Ticket, name).ilike(pattern) for name in _INDEXED_TICKET_FIELDS))
    )
    in_messages = select(Message.ticket_id).where(Message.text.ilike(pattern))
    return union(in_ticket, in_messages)


def _mentions(query: str) -> ColumnElement[bool]:
    """The ticket row, or one of its messages, mentions ``query`` (checked row by row)."""
    pattern = _like_pattern(query)
    in_message = exists().where(Message.ticket_id == Ticket.id, Message.text.ilike(pattern))
    return or_(
        *(getattr(Ticket, name).ilike(pattern) for name in _INDEXED_TICKET_FIELDS), in_message
    )


def recent_window_start(user: User, size: int) -> Select[int | None, int]:
    """The lowest id among the newest ``size`` tickets the user may read, and their count."""
    newest = scope_tickets(select(Ticket.id), user).order_by(Ticket.id.desc()).limit(size)
    return select(func.min(newest.subquery().c.id), func.count())


def recent_matches(query: str, user: User, since: int, limit: int) -> Select[Any]:
    """The newest tickets from id ``since`` on that mention ``query``, scanned newest first."""
    found = select(Ticket.id).where(Ticket.id >= since, _mentions(query))
    return scope_tickets(found, user).order_by(Ticket.id.desc()).limit(limit)


def older_matches(query: str, user: User, before: int, limit: int) -> Select[Any]:
    """The newest tickets below id ``before`` that mention ``query``, through the indexes."""
    pattern = _like_pattern(query)
    in_ticket = select(Ticket.id.label("id")).where(
        Ticket.id < before,
        or_(*(getattr(Ticket, name).ilike(pattern) for name in _INDEXED_TICKET_FIELDS)),
    )
    in_messages = (
        select(Ticket.id.label("id"))
        .join(Message, Message.ticket_id == Ticket.id)
        .where(Message.ticket_id < before, Message.text.ilike(pattern))
    )
    # Scoped inside each branch: the matches are few here, and joining them back to the
    # ticket table under the LIMIT tempts the planner into walking the whole primary key.
    found = union(scope_tickets(in_ticket, user), scope_tickets(in_messages, user)).subquery()
    return select(found.c.id).order_by(found.c.id.desc()).limit(limit)


def search_tickets(query: str, user: User, dialect: str, limit: int = RESULT_LIMIT) -> Select[Any]:
    """Tickets the user may see that mention ``query`` anywhere, newest first (one statement).

    Exact but, on PostgreSQL, slow for common words; :func:`find_tickets` gives the same answer.
    """
    query = query.strip()
    matches = _sqlite_matches(query) if dialect == "sqlite" else _postgresql_matches(query)
    found = select(Ticket).where(Ticket.id.in_(matches))
    return scope_tickets(found, user).order_by(Ticket.id.desc()).limit(limit)


def find_tickets(
    query: str, user: User, limit: int = RESULT_LIMIT, window: int = RECENT_WINDOW
) -> list[Ticket]:
    """The newest ``limit`` tickets the user may see that mention ``query``, newest first."""
    query = query.strip()
    session = db.session
    if session.get_bind().dialect.name == "sqlite":
        found = search_tickets(query, user, "sqlite", limit).options(*queries.listed())
        return list(session.scalars(found))
    ids = _postgresql_ids(query, user, limit, window)
    if not ids:
        return []
    tickets = {
        t.id: t
        for t in session.scalars(
            select(Ticket).where(Ticket.id.in_(ids)).options(*queries.listed())
        )
    }
    return [tickets[i] for i in ids if i in tickets]


def _postgresql_ids(query: str, user: User, limit: int, window: int) -> list[int]:
    """Newest matching ids: the recent window row by row, then older tickets by index."""
    session = db.session
    start, in_window = session.execute(recent_window_start(user, window)).one()
    if start is None:
        return []
    ids = list(session.scalars(recent_matches(query, user, start, limit)))
    if len(ids) >= limit or in_window < window:
        return ids  # the window held enough matches, or it held every ticket the user reads
    ids.extend(session.scalars(older_matches(query, user, start, limit - len(ids))))
    return ids
