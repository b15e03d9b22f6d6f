"""One message into the helpdesk: tickets, follow-ups, refusals, bounces, failures."""

from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy

import pytest
from sqlalchemy import func, select, update

from helpdesk import outbox
from helpdesk.mail.ingest import ingest_raw
from helpdesk.mail.polling import store_one
from helpdesk.models import (
    Attachment,
    Direction,
    IngestFailure,
    Message,
    MessageRepeat,
    OutboxMessage,
    Ticket,
)
from helpdesk.models.desk import AttachmentAction
from helpdesk.stores import stores
from helpdesk.tickets.services import change_status
from helpdesk.tickets.workflow import TicketStatus
from tests.support import reused_ids, samplefiles
from tests.support.enquiries import COMPLETE_EN, COMPLETE_JA, MISSING_JA, enquiry

from .conftest import NOW


def _outbox(db_session, kind=None):
    query = select(OutboxMessage).order_by(OutboxMessage.id)
    if kind:
        query = query.where(OutboxMessage.kind == kind)
    return db_session.scalars(query).all()


def _parsed(item):
    return message_from_bytes(outbox.rendered(item), policy=policy.default)


def test_complete_japanese_enquiry_opens_a_ticket_with_its_clock_running(demo, db_session):
    desks, mailboxes = demo
    outcome = ingest_raw(enquiry(), mailbox=mailboxes["system"], uid=1)
    assert outcome.kind == "new_ticket"
    ticket = db_session.get(Ticket, outcome.ticket_id)
    assert ticket.desk is desks["system"]
    assert ticket.status is TicketStatus.NEW
    assert ticket.organisation == "株式会社サンプル商事"
    assert "03-1234-5678" in ticket.contact
    assert ticket.env_os_family == "Windows" and ticket.env_browser_family == "Edge"
    assert ticket.language == "ja"
    assert ticket.sla_started_at == NOW
    # Wed 10:00 + 8 business hours = Thu 10:00 Tokyo.
    assert ticket.first_response_due_at == datetime(2026, 11, 26, 1, 0, tzinfo=UTC)
    (ack,) = _outbox(db_session, "ack")
    mail = _parsed(ack)
    assert mail["Auto-Submitted"] == "auto-replied"
    assert ticket.number in mail["Subject"]
    body = mail.get_content()
    assert ticket.number in body and "受付番号" in body and "日本語または英語" in body
    assert "2026年11月26日 10:00" in body


def test_ack_threads_to_the_enquiry(demo, db_session):
    _, mailboxes = demo
    raw = enquiry(message_id="<first@example.co.jp>")
    ingest_raw(raw, mailbox=mailboxes["system"], uid=1)
    (ack,) = _outbox(db_session, "ack")
    mail = _parsed(ack)
    assert mail["In-Reply-To"] == "<first@example.co.jp>"
    assert "<first@example.co.jp>" in mail["References"]


def test_english_enquiry_gets_an_english_ack(demo, db_session):
    _, mailboxes = demo
    raw = enquiry(COMPLETE_EN, subject="Cannot submit", sender_name="Jane Doe")
    ticket = db_session.get(Ticket, ingest_raw(raw, mailbox=mailboxes["system"]).ticket_id)
    assert ticket.language == "en"
    body = _parsed(_outbox(db_session, "ack")[0]).get_content()
    assert "Your ticket number is" in body and "Japanese or English" in body


def test_same_message_twice_is_stored_once(demo, db_session):
    _, mailboxes = demo
    raw = enquiry(message_id="<dup@example.co.jp>")
    assert ingest_raw(raw, mailbox=mailboxes["system"], uid=1).kind == "new_ticket"
    assert ingest_raw(raw, mailbox=mailboxes["system"], uid=2).kind == "duplicate"
    assert db_session.scalar(select(func.count()).select_from(Ticket)) == 1


def _relayed(raw, hop, queue_id):
    return reused_ids.relayed(raw, hop=hop, queue_id=queue_id, at="Wed, 25 Nov 2026 09:41:09")


def _count(db_session, model, *where):
    return db_session.scalar(select(func.count()).select_from(model).where(*where))


def test_one_message_id_with_three_bodies_is_three_messages(demo, db_session):
    """A form mailer gives every enquiry the same Message-ID: each is kept, each opens its
    ticket, and the later ones are flagged; every message's bytes are in the raw store."""
    _, mailboxes = demo
    raws = [reused_ids.form_mail(body) for body in reused_ids.FORM_BODIES]
    outcomes = [ingest_raw(raw, mailbox=mailboxes["system"], uid=n) for n, raw in enumerate(raws)]
    assert [o.kind for o in outcomes] == ["new_ticket"] * 3
    assert [o.reused_message_id for o in outcomes] == [False, True, True]
    assert len({o.ticket_id for o in outcomes}) == 3
    messages = [db_session.get(Message, o.message_row_id) for o in outcomes]
    assert {m.message_id for m in messages} == {reused_ids.FORM_ID.strip("<>")}
    assert [m.text.splitlines()[1] for m in messages] == [
        body.splitlines()[1] for body in reused_ids.FORM_BODIES
    ]
    assert [stores().raw.get(m.raw_sha256) for m in messages] == raws


