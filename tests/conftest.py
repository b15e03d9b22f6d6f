"""Shared fixtures: the app on SQLite or PostgreSQL, per-test isolation, factories.

``HELPDESK_TEST_DB=postgresql`` runs the suite on a fresh PostgreSQL database created for
the run and dropped after it; the default is a SQLite file in a temporary folder.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from flask import Flask, has_app_context
from flask.testing import FlaskClient, FlaskCliRunner
from flask_sqlalchemy.session import Session as FlaskSQLAlchemySession
from sqlalchemy.orm import scoped_session

from helpdesk import clock, create_app
from helpdesk.extensions import db
from tests.support.factories import Factories
from tests.support.fixtures import *  # noqa: F403  (Dovecot, SMTP, browser fixtures)

# Wednesday 2026-11-25 10:00 in Tokyo: inside opening hours.
NOW = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)

PG_ADMIN_DSN = os.environ.get(
    "HELPDESK_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def database_kind() -> str:
    """sqlite (default) or postgresql."""
    return os.environ.get("HELPDESK_TEST_DB", "sqlite")


@contextmanager
def empty_database(folder: Path) -> Iterator[str]:
    """A new empty database of the kind under test (a SQLite file in ``folder``, or a
    PostgreSQL database created now and dropped afterwards); yields its URL."""
    if database_kind() != "postgresql":
        yield f"sqlite:///{folder / f'helpdesk-{secrets.token_hex(4)}.sqlite3'}"
        return
    name = f"helpdesk_test_{os.getpid()}_{secrets.token_hex(3)}"
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh, empty database for this run; dropped afterwards."""
    with empty_database(tmp_path_factory.mktemp("db")) as url:
        yield url


@pytest.fixture
def committed_app(tmp_path: Path) -> Iterator[Flask]:
    """An app on its own new, migrated database whose commits are real.

    For tests of code that commits on several connections or in other processes (the
    poller, its locks, the outbox), which the per-test transaction cannot hold.
    """
    from flask_migrate import upgrade

    with empty_database(tmp_path) as url:
        application = make_app(url, tmp_path / "instance")
        with application.app_context():
            upgrade()
        try:
            yield application
        finally:
            with application.app_context():
                db.session.remove()
                db.engine.dispose()


def make_app(database_url: str, instance: Path, **overrides: Any) -> Flask:
    """An app on ``database_url`` with its instance folder at ``instance``."""
    settings = {"DATABASE_URL": database_url, "INSTANCE_PATH": str(instance), **overrides}
    return create_app("testing", overrides=settings)


@pytest.fixture(scope="session")
def app(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """The app, its database migrated from empty with Alembic once per run."""
    from flask_migrate import upgrade

    application = make_app(database_url, tmp_path_factory.mktemp("instance"))
    application.test_client_class = ArrangedFirstClient
    application.test_cli_runner_class = ArrangedFirstRunner
    with application.app_context():
        upgrade()
    yield application
    with application.app_context():
        db.engine.dispose()


class ArrangedFirstClient(FlaskClient):
    """Commits what the test wrote before each request, as the data a request finds was
    committed before it came: a request that rolls back then undoes only its own work."""

    def open(self, *args: Any, **kwargs: Any) -> Any:
        if has_app_context():
            db.session.commit()
        return super().open(*args, **kwargs)


class ArrangedFirstRunner(FlaskCliRunner):
    """Commits what the test wrote before each command (see ``ArrangedFirstClient``)."""

    def invoke(self, *args: Any, **kwargs: Any) -> Any:
        if has_app_context():
            db.session.commit()
        return super().invoke(*args, **kwargs)


class JoinedSession(FlaskSQLAlchemySession):
    """A session that uses the connection it was given (Flask-SQLAlchemy picks engines)."""

    def get_bind(self, mapper: Any = None, clause: Any = None, bind: Any = None, **kw: Any) -> Any:
        return bind or self.bind or super().get_bind(mapper, clause, bind, **kw)


@pytest.fixture
def db_session(app: Flask) -> Iterator[scoped_session[Any]]:
    """A session inside an outer transaction that is rolled back after the test.

    ``commit()`` in the code under test releases a savepoint, so nothing a test writes
    reaches the next test.
    """
    with app.app_context():
        connection = db.engine.connect()
        transaction = connection.begin()
        original = db.session
        db.session = db._make_scoped_session(
            {
                "bind": connection,
                "join_transaction_mode": "create_savepoint",
                "class_": JoinedSession,
            }
        )
        try:
            yield db.session
        finally:
            db.session.remove()
            db.session = original
            transaction.rollback()
            connection.close()


@pytest.fixture
def client(app: Flask, db_session: scoped_session[Any]) -> FlaskClient:
    """A test client whose requests see the test's isolated session."""
    return app.test_client()


@pytest.fixture
def runner(app: Flask, db_session: scoped_session[Any]) -> FlaskCliRunner:
    """A CLI runner whose commands see the test's isolated session."""
    return app.test_cli_runner()


@pytest.fixture
def make(db_session: scoped_session[Any]) -> Factories:
    """Factories for desks, users and tickets (each returns a flushed object)."""
    return Factories(db_session)


@pytest.fixture
def frozen_now() -> Iterator[Callable[[datetime], datetime]]:
    """Freeze helpdesk.clock at NOW; yields a setter to move it."""
    current = {"now": NOW}
    clock.set_now_source(lambda: current["now"])

    def move_to(when: datetime) -> datetime:
        current["now"] = when
        return when

    yield move_to
    clock.set_now_source(None)


@pytest.fixture
def login_as(client: FlaskClient) -> Callable[[Any], FlaskClient]:
    """Sign a user in on the test client without going through the form."""

    def sign_in(user: Any) -> FlaskClient:
        from flask import g
        from flask_login.utils import _create_identifier

        # The test's app context lives across requests, and Flask-Login caches the user in g.
        g.pop("_login_user", None)

        with client.application.test_request_context(environ_base=client.environ_base):
            identifier = _create_identifier()  # "strong" session protection checks it
        with client.session_transaction() as session:
            session["_user_id"] = user.get_id()
            session["_fresh"] = True
            session["_id"] = identifier
        return client

    return sign_in


@pytest.fixture(autouse=True)
def _analysis_workers_stop_with_the_test() -> Iterator[None]:
    """Analysis workers started by a test stop with it: once running they serve every later
    batch of the process, so a later test would parse in them instead of in-process."""
    yield
    from helpdesk.mail import polling

    for pool in polling._POOLS.values():  # noqa: SLF001 - the test's own workers
        pool.close()
