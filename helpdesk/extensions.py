"""Unbound extensions; create_app() binds them to an app."""

import os
import socket
from typing import TYPE_CHECKING, Any, ClassVar

from flask import g, has_app_context
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import Engine, MetaData, Table, event
from sqlalchemy.orm import DeclarativeBase

_READ_ONLY = "sqlite_read_only"

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base with Alembic-friendly constraint names."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    if TYPE_CHECKING:
        # Every model here is mapped to a table (SQLAlchemy types it as any FromClause).
        __table__: ClassVar[Table]


db = SQLAlchemy(model_class=Base)

if TYPE_CHECKING:
    # db.Model is a class Flask-SQLAlchemy makes at run time from Base, so a type checker
    # cannot see it; to it the models derive from Base, which db.Model copies.
    Model = Base
else:
    Model = db.Model


def configure_sqlite(engine: Engine) -> None:
    """Make SQLite transactional (BEGIN IMMEDIATE, savepoints), with foreign keys and WAL."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Any) -> None:
        # IMMEDIATE: take the write lock up front. A deferred transaction that read before
        # another connection committed cannot write at all in WAL mode (SQLITE_BUSY at once);
        # waiting for the lock (busy_timeout) is what the poller and the web app need.
        # Work marked read-only (reports) begins deferred: a WAL reader blocks no writer.
        connection.exec_driver_sql("BEGIN" if _read_only() else "BEGIN IMMEDIATE")


def name_connections(engine: Engine) -> None:
    """Name each PostgreSQL session after the process that opened it.

    ``pg_stat_activity.application_name`` then reads ``helpdesk[PID]@HOST``, so an operator
    can tell which gunicorn worker holds a session, a lock or the scheduler's leadership. A
    name given in the database URL is kept. The pid is read as each connection opens, in the
    worker that opens it.
    """
    if engine.dialect.name != "postgresql":
        return

    @event.listens_for(engine, "do_connect")
    def on_connect(dialect: Any, record: Any, cargs: Any, cparams: dict[str, Any]) -> None:
        # PostgreSQL keeps 63 bytes of the name; the pid comes first so it is never cut off.
        cparams.setdefault("application_name", process_name()[:63])


def process_name() -> str:
    """This process as its database sessions are named: ``helpdesk[PID]@HOST``."""
    return f"helpdesk[{os.getpid()}]@{socket.gethostname()}"


def _read_only() -> bool:
    return has_app_context() and bool(g.get(_READ_ONLY))


def mark_read_only() -> None:
    """This request or command only reads: on SQLite its transactions take no write lock, so a
    long report does not hold up mail ingest or agents for its whole run. (A write in such a
    transaction may fail with "database is locked"; nothing marked so writes.)"""
    g.setdefault(_READ_ONLY, True)


migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
