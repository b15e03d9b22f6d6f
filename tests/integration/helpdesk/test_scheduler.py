"""One scheduler leader, held by a database lock and handed over when it dies."""

import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, text

from helpdesk.scheduler import LeaseLeadership, PostgresLeadership, leadership_for
from tests.conftest import database_kind


@pytest.fixture
def engine(app, database_url):
    engine = create_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def cleanup_lease(engine):
    yield
    from helpdesk.models import SchedulerLease

    with engine.begin() as conn:
        conn.execute(SchedulerLease.__table__.delete())


def test_leadership_kind_follows_the_database(engine):
    kind = PostgresLeadership if database_kind() == "postgresql" else LeaseLeadership
    assert isinstance(leadership_for(engine), kind)


def test_lease_has_one_holder_until_it_expires(engine, cleanup_lease):
    now = datetime(2026, 11, 25, 0, 0, tzinfo=UTC)
    first = LeaseLeadership(engine, name="test-lease", holder="a", lease_seconds=30)
    second = LeaseLeadership(engine, name="test-lease", holder="b", lease_seconds=30)
    assert first.heartbeat(now) is True
    assert second.heartbeat(now + timedelta(seconds=10)) is False
    assert first.heartbeat(now + timedelta(seconds=20)) is True  # renewed to 0:00:50
    assert second.heartbeat(now + timedelta(seconds=45)) is False
    # The first process died: it stops renewing, and the lease passes on after it expires.
    assert second.heartbeat(now + timedelta(seconds=51)) is True
    assert first.heartbeat(now + timedelta(seconds=52)) is False


def test_lease_released_passes_at_once(engine, cleanup_lease):
    now = datetime(2026, 11, 25, 0, 0, tzinfo=UTC)
    first = LeaseLeadership(engine, name="test-lease", holder="a")
    second = LeaseLeadership(engine, name="test-lease", holder="b")
    assert first.heartbeat(now)
    first.release()
    assert second.heartbeat(now + timedelta(seconds=1))


@pytest.mark.skipif(database_kind() != "postgresql", reason="advisory locks are PostgreSQL's")
def test_advisory_lock_is_exclusive_and_handed_over_when_the_holder_dies(database_url):
    engines = [create_engine(database_url) for _ in range(2)]
    try:
        first, second = (PostgresLeadership(e, name="test-leader") for e in engines)
        assert first.heartbeat() is True
        assert second.heartbeat() is False
        assert first.heartbeat() is True
        # The holder's process dies: PostgreSQL ends its session and frees the lock.
        pid = first._conn.execute(text("SELECT pg_backend_pid()")).scalar()
        with engines[1].connect() as admin:
            admin.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
        # Termination is asynchronous; the next heartbeats take the lock once it is freed.
        deadline = time.monotonic() + 10
        while not second.heartbeat():
            assert time.monotonic() < deadline, "the lock was never handed over"
            time.sleep(0.05)
        assert first.heartbeat() is False
        second.release()
    finally:
        for e in engines:
            e.dispose()


def _desk_slugs(app):
    from sqlalchemy import select

    from helpdesk.extensions import db
    from helpdesk.models import Desk

    with app.app_context():
        return set(db.session.scalars(select(Desk.slug)))


def test_a_job_is_committed_once_when_it_returns_and_not_when_it_raises(committed_app):
    """Jobs only flush, like services: the scheduler's runner commits or rolls back."""
    from helpdesk.extensions import db
    from helpdesk.models import Desk
    from helpdesk.scheduler import Job, _as_leader

    def add(slug):
        db.session.add(Desk(slug=slug, name=slug, reply_from=f"{slug}@support.example.test"))
        db.session.flush()

    def fails():
        add("job-failed")
        raise LookupError("the job failed after it flushed")

    with committed_app.app_context():
        engine = db.engine
    leadership = leadership_for(engine, name="test-jobs")
    assert leadership.heartbeat()
    try:
        _as_leader(committed_app, leadership, Job("adds", lambda: add("job-kept"), 60))()
        _as_leader(committed_app, leadership, Job("fails", fails, 60))()
    finally:
        leadership.release()
    slugs = _desk_slugs(committed_app)
    assert "job-kept" in slugs and "job-failed" not in slugs
