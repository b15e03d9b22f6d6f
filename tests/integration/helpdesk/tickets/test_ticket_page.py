"""The ticket page: thread, replies by email, notes, status, fields, assignment, presence."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy

from sqlalchemy import select

from helpdesk import audit, outbox
from helpdesk.models import (
    CannedAnswer,
    Channel,
    Direction,
    Mailbox,
    Message,
    MessageRepeat,
    OutboxMessage,
    Ticket,
)
from helpdesk.models.presence import TicketPresence
from helpdesk.outbox import deliver_due
from helpdesk.stores import stores
from helpdesk.tickets.workflow import TicketStatus

from .conftest import NOW


def _outbox(db_session):
    return db_session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()


def test_page_shows_the_thread_with_quotes_folded(staff, enquiry, login_as, client):
    ticket = enquiry(staff.desk)
    login_as(staff.agent)
    page = client.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    assert ticket.number in page and "Thank you, it still fails." in page
    new_part, folded = page.split('<details class="quoted">', 1)
    assert "&gt; Please try again." not in new_part
    assert "Please try again." in folded.split("</details>", 1)[0]
    assert "株式会社サンプル商事" in page
    # SLA clocks with the explanation of the due time (Wed 10:00 + 8 business hours).
    assert "11-26 (Thu) 10:00" in page
    assert "480 business minutes" in page


def test_reply_is_queued_threaded_stops_the_clock_and_is_delivered(
    staff, enquiry, login_as, client, csrf, db_session, app, smtp_sink
):
    ticket = enquiry(staff.desk)
    login_as(staff.agent)
    response = client.post(
        f"/tickets/{ticket.id}/reply",
        data={
            "csrf_token": csrf(),
            "reply-text": "ご連絡ありがとうございます。再度お試しください。",
        },
    )
    assert response.status_code == 302
    db_session.refresh(ticket)
    assert ticket.first_response_at == NOW
    assert ticket.first_response_due_at is None
    assert ticket.status is TicketStatus.AWAITING_CUSTOMER
    (item,) = _outbox(db_session)
    mail = message_from_bytes(outbox.rendered(item), policy=policy.default)
    assert mail["Subject"] == f"Re: [{ticket.number}] {ticket.subject}"
    assert mail["To"] == ticket.requester_email
    assert mail["In-Reply-To"] == f"<enquiry-{ticket.number}@example.co.jp>"
    assert mail["References"] == (
        f"<earlier@example.co.jp> <enquiry-{ticket.number}@example.co.jp>"
    )
    assert "再度お試しください" in mail.get_content()
    outbound = db_session.get(Message, item.message_row_id)
    assert outbound.direction is Direction.OUTBOUND and outbound.author_id == staff.agent.id

    app.config.update(SMTP_HOST=smtp_sink.host, SMTP_PORT=smtp_sink.port)
    try:
        assert deliver_due(NOW + timedelta(seconds=1)).sent == 1
    finally:
        app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=8025)
    (received,) = smtp_sink.wait_for(1)
    assert received.rcpt_tos == [ticket.requester_email]
    assert received.subject == f"Re: [{ticket.number}] {ticket.subject}"


def test_note_is_kept_and_never_sent(staff, enquiry, login_as, client, csrf, db_session):
    ticket = enquiry(staff.desk)
    login_as(staff.agent)
    client.post(
        f"/tickets/{ticket.id}/note",
        data={"csrf_token": csrf(), "note-text": "Called back, no answer."},
    )
    assert _outbox(db_session) == []
    note = db_session.scalar(select(Message).where(Message.direction == Direction.NOTE))
    assert note.text == "Called back, no answer." and note.author_id == staff.agent.id
    assert ticket.first_response_at is None
    page = client.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    assert 'class="message note"' in page and "Called back, no answer." in page


def test_reply_to_a_ticket_without_email_is_refused(staff, login_as, client, csrf, make):
    ticket = make.ticket(staff.desk, requester_email=None, channel=Channel.PHONE)
    login_as(staff.agent)
    response = client.post(
        f"/tickets/{ticket.id}/reply", data={"csrf_token": csrf(), "reply-text": "Hello"}
    )
    assert response.status_code == 422
    assert "no requester email address" in response.get_data(as_text=True)


def test_status_change_and_an_invalid_transition(
    staff, enquiry, login_as, client, csrf, db_session
):
    ticket = enquiry(staff.desk)
    login_as(staff.agent)
    token = csrf()
    client.post(
        f"/tickets/{ticket.id}/status", data={"csrf_token": token, "status-status": "closed"}
    )
    assert ticket.status is TicketStatus.CLOSED
    response = client.post(
        f"/tickets/{ticket.id}/status", data={"csrf_token": token, "status-status": "open"}
    )
    assert response.status_code == 302
    assert ticket.status is TicketStatus.CLOSED
    page = client.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    assert "a ticket cannot go from Closed to Open" in page


def test_priority_assignment_and_desk_move_are_audited(
    staff, enquiry, login_as, client, csrf, db_session, make
):
    ticket = enquiry(staff.desk)
    third = make.desk(name="School desk")
    staff.agent.desks.append(third)
    login_as(staff.agent)
    token = csrf()
    client.post(
        f"/tickets/{ticket.id}/priority", data={"csrf_token": token, "priority-priority": "urgent"}
    )
    client.post(
        f"/tickets/{ticket.id}/assign",
        data={"csrf_token": token, "assign-assignee": str(staff.colleague.id)},
    )
    assert ticket.priority.value == "urgent" and ticket.assignee is staff.colleague
    # Someone outside the desk cannot be given the ticket.
    client.post(
        f"/tickets/{ticket.id}/assign",
        data={"csrf_token": token, "assign-assignee": str(staff.other_agent.id)},
    )
    assert ticket.assignee is staff.colleague
    # Moving to a desk the agent does not work is refused; to their other desk is fine.
    bad = client.post(
        f"/tickets/{ticket.id}/move", data={"csrf_token": token, "move-desk": staff.other_desk.id}
    )
    assert bad.status_code == 400
    client.post(f"/tickets/{ticket.id}/move", data={"csrf_token": token, "move-desk": third.id})
    assert ticket.desk is third and ticket.assignee is None
    page = client.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    history = page[page.index('class="history"') :]
    assert "Agent Aoki: Priority changed: Normal → Urgent" in history
    assert "Agent Aoki: Assignee changed: Unassigned → Colleague Chiba" in history
    # Desks by their names in the reader's language, not their slugs.
    assert "Agent Aoki: Moved to another desk: System operation helpdesk → School desk" in history
    assert "ticket.priority" not in history  # no raw action names
    ja = client.get(f"/tickets/{ticket.id}", headers={"Accept-Language": "ja"})
    history_ja = ja.get_data(as_text=True)
    assert "優先度変更: 通常 → 緊急" in history_ja
    assert "窓口移動: システム操作ヘルプデスク → School desk" in history_ja


def test_completing_the_fields_starts_the_clock(staff, make, login_as, client, csrf, frozen_now):
    ticket = make.ticket(staff.desk, status=TicketStatus.AWAITING_INFORMATION)
    later = frozen_now(NOW + timedelta(hours=2))
    login_as(staff.agent)
    client.post(
        f"/tickets/{ticket.id}/fields",
        data={
            "csrf_token": csrf(),
            "fields-organisation": "Sample School",
            "fields-contact": "06-1111-2222",
            "fields-environment": "macOS 14 Safari 17",
        },
    )
    assert ticket.status is TicketStatus.NEW
    assert ticket.sla_started_at == later
    assert ticket.env_browser_family == "Safari"


def test_canned_answers_are_offered_with_placeholders_filled(
    staff, enquiry, login_as, client, db_session
):
    ticket = enquiry(staff.desk)
    db_session.add(
        CannedAnswer(
            desk_id=staff.desk.id,
            title="受付",
            language="ja",
            body="{requester_name} 様\n受付番号 {ticket_number}\n営業時間: {desk_hours} {unknown}",
        )
    )
    db_session.flush()
    login_as(staff.agent)
    page = client.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    assert (
        f"山田 太郎 様\n受付番号 {ticket.number}\n営業時間: 月〜金曜日の 09:00-17:00 {{unknown}}"
        in page
    )


def test_collision_notice_names_the_other_agent(staff, enquiry, sign_in, client, csrf, db_session):
    ticket = enquiry(staff.desk)
    sign_in(staff.colleague)
    beat = client.post(
        f"/tickets/{ticket.id}/presence",
        data={"activity": "replying"},
        headers={"X-CSRFToken": csrf()},
    )
    assert beat.status_code == 200
    sign_in(staff.agent)
    page = client.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    assert "Colleague Chiba is replying" in page
    answer = client.post(
        f"/tickets/{ticket.id}/presence", headers={"X-CSRFToken": csrf()}
    ).get_json()
    assert answer == {"notices": ["Colleague Chiba is replying"]}
    assert len(db_session.scalars(select(TicketPresence)).all()) == 2


def test_stale_presence_is_not_shown(staff, enquiry, sign_in, client, csrf, frozen_now):
    ticket = enquiry(staff.desk)
    sign_in(staff.colleague)
    client.post(f"/tickets/{ticket.id}/presence", headers={"X-CSRFToken": csrf()})
    frozen_now(NOW + timedelta(minutes=2))
    sign_in(staff.agent)
    assert "Colleague Chiba is" not in client.get(f"/tickets/{ticket.id}").get_data(as_text=True)


def test_phone_ticket_with_all_fields_starts_its_clock(staff, login_as, client, csrf, db_session):
    login_as(staff.agent)
    response = client.post(
        "/tickets/new",
        data={
            "csrf_token": csrf(),
            "desk": staff.desk.id,
            "subject": "電話: 届出の方法",
            "requester_name": "佐藤 花子",
            "requester_email": "sato@example.jp",
            "organisation": "サンプル日本語学校",
            "contact": "06-1111-2222",
            "environment": "Windows 10 Chrome",
            "language": "ja",
            "priority": "normal",
            "question": "届出の方法を知りたい。",
            "record_as": "note",
        },
    )
    assert response.status_code == 302
    ticket = db_session.scalar(select(Ticket).where(Ticket.subject == "電話: 届出の方法"))
    assert response.headers["Location"] == f"/tickets/{ticket.id}"
    assert ticket.channel is Channel.PHONE and ticket.status is TicketStatus.NEW
    assert ticket.sla_started_at == NOW and ticket.first_response_due_at is not None
    (note,) = db_session.scalars(select(Message).where(Message.ticket_id == ticket.id)).all()
    assert note.direction is Direction.NOTE and note.text == "届出の方法を知りたい。"


def test_phone_ticket_missing_fields_waits_and_only_own_desks_are_offered(
    staff, login_as, client, csrf, db_session
):
    login_as(staff.agent)
    page = client.get("/tickets/new").get_data(as_text=True)
    assert staff.desk.name in page and staff.other_desk.name not in page
    data = {
        "csrf_token": csrf(),
        "subject": "Phone call",
        "question": "How do I log in?",
        "language": "en",
        "priority": "normal",
        "record_as": "inbound",
    }
    refused = client.post("/tickets/new", data={**data, "desk": staff.other_desk.id})
    assert refused.status_code == 400 and "Not a valid choice" in refused.get_data(as_text=True)
    client.post("/tickets/new", data={**data, "desk": staff.desk.id})
    ticket = db_session.scalar(select(Ticket).where(Ticket.subject == "Phone call"))
    assert ticket.status is TicketStatus.AWAITING_INFORMATION and ticket.sla_started_at is None


def _reused_and_repeated(ticket, db_session):
    """The ticket's message flagged as reusing a Message-ID, and two other copies of it that
    came in: one polled from a mailbox, one imported from a file."""
    message = db_session.scalars(select(Message).where(Message.ticket_id == ticket.id)).one()
    message.message_id_reused = True
    copy = b"Received: from relay.isp.example\r\nSubject: s\r\n\r\nbody\r\n"
    key = stores().raw.put(copy)
    mailbox = Mailbox(
        name="support",
        address="support@example.test",
        host="imap.example.test",
        username="support",
        secret_env="HELPDESK_TEST_UNUSED",
        default_desk_id=ticket.desk_id,
    )
    db_session.add(mailbox)
    db_session.flush()
    repeats = [
        MessageRepeat(message_id=message.id, raw_sha256=key, mailbox_id=mailbox.id, imap_uid=7),
        MessageRepeat(message_id=message.id, raw_sha256="0" * 64, received_at=NOW),
    ]
    db_session.add_all(repeats)
    db_session.flush()
    return message, repeats, copy


def test_a_reused_message_id_and_the_copies_are_shown_on_the_message(
    staff, enquiry, login_as, client, db_session
):
    ticket = enquiry(staff.desk)
    message, repeats, _copy = _reused_and_repeated(ticket, db_session)
    login_as(staff.agent)
    page = client.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    article = page.split(f'id="message-{message.id}"', 1)[1].split("</article>", 1)[0]
    assert "This sender reused a Message-ID" in article and message.message_id in article
    assert "Copies received again (same Message-ID and content): 2" in article
    assert "support, UID 7" in article and "imported" in article
    assert "/admin/repeats/" not in article  # the raw bytes are for admins
    ja = client.get(f"/tickets/{ticket.id}", headers={"Accept-Language": "ja"})
    text = ja.get_data(as_text=True)
    assert "送信者がMessage-IDを再利用しています" in text
    assert "再受信した同じメール(Message-IDと内容が同一): 2" in text


def test_an_admin_downloads_a_copy_s_raw_bytes(staff, enquiry, login_as, client, db_session):
    ticket = enquiry(staff.desk)
    _message, repeats, copy = _reused_and_repeated(ticket, db_session)
    login_as(staff.admin)
    page = client.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    assert f"/admin/repeats/{repeats[0].id}/raw" in page
    response = client.get(f"/admin/repeats/{repeats[0].id}/raw")
    assert response.status_code == 200 and response.get_data() == copy
    assert response.mimetype == "application/octet-stream"
    response.close()
    assert client.get(f"/admin/repeats/{repeats[1].id}/raw").status_code == 404  # not stored
    login_as(staff.agent)
    assert client.get(f"/admin/repeats/{repeats[0].id}/raw").status_code == 403


def _history(page: str) -> list[str]:
    """The history's lines as an agent reads them: tags dropped, spaces collapsed."""
    section = page.split('<section class="history">', 1)[1].split("</section>", 1)[0]
    items = re.findall(r"<li>(.*?)</li>", section, re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", item).split()) for item in items]


def test_history_reads_as_sentences(staff, enquiry, login_as, client, csrf, db_session):
    """Field names by their labels, no Python lists, no whole Message-IDs in the lines: a
    mail's line points at its message and keeps the Message-ID in its tooltip."""
    ticket = enquiry(staff.desk)
    message = db_session.scalars(select(Message).where(Message.ticket_id == ticket.id)).one()
    message.message_id = "CAF=" + "x" * 120 + "@mail.example.co.jp"
    audit.record("mail.received", ticket, None, NOW, message_id=message.message_id)
    audit.record("ticket.fields", ticket, None, NOW, filled=["environment"])
    # The sweep records a breach with the due time as it was stored (UTC).
    due = datetime(2026, 11, 25, 0, 30, tzinfo=UTC)
    audit.record("sla.breached", ticket, None, NOW, due=str(due))
    # A mail whose message is not in this ticket's thread: its Message-ID, shortened.
    lost = "lost-" + "y" * 300 + "@example.org"
    audit.record("mail.follow_up", ticket, None, NOW, message_id=lost)
    db_session.flush()
    login_as(staff.agent)
    token = csrf()
    fields = {"fields-organisation": "Sample School", "fields-contact": "06-1111-2222"}
    client.post(
        f"/tickets/{ticket.id}/fields",
        data={"csrf_token": token, "fields-environment": ticket.environment, **fields},
    )
    client.post(f"/tickets/{ticket.id}/reply", data={"csrf_token": token, "reply-text": "Hello"})
    reply = db_session.scalars(select(Message).where(Message.direction == Direction.OUTBOUND)).one()

    page = client.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    assert _history(page) == [
        "2026-11-25 10:00 system: Ticket opened (Email, status: New)",
        "2026-11-25 10:00 system: Mail received",
        "2026-11-25 10:00 system: Required fields updated: Environment (OS / browser)",
        "2026-11-25 10:00 system: SLA breached (due 2026-11-25 09:30)",
        "2026-11-25 10:00 system: Requester replied by mail (Message-ID lost-yyyyyyyyyyyyyyyyyyyyyyyyyy…)",
        "2026-11-25 10:00 Agent Aoki: Required fields updated: Organisation, Contact",
        "2026-11-25 10:00 Agent Aoki: Status changed: New → Awaiting customer",
        "2026-11-25 10:00 Agent Aoki: Reply sent",
    ]
    history = page.split('<section class="history">', 1)[1].split("</section>", 1)[0]
    assert (
        f'<a href="#message-{message.id}" title="Message-ID: {message.message_id}">'
        "Mail received</a>"
    ) in history
    assert f'<span title="Message-ID: {lost}">' in history
    assert f'<a href="#message-{reply.id}">Reply sent</a>' in history
    assert "filled" not in history and "[" not in history

    ja = client.get(f"/tickets/{ticket.id}", headers={"Accept-Language": "ja"})
    assert _history(ja.get_data(as_text=True))[2:6] == [
        "2026-11-25 10:00 システム: 必須項目の更新: 利用環境(OS・ブラウザ)",
        "2026-11-25 10:00 システム: SLA期限超過 (期限 2026-11-25 09:30)",
        "2026-11-25 10:00 システム: 問い合わせ者からの返信(メール) (Message-ID lost-yyyyyyyyyyyyyyyyyyyyyyyyyy…)",
        "2026-11-25 10:00 Agent Aoki: 必須項目の更新: 機関名、連絡先",
    ]
