"""Fixtures for the mail pipeline: the demo desks and mailboxes, a fixed clock."""

import secrets
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from helpdesk import clock
from helpdesk.extensions import db
from helpdesk.models import Desk, Mailbox
from helpdesk.models.mailbox import ImapSecurity
from helpdesk.seed import seed_demo

# Wednesday 2026-11-25 10:00 in Tokyo: inside opening hours.
NOW = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)


@pytest.fixture
def frozen_now():
    """Freeze helpdesk.clock at NOW; yields a setter to move it."""
    current = {"now": NOW}
    clock.set_now_source(lambda: current["now"])

    def move_to(when: datetime) -> datetime:
        current["now"] = when
        return when

    yield move_to
    clock.set_now_source(None)


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
