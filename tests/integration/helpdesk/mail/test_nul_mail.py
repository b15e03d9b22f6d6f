"""A mail with NUL characters in its text imports like any other (PostgreSQL stores no NUL in
text): its ticket opens and is acknowledged, and the raw bytes kept are the original ones."""

from sqlalchemy import func, select

from helpdesk.mail.polling import record_failure, store_batch
from helpdesk.models import Attachment, AuditEvent, IngestFailure, Message, OutboxMessage, Ticket
from helpdesk.models.message import Direction
from helpdesk.stores import stores
from tests.support.enquiries import enquiry
from tests.support.mailsamples import PDF_BYTES, nul_message

TO = "helpdesk@support.example.test"


def _count(db_session, model):
    return db_session.scalar(select(func.count()).select_from(model))


def _assert_stored(db_session, raw):
    """The NUL mail's ticket, rows without NUL, its acknowledgement and its original bytes."""
    ticket = db_session.scalar(select(Ticket).where(Ticket.subject == "Cannot log in"))
    assert ticket is not None and ticket.requester_name == "Yamada Taro"
    assert ticket.organisation == "Example Language School"
    message = db_session.scalar(
        select(Message).where(
            Message.ticket_id == ticket.id, Message.direction == Direction.INBOUND
        )
    )
    assert message.text.startswith("Hello, I cannot submit the notification form.")
    assert message.cc == ["other@example.co.jp"] and "\x00" not in message.html
    assert message.references == ["earlier.1@example.co.jp"]  # a JSON column
    files = db_session.scalars(
        select(Attachment).where(Attachment.message_id == message.id).order_by(Attachment.id)
    ).all()
    assert [f.filename for f in files] == ["report.pdf", "earlier_question.eml"]
    assert stores().attachments.get(files[0].storage_key) == PDF_BYTES + b"\x00\x00"
    assert stores().raw.get(message.raw_sha256) == raw and b"\x00" in raw
    ack = db_session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.ticket_id == ticket.id, OutboxMessage.kind == "ack"
        )
    ).one()
    assert ack.recipient == "taro.yamada@example.co.jp"
    actions = db_session.scalars(
        select(AuditEvent.action).where(AuditEvent.ticket_id == ticket.id)
    ).all()
    assert "mail.received" in actions
    return ticket


def test_a_polled_batch_with_a_nul_mail_stores_every_message(demo, db_session):
    _, mailboxes = demo
    raw = nul_message(to=TO)
    outcomes = store_batch([(1, enquiry()), (2, raw)], mailboxes["system"])
    assert outcomes == ["new_ticket", "new_ticket"]
    _assert_stored(db_session, raw)
    assert _count(db_session, IngestFailure) == 0


def test_mail_import_takes_a_nul_mail(runner, demo, db_session, tmp_path):
    raw = nul_message(to=TO)
    (tmp_path / "nul.eml").write_bytes(raw)
    result = runner.invoke(args=["mail", "import", str(tmp_path / "nul.eml")])
    assert result.exit_code == 0, result.output
    assert "new_ticket 1" in result.output
    _assert_stored(db_session, raw)


def test_a_nul_mail_that_failed_before_imports_on_retry(runner, demo, db_session):
    _, mailboxes = demo
    raw = nul_message(to=TO)
    # As the importer kept it when PostgreSQL refused its rows.
    refused = ValueError("PostgreSQL text fields cannot contain NUL (0x00) bytes")
    record_failure(raw, mailboxes["system"], 9, refused)
    failure = db_session.scalars(select(IngestFailure)).one()
    assert failure.subject == "Cannot log in"
    result = runner.invoke(args=["mail", "retry", str(failure.id)])
    assert result.exit_code == 0, result.output
    assert f"#{failure.id}: new_ticket" in result.output
    assert failure.resolved is True
    ticket = _assert_stored(db_session, raw)
    assert db_session.scalar(select(Message.imap_uid).where(Message.ticket_id == ticket.id)) == 9


def test_a_failure_whose_error_quotes_a_nul_is_kept(demo, db_session):
    _, mailboxes = demo
    record_failure(b"\x00\x01 not a mail", mailboxes["system"], 3, ValueError("bad \x00 byte"))
    failure = db_session.scalars(select(IngestFailure)).one()
    assert failure.error == "ValueError: bad  byte"
