"""The commit points: a request commits once when it succeeds and keeps nothing otherwise; a
command or job's unit of work commits once or rolls back.

The views here flush a desk and then succeed, fail or raise, as a real view would after its
service flushed: only the request's outcome decides what is kept.
"""

from collections.abc import Iterator

import pytest
from flask import Blueprint, Flask, flash, redirect
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from helpdesk.extensions import csrf, db
from helpdesk.models import Desk
from helpdesk.transaction import has_uncommitted_writes, unit_of_work
from tests.conftest import ArrangedFirstClient, make_app

views = Blueprint("transaction_probe", __name__, url_prefix="/probe")
csrf.exempt(views)


def _flush_desk(slug: str) -> None:
    db.session.add(Desk(slug=slug, name=slug, reply_from=f"{slug}@support.example.test"))
    db.session.flush()


@views.post("/<slug>/redirect")
def flush_then_redirect(slug: str) -> Response:
    _flush_desk(slug)
    return redirect("/")


@views.post("/<slug>/raise")
def flush_then_raise(slug: str) -> Response:
    _flush_desk(slug)
    raise RuntimeError("the view failed after its service flushed")


@views.post("/<slug>/redisplay")
def flush_then_redisplay(slug: str) -> tuple[str, int]:
    _flush_desk(slug)
    return "the form again, with its errors", 400


@views.post("/<slug>/twice")
def fail_at_commit(slug: str) -> Response:
    for _ in range(2):  # the same slug twice: the commit's flush breaks the unique constraint
        db.session.add(Desk(slug=slug, name=slug, reply_from=f"{slug}@support.example.test"))
    flash(f"{slug} saved")
    return redirect("/")


@pytest.fixture(scope="module")
def app(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """The app with the views above, on the run's database (the fixtures here use it)."""
    from flask_migrate import upgrade

    application = make_app(database_url, tmp_path_factory.mktemp("instance"))
    application.register_blueprint(views)
    application.test_client_class = ArrangedFirstClient
    with application.app_context():
        upgrade()
    yield application
    with application.app_context():
        db.engine.dispose()


def _desks(session, slug):
    return session.scalar(select(func.count()).select_from(Desk).where(Desk.slug == slug))


def test_a_request_that_succeeds_is_committed(client, db_session):
    assert client.post("/probe/kept/redirect").status_code == 302
    db_session.rollback()  # what was only flushed would go now
    assert _desks(db_session, "kept") == 1


def test_a_view_that_raises_after_flushing_leaves_nothing_behind(client, db_session):
    with pytest.raises(RuntimeError):
        client.post("/probe/raised/raise")
    assert _desks(db_session, "raised") == 0


def test_a_view_that_raises_answers_500_and_leaves_nothing_behind(
    app, client, db_session, monkeypatch
):
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)  # as in production
    assert client.post("/probe/raised/raise").status_code == 500
    assert _desks(db_session, "raised") == 0


def test_a_redisplayed_invalid_form_commits_nothing(client, db_session):
    assert client.post("/probe/shown-again/redisplay").status_code == 400
    assert _desks(db_session, "shown-again") == 0


def test_a_commit_that_fails_is_a_500_that_says_nothing_was_saved(
    app, client, db_session, monkeypatch
):
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    assert client.post("/probe/twice/twice").status_code == 500
    assert _desks(db_session, "twice") == 0
    with client.session_transaction() as session:
        assert "_flashes" not in session  # no "saved" on the next page


def test_a_unit_of_work_commits_once_at_its_end(db_session):
    with unit_of_work():
        _flush_desk("unit")
        assert has_uncommitted_writes()
    assert not has_uncommitted_writes()
    db_session.rollback()
    assert _desks(db_session, "unit") == 1


def test_a_unit_of_work_that_raises_keeps_nothing(db_session):
    with pytest.raises(LookupError), unit_of_work():
        _flush_desk("unit-failed")
        raise LookupError("the command failed")
    assert _desks(db_session, "unit-failed") == 0


def test_a_unit_of_work_refuses_to_carry_uncommitted_work(db_session):
    _flush_desk("not-mine")
    with pytest.raises(RuntimeError, match="uncommitted writes"), unit_of_work():
        pass
    db_session.rollback()
    assert _desks(db_session, "not-mine") == 0
