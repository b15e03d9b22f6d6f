"""A poll batch stored at once: what one message learns the next one of the batch knows."""

import itertools
from collections import Counter
from concurrent.futures import Future
from dataclasses import replace

from sqlalchemy import func, select

import helpdesk.mail.ingest as ingest
from helpdesk.mail.polling import store_batch
from helpdesk.models import (
    Attachment,
    AuditEvent,
    IngestFailure,
    Message,
    MessageRepeat,
    OutboxMessage,
    Ticket,
)
from helpdesk.models.desk import AttachmentAction
from helpdesk.stores import stores
from helpdesk.tickets.numbers import format_number
from mail_ingest.policy import DEFAULT_FORBIDDEN_EXTENSIONS
from mail_ingest.workers import PendingAnalyses, analyse_batch
from tests.conftest import database_kind
from tests.support import reused_ids, samplefiles
from tests.support.enquiries import COMPLETE_EN, enquiry
from tests.support.statements import Statements


def _count(db_session, model, *where):
    return db_session.scalar(select(func.count()).select_from(model).where(*where))


def test_a_reply_later_in_the_batch_joins_the_ticket_opened_earlier(demo, db_session):
    _, mailboxes = demo
    first = enquiry(message_id="<first@example.co.jp>", sender="a@example.co.jp")
    reply = enquiry("追加です", subject="Re: ログインできません", in_reply_to="first@example.co.jp")
    outcomes = store_batch([(1, first), (2, reply)], mailboxes["system"])
    assert outcomes == ["new_ticket", "follow_up"]
    (ticket,) = db_session.scalars(select(Ticket)).all()
    assert _count(db_session, Message, Message.ticket_id == ticket.id, Message.imap_uid > 0) == 2


def test_the_same_message_twice_in_a_batch_is_stored_once(demo, db_session):
    """Later in the batch: the same bytes are nothing new, a copy through another relay is
    recorded against the message it repeats, another message with its Message-ID is kept."""
    _, mailboxes = demo
    raw = reused_ids.multipart_enquiry()
    relayed = reused_ids.relayed(raw, hop="relay.isp.example", queue_id="Q7", at="Wed, 25 Nov")
    other = reused_ids.multipart_enquiry(text="別件です。パスワードを忘れました。")
    batch = [(1, raw), (2, raw), (3, relayed), (4, other)]
    assert store_batch(batch, mailboxes["system"]) == [
        "new_ticket",
        "duplicate",
        "duplicate",
        "new_ticket",
    ]
    assert _count(db_session, Ticket) == 2
    first, second = db_session.scalars(
        select(Message).where(Message.imap_uid.is_not(None)).order_by(Message.id)
    ).all()
    assert (first.imap_uid, first.message_id_reused) == (1, False)
    assert (second.imap_uid, second.message_id_reused) == (4, True)
    (repeat,) = db_session.scalars(select(MessageRepeat)).all()
    assert (repeat.message_id, repeat.imap_uid) == (first.id, 3)
    assert stores().raw.get(repeat.raw_sha256) == relayed


def test_rows_of_a_batch_point_at_their_tickets(demo, db_session):
    _, mailboxes = demo
    raws = [(uid, enquiry(sender=f"s{uid}@example.co.jp")) for uid in range(1, 6)]
    assert store_batch(raws, mailboxes["system"]) == ["new_ticket"] * 5
    for ticket in db_session.scalars(select(Ticket)):
        inbound, ack = db_session.scalars(
            select(Message).where(Message.ticket_id == ticket.id).order_by(Message.id)
        ).all()
        assert inbound.from_address == ticket.requester_email and ack.in_reply_to
        outbox = db_session.scalars(
            select(OutboxMessage).where(OutboxMessage.ticket_id == ticket.id)
        ).one()
        assert outbox.message_row_id == ack.id
        actions = db_session.scalars(
            select(AuditEvent.action).where(AuditEvent.ticket_id == ticket.id)
        ).all()
        assert {"ticket.opened", "mail.received"} <= set(actions)