def test_a_copy_through_other_relays_is_recorded_against_the_message(demo, db_session):
    """The same message delivered again with other Received headers is a duplicate: nothing is
    made of it but a record on the message it repeats, with its bytes kept."""
    _, mailboxes = demo
    original = reused_ids.multipart_enquiry()
    first = ingest_raw(
        _relayed(original, "smtp.example-school.jp", "4XyZ1"), mailbox=mailboxes["system"], uid=1
    )
    copy = _relayed(original, "relay.isp.example", "9QwE77")
    assert ingest_raw(copy, mailbox=mailboxes["system"], uid=2).kind == "duplicate"
    assert ingest_raw(copy, mailbox=mailboxes["system"], uid=3).kind == "duplicate"
    (repeat,) = db_session.scalars(select(MessageRepeat)).all()
    assert (repeat.message_id, repeat.imap_uid) == (first.message_row_id, 2)
    assert repeat.mailbox_id == mailboxes["system"].id and repeat.received_at == NOW
    assert stores().raw.get(repeat.raw_sha256) == copy
    assert _count(db_session, Message, Message.direction == Direction.INBOUND) == 1
    assert _count(db_session, Ticket) == 1


def test_a_reply_to_a_reused_message_id_joins_the_latest_ticket(demo, db_session):
    """Which of the messages with its Message-ID a reply answers cannot be known: it joins the
    latest one's ticket, the same ticket however often the question is asked."""
    _, mailboxes = demo
    tickets = [
        ingest_raw(reused_ids.form_mail(body), mailbox=mailboxes["system"]).ticket_id
        for body in reused_ids.FORM_BODIES[:2]
    ]
    reply = enquiry(
        "追記です。", subject="Re: お問い合わせ", in_reply_to=reused_ids.FORM_ID.strip("<>")
    )
    outcome = ingest_raw(reply, mailbox=mailboxes["system"])
    assert (outcome.kind, outcome.ticket_id) == ("follow_up", tickets[1])


def test_messages_stored_before_content_digests_are_compared_by_their_bytes(demo, db_session):
    """A row from before the upgrade has no digest: it is worked out from its raw bytes when a
    message with its Message-ID comes in, and written on the row."""
    _, mailboxes = demo
    raw = reused_ids.multipart_enquiry()
    first = ingest_raw(raw, mailbox=mailboxes["system"], uid=1)
    stored = db_session.get(Message, first.message_row_id)
    digest = stored.content_sha256
    db_session.execute(update(Message).values(content_sha256=None))
    db_session.expire_all()
    copy = _relayed(raw, "relay.isp.example", "7T")
    assert ingest_raw(copy, mailbox=mailboxes["system"], uid=2).kind == "duplicate"
    assert db_session.get(Message, first.message_row_id).content_sha256 == digest
    other = reused_ids.multipart_enquiry(text="別件です。パスワードを忘れました。")
    later = ingest_raw(other, mailbox=mailboxes["system"], uid=3)
    assert (later.kind, later.reused_message_id) == ("new_ticket", True)


def test_a_copy_of_our_own_reply_is_a_copy_not_an_enquiry(demo, db_session):
    """An archive imported without a mailbox may hold the desk's own acknowledgements: the
    message made here has no raw bytes to compare, and its Message-ID is ours."""
    ingest_raw(enquiry(), mailbox=None)
    (ack,) = _outbox(db_session, "ack")
    outcome = ingest_raw(outbox.rendered(ack), mailbox=None)
    assert outcome.kind == "duplicate"
    (repeat,) = db_session.scalars(select(MessageRepeat)).all()
    assert repeat.message_id == ack.message_row_id
    assert _count(db_session, Ticket) == 1


def test_message_without_message_id_is_recognised_by_its_bytes(demo, db_session):
    _, mailboxes = demo
    raw = enquiry(message_id="")
    first = ingest_raw(raw, mailbox=mailboxes["system"])
    assert first.kind == "new_ticket"
    assert ingest_raw(raw, mailbox=mailboxes["system"]).kind == "duplicate"
    stored = db_session.get(Message, first.message_row_id)
    assert stored.message_id.startswith("sha256.")


