"""A batch's new rows written with Core: one INSERT per table instead of the ORM's flush.

Mail ingestion adds about eight rows a message (ticket, status period, messages, attachments,
outbox row, audit events) and writes a batch of fifty messages in one transaction. On SQLite
the unit of work's bookkeeping for those rows costs several times what the INSERTs do, so the
batch writes them here: numbered (:func:`number_new_rows`), their foreign keys taken from the
objects their relationships hold, each table's rows in one executemany, and then registered with
the session as persistent, just as its flush leaves the rows it inserts. The flush that follows
writes only the rows that changed (a followed-up ticket) and inserts nothing twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from itertools import chain
from typing import Any

from sqlalchemy import Connection, Table, func, insert, select
from sqlalchemy.orm import InstanceState, Mapper, PassiveFlag, RelationshipDirection, Session
from sqlalchemy.orm.attributes import get_history, instance_state
from sqlalchemy.sql import ClauseElement

from helpdesk.extensions import db
from helpdesk.models import (
    Attachment,
    AuditEvent,
    Message,
    MessageRepeat,
    OutboxMessage,
    StatusPeriod,
    Ticket,
)
from helpdesk.tickets import search

log = logging.getLogger(__name__)

_BATCH_WRITTEN = (
    Ticket,
    StatusPeriod,
    Message,
    MessageRepeat,
    Attachment,
    OutboxMessage,
    AuditEvent,
)
_NO_LOADS = PassiveFlag.PASSIVE_NO_INITIALIZE

_Rows = dict[InstanceState[Any], None]  # the batch's new rows, in order (a set)


@dataclass(frozen=True, slots=True)
class _Column:
    """What the ORM's INSERT would send for one column of a mapped table."""

    key: str  # the attribute
    parameter: str  # the INSERT's parameter (the column's key)
    default: Callable[[], Any] | None  # the Python-side default; None: NULL
    from_database: bool  # a server or SQL default: only the INSERT itself knows the value
    evaluates_none: bool  # None is a value to store (JSON null), not "use the default"
    primary_key: bool
    foreign_key: bool


@dataclass(frozen=True, slots=True)
class _Link:
    """A relationship the flush copies key values along: (source, destination) attributes."""

    key: str
    pairs: tuple[tuple[str, str], ...]
    same_table: bool  # a row pointing at a row of its own table


@dataclass(frozen=True, slots=True)
class _Links:
    many_to_one: tuple[_Link, ...]
    one_to_many: tuple[_Link, ...]
    many_to_many: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Columns:
    table: Table | None  # None: several tables or a version counter (left to the flush)
    keys: tuple[tuple[str, str], ...]  # (attribute, INSERT parameter) of every column
    defaulted: tuple[_Column, ...]  # what _fill_in_defaults gives a value
    none_is_not_null: tuple[_Column, ...]  # None: the default, JSON null, or a key to come


def fill_in_new_rows() -> list[Any]:
    """Give the batch's new rows every default now; returns them in the order they were added.

    The flush sends one INSERT for a run of rows of a table that set the same columns (many
    VALUES, with RETURNING, on PostgreSQL). An acknowledgement sets fewer columns than the
    inbound message before it, so rows left as they are alternate and go one statement
    each: a round trip a row. On SQLite ``number_new_rows`` starts with it.
    """
    rows = [row for row in db.session.new if isinstance(row, _BATCH_WRITTEN)]
    # In the order the rows were added, the order in which the flush numbers them.
    rows.sort(key=lambda row: instance_state(row).insert_order or 0)
    for row in rows:
        _fill_in_defaults(instance_state(row))
    return rows


def number_new_rows() -> list[Any]:
    """Give the batch's new rows their primary keys before the flush (SQLite only).

    SQLAlchemy cannot batch INSERT ... RETURNING on SQLite (nothing ties the new ROWIDs to
    the order of the parameters), so it writes rows with server-made keys one statement each.
    With the keys given, each table's rows go in one executemany. The keys are the ones SQLite
    would choose (one past the largest), and no one else can take them: every transaction here
    begins IMMEDIATE and so holds the database's write lock until it ends. Returns the rows in
    the order they were added.
    """
    session = db.session
    rows = fill_in_new_rows()
    unnumbered: dict[type[Any], list[dict[str, Any]]] = {}
    for row in rows:
        values = instance_state(row).dict
        if values.get("id") is None:
            unnumbered.setdefault(type(row), []).append(values)
    with session.no_autoflush:
        for model, pending in unnumbered.items():
            first = (session.scalar(select(func.max(model.id))) or 0) + 1
            for offset, values in enumerate(pending):
                values["id"] = first + offset  # a pending row: no history to keep
    return rows


