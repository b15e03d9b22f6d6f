"""On SQLite a report only reads: it takes no write lock, so mail and agents are not held up."""

import sqlite3

import pytest
from sqlalchemy import select

from helpdesk.extensions import db, mark_read_only
from helpdesk.models import Ticket
from tests.conftest import database_kind

pytestmark = pytest.mark.skipif(database_kind() != "sqlite", reason="SQLite's write lock")


def _sqlite_path(app):
    return db.engine.url.database


def _can_write_now(path):
    """Whether another connection gets the write lock at once (no waiting)."""
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        assert "locked" in str(exc)
        return False
    other.execute("ROLLBACK")
    other.close()
    return True


@pytest.mark.parametrize("read_only", [False, True])
def test_a_read_only_transaction_leaves_the_write_lock_free(committed_app, read_only):
    with committed_app.test_request_context():
        path = _sqlite_path(committed_app)
        if read_only:
            mark_read_only()
        db.session.scalars(select(Ticket.id)).all()  # the transaction has begun
        assert _can_write_now(path) is read_only
        db.session.rollback()


@pytest.mark.parametrize(("path", "read_only"), [("/reports/", True), ("/", False)])
def test_report_requests_are_read_only_and_others_are_not(committed_app, path, read_only):
    """The reports blueprint marks its requests before anything (the user) is loaded."""
    with committed_app.test_request_context(path):
        committed_app.preprocess_request()
        db.session.scalars(select(Ticket.id)).all()
        assert _can_write_now(_sqlite_path(committed_app)) is read_only
        db.session.rollback()


def test_the_report_command_runs_read_only(committed_app, monkeypatch):
    from helpdesk.reports import services

    seen = []

    def observed(request, **kwargs):
        db.session.scalars(select(Ticket.id)).all()  # the report's transaction has begun
        seen.append(_can_write_now(_sqlite_path(committed_app)))
        raise SystemExit(0)

    with committed_app.app_context():
        db.session.scalars(select(Ticket.id)).all()
        db.session.commit()
    monkeypatch.setattr(services, "build_report", observed)
    runner = committed_app.test_cli_runner()
    runner.invoke(args=["report", "sla", "--from", "2025-01-01", "--to", "2025-12-31"])
    assert seen == [True]