def test_ticket_numbers_stay_gapless_when_a_batch_opens_fewer_tickets(demo, db_session, app):
    _, mailboxes = demo
    refused = enquiry(attachments=[("a.pdf", samplefiles.pe_executable(), "application/pdf")])
    first = store_batch(
        [(1, enquiry()), (2, refused), (3, enquiry()), (4, b"\x00\x01 not mail")],
        mailboxes["system"],
    )
    assert first == ["new_ticket", "refused", "new_ticket", "failed"]
    store_batch([(5, enquiry(COMPLETE_EN))], mailboxes["system"])
    prefix = app.config["TICKET_NUMBER_PREFIX"]
    numbers = db_session.scalars(select(Ticket.number).order_by(Ticket.id)).all()
    assert numbers == [format_number(prefix, 2026, n) for n in (1, 2, 3)]


def test_the_hourly_reply_limit_counts_replies_queued_earlier_in_the_batch(demo, db_session, app):
    _, mailboxes = demo
    limit = app.config["AUTOREPLY_LIMIT_PER_HOUR"]
    raws = [(uid, enquiry()) for uid in range(1, limit + 3)]
    assert store_batch(raws, mailboxes["system"]) == ["new_ticket"] * (limit + 2)
    assert _count(db_session, OutboxMessage) == limit


def test_a_batch_that_fails_is_stored_one_message_at_a_time(demo, db_session, monkeypatch):
    _, mailboxes = demo
    original = ingest.IngestBatch._file_bounce
    calls = []

    def unexpected(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 1:  # the batch's attempt fails; the one-by-one retry goes through
            raise RuntimeError("a bug met in the middle of a batch")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(ingest.IngestBatch, "_file_bounce", unexpected)
    from tests.support.mailsamples import dsn_bounce

    raws = [(1, enquiry()), (2, dsn_bounce("nobody@example.jp")), (3, enquiry())]
    assert store_batch(raws, mailboxes["system"]) == ["new_ticket", "bounce", "new_ticket"]
    assert _count(db_session, Ticket) == 2
    assert _count(db_session, Message, Message.imap_uid.is_not(None)) == 3
    assert _count(db_session, IngestFailure) == 0


def test_a_file_the_workers_stored_is_quarantined_if_the_desk_refuses_it_after_all(
    demo, db_session
):
    """The workers judge by the desks' lists as the poll began; a desk that refuses a file
    since then still has it quarantined, and not served (the workers sent no content)."""
    desks, mailboxes = demo
    desks["system"].forbidden_extensions = [*DEFAULT_FORBIDDEN_EXTENSIONS, "pdf"]
    desks["system"].attachment_action = AttachmentAction.STRIP
    pdf = samplefiles.pdf()
    raw = enquiry(COMPLETE_EN, attachments=[("form.pdf", pdf, "application/pdf")])
    batch = ingest.IngestBatch(mailboxes["system"])
    before = replace(  # the union of the desks' lists when the poll began: no pdf in it
        batch.analysis_settings(),
        attachment_store=str(stores().attachments.root),
        forbidden_anywhere=frozenset(),
    )
    (analysis,) = analyse_batch([raw], before)
    assert analysis.stored_attachments and analysis.parsed.attachments[0].content == b""
    done: Future[list] = Future()
    done.set_result([analysis])
    prepared = PendingAnalyses([raw], replace(before, attachment_store=None), [done])
    assert store_batch([(1, raw)], mailboxes["system"], prepared) == ["new_ticket"]
    (row,) = db_session.scalars(select(Attachment)).all()
    assert not row.allowed and row.storage_key is None
    assert stores().quarantine.get(row.sha256) == pdf


def test_a_batch_writes_each_table_at_once(demo, db_session):
    """The batch's rows are written by one flush at its end, not message by message: each
    table's INSERTs come together. PostgreSQL takes each table's rows in one statement
    (INSERT ... VALUES (...), (...) RETURNING): enquiries and their acknowledgements name the
    same columns. SQLite cannot tie RETURNING rows to their parameters, so SQLAlchemy sends
    one INSERT a row there (in-process, no round trip)."""
    _, mailboxes = demo
    messages = [(uid, enquiry(subject=f"batch {uid}")) for uid in range(1, 13)]
    with Statements() as seen:
        assert store_batch(messages, mailboxes["system"]) == ["new_ticket"] * 12
    tables = [
        statement.split()[2] for statement, _ in seen.seen if statement.startswith("INSERT INTO")
    ]
    runs = [table for table, _ in itertools.groupby(tables)]
    assert len(runs) == len(set(runs)), runs
    if database_kind() == "postgresql":
        # 12 tickets, 24 messages (each enquiry and its acknowledgement), 12 outbox rows.
        assert all(count == 1 for count in Counter(tables).values()), Counter(tables)