def test_raw_message_is_kept_in_the_store(demo, db_session):
    _, mailboxes = demo
    raw = enquiry()
    outcome = ingest_raw(raw, mailbox=mailboxes["system"])
    message = db_session.get(Message, outcome.message_row_id)
    assert stores().raw.get(message.raw_sha256) == raw


def test_missing_fields_wait_then_a_reply_completes_and_starts_the_clock(
    demo, db_session, frozen_now
):
    _, mailboxes = demo
    first = ingest_raw(enquiry(MISSING_JA, message_id="<q@x.jp>"), mailbox=mailboxes["system"])
    ticket = db_session.get(Ticket, first.ticket_id)
    assert ticket.status is TicketStatus.AWAITING_INFORMATION
    assert ticket.sla_started_at is None and ticket.sla_due_at is None
    (request,) = _outbox(db_session, "missing_fields")
    body = _parsed(request).get_content()
    assert "機関名" in body and "連絡先" in body and "利用環境" in body
    assert not _outbox(db_session, "ack")

    # The sender answers on Friday 16:30 Tokyo; the clock starts then, in business time.
    answered = frozen_now(datetime(2026, 11, 27, 7, 30, tzinfo=UTC))
    reply = enquiry(
        "> 情報をお知らせください\n機関名：サンプル日本語学校\n電話番号：06-1111-2222\n"
        "Windows 10 の Chrome を使っています",
        subject=f"Re: {_parsed(request)['Subject']}",
        in_reply_to=request.message_id,
    )
    assert ingest_raw(reply, mailbox=mailboxes["system"]).kind == "follow_up"
    assert ticket.status is TicketStatus.NEW
    assert ticket.sla_started_at == answered
    # Fri 16:30 + 480 business minutes: 30 on Friday, then Mon 09:00 + 450 = Mon 16:30.
    assert ticket.first_response_due_at == datetime(2026, 11, 30, 7, 30, tzinfo=UTC)
    assert ticket.awaiting_information_minutes == 2 * 480 - 60 + 450


def test_reply_joins_by_ticket_number_in_the_subject(demo, db_session):
    _, mailboxes = demo
    ticket_id = ingest_raw(enquiry(), mailbox=mailboxes["system"]).ticket_id
    ticket = db_session.get(Ticket, ticket_id)
    follow = enquiry("追加の質問です", subject=f"Re: [{ticket.number}] ログイン")
    outcome = ingest_raw(follow, mailbox=mailboxes["system"])
    assert (outcome.kind, outcome.ticket_id) == ("follow_up", ticket_id)


def test_customer_reply_reopens_a_resolved_ticket(demo, db_session, frozen_now):
    _, mailboxes = demo
    ticket = db_session.get(Ticket, ingest_raw(enquiry(), mailbox=mailboxes["system"]).ticket_id)
    change_status(ticket, TicketStatus.RESOLVED, at=NOW + timedelta(hours=1))
    frozen_now(NOW + timedelta(hours=2))
    ingest_raw(
        enquiry("まだ直りません", subject=f"Re: {ticket.number}"), mailbox=mailboxes["system"]
    )
    assert ticket.status is TicketStatus.OPEN
    assert ticket.resolved_at is None and ticket.sla_due_at is not None


def test_reply_to_a_closed_ticket_opens_a_new_linked_one(demo, db_session):
    _, mailboxes = demo
    old = db_session.get(Ticket, ingest_raw(enquiry(), mailbox=mailboxes["system"]).ticket_id)
    change_status(old, TicketStatus.CLOSED)
    outcome = ingest_raw(enquiry(subject=f"Re: {old.number}"), mailbox=mailboxes["system"])
    assert outcome.kind == "new_ticket" and outcome.ticket_id != old.id
    assert db_session.get(Ticket, outcome.ticket_id).previous_ticket_id == old.id


def test_shared_mailbox_routes_school_reports_to_the_school_desk(demo, db_session):
    desks, mailboxes = demo
    raw = enquiry(
        COMPLETE_JA + "\n日本語教育機関の定期報告について", to="ssw-school@support.example.test"
    )
    ticket = db_session.get(Ticket, ingest_raw(raw, mailbox=mailboxes["ssw-school"]).ticket_id)
    assert ticket.desk is desks["school"]
    plain = enquiry(COMPLETE_JA + "\n特定技能の届出について", to="ssw-school@support.example.test")
    ticket = db_session.get(Ticket, ingest_raw(plain, mailbox=mailboxes["ssw-school"]).ticket_id)
    assert ticket.desk is desks["ssw"]


