"""``flask mail import``: one .eml, mbox, Maildir and .eml folders through the same pipeline."""

import mailbox
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from helpdesk.mail.ingest import IngestBatch
from helpdesk.models import IngestFailure, Message, MessageRepeat, OutboxMessage, Ticket
from helpdesk.models.message import Direction
from helpdesk.stores import stores
from tests.conftest import NOW
from tests.support import reused_ids
from tests.support.enquiries import COMPLETE_EN, enquiry


@pytest.fixture
def mails():
    return [
        enquiry(COMPLETE_EN, subject="first", message_id="<imp1@example.org>"),
        enquiry(COMPLETE_EN, subject="second", message_id="<imp2@example.org>"),
    ]


def _count(db_session, model):
    return db_session.scalar(select(func.count()).select_from(model))


def test_import_a_folder_of_eml_files_twice(runner, demo, db_session, tmp_path, mails):
    for i, raw in enumerate(mails):
        (tmp_path / f"{i}.eml").write_bytes(raw)
    (tmp_path / "broken.eml").write_bytes(b"\x00\x01\x02")
    (tmp_path / "notes.txt").write_text("not a message")
    first = runner.invoke(args=["mail", "import", str(tmp_path), "--mailbox", "system"])
    assert first.exit_code == 0, first.output
    assert "failed 1, new_ticket 2" in first.output
    assert _count(db_session, Ticket) == 2 and _count(db_session, IngestFailure) == 1
    second = runner.invoke(args=["mail", "import", str(tmp_path), "--mailbox", "system"])
    assert "duplicate 3" in second.output
    assert _count(db_session, Ticket) == 2


def test_import_one_eml_file(runner, demo, db_session, tmp_path, mails):
    # Support staff loading a message by hand: a saved mail, "From:" header first.
    (tmp_path / "saved.eml").write_bytes(mails[0])
    assert mails[0].startswith(b"From:") or b"\nFrom:" in mails[0]
    result = runner.invoke(args=["mail", "import", str(tmp_path / "saved.eml")])
    assert result.exit_code == 0, result.output
    assert "new_ticket saved.eml" in " ".join(result.output.split())
    assert "new_ticket 1" in result.output
    assert db_session.scalars(select(Ticket.subject)).all() == ["first"]


def test_import_an_mbox_file(runner, demo, db_session, tmp_path, mails):
    box = mailbox.mbox(tmp_path / "old.mbox")
    for raw in mails:
        box.add(raw)
    box.flush()
    box.close()
    result = runner.invoke(args=["mail", "import", str(tmp_path / "old.mbox")])
    assert result.exit_code == 0, result.output
    assert "new_ticket 2" in result.output
    subjects = sorted(db_session.scalars(select(Ticket.subject)))
    assert subjects == ["first", "second"]


def test_import_a_maildir(runner, demo, db_session, tmp_path, mails):
    box = mailbox.Maildir(tmp_path / "Maildir")
    for raw in mails:
        box.add(raw)
    result = runner.invoke(args=["mail", "import", str(tmp_path / "Maildir")])
    assert "new_ticket 2" in result.output


def test_an_import_that_misses_a_stored_message_finds_it_a_duplicate_at_the_index(
    runner, demo, db_session, tmp_path, mails, monkeypatch
):
    """Two imports without a mailbox at once both find a message new (neither sees the other's
    rows before its commit): the partial unique index stops the second, which counts it a
    duplicate and goes on with the rest of its chunk. A message without a Message-ID is
    known by its bytes: another one beside it is new."""
    mails.append(enquiry(COMPLETE_EN, subject="no id", message_id=""))
    for i, raw in enumerate(mails):
        (tmp_path / f"{i}.eml").write_bytes(raw)
    first = runner.invoke(args=["mail", "import", str(tmp_path)])
    assert "new_ticket 3" in first.output, first.output
    monkeypatch.setattr(IngestBatch, "_load_stored", lambda self, ids, digests: None)
    (tmp_path / "3.eml").write_bytes(enquiry(COMPLETE_EN, subject="no id either", message_id=""))
    second = runner.invoke(args=["mail", "import", str(tmp_path)])
    assert second.exit_code == 0, second.output
    assert "duplicate 3, new_ticket 1" in second.output, second.output
    subjects = db_session.scalars(select(Ticket.subject).order_by(Ticket.id)).all()
    assert subjects == ["first", "second", "no id", "no id either"]


def test_import_refuses_an_unknown_mailbox(runner, demo, tmp_path):
    result = runner.invoke(args=["mail", "import", str(tmp_path), "--mailbox", "nope"])
    assert result.exit_code != 0 and "no mailbox called 'nope'" in result.output


