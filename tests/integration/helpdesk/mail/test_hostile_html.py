"""A mail of 200,000 nested <div>s through the poller, ``mail import``, ``mail retry`` and the
admin's retry button: its text is kept without its HTML, and no message is parsed while a
transaction is open (on SQLite every transaction holds the write lock, which sign-ins and
agents wait for)."""

import re
import sqlite3

import pytest
from flask_login.utils import _create_identifier
from sqlalchemy import select

import mail_ingest.pipeline
from helpdesk import clock
from helpdesk.auth.services import create_user
from helpdesk.extensions import db
from helpdesk.mail.polling import poll_mailbox
from helpdesk.models import IngestFailure, Mailbox, Message, Role
from helpdesk.stores import stores
from mail_ingest.markup import WITHHELD_SIZE
from tests.support.enquiries import enquiry
from tests.support.hostile import WORDS, nested_html_mail


def _database_free() -> bool:
    """No transaction on the session, and (SQLite) another connection may take the write lock
    at once, as a sign-in would."""
    if db.session().in_transaction():
        return False
    if db.engine.dialect.name != "sqlite":
        return True
    other = sqlite3.connect(db.engine.url.database, timeout=0)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.rollback()
        return True
    except sqlite3.OperationalError:  # "database is locked"
        return False
    finally:
        other.close()


@pytest.fixture
def parses(monkeypatch):
    """Whether the database was free each time a message was parsed, in parse order."""
    seen: list[bool] = []
    parse = mail_ingest.pipeline.parse_message

    def watched(raw, **kwargs):
        seen.append(_database_free())
        return parse(raw, **kwargs)

    monkeypatch.setattr(mail_ingest.pipeline, "parse_message", watched)
    return seen


def _nested_message(app):
    with app.app_context():
        message = db.session.scalar(select(Message).where(Message.subject.contains("nested")))
        db.session.expunge(message)
        return message


def _assert_text_kept_without_html(message):
    assert message.ticket_id is not None
    assert message.html is None and message.html_withheld == WITHHELD_SIZE
    assert message.text == WORDS


def test_poll_parses_outside_the_transaction(desk_app, configure, dovecot, mailbox_account, parses):
    configure(mailbox_account)
    dovecot.append(mailbox_account.address, nested_html_mail(200_000))
    dovecot.append(mailbox_account.address, enquiry(subject="an ordinary enquiry"))
    with desk_app.app_context():
        report = poll_mailbox(db.session.scalar(select(Mailbox).where(Mailbox.name == "system")))
    assert report.ok and report.result.outcomes == {"new_ticket": 2}, report.error
    assert parses == [True, True]
    _assert_text_kept_without_html(_nested_message(desk_app))


def test_mail_import_parses_outside_the_transaction(desk_app, tmp_path, parses):
    for n in range(3):
        (tmp_path / f"{n}.eml").write_bytes(enquiry(subject=f"enquiry {n}"))
    (tmp_path / "3.eml").write_bytes(nested_html_mail(200_000))
    result = desk_app.test_cli_runner().invoke(args=["mail", "import", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "new_ticket 4" in result.output
    assert parses == [True] * 4  # the fourth after three messages stored in this command
    _assert_text_kept_without_html(_nested_message(desk_app))


def test_mail_retry_parses_outside_the_transaction(desk_app, parses):
    with desk_app.app_context():
        key = stores().raw.put(nested_html_mail(200_000))
        failure = IngestFailure(raw_sha256=key, subject="", error="x", created_at=clock.now())
        db.session.add(failure)
        db.session.commit()
        failure_id = failure.id
    result = desk_app.test_cli_runner().invoke(args=["mail", "retry", str(failure_id)])
    assert result.exit_code == 0 and "new_ticket" in result.output, result.output
    assert parses == [True]
    _assert_text_kept_without_html(_nested_message(desk_app))


def test_admin_retry_parses_outside_the_transaction(desk_app, parses):
    with desk_app.app_context():
        admin = create_user(
            "retry-admin@support.example.test", "Admin", "pw-retry-admin", Role.ADMIN, []
        )
        key = stores().raw.put(nested_html_mail(200_000))
        failure = IngestFailure(raw_sha256=key, subject="", error="x", created_at=clock.now())
        db.session.add(failure)
        db.session.commit()
        failure_id, user_id = failure.id, admin.get_id()
    client = desk_app.test_client()
    with desk_app.test_request_context(environ_base=client.environ_base):
        identifier = _create_identifier()  # Flask-Login's "strong" session protection
    with client.session_transaction() as session:
        session.update(_user_id=user_id, _fresh=True, _id=identifier)
    listing = client.get("/admin/failures")
    assert listing.status_code == 200, listing.location
    page = listing.get_data(as_text=True)
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page)
    response = client.post(
        f"/admin/failures/{failure_id}/retry",
        data={"csrf_token": token.group(1) if token else ""},
        follow_redirects=True,
    )
    assert f"Message #{failure_id}: new ticket." in response.get_data(as_text=True)
    assert parses == [True]
    _assert_text_kept_without_html(_nested_message(desk_app))