def test_forbidden_attachment_rejects_the_message_and_tells_the_sender(demo, db_session):
    _, mailboxes = demo
    raw = enquiry(
        attachments=[
            ("report.pdf", samplefiles.pe_executable(), "application/pdf"),
            (
                "table.xlsx",
                samplefiles.xlsx(),
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            ),
        ]
    )
    outcome = ingest_raw(raw, mailbox=mailboxes["system"])
    assert outcome.kind == "refused" and outcome.ticket_id is None
    assert db_session.scalar(select(func.count()).select_from(Ticket)) == 0
    message = db_session.get(Message, outcome.message_row_id)
    assert message.refused
    refused = [a for a in message.attachments if not a.allowed]
    assert [a.filename for a in refused] == ["report.pdf"]
    assert refused[0].storage_key is None and refused[0].reason == "executable_content"
    assert stores().quarantine.exists(message.raw_sha256)
    # The quarantine's copy is a hard link to the raw store's: no second copy on disk.
    quarantined, kept = (
        store.path(message.raw_sha256) for store in (stores().quarantine, stores().raw)
    )
    assert quarantined.stat().st_ino == kept.stat().st_ino
    assert (
        refused[0].sha256
        and stores().quarantine.get(refused[0].sha256) == samplefiles.pe_executable()
    )
    (reply,) = _outbox(db_session, "refused")
    body = _parsed(reply).get_content()
    assert "report.pdf" in body and "table.xlsx" not in body
    assert "Excel ファイル自体にパスワード" in body and "名前を付けて保存" in body


def test_strip_mode_opens_the_ticket_without_the_refused_files(demo, db_session):
    desks, mailboxes = demo
    desks["system"].attachment_action = AttachmentAction.STRIP
    raw = enquiry(
        COMPLETE_EN,
        attachments=[
            ("setup.exe", samplefiles.pe_executable(), "application/octet-stream"),
            ("screen.png", samplefiles.png(), "image/png"),
        ],
    )
    outcome = ingest_raw(raw, mailbox=mailboxes["system"])
    assert outcome.kind == "new_ticket"
    rows = db_session.scalars(
        select(Attachment).where(Attachment.message_id == outcome.message_row_id)
    ).all()
    by_name = {a.filename: a for a in rows}
    assert by_name["screen.png"].allowed and stores().attachments.exists(
        by_name["screen.png"].storage_key
    )
    assert not by_name["setup.exe"].allowed and by_name["setup.exe"].storage_key is None
    assert not stores().attachments.exists(by_name["setup.exe"].sha256)
    body = _parsed(_outbox(db_session, "refused")[0]).get_content()
    assert "setup.exe" in body and "removed" in body


@pytest.mark.parametrize(
    "headers",
    [{"Auto-Submitted": "auto-replied"}, {"Precedence": "bulk"}, {"List-Id": "<list.example>"}],
)
def test_no_automatic_reply_to_automatic_mail(demo, db_session, headers):
    _, mailboxes = demo
    outcome = ingest_raw(enquiry(headers=headers), mailbox=mailboxes["system"])
    assert outcome.kind == "new_ticket"
    assert _outbox(db_session) == []


def test_automatic_replies_per_sender_are_limited(demo, db_session, app):
    _, mailboxes = demo
    limit = app.config["AUTOREPLY_LIMIT_PER_HOUR"]
    for _ in range(limit + 2):
        ingest_raw(enquiry(), mailbox=mailboxes["system"])
    assert len(_outbox(db_session)) == limit


def test_bounce_of_our_ack_joins_its_ticket(demo, db_session):
    from tests.support.mailsamples import dsn_bounce

    _, mailboxes = demo
    ticket_id = ingest_raw(enquiry(), mailbox=mailboxes["system"]).ticket_id
    ack = _outbox(db_session, "ack")[0]
    outcome = ingest_raw(dsn_bounce(ack.message_id), mailbox=mailboxes["system"])
    assert (outcome.kind, outcome.ticket_id) == ("bounce", ticket_id)
    assert db_session.scalar(select(func.count()).select_from(Ticket)) == 1
    assert len(_outbox(db_session)) == 1


def test_unreadable_message_is_kept_as_a_failure_and_can_be_retried(demo, db_session):
    from helpdesk.mail.cli import retry_failure

    _, mailboxes = demo
    assert store_one(b"\x00\x01 not a mail", mailboxes["system"], 7).kind == "failed"
    failure = db_session.scalars(select(IngestFailure)).one()
    assert failure.uid == 7 and "UnreadableMessage" in failure.error
    assert stores().raw.get(failure.raw_sha256) == b"\x00\x01 not a mail"
    assert store_one(b"\x00\x01 not a mail", mailboxes["system"], 8).kind == "duplicate"
    assert retry_failure(failure.id) == "failed" and failure.resolved is False