def test_imported_mail_counts_as_received_at_its_date_header(runner, demo, db_session, tmp_path):
    """A file has no server's date: its Date header is when it was received, unless that is
    in the future. A ticket opens (and its clock starts) then, within the age limit."""
    dates = {
        "recent": NOW - timedelta(days=2),  # within MAIL_ARRIVAL_MAX_AGE_HOURS
        "old": NOW - timedelta(days=30),
        "future": NOW + timedelta(days=1),
    }
    for name, date in dates.items():
        (tmp_path / f"{name}.eml").write_bytes(enquiry(COMPLETE_EN, subject=name, date=date))
    result = runner.invoke(args=["mail", "import", str(tmp_path)])
    assert "new_ticket 3" in result.output, result.output
    received = dict(
        db_session.execute(
            select(Ticket.subject, Message.received_at)
            .join(Message, Message.ticket_id == Ticket.id)
            .where(Message.direction == Direction.INBOUND)
        ).all()
    )
    assert received == {"recent": dates["recent"], "old": dates["old"], "future": NOW}
    tickets = {t.subject: t for t in db_session.scalars(select(Ticket))}
    assert tickets["recent"].created_at == tickets["recent"].sla_started_at == dates["recent"]
    assert tickets["old"].created_at == tickets["old"].sla_started_at == NOW
    assert tickets["future"].created_at == NOW


def test_import_without_replies_queues_none(runner, demo, db_session, tmp_path, mails):
    """Moving from another system: the mail was answered there, so no acknowledgement goes
    out; loading a message by hand (the default) acknowledges it as a polled one would be."""
    (tmp_path / "moved").mkdir()
    (tmp_path / "moved" / "0.eml").write_bytes(mails[0])
    moved = runner.invoke(args=["mail", "import", str(tmp_path / "moved"), "--no-replies"])
    assert "new_ticket 1" in moved.output, moved.output
    assert _count(db_session, OutboxMessage) == 0
    (tmp_path / "by-hand.eml").write_bytes(mails[1])
    by_hand = runner.invoke(args=["mail", "import", str(tmp_path / "by-hand.eml")])
    assert "new_ticket 1" in by_hand.output, by_hand.output
    assert db_session.scalars(select(OutboxMessage.kind)).all() == ["ack"]


def _write_reuse_fixtures(folder):
    """Three form-mailer enquiries under one Message-ID; an enquiry saved twice; the same
    enquiry as delivered through another relay."""
    folder.mkdir()
    for n, body in enumerate(reused_ids.FORM_BODIES, start=1):
        (folder / f"form-{n}.eml").write_bytes(reused_ids.form_mail(body))
    enquiry = reused_ids.multipart_enquiry()
    (folder / "enquiry.eml").write_bytes(enquiry)
    (folder / "enquiry-saved-again.eml").write_bytes(enquiry)
    relayed = reused_ids.relayed(enquiry, hop="relay.isp.example", queue_id="9QwE7", at="Wed")
    (folder / "enquiry-relayed.eml").write_bytes(relayed)
    return folder


def test_import_keeps_every_message_a_reused_message_id_carries(runner, demo, db_session, tmp_path):
    folder = _write_reuse_fixtures(tmp_path / "mail")
    first = runner.invoke(args=["mail", "import", str(folder), "--mailbox", "system"])
    assert first.exit_code == 0, first.output
    assert "duplicate 2, new_ticket 4" in first.output
    assert "duplicates: identical 2, same ID, different content (kept) 2" in first.output
    assert "new_ticket form-2.eml (same ID, different content (kept))" in " ".join(
        first.output.split()
    )
    assert _count(db_session, Ticket) == 4
    form_messages = db_session.scalars(
        select(Message)
        .where(Message.message_id == reused_ids.FORM_ID.strip("<>"))
        .order_by(Message.id)
    ).all()
    assert [m.message_id_reused for m in form_messages] == [False, True, True]
    (repeat,) = db_session.scalars(select(MessageRepeat)).all()
    copies = {stores().raw.get(key) for key in (repeat.raw_sha256, repeat.message.raw_sha256)}
    assert copies == {
        (folder / name).read_bytes() for name in ("enquiry.eml", "enquiry-relayed.eml")
    }

    counts = {model: _count(db_session, model) for model in (Ticket, Message, MessageRepeat)}
    second = runner.invoke(args=["mail", "import", str(folder), "--mailbox", "system"])
    assert "imported from" in second.output and "duplicate 6" in second.output
    assert "duplicates: identical 6, same ID, different content (kept) 0" in second.output
    assert {model: _count(db_session, model) for model in counts} == counts
