"""Fixtures for the mail pipeline: the demo desks and mailboxes, a fixed clock."""

import secrets

import pytest
from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.models import Desk, Mailbox
from helpdesk.models.mailbox import ImapSecurity
from helpdesk.seed import seed_demo
from tests.conftest import NOW  # noqa: F401  (re-exported for the tests here)


@pytest.fixture
def demo(db_session, frozen_now):
    """The seeded demo set-up; returns (desks by slug, mailboxes by name)."""
    seed_demo()
    desks = {d.slug: d for d in db_session.scalars(select(Desk))}
    mailboxes = {m.name: m for m in db_session.scalars(select(Mailbox))}
    return desks, mailboxes


@pytest.fixture
def desk_app(committed_app):
    with committed_app.app_context():
        seed_demo()
        db.session.commit()
    return committed_app


@pytest.fixture
def configure(desk_app, monkeypatch):
    """Point the demo "system" mailbox at an IMAP account; returns a function."""

    def point(
        account, *, host=None, port=None, folder="INBOX", processed_folder=None, password=None
    ):
        variable = f"HELPDESK_TEST_MAILBOX_{secrets.token_hex(4).upper()}"
        monkeypatch.setenv(variable, password or account.password)
        with desk_app.app_context():
            mailbox = db.session.scalar(select(Mailbox).where(Mailbox.name == "system"))
            mailbox.host = host or account.host
            mailbox.port = port or account.port
            mailbox.security = ImapSecurity.NONE
            mailbox.username = account.address
            mailbox.secret_env = variable
            mailbox.folder = folder
            mailbox.processed_folder = processed_folder
            mailbox.enabled = True
            db.session.commit()
            return mailbox.id

    return point
