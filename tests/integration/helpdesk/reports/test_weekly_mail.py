"""The weekly report goes to each manager once, on Monday morning in desk time."""

from datetime import UTC, datetime
from email import message_from_bytes, policy

from sqlalchemy import select

from helpdesk import outbox
from helpdesk.models import OutboxMessage, Role
from helpdesk.reports.mailing import send_weekly_reports

MONDAY_0830_TOKYO = datetime(2026, 11, 29, 23, 30, tzinfo=UTC)
MONDAY_0700_TOKYO = datetime(2026, 11, 29, 22, 0, tzinfo=UTC)
SUNDAY_1000_TOKYO = datetime(2026, 11, 29, 1, 0, tzinfo=UTC)


def test_sent_once_to_each_active_manager_on_monday_morning(db_session, make):
    desk = make.desk()
    manager = make.user(Role.MANAGER)
    make.user(Role.MANAGER, active=False)
    make.user(Role.AGENT, desks=[desk])
    make.ticket(desk=desk, at=datetime(2026, 11, 24, 1, 0, tzinfo=UTC))
    assert send_weekly_reports(SUNDAY_1000_TOKYO) == 0
    assert send_weekly_reports(MONDAY_0700_TOKYO) == 0
    assert send_weekly_reports(MONDAY_0830_TOKYO) == 1
    (mail,) = db_session.scalars(select(OutboxMessage)).all()
    assert mail.recipient == manager.email and mail.kind == "weekly_report"
    message = message_from_bytes(outbox.rendered(mail), policy=policy.default)
    assert "2026-11-23" in message.get_body(("plain",)).get_content()
    (xlsx,) = list(message.iter_attachments())
    assert xlsx.get_filename() == "helpdesk-report-2026-11-23.xlsx"
    assert xlsx.get_content()[:2] == b"PK"
    assert send_weekly_reports(MONDAY_0830_TOKYO) == 0


def test_can_be_turned_off(db_session, make, app, monkeypatch):
    make.user(Role.MANAGER)
    monkeypatch.setitem(app.config, "WEEKLY_REPORT_ENABLED", False)
    assert send_weekly_reports(MONDAY_0830_TOKYO) == 0


def test_queues_the_reports_and_leaves_the_commit_to_its_job(db_session, make):
    make.user(Role.MANAGER)
    db_session.commit()
    assert send_weekly_reports(MONDAY_0830_TOKYO) == 1
    db_session.rollback()  # the job failed after it: nothing was queued
    assert db_session.scalars(select(OutboxMessage)).all() == []
