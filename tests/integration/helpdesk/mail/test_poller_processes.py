"""Real poller processes: killed at random points, or two at once, yield every message once."""

import os
import random
import secrets
import signal
import subprocess
import sys
import time

import pytest
from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.models import Mailbox, Ticket
from helpdesk.models.mailbox import ImapSecurity
from helpdesk.seed import seed_demo
from tests.support.enquiries import enquiry

FLAG = "$HelpdeskImported"
COUNT = 250


@pytest.fixture
def setup(committed_app, dovecot, mailbox_account, monkeypatch):
    """The demo desks on a real database, the system mailbox on a fresh Dovecot account."""
    variable = f"HELPDESK_TEST_MAILBOX_{secrets.token_hex(4).upper()}"
    with committed_app.app_context():
        seed_demo()
        mailbox = db.session.scalar(select(Mailbox).where(Mailbox.name == "system"))
        mailbox.host, mailbox.port = mailbox_account.host, mailbox_account.port
        mailbox.security = ImapSecurity.NONE
        mailbox.username, mailbox.secret_env = mailbox_account.address, variable
        mailbox.enabled = True
        db.session.commit()
    for i in range(COUNT):
        dovecot.append(
            mailbox_account.address, enquiry(subject=f"crash-{i:03d}", body=f"本文 {i}\n" * 40)
        )
    env = {
        **os.environ,
        variable: mailbox_account.password,
        "HELPDESK_ENV": "testing",
        "HELPDESK_DATABASE_URL": committed_app.config["SQLALCHEMY_DATABASE_URI"],
        "HELPDESK_INSTANCE_PATH": committed_app.config["INSTANCE_PATH"],
        "HELPDESK_MAIL_BATCH_SIZE": "20",
        "HELPDESK_SMTP_PORT": "9",  # refused at once: replies stay queued in the outbox
    }
    return committed_app, env


def _poller(env):
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "helpdesk", "mail", "poll", "--mailbox", "system"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def _stored(app):
    """Inbound messages stored so far, read without waiting for the poller's write lock
    (a plain DBAPI read: on SQLite in WAL mode it never blocks)."""
    with app.app_context():
        connection = db.engine.raw_connection()
        try:
            cursor = connection.cursor()
            cursor.execute("SELECT count(*) FROM message WHERE mailbox_id IS NOT NULL")
            count = cursor.fetchone()[0]
            cursor.close()
            connection.rollback()
        finally:
            connection.close()
        return count


def _wait_until(condition, process, timeout=60.0):
    """Wait for ``condition()`` or the process to end, whichever first; True if the condition."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        if process.poll() is not None:
            return False
        time.sleep(0.02)
    raise TimeoutError("the poller made no progress")


def _assert_each_once_and_marked(app, dovecot, account):
    with app.app_context():
        subjects = db.session.scalars(select(Ticket.subject)).all()
        db.session.remove()
    assert sorted(subjects) == [f"crash-{i:03d}" for i in range(COUNT)]
    flags = dovecot.flags(account.address)
    assert len(flags) == COUNT
    assert all(FLAG in f for f in flags.values())


def test_killed_poller_yields_every_message_exactly_once(setup, dovecot, mailbox_account):
    app, env = setup
    rng = random.Random(20261125)
    killed_at, endings = [], []
    for _round in range(8):
        process = _poller(env)
        target = _stored(app) + rng.randint(1, 20)
        if not _wait_until(lambda t=target: _stored(app) >= t, process):
            endings.append(process.communicate(timeout=30)[0].decode())
            break  # this run finished the mailbox before the chosen point
        process.send_signal(signal.SIGKILL)  # no cleanup, no rollback handler, no logout
        process.communicate(timeout=30)
        killed_at.append(_stored(app))
    assert killed_at and killed_at[0] < COUNT, (killed_at, endings)
    final = _poller(env)
    output, _ = final.communicate(timeout=120)
    assert final.returncode == 0, output.decode()
    _assert_each_once_and_marked(app, dovecot, mailbox_account)


def test_two_pollers_at_once_store_each_message_once(setup, dovecot, mailbox_account):
    app, env = setup
    first, second = _poller(env), _poller(env)
    outputs = [p.communicate(timeout=180)[0].decode() for p in (first, second)]
    assert [first.returncode, second.returncode] == [0, 0], outputs
    # One of them may have found the mailbox locked and skipped; the other did the work.
    rest = _poller(env)
    rest.communicate(timeout=120)
    _assert_each_once_and_marked(app, dovecot, mailbox_account)
