"""Quarantine: refused attachments listed with their facts; the raw message for admins only."""

import pytest
from sqlalchemy import select

from helpdesk.mail.ingest import ingest_raw
from helpdesk.models import Attachment, Mailbox, Role
from helpdesk.seed import seed_demo
from tests.support import samplefiles
from tests.support.enquiries import enquiry


@pytest.fixture
def refused(db_session):
    """A message to the shared mailbox, rejected for a program disguised as a PDF."""
    seed_demo()
    mailbox = db_session.scalar(select(Mailbox).where(Mailbox.name == "system"))
    raw = enquiry(attachments=[("report.pdf", samplefiles.pe_executable(), "application/pdf")])
    outcome = ingest_raw(raw, mailbox=mailbox)
    assert outcome.kind == "refused"
    attachment = db_session.scalar(select(Attachment).where(Attachment.allowed.is_(False)))
    return attachment, raw


def test_list_shows_the_refused_file_and_its_message(client, admin, refused):
    attachment, _ = refused
    page = client.get("/admin/quarantine").get_data(as_text=True)
    assert "report.pdf" in page and "executable_content" in page
    assert attachment.sha256 in page and attachment.detected_type in page
    assert attachment.message.subject in page
    assert "System operation helpdesk" in page  # the desk the rejected mail was meant for
    assert "whole message rejected" in page


def test_admin_downloads_the_raw_message_as_an_inert_attachment(client, admin, refused):
    attachment, raw = refused
    response = client.get(f"/admin/quarantine/{attachment.id}/raw")
    assert response.status_code == 200
    assert response.mimetype == "application/octet-stream"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.get_data() == raw
    response.close()


@pytest.mark.parametrize("role", [Role.AGENT, Role.MANAGER])
def test_others_cannot_download(client, make, login_as, refused, role):
    attachment, _ = refused
    login_as(make.user(role))
    assert client.get(f"/admin/quarantine/{attachment.id}/raw").status_code == 403


def test_anonymous_cannot_download(client, refused):
    attachment, _ = refused
    response = client.get(f"/admin/quarantine/{attachment.id}/raw")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_allowed_attachment_is_not_served_here(client, admin, refused, db_session):
    attachment, _ = refused
    attachment.allowed = True
    db_session.flush()
    assert client.get(f"/admin/quarantine/{attachment.id}/raw").status_code == 404


def test_a_refused_message_keeps_the_desk_its_rule_chose(client, admin, db_session, frozen_now):
    """Routed by a rule to another desk than the mailbox's default, a refused message stays
    that desk's: on the quarantine page and in that desk's report."""
    from datetime import timedelta

    from helpdesk import clock
    from helpdesk.models import Desk, Message
    from helpdesk.reports.services import ReportRequest, build_report

    seed_demo()
    mailbox = db_session.scalar(select(Mailbox).where(Mailbox.name == "ssw-school"))
    school = db_session.scalar(select(Desk).where(Desk.slug == "school"))
    assert mailbox.default_desk is not school
    raw = enquiry(
        subject="学校の在籍管理について",
        to=mailbox.address,
        attachments=[("申請書.pdf", samplefiles.pe_executable(), "application/pdf")],
    )
    assert ingest_raw(raw, mailbox=mailbox).kind == "refused"
    message = db_session.scalar(select(Message).where(Message.refused.is_(True)))
    assert message.ticket_id is None and message.desk_id == school.id
    page = client.get("/admin/quarantine").get_data(as_text=True)
    assert school.name in page

    today = clock.to_desk_time(clock.now(), "Asia/Tokyo").date()
    period = (today - timedelta(days=1), today + timedelta(days=1))
    for desk, expected in ((school, 1), (mailbox.default_desk, 0)):
        report = build_report(ReportRequest(*period, (desk.id,), "en"))
        counted = sum(row.cells[-1] for row in report.tables["refused_attachments"].rows)
        assert counted == expected, desk.slug
