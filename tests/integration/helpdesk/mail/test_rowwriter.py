"""A batch's new rows written with Core (SQLite) end as the ORM's flush would have left them."""

from __future__ import annotations

import gc
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import inspect, select, text

import helpdesk.mail.ingest as ingest
from helpdesk import outbox
from helpdesk.mail.ingest import ingest_raw
from helpdesk.mail.polling import store_batch
from helpdesk.mail.rowwriter import number_new_rows, write_new_rows
from helpdesk.models import (
    Attachment,
    AuditEvent,
    Desk,
    IngestFailure,
    Message,
    MessageRepeat,
    OutboxMessage,
    StatusPeriod,
    Ticket,
    TicketCounter,
)
from helpdesk.tickets.services import change_status, open_ticket
from helpdesk.tickets.workflow import TicketStatus
from tests.conftest import NOW, database_kind
from tests.support import samplefiles
from tests.support.enquiries import COMPLETE_EN, MISSING_JA, enquiry
from tests.support.mailsamples import dsn_bounce
from tests.support.statements import Statements

pytestmark = pytest.mark.skipif(
    database_kind() != "sqlite", reason="the Core writer is used on SQLite only"
)

WRITTEN = (Ticket, StatusPeriod, Message, MessageRepeat, Attachment, OutboxMessage, AuditEvent)
PNG = ("screen.png", samplefiles.png(), "image/png")
EXE_AS_PDF = ("report.pdf", samplefiles.pe_executable(), "application/pdf")


@pytest.fixture
def numbered_replies(monkeypatch) -> Callable[[int], None]:
    """Our replies' Message-IDs from a counter, so that two runs render the same bytes;
    returns a function that sets where the counter (re)starts."""
    counter = itertools.count(1)

    def make_msgid(domain: str) -> str:
        return f"<reply-{next(counter)}@{domain}>"

    def restart(first: int) -> None:
        nonlocal counter
        counter = itertools.count(first)

    monkeypatch.setattr(outbox, "make_msgid", make_msgid)
    return restart


@dataclass
class Written:
    """What one run of a batch left in the database and in the session."""

    outcomes: list[str]
    tables: dict[str, list[Any]]
    search_index: list[Any]
    identities: list[tuple[str, tuple[Any, ...]]]
    updates_after_finish: list[tuple[str, str]]
    inserts_after_finish: list[str]


def _store(db_session, mailbox, messages, monkeypatch) -> Written:
    """Store ``messages`` as the poller does and describe what that wrote."""
    after_finish = Statements(on=False)
    finish = ingest.IngestBatch.finish

    def finish_then_watch(self) -> None:
        finish(self)
        after_finish.on = True  # what the savepoint's flush does next

    monkeypatch.setattr(ingest.IngestBatch, "finish", finish_then_watch)
    with after_finish:
        outcomes = store_batch(messages, mailbox)
    assert not db_session.new and not db_session.dirty
    gc.collect()  # the identity map holds rows weakly: only the ones still referenced count
    return Written(
        outcomes=outcomes,
        tables={
            model.__tablename__: db_session.execute(
                select(model.__table__).order_by(*model.__table__.primary_key)
            ).all()
            for model in (*WRITTEN, TicketCounter, IngestFailure)
        },
        search_index=db_session.execute(
            text("SELECT rowid, number, subject, people, body FROM search.ticket_fts ORDER BY 1")
        ).all(),
        identities=sorted(
            (key[0].__name__, key[1])
            for key in db_session.identity_map
            if issubclass(key[0], WRITTEN)
        ),
        updates_after_finish=sorted(
            (statement, repr(parameters))
            for statement, parameters in after_finish.seen
            if statement.startswith("UPDATE")
        ),
        inserts_after_finish=[
            statement for statement, _ in after_finish.seen if statement.startswith("INSERT")
        ],
    )


