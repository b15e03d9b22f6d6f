"""The weekly report, mailed to managers on Monday morning (desk time) through the outbox."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import func, select

from helpdesk import clock, outbox
from helpdesk.extensions import db
from helpdesk.models import Desk, OutboxMessage, Role, User
from helpdesk.outbox import OutgoingMail
from helpdesk.reports.services import weekly_report

log = logging.getLogger(__name__)

KIND = "weekly_report"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _week_start(local: datetime) -> datetime:
    monday = local.date().toordinal() - local.weekday()
    return datetime.combine(datetime.fromordinal(monday).date(), time(), local.tzinfo)


def send_weekly_reports(now: datetime | None = None) -> int:
    """On Monday from the configured hour, queue last week's report to each active manager
    once; returns how many mails were queued (0 on other days and once sent). The job
    commits: the next run counts the queued mail as sent."""
    config = current_app.config
    now = now or clock.now()
    if not config["WEEKLY_REPORT_ENABLED"]:
        return 0
    local = now.astimezone(ZoneInfo(config["TIMEZONE"]))
    if local.weekday() != 0 or local.hour < config["WEEKLY_REPORT_HOUR"]:
        return 0
    sent = db.session.scalar(
        select(func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.kind == KIND, OutboxMessage.created_at >= _week_start(local))
    )
    if sent:
        return 0
    managers = db.session.scalars(
        select(User).where(User.role == Role.MANAGER, User.active.is_(True)).order_by(User.id)
    ).all()
    sender = config["REPORT_SENDER"] or db.session.scalar(
        select(Desk.reply_from).order_by(Desk.id).limit(1)
    )
    reports: dict[str, OutgoingMail] = {}
    for manager in managers:
        lang = manager.mail_language
        if lang not in reports:
            rendered = weekly_report(now, lang)
            filename = f"helpdesk-report-{_week_start(local).date() - timedelta(days=7)}.xlsx"
            reports[lang] = OutgoingMail(
                kind=KIND,
                sender=sender or "",
                recipient="",
                subject=rendered.subject,
                text=rendered.text,
                attachments=[(filename, XLSX, rendered.xlsx)],
            )
        outbox.enqueue(replace(reports[lang], recipient=manager.email), None, now)
    log.info("weekly report queued for %d manager(s)", len(managers))
    return len(managers)
