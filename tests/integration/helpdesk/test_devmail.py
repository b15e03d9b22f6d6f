"""The development set-up catches outgoing mail and shows it to admins."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpdesk import devmail
from helpdesk.models import Role
from helpdesk.outbox import OutgoingMail, deliver_due, enqueue
from tests.conftest import make_app
from tests.support.dovecot import free_port


@pytest.fixture
def capture(tmp_path):
    """A capture server on a free port of 127.0.0.1, keeping mail in a Maildir."""
    folder, port = tmp_path / "captured-mail", free_port()
    controller = devmail.start_capture(folder, "127.0.0.1", port)
    assert controller is not None
    yield folder, port
    controller.stop()


@pytest.fixture
def dev_app(database_url, tmp_path, capture, app, db_session):
    folder, port = capture
    application = make_app(
        database_url,
        tmp_path / "instance",
        ENV="development",
        MAIL_CAPTURE_PATH=str(folder),
        SMTP_PORT=port,
    )
    with application.app_context():
        yield application


def _signed_in(application, user):
    from flask import g
    from flask_login.utils import _create_identifier

    client = application.test_client()
    g.pop("_login_user", None)
    with application.test_request_context(environ_base=client.environ_base):
        identifier = _create_identifier()
    with client.session_transaction() as session:
        session.update({"_user_id": user.get_id(), "_fresh": True, "_id": identifier})
    return client


def test_mail_the_outbox_sends_is_caught_and_shown_to_admins(dev_app, db_session, make):
    ticket = make.ticket()
    mail = OutgoingMail(
        kind="reply",
        sender="helpdesk@support.example.test",
        recipient="yamada@example.co.jp",
        subject="Re: ログインできません",
        text="お問い合わせありがとうございます。\nPlease try again.",
    )
    enqueue(mail, ticket)
    db_session.commit()
    assert deliver_due().sent == 1

    client = _signed_in(dev_app, make.user(Role.ADMIN))
    listing = client.get("/admin/captured-mail/").get_data(as_text=True)
    assert "Re: ログインできません" in listing and "yamada@example.co.jp" in listing
    (mail_row,) = devmail.captured(Path(dev_app.config["MAIL_CAPTURE_PATH"]))
    page = client.get(f"/admin/captured-mail/{mail_row.key}").get_data(as_text=True)
    assert "お問い合わせありがとうございます。" in page and "Please try again." in page
    assert client.get("/admin/captured-mail/no-such-key").status_code == 404


def test_agents_cannot_read_captured_mail(dev_app, make):
    client = _signed_in(dev_app, make.user(Role.AGENT))
    assert client.get("/admin/captured-mail/").status_code in (403, 404)


def test_a_second_capture_server_on_a_taken_port_steps_aside(capture, tmp_path):
    _, port = capture
    assert devmail.start_capture(tmp_path / "other", "127.0.0.1", port) is None


@pytest.mark.parametrize("name", ["testing", "production"])
def test_outside_development_there_is_no_captured_mail_page(name, tmp_path):
    from config import load_config

    env = {
        "HELPDESK_INSTANCE_PATH": str(tmp_path),
        "HELPDESK_SECRET_KEY": "k" * 40,
        "HELPDESK_DATABASE_URL": "sqlite:///" + str(tmp_path / "x.sqlite3"),
        "HELPDESK_BASE_URL": "https://helpdesk.example.jp",
    }
    settings = load_config(name, environ=env)
    assert not devmail.enabled(settings)