def _existing_tickets(db_session, mailbox) -> dict[str, Ticket]:
    """Tickets stored before the batch: open, waiting for fields, resolved, closed."""
    raws = {
        "open": enquiry(sender="open@example.co.jp"),
        "waiting": enquiry(MISSING_JA, sender="waiting@example.co.jp"),
        "resolved": enquiry(sender="resolved@example.co.jp"),
        "closed": enquiry(sender="closed@example.co.jp"),
    }
    store_batch(list(enumerate(raws.values(), start=1)), mailbox)
    tickets = {
        name: db_session.scalars(
            select(Ticket).where(Ticket.requester_email == f"{name}@example.co.jp")
        ).one()
        for name in raws
    }
    change_status(tickets["resolved"], TicketStatus.RESOLVED, at=NOW)
    change_status(tickets["closed"], TicketStatus.CLOSED, at=NOW)
    db_session.commit()
    return tickets


def _batch(db_session, tickets: dict[str, Ticket]) -> list[tuple[int, bytes]]:
    """Every kind of message, with follow-ups on stored tickets and on one of the batch's."""
    ack = db_session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.ticket_id == tickets["open"].id, OutboxMessage.kind == "ack"
        )
    ).one()
    first = enquiry(message_id="<first@example.co.jp>", sender="a@example.co.jp", attachments=[PNG])
    raws = [
        first,
        # Kept as a failure in a savepoint of its own, whose start flushes the rows so far:
        # the follow-up after it joins a ticket the ORM wrote in the middle of the batch.
        b"\x00\x01 not mail",
        enquiry(
            "追加の資料です",
            subject="Re: ログインできません",
            sender="a@example.co.jp",
            in_reply_to="first@example.co.jp",
            attachments=[PNG],
        ),
        enquiry(message_id="<second@example.co.jp>", sender="d@example.co.jp"),
        enquiry(
            "もう一点あります",
            subject="Re: ログインできません",
            sender="d@example.co.jp",
            in_reply_to="second@example.co.jp",
            attachments=[PNG, EXE_AS_PDF],
        ),
        enquiry("まだ直りません", subject=f"Re: [{tickets['open'].number}] ログイン"),
        enquiry(
            "機関名：サンプル日本語学校\n電話番号：06-1111-2222\nWindows 10 の Chrome です",
            subject=f"Re: [{tickets['waiting'].number}]",
            sender="waiting@example.co.jp",
        ),
        enquiry("再発しました", subject=f"Re: [{tickets['resolved'].number}]"),
        enquiry(subject=f"Re: [{tickets['closed'].number}] また", sender="closed@example.co.jp"),
        enquiry(attachments=[EXE_AS_PDF, PNG], sender="refused@example.co.jp"),
        enquiry(COMPLETE_EN, subject="Cannot submit", sender="b@example.com"),
        enquiry(MISSING_JA, sender="c@example.co.jp"),
        enquiry(headers={"Auto-Submitted": "auto-replied"}, sender="robot@example.co.jp"),
        dsn_bounce(ack.message_id),
        # The first message again through another relay: a copy recorded against it; then
        # another message under its Message-ID, kept.
        b"Received: from relay.example.net by mx.example.test; Wed, 25 Nov 2026\r\n" + first,
        enquiry(message_id="<first@example.co.jp>", sender="a@example.co.jp"),
    ]
    return list(enumerate(raws, start=100))


def test_a_batch_written_with_core_matches_the_orm_flush(
    demo, db_session, monkeypatch, numbered_replies, frozen_now
):
    _, mailboxes = demo
    mailbox = mailboxes["system"]
    tickets = _existing_tickets(db_session, mailbox)
    messages = _batch(db_session, tickets)
    frozen_now(NOW + timedelta(hours=1))

    numbered_replies(1000)
    core = _store(db_session, mailbox, messages, monkeypatch)
    # The resolved ticket's loaded periods hold the new one, the same object the map holds.
    periods = db_session.get(Ticket, tickets["resolved"].id).status_periods
    assert periods[-1].status is TicketStatus.OPEN
    assert periods[-1] is db_session.get(StatusPeriod, periods[-1].id)

    db_session.rollback()
    monkeypatch.setattr(ingest, "write_new_rows", lambda rows: False)  # the ORM's flush
    numbered_replies(1000)
    orm = _store(db_session, mailbox, messages, monkeypatch)

    assert core.outcomes == orm.outcomes
    assert core.outcomes == [
        "new_ticket",
        "failed",
        "follow_up",
        "new_ticket",
        "follow_up",
        "follow_up",
        "follow_up",
        "follow_up",
        "new_ticket",
        "refused",
        "new_ticket",
        "new_ticket",
        "new_ticket",
        "bounce",
        "duplicate",
        "new_ticket",
    ]
    for table, rows in orm.tables.items():
        assert core.tables[table] == rows, table
    assert core.search_index == orm.search_index
    assert core.identities == orm.identities
    assert core.updates_after_finish == orm.updates_after_finish
    # The savepoint's flush inserted nothing but the index rows of the tickets it updated; the
    # audit events follow as plain rows in one statement (helpdesk.audit.collecting).
    inserted = [s.split("(")[0] for s in core.inserts_after_finish if "ticket_fts" not in s]
    assert inserted == ["INSERT INTO audit_event "]
    assert any(s.startswith("INSERT INTO message") for s in orm.inserts_after_finish)