def _fill_in_defaults(state: InstanceState[Any]) -> None:
    """Give every column the row left unset its default (or NULL) now, not at the flush.

    The flush puts rows in one executemany only while they set the same columns: an
    acknowledgement sets fewer columns than the inbound message before it, and a ticket with
    its fields found more than one without. Same values, written as the INSERT would have.
    Keys, foreign keys (set from the related rows) and database defaults are left alone.
    """
    values = state.dict
    for column in _columns(state.mapper).defaulted:
        if column.key not in values:
            values[column.key] = column.default() if column.default is not None else None


def write_new_rows(rows: Sequence[Any]) -> bool:
    """Insert the numbered new ``rows`` with Core and make them persistent in the session.

    The session ends up as its flush would have left it: the rows in the identity map with
    their history committed, and forgotten again if the (sub)transaction rolls back. Returns
    False, leaving the rows to the flush, when one of them depends on a row the flush has yet
    to write (a new row of another kind, or of its own table) or holds a SQL expression.
    """
    if not rows:
        return True
    session = db.session()
    states: _Rows = dict.fromkeys(instance_state(row) for row in rows)
    with session.no_autoflush:
        inserts = _insert_parameters(states) if _link_foreign_keys(session, states) else None
    if inserts is None:
        log.debug("%d new rows left to the flush", len(states))
        return False
    connection = session.connection()
    # A failure leaves nothing half written and the rows pending, as a failed flush would.
    with connection.begin_nested():
        for table in sorted(inserts, key=_table_order().__getitem__):
            for parameters in inserts[table].values():
                connection.execute(insert(table), parameters)
        _reindex(connection, states)
    # What the flush does with the rows it inserted (no public call does only this; expunging
    # and re-adding them would not drop them again when a savepoint rolls back).
    session._register_persistent(set(states))
    return True


def _link_foreign_keys(session: Session, rows: _Rows) -> bool:
    """Copy key values along the relationships into the rows' foreign keys, as the flush
    would; False if a row points at one the flush must write first."""
    for state in rows:
        if not _from_related_rows(state, rows):
            return False
    others = (instance_state(row) for row in chain(session.new, session.dirty))
    for parent in chain(rows, (state for state in others if state not in rows)):
        if not _into_collected_rows(parent, rows):
            return False
    return True


def _from_related_rows(state: InstanceState[Any], rows: _Rows) -> bool:
    """Many-to-one: the row's foreign key from the row it was given (None clears it)."""
    links, values, row = _links(state.mapper), state.dict, state.obj()
    for link in links.many_to_one:
        if link.key not in values:
            continue
        for target in get_history(row, link.key, _NO_LOADS).added:
            if target is None:
                for _source, destination in link.pairs:
                    values[destination] = None
                continue
            target_state = instance_state(target)
            in_batch = target_state in rows
            if (in_batch and link.same_table) or (target_state.key is None and not in_batch):
                return False
            for source, destination in link.pairs:
                values[destination] = _value(target_state, source)
    return not any(get_history(row, key, _NO_LOADS).has_changes() for key in links.many_to_many)


def _into_collected_rows(parent: InstanceState[Any], rows: _Rows) -> bool:
    """One-to-many: the foreign key of every row added to a collection of ``parent``."""
    parent_in_batch = parent in rows
    for link in _links(parent.mapper).one_to_many:
        history = get_history(parent.obj(), link.key, _NO_LOADS)
        if parent_in_batch and history.deleted:
            return False  # the flush decides whether the orphans go
        for child in history.added:
            child_state = instance_state(child)
            child_in_batch = child_state in rows
            if not (parent_in_batch or child_in_batch):
                continue  # the flush's business alone
            if parent.key is None and not parent_in_batch:
                return False  # a batch row in the collection of a row the flush must write
            if child_in_batch and link.same_table:
                return False
            for source, destination in link.pairs:
                value = _value(parent, source)
                if child_in_batch:
                    child_state.dict[destination] = value
                else:  # a row the flush writes: an attribute change it sees
                    setattr(child, destination, value)
    return True


def _value(state: InstanceState[Any], key: str) -> Any:
    values = state.dict
    if key in values:
        return values[key]
    return getattr(state.obj(), key)  # an expired row is loaded, as the flush would load it


