"""Each test's writes are rolled back, even when the code under test commits."""

from sqlalchemy import func, select

from helpdesk.models import Desk

PROBE = "isolation-probe"


def _probes(session):
    return session.scalar(select(func.count()).select_from(Desk).where(Desk.slug == PROBE))


def test_a_commit_inside_a_test(db_session, make):
    make.desk(slug=PROBE)
    db_session.commit()
    assert _probes(db_session) == 1


def test_b_does_not_see_the_previous_commit(db_session):
    assert _probes(db_session) == 0


def test_c_a_fresh_connection_does_not_see_uncommitted_test_data(app, db_session, make):
    from helpdesk.extensions import db

    make.desk(slug=PROBE)
    db_session.commit()
    # A plain DBAPI connection: it reads without taking SQLite's write lock, which the test's
    # outer transaction holds.
    other = db.engine.raw_connection()
    try:
        cursor = other.cursor()
        cursor.execute("SELECT count(*) FROM desk WHERE slug = 'isolation-probe'")
        assert cursor.fetchone()[0] == 0
        cursor.close()
    finally:
        other.close()