def test_the_search_finds_the_batch_s_tickets_and_follow_ups(
    demo, db_session, monkeypatch, frozen_now
):
    _, mailboxes = demo
    tickets = _existing_tickets(db_session, mailboxes["system"])
    core = _store(db_session, mailboxes["system"], _batch(db_session, tickets), monkeypatch)
    assert [row.rowid for row in core.search_index] == [row.id for row in core.tables["ticket"]]
    (opened,) = [row for row in core.search_index if "追加の資料です" in row.body]
    assert "ログインできません" in opened.subject
    found = db_session.scalars(
        text("SELECT rowid FROM search.ticket_fts WHERE ticket_fts MATCH :q"),
        {"q": '"まだ直りません"'},
    ).all()
    assert found == [tickets["open"].id]


def test_written_rows_read_back_without_sql(demo, db_session):
    _, mailboxes = demo
    outcome = ingest_raw(enquiry(attachments=[PNG]), mailbox=mailboxes["system"], uid=1)
    ticket, message = outcome.ticket, outcome.message
    with Statements() as statements:
        rows = [ticket, message, *message.attachments, *ticket.status_periods]
        for row in rows:
            assert inspect(row).persistent and not inspect(row).modified
            for attribute in inspect(row).mapper.column_attrs:
                getattr(row, attribute.key)
        assert message.ticket is ticket and message.attachments[0].message is message
        assert db_session.get(Ticket, ticket.id) is ticket
        assert ticket.assignee is None and ticket.previous_ticket is None
    assert statements.seen == []
    assert message.attachments[0].message_id == message.id
    assert ticket.status_periods[0].ticket_id == ticket.id


def test_a_batch_that_fails_after_writing_is_stored_again_one_at_a_time(
    demo, db_session, monkeypatch
):
    _, mailboxes = demo
    finish = ingest.IngestBatch.finish
    failures = []

    def finish_then_fail(self) -> None:
        finish(self)
        if not failures:
            failures.append(1)
            raise RuntimeError("a bug met after the batch's rows were written")

    monkeypatch.setattr(ingest.IngestBatch, "finish", finish_then_fail)
    raws = [(1, enquiry(attachments=[PNG])), (2, enquiry(sender="b@example.co.jp"))]
    assert store_batch(raws, mailboxes["system"]) == ["new_ticket", "new_ticket"]
    # Nothing of the first attempt is left in the session standing for rows that are gone.
    for key, row in db_session.identity_map.items():
        table = key[0].__table__
        stored = db_session.execute(select(table).where(table.c.id == key[1][0])).one()
        assert all(getattr(row, column.key) == stored._mapping[column] for column in table.c)
    assert len(db_session.scalars(select(Ticket)).all()) == 2
    assert len(db_session.scalars(select(Attachment)).all()) == 1


def test_rows_that_need_a_row_the_flush_writes_are_left_to_the_flush(db_session, frozen_now):
    desk = Desk(slug="new-desk", name="New desk", reply_from="new@support.example.test")
    db_session.add(desk)
    ticket = open_ticket(
        desk,
        subject="On a desk not yet written",
        requester_email="x@example.jp",
        number="T-1",
        flush=False,
    )
    with db_session.no_autoflush:
        rows = number_new_rows()
        assert not write_new_rows(rows)
    assert all(inspect(row).pending for row in rows)
    db_session.flush()
    assert ticket.desk_id == desk.id and ticket.status_periods[0].ticket_id == ticket.id
