"""How the app's engine is set up: on PostgreSQL each session names the process that opened it."""

import os
import socket

import pytest
from sqlalchemy import text

from helpdesk.extensions import db
from tests.conftest import database_kind, make_app

pytestmark = pytest.mark.skipif(
    database_kind() != "postgresql", reason="application_name is a PostgreSQL session setting"
)


def _session_name(app):
    with app.app_context(), db.engine.connect() as conn:
        return conn.execute(text("SELECT current_setting('application_name')")).scalar()


def test_sessions_are_named_after_the_process(app):
    # What pg_stat_activity shows an operator looking for a worker's sessions.
    assert _session_name(app) == f"helpdesk[{os.getpid()}]@{socket.gethostname()}"[:63]


def test_a_name_given_in_the_database_url_is_kept(database_url, tmp_path):
    named = make_app(f"{database_url}?application_name=helpdesk-reports", tmp_path)
    try:
        assert _session_name(named) == "helpdesk-reports"
    finally:
        with named.app_context():
            db.engine.dispose()
