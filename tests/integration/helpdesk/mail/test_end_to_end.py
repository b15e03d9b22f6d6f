"""Through the real Dovecot mailbox and SMTP server: refusals, strip mode, missing fields."""

from datetime import UTC, datetime
from email import message_from_bytes, policy

import pytest
from sqlalchemy import select

from helpdesk import clock
from helpdesk.extensions import db
from helpdesk.mail.polling import poll_mailbox
from helpdesk.models import Attachment, Desk, Mailbox, Message, Ticket
from helpdesk.models.desk import AttachmentAction
from helpdesk.outbox import deliver_due
from helpdesk.tickets.workflow import TicketStatus
from tests.support import samplefiles
from tests.support.enquiries import COMPLETE_EN, MISSING_JA, enquiry

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def mail_app(desk_app, configure, mailbox_account, smtp_sink):
    configure(mailbox_account)
    desk_app.config.update(SMTP_HOST=smtp_sink.host, SMTP_PORT=smtp_sink.port)
    return desk_app


def _poll_and_send(app):
    with app.app_context():
        mailbox = db.session.scalar(select(Mailbox).where(Mailbox.name == "system"))
        report = poll_mailbox(mailbox)
        assert report.ok, report.error
        deliver_due()
        db.session.remove()
    return report


def _set_action(app, action):
    with app.app_context():
        desk = db.session.scalar(select(Desk).where(Desk.slug == "system"))
        desk.attachment_action = action
        db.session.commit()


def test_refused_files_are_named_in_the_reply_and_no_ticket_opens(
    mail_app, dovecot, mailbox_account, smtp_sink
):
    dovecot.append(
        mailbox_account.address,
        enquiry(
            COMPLETE_EN,
            subject="Files",
            attachments=[
                ("invoice.pdf.exe", samplefiles.pe_executable(), "application/pdf"),
                ("report.xlsx", samplefiles.xlsm(), XLSX),
                ("protected.xlsx", samplefiles.xlsx_encrypted(), XLSX),
                ("scan.pdf", samplefiles.pdf(), "application/pdf"),
            ],
        ),
    )
    report = _poll_and_send(mail_app)
    assert report.result.outcomes == {"refused": 1}
    (reply,) = smtp_sink.wait_for(1)
    body = reply.message.get_content()
    assert reply.rcpt_tos == ["yamada@example.co.jp"]
    assert "invoice.pdf.exe" in body and "report.xlsx" in body
    assert "protected.xlsx" not in body and "scan.pdf" not in body
    assert "set the password on the Excel file itself" in body and "Save As" in body
    assert reply.message["Auto-Submitted"] == "auto-replied"
    with mail_app.app_context():
        assert db.session.scalars(select(Ticket)).all() == []
        refused = db.session.scalars(select(Attachment).where(Attachment.allowed.is_(False))).all()
        assert sorted(a.filename for a in refused) == ["invoice.pdf.exe", "report.xlsx"]
        assert {a.reason for a in refused} == {"executable_content", "macro_document"}


def test_strip_mode_keeps_only_allowed_files_on_the_ticket(
    mail_app, dovecot, mailbox_account, smtp_sink
):
    _set_action(mail_app, AttachmentAction.STRIP)
    dovecot.append(
        mailbox_account.address,
        enquiry(
            COMPLETE_EN,
            subject="Strip",
            attachments=[
                ("tools.zip", samplefiles.zip_archive(), "application/zip"),
                ("photo.jpg", samplefiles.jpeg(), "image/jpeg"),
            ],
        ),
    )
    assert _poll_and_send(mail_app).result.outcomes == {"new_ticket": 1}
    kinds = sorted(m.message["Subject"].split("]")[0] for m in smtp_sink.wait_for(2))
    assert kinds == ["[Attachments refused", "[Received"]
    with mail_app.app_context():
        ticket = db.session.scalars(select(Ticket)).one()
        files = db.session.scalars(
            select(Attachment).join(Message).where(Message.ticket_id == ticket.id)
        ).all()
        servable = [a.filename for a in files if a.storage_key]
        assert servable == ["photo.jpg"]
        assert [a.filename for a in files if not a.allowed] == ["tools.zip"]


def test_missing_fields_are_asked_for_and_the_answer_starts_the_clock(
    mail_app, dovecot, mailbox_account, smtp_sink
):
    dovecot.append(mailbox_account.address, enquiry(MISSING_JA, subject="操作方法"))
    _poll_and_send(mail_app)
    (request,) = smtp_sink.wait_for(1)
    text = request.message.get_content()
    assert "機関名" in text and "連絡先" in text and "利用環境" in text
    with mail_app.app_context():
        ticket = db.session.scalars(select(Ticket)).one()
        assert ticket.status is TicketStatus.AWAITING_INFORMATION and ticket.sla_started_at is None
        number = ticket.number
    assert number in request.message["Subject"]

    answer = enquiry(
        "【機関名】サンプル日本語学校\n【連絡先】06-1111-2222\n【利用環境】iPhone の Safari\n\n"
        "> " + text.replace("\n", "\n> "),
        subject=f"Re: {request.message['Subject']}",
        in_reply_to=request.message["Message-ID"].strip("<>"),
    )
    dovecot.append(mailbox_account.address, answer)
    arrival = datetime(2026, 11, 27, 7, 30, tzinfo=UTC)  # Friday 16:30 in Tokyo
    clock.set_now_source(lambda: arrival)
    try:
        assert _poll_and_send(mail_app).result.outcomes == {"follow_up": 1}
    finally:
        clock.set_now_source(None)
    with mail_app.app_context():
        ticket = db.session.scalar(select(Ticket).where(Ticket.number == number))
        assert ticket.status is TicketStatus.NEW and ticket.desk.slug == "system"
        assert ticket.organisation == "サンプル日本語学校"
        assert ticket.env_os_family == "iOS" and ticket.env_browser_family == "Safari"
        assert ticket.sla_started_at == arrival
        # 480 business minutes: 30 on Friday, then Monday 09:00 + 450 = 16:30 Tokyo.
        assert ticket.first_response_due_at == datetime(2026, 11, 30, 7, 30, tzinfo=UTC)
    assert len(smtp_sink.messages) == 1  # no second request once complete
    assert (
        message_from_bytes(request.raw, policy=policy.default)["Auto-Submitted"] == "auto-replied"
    )
