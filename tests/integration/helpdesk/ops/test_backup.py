"""flask backup / restore: a round trip into a fresh installation, and what restore refuses."""

import json
import shutil
import stat

import pytest
from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.models import Attachment, Message, Ticket, User
from helpdesk.seed import seed_demo
from helpdesk.stores import stores
from helpdesk.tickets.search import find_tickets
from tests.conftest import empty_database, make_app
from tests.support import samplefiles
from tests.support.enquiries import COMPLETE_EN, enquiry

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SECRET = b"instance-secret-key-" + b"k" * 40


@pytest.fixture
def installation(committed_app, tmp_path):
    """The demo desks, one enquiry with a spreadsheet, one refused mail, a secret key file."""
    with committed_app.app_context():
        seed_demo()
        db.session.commit()
    spreadsheet = samplefiles.xlsx()
    kept = enquiry(
        COMPLETE_EN,
        subject="Quokka invoice upload fails",
        attachments=[("invoice.xlsx", spreadsheet, XLSX)],
    )
    refused = enquiry(
        COMPLETE_EN,
        subject="Refused program",
        attachments=[("tool.pdf", samplefiles.pe_executable(), "application/pdf")],
    )
    mail = tmp_path / "mail"
    mail.mkdir()
    (mail / "kept.eml").write_bytes(kept)
    (mail / "refused.eml").write_bytes(refused)
    result = committed_app.test_cli_runner().invoke(
        args=["mail", "import", str(mail), "--mailbox", "system"]
    )
    assert "new_ticket 1" in result.output and "refused 1" in result.output, result.output
    (tmp_path / "instance" / "secret_key").write_bytes(SECRET)
    return committed_app, kept, spreadsheet


@pytest.fixture
def fresh(tmp_path):
    """An installation on a new, empty database and instance folder."""
    with empty_database(tmp_path) as url:
        app = make_app(url, tmp_path / "instance-b")
        try:
            yield app
        finally:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()


def backup(app, path):
    result = app.test_cli_runner().invoke(args=["backup", str(path)])
    assert result.exit_code == 0, result.output
    return json.loads((path / "manifest.json").read_text())


def restore(app, path, *options):
    return app.test_cli_runner().invoke(args=["restore", str(path), *options])


def store_keys(app):
    with app.app_context():
        return {name: set(getattr(stores(), name).keys()) for name in STORES}


STORES = ("raw", "attachments", "quarantine")


def test_round_trip_into_a_fresh_installation(installation, fresh, tmp_path):
    app, raw, spreadsheet = installation
    manifest = backup(app, tmp_path / "backup")
    folder = tmp_path / "backup"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE((folder / "secret_key").stat().st_mode) == 0o600
    assert manifest["counts"]["ticket"] == 1 and manifest["counts"]["attachment"] == 2
    assert manifest["stores"]["quarantine"]["objects"] >= 1

    files = sorted(path.name for path in folder.iterdir())
    result = restore(fresh, folder)
    assert result.exit_code == 0, result.output
    assert sorted(path.name for path in folder.iterdir()) == files  # the backup is only read
    assert "tickets 1, messages 4, attachments 2" in result.output, result.output

    with app.app_context():
        before = [(t.number, t.subject, t.organisation) for t in db.session.scalars(select(Ticket))]
        messages_before = sorted(db.session.scalars(select(Message.raw_sha256)), key=str)
    with fresh.app_context():
        tickets = db.session.scalars(select(Ticket)).all()
        assert [(t.number, t.subject, t.organisation) for t in tickets] == before
        assert sorted(db.session.scalars(select(Message.raw_sha256)), key=str) == messages_before
        message = db.session.scalar(select(Message).where(Message.ticket_id == tickets[0].id))
        assert stores().raw.get(message.raw_sha256) == raw
        attachment = db.session.scalar(
            select(Attachment).where(Attachment.message_id == message.id)
        )
        assert attachment.filename == "invoice.xlsx"
        assert stores().attachments.get(attachment.storage_key) == spreadsheet
        admin = db.session.scalar(select(User).where(User.email == "admin@support.example.test"))
        assert [t.number for t in find_tickets("Quokka", admin)] == [tickets[0].number]
        assert [t.number for t in find_tickets("Example Language School", admin)] == [
            tickets[0].number
        ]
    assert store_keys(fresh) == store_keys(app)
    with fresh.app_context():
        assert all(
            getattr(stores(), name).verify(key)
            for name, keys in store_keys(fresh).items()
            for key in keys
        )
    secret = tmp_path / "instance-b" / "secret_key"
    assert secret.read_bytes() == SECRET and stat.S_IMODE(secret.stat().st_mode) == 0o600


def test_restore_refuses_a_database_with_data_unless_forced(installation, tmp_path):
    app, _raw, _spreadsheet = installation
    backup(app, tmp_path / "backup")
    with app.app_context():
        db.session.delete(db.session.scalars(select(Ticket)).one())
        db.session.commit()
    refused = restore(app, tmp_path / "backup")
    assert refused.exit_code != 0 and "not empty" in refused.output and "--force" in refused.output
    with app.app_context():
        assert db.session.scalars(select(Ticket)).all() == []  # left alone
    forced = restore(app, tmp_path / "backup", "--force")
    assert forced.exit_code == 0, forced.output
    with app.app_context():
        assert db.session.scalars(select(Ticket.subject)).all() == ["Quokka invoice upload fails"]


def test_restore_refuses_a_newer_schema_and_a_damaged_backup(installation, fresh, tmp_path):
    app, _raw, _spreadsheet = installation
    manifest = backup(app, tmp_path / "backup")
    newer, damaged = tmp_path / "newer", tmp_path / "damaged"
    shutil.copytree(tmp_path / "backup", newer)
    shutil.copytree(tmp_path / "backup", damaged)

    (newer / "manifest.json").write_text(json.dumps({**manifest, "revisions": ["ffffffffffff"]}))
    result = restore(fresh, newer)
    assert result.exit_code != 0 and "newer than this code knows" in result.output

    database_file = damaged / next(name for name in manifest["sha256"] if "database" in name)
    content = bytearray(database_file.read_bytes())
    content[len(content) // 2] ^= 0xFF
    database_file.write_bytes(bytes(content))
    result = restore(fresh, damaged)
    assert result.exit_code != 0 and "damaged" in result.output

    assert store_keys(fresh) == dict.fromkeys(STORES, set())  # nothing was touched
    with fresh.app_context():
        assert db.inspect(db.engine).get_table_names() == []


def test_backup_refuses_an_existing_folder(committed_app, tmp_path):
    (tmp_path / "taken").mkdir()
    result = committed_app.test_cli_runner().invoke(args=["backup", str(tmp_path / "taken")])
    assert result.exit_code != 0 and "exists already" in result.output
    assert list((tmp_path / "taken").iterdir()) == []
