"""Notifications to staff: one SLA digest per person per sweep, not one mail per ticket."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import TYPE_CHECKING

from flask import render_template
from flask_babel import ngettext
from sqlalchemy import select

from helpdesk import i18n, outbox
from helpdesk.extensions import db
from helpdesk.models import Role, Ticket, User
from helpdesk.outbox import OutgoingMail
from helpdesk.sla import SlaState

if TYPE_CHECKING:
    from helpdesk.tickets.sla_clock import SweepReport


def recipients_for(ticket: Ticket) -> list[User]:
    """The assignee if there is one, else the desk's active agents."""
    if ticket.assignee is not None and ticket.assignee.active:
        return [ticket.assignee]
    return [u for u in ticket.desk.members if u.active and u.role is Role.AGENT]


def send_sla_digest(report: SweepReport, now: datetime) -> int:
    """Queue one digest mail per person listing their near and breached tickets."""
    state = {tid: SlaState.NEAR for tid in report.near} | {
        tid: SlaState.BREACHED for tid in report.breached
    }
    tickets = db.session.scalars(select(Ticket).where(Ticket.id.in_(list(state)))).all()
    per_user: dict[int, list[Ticket]] = defaultdict(list)
    users: dict[int, User] = {}
    for ticket in tickets:
        for user in recipients_for(ticket):
            per_user[user.id].append(ticket)
            users[user.id] = user
    for user_id, items in per_user.items():
        items.sort(key=lambda t: (state[t.id] is not SlaState.BREACHED, t.sla_due_at or now))
        user = users[user_id]
        lang = user.mail_language
        with i18n.language(lang):
            labels = {tid: i18n.gettext(value) for tid, value in state.items()}
            text = render_template(
                f"mail/sla_digest.{lang}.txt", user=user, tickets=items, state=labels
            )
            subject = ngettext(
                "[SLA] %(num)d ticket near or past its due time",
                "[SLA] %(num)d tickets near or past their due time",
                len(items),
            )
        outbox.enqueue(
            OutgoingMail(
                kind="sla_digest",
                sender=items[0].desk.reply_from,
                recipient=user.email,
                subject=subject,
                text=text,
                automatic=True,
            ),
            None,
            now,
        )
    return len(per_user)