def _insert_parameters(
    rows: _Rows,
) -> dict[Table, dict[tuple[str, ...], list[dict[str, Any]]]] | None:
    """Each row's INSERT parameters by table, then by the columns given; None if a row holds
    something only the flush can write.

    As the ORM: None for a column with a default means the default (stored on the row, as
    the flush stores the defaults it ran), except where None is itself a value (JSON null).
    """
    tables: dict[Table, dict[tuple[str, ...], list[dict[str, Any]]]] = {}
    for state in rows:
        columns = _columns(state.mapper)
        if columns.table is None:
            return None
        values = state.dict
        parameters = {parameter: values.get(key) for key, parameter in columns.keys}
        for column in columns.none_is_not_null:
            if parameters[column.parameter] is not None:
                continue
            if column.evaluates_none and column.key in values:
                continue  # None is the value given
            if column.default is not None:
                parameters[column.parameter] = values[column.key] = column.default()
            elif column.evaluates_none and not (column.primary_key or column.from_database):
                del parameters[column.parameter]  # left out, as the ORM leaves it: NULL
            else:
                return None  # a key, or a value only the database makes
        if not _plain(parameters.values()):
            return None
        groups = tables.setdefault(columns.table, {})
        groups.setdefault(tuple(parameters), []).append(parameters)
    return tables


_PLAIN_TYPES: set[type[Any]] = set()


def _plain(values: Iterable[Any]) -> bool:
    """No value is a SQL expression (the flush would put it in the statement)."""
    for kind in {type(value) for value in values} - _PLAIN_TYPES:
        if issubclass(kind, ClauseElement) or hasattr(kind, "__clause_element__"):
            return False
        _PLAIN_TYPES.add(kind)
    return True


def _reindex(connection: Connection, rows: _Rows) -> None:
    """Rewrite the search index of the tickets the rows open or add messages to, as the
    flush hook in helpdesk.tickets.search does for the rows it sees inserted."""
    if connection.dialect.name != "sqlite" or not connection.info.get("helpdesk_search"):
        return
    tickets: set[int] = set()
    for state in rows:
        row = state.obj()
        if isinstance(row, Ticket):
            tickets.add(state.dict["id"])
        elif isinstance(row, Message) and state.dict.get("ticket_id"):
            tickets.add(state.dict["ticket_id"])
    if tickets:
        search.reindex(connection, tickets)


@cache
def _table_order() -> dict[Table, int]:
    return {table: index for index, table in enumerate(db.metadata.sorted_tables)}


@cache
def _columns(mapper: Mapper[Any]) -> _Columns:
    """How the ORM fills each column of the mapper's table on INSERT (computed once)."""
    plain = len(mapper.tables) == 1 and mapper.version_id_col is None
    table = mapper.local_table if plain else None
    columns = tuple(_column(mapper, attribute.key) for attribute in mapper.column_attrs)
    return _Columns(
        table=table if isinstance(table, Table) else None,
        keys=tuple((column.key, column.parameter) for column in columns),
        defaulted=tuple(
            column
            for column in columns
            if not (column.primary_key or column.foreign_key or column.from_database)
        ),
        none_is_not_null=tuple(
            column
            for column in columns
            if column.primary_key
            or column.from_database
            or column.evaluates_none
            or column.default is not None
        ),
    )


def _column(mapper: Mapper[Any], key: str) -> _Column:
    column = mapper.column_attrs[key].columns[0]
    default = column.default
    make: Callable[[], Any] | None = None
    if default is not None and default.is_scalar:
        make = _constant(default.arg)
    elif default is not None and default.is_callable:
        make = _calling(default.arg)
    # Without a Python-side default, a server default, SQL expression or sequence decides.
    from_database = make is None and (default is not None or column.server_default is not None)
    return _Column(
        key=key,
        parameter=column.key,
        default=make,
        from_database=from_database,
        evaluates_none=column.type.should_evaluate_none,
        primary_key=column.primary_key,
        foreign_key=bool(column.foreign_keys),
    )


def _constant(value: Any) -> Callable[[], Any]:
    return lambda: value


def _calling(function: Callable[[Any], Any]) -> Callable[[], Any]:
    return lambda: function(None)  # the default takes the execution context; none here


@cache
def _links(mapper: Mapper[Any]) -> _Links:
    """The mapper's writable relationships with the attribute pairs the flush syncs."""
    many_to_one: list[_Link] = []
    one_to_many: list[_Link] = []
    many_to_many: list[str] = []
    for relationship in mapper.relationships:
        if relationship.viewonly:
            continue
        if relationship.secondary is not None:
            many_to_many.append(relationship.key)
            continue
        if relationship.direction is RelationshipDirection.MANYTOONE:
            source, destination = relationship.mapper, relationship.parent
            target = many_to_one
        else:
            source, destination = relationship.parent, relationship.mapper
            target = one_to_many
        pairs = tuple(
            (_key(source, source_column), _key(destination, destination_column))
            for source_column, destination_column in relationship.synchronize_pairs
        )
        same_table = bool(set(source.tables) & set(destination.tables))
        target.append(_Link(relationship.key, pairs, same_table))
    return _Links(tuple(many_to_one), tuple(one_to_many), tuple(many_to_many))


def _key(mapper: Mapper[Any], column: Any) -> str:
    return mapper.get_property_by_column(column).key
