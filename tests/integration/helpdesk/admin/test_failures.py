"""Failed messages: listed unresolved first, retried through the pipeline, raw downloadable."""

import pytest
from sqlalchemy import select

from helpdesk.mail.polling import record_failure, store_one
from helpdesk.models import IngestFailure, Mailbox, Role, Ticket
from helpdesk.seed import seed_demo
from tests.support.enquiries import enquiry


@pytest.fixture
def mailbox(db_session):
    seed_demo()
    return db_session.scalar(select(Mailbox).where(Mailbox.name == "system"))


def test_list_and_retry_a_message_that_now_imports(client, admin, post, mailbox, db_session):
    raw = enquiry()
    record_failure(raw, mailbox, 42, RuntimeError("database was restarting"))
    failure = db_session.scalar(select(IngestFailure))
    page = client.get("/admin/failures").get_data(as_text=True)
    assert "database was restarting" in page and "UID 42" in page and "Retry" in page

    response = post(f"/admin/failures/{failure.id}/retry", follow_redirects=True)
    assert f"Message #{failure.id}: new ticket." in response.get_data(as_text=True)
    assert failure.resolved is True and failure.retried_at is not None
    assert db_session.scalar(select(Ticket)).desk == mailbox.default_desk


def test_retry_of_a_still_broken_message_stays_open(client, admin, post, mailbox, db_session):
    assert store_one(b"\x00\x01 not a mail", mailbox, 7).kind == "failed"
    failure = db_session.scalar(select(IngestFailure))
    response = post(f"/admin/failures/{failure.id}/retry", follow_redirects=True)
    assert f"Message #{failure.id}: failed." in response.get_data(as_text=True)
    assert failure.resolved is False


def test_unresolved_failures_come_first(client, admin, mailbox, db_session):
    record_failure(b"first broken", mailbox, 1, ValueError("old and fixed"))
    record_failure(b"second broken", mailbox, 2, ValueError("still open"))
    first = db_session.scalar(select(IngestFailure).where(IngestFailure.uid == 1))
    first.resolved = True
    db_session.flush()
    page = client.get("/admin/failures").get_data(as_text=True)
    assert page.index("still open") < page.index("old and fixed")


@pytest.fixture
def broken(mailbox, db_session):
    store_one(b"\x00\x01 not a mail", mailbox, 7)
    return db_session.scalar(select(IngestFailure))


@pytest.mark.parametrize("role", [Role.AGENT, Role.MANAGER])
def test_raw_download_is_refused_to_others(client, make, login_as, broken, role):
    login_as(make.user(role))
    assert client.get(f"/admin/failures/{broken.id}/raw").status_code == 403


def test_admin_downloads_the_raw_bytes(client, admin, broken):
    failure = broken
    response = client.get(f"/admin/failures/{failure.id}/raw")
    assert response.status_code == 200 and response.mimetype == "application/octet-stream"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.get_data() == b"\x00\x01 not a mail"
    response.close()
