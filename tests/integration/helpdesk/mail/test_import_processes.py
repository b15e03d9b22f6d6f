"""Two ``flask mail import`` processes of one folder at once (an overlapping cron job, an
operator starting it twice) store each message once and open one ticket for it."""

import os
import subprocess
import sys
from collections import Counter

import pytest
from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.models import Message, Ticket
from helpdesk.models.message import Direction
from helpdesk.seed import seed_demo
from tests.support.enquiries import enquiry

COUNT = 240


@pytest.fixture
def folder(committed_app, tmp_path):
    """The demo desks on a real database and a folder of enquiries: every tenth has no
    Message-ID (known by its bytes alone), and two different ones share a Message-ID."""
    with committed_app.app_context():
        seed_demo()
        db.session.commit()
    path = tmp_path / "mail"
    path.mkdir()
    for i in range(COUNT):
        message_id = "" if i % 10 == 0 else ("<same@example.org>" if i in (1, 2) else None)
        raw = enquiry(subject=f"import-{i:03d}", body=f"本文 {i}\n" * 40, message_id=message_id)
        (path / f"{i:03d}.eml").write_bytes(raw)
    return path


def _importer(app, path):
    env = {
        **os.environ,
        "HELPDESK_ENV": "testing",
        "HELPDESK_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "HELPDESK_INSTANCE_PATH": app.config["INSTANCE_PATH"],
        "HELPDESK_SMTP_PORT": "9",  # refused at once: replies stay queued in the outbox
    }
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "helpdesk", "mail", "import", str(path)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def test_two_imports_at_once_store_each_message_once(committed_app, folder):
    first, second = _importer(committed_app, folder), _importer(committed_app, folder)
    outputs = [p.communicate(timeout=300)[0].decode() for p in (first, second)]
    assert [first.returncode, second.returncode] == [0, 0], outputs
    assert not any("failed" in line.split()[:1] for out in outputs for line in out.splitlines())
    with committed_app.app_context():
        tickets = Counter(db.session.scalars(select(Ticket.subject)))
        inbound = Counter(
            db.session.scalars(
                select(Message.subject).where(Message.direction == Direction.INBOUND)
            )
        )
        db.session.remove()
    expected = Counter({f"import-{i:03d}": 1 for i in range(COUNT)})
    assert tickets == expected
    assert inbound == expected
