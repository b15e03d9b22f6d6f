"""One raw message into the helpdesk: a new ticket, a follow-up, a refusal, or a bounce.

Called inside a savepoint by the poller's sink (or the file importer); flushes, never commits.
The raw bytes are in the raw store before any row refers to them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime

from flask import current_app
from sqlalchemy import exists, select

from helpdesk import audit, clock, outbox
from helpdesk.extensions import db
from helpdesk.mail.replies import queue_reply, refused_files
from helpdesk.models import (
    Attachment,
    Channel,
    Desk,
    Direction,
    IngestFailure,
    Mailbox,
    Message,
    Ticket,
)
from helpdesk.models.desk import AttachmentAction
from helpdesk.stores import stores
from helpdesk.tickets import services
from helpdesk.tickets.numbers import find_numbers
from helpdesk.tickets.workflow import TicketStatus
from mail_ingest.pipeline import Analysis, JudgedAttachment, analyse, judge_attachments
from mail_ingest.routing import Rule

log = logging.getLogger(__name__)


class UnreadableMessage(ValueError):
    """The message could not be understood at all; it is kept as a failure."""


@dataclass(frozen=True)
class Outcome:
    """What became of one message."""

    kind: str  # new_ticket | follow_up | refused | bounce | duplicate
    ticket_id: int | None = None
    message_row_id: int | None = None


def ingest_raw(
    raw: bytes, *, mailbox: Mailbox | None, uid: int | None = None, at: datetime | None = None
) -> Outcome:
    """Turn one raw message into rows (flushed, not committed)."""
    at = at or clock.now()
    analysis = analyse(
        raw,
        rules=routing_rules(mailbox),
        default_desk=default_desk(mailbox).slug,
        own_addresses=own_addresses(),
        max_bytes=current_app.config["MAX_MESSAGE_BYTES"],
    )
    if already_stored(mailbox, analysis):
        return Outcome("duplicate")
    stores().raw.put(raw, sync=False)
    if not analysis.parsed.ok:
        raise UnreadableMessage("; ".join(analysis.parsed.errors) or "not an email message")
    if analysis.parsed.is_bounce:
        return _file_bounce(analysis, mailbox, uid, at)
    ticket = find_thread(analysis)
    if ticket is not None and ticket.status is not TicketStatus.CLOSED:
        return _follow_up(ticket, analysis, mailbox, uid, at)
    return _new_enquiry(analysis, mailbox, uid, at, previous=ticket)


def routing_rules(mailbox: Mailbox | None) -> list[Rule]:
    """The mailbox's routing rules in the router's terms."""
    if mailbox is None:
        return []
    return [
        Rule(
            desk=rule.desk.slug,
            recipient=rule.recipient,
            keywords=tuple(rule.keywords or ()),
            sender_domain=rule.sender_domain,
            priority=rule.priority,
        )
        for rule in mailbox.rules
    ]


def default_desk(mailbox: Mailbox | None) -> Desk:
    """Where mail goes when no rule matches: the mailbox's default, else the first desk."""
    if mailbox is not None:
        return mailbox.default_desk
    return (
        db.session.scalars(
            select(Desk).where(Desk.accepts_email.is_(True)).order_by(Desk.id)
        ).first()
        or db.session.scalars(select(Desk).order_by(Desk.id)).one()
    )


def own_addresses() -> set[str]:
    """Our desks' and mailboxes' addresses: mail from these never gets an automatic reply."""
    desks = db.session.scalars(select(Desk.reply_from)).all()
    mailboxes = db.session.scalars(select(Mailbox.address)).all()
    return {a.lower() for a in [*desks, *mailboxes] if a}


def already_stored(mailbox: Mailbox | None, analysis: Analysis) -> bool:
    """Whether this message (same Message-ID in this mailbox, or same bytes) is already in."""
    mailbox_id = mailbox.id if mailbox is not None else None
    same_id = select(Message.id).where(
        Message.mailbox_id.is_(mailbox_id)
        if mailbox_id is None
        else Message.mailbox_id == mailbox_id,
        Message.message_id == analysis.message_id,
    )
    same_bytes = select(Message.id).where(Message.raw_sha256 == analysis.parsed.sha256)
    failed = select(IngestFailure.id).where(
        IngestFailure.raw_sha256 == analysis.parsed.sha256, IngestFailure.resolved.is_(False)
    )
    return bool(db.session.scalar(select(exists(same_id) | exists(same_bytes) | exists(failed))))


def find_thread(analysis: Analysis) -> Ticket | None:
    """The ticket a message belongs to: by number in the subject, else by its references."""
    prefix = current_app.config["TICKET_NUMBER_PREFIX"]
    for number in find_numbers(analysis.parsed.subject, prefix):
        ticket = db.session.scalar(select(Ticket).where(Ticket.number == number))
        if ticket is not None:
            return ticket
    ids = [i for i in (analysis.parsed.in_reply_to, *analysis.parsed.references) if i]
    if not ids:
        return None
    ticket_id = db.session.scalar(
        select(Message.ticket_id)
        .where(Message.message_id.in_(ids), Message.ticket_id.is_not(None))
        .order_by(Message.id.desc())
        .limit(1)
    )
    return db.session.get(Ticket, ticket_id) if ticket_id is not None else None


def _desk_for(analysis: Analysis, mailbox: Mailbox | None) -> Desk:
    desk = db.session.scalar(select(Desk).where(Desk.slug == analysis.route.desk))
    if desk is None or not desk.active or not desk.accepts_email:
        return default_desk(mailbox)
    return desk


def _judge(desk: Desk, analysis: Analysis) -> list[JudgedAttachment]:
    judged = judge_attachments(
        analysis.parsed.attachments,
        forbidden_extensions=desk.forbidden_extension_set,
        max_bytes=current_app.config["MAX_ATTACHMENT_BYTES"],
    )
    if desk.applies_attachment_policy:
        return judged
    return [j for j in judged if j.verdict.reason == "too_large"] + [
        JudgedAttachment(j.attachment, _allowed(j))
        for j in judged
        if j.verdict.reason != "too_large"
    ]


def _allowed(item: JudgedAttachment) -> object:

    return replace(
        item.verdict, allowed=True, reason="ok", detail="policy not applied on this desk"
    )


def _new_enquiry(
    analysis: Analysis,
    mailbox: Mailbox | None,
    uid: int | None,
    at: datetime,
    previous: Ticket | None,
) -> Outcome:
    desk = previous.desk if previous is not None and previous.desk.accepts_email else None
    desk = desk or _desk_for(analysis, mailbox)
    judged = _judge(desk, analysis)
    refused = [j for j in judged if not j.verdict.allowed]
    if refused and desk.attachment_action is AttachmentAction.REJECT:
        return _reject(desk, analysis, mailbox, uid, at, judged)
    parsed = analysis.parsed
    needs_fields = desk.requires_fields and not analysis.fields.complete
    ticket = services.open_ticket(
        desk,
        subject=parsed.subject or "(no subject)",
        requester_email=parsed.from_address,
        requester_name=parsed.from_name,
        channel=Channel.EMAIL,
        status=TicketStatus.AWAITING_INFORMATION if needs_fields else TicketStatus.NEW,
        language=analysis.language.reply_language,
        at=at,
    )
    ticket.language_code = analysis.language.code
    ticket.previous_ticket = previous
    services.apply_fields(ticket, analysis.fields, at=at)
    message = _store_message(analysis, mailbox, uid, at, ticket, judged)
    if not needs_fields:
        services.start_clock(ticket, at)
    _acknowledge(ticket, analysis, at, refused, needs_fields)
    audit.record("mail.received", ticket, None, at, message_id=analysis.message_id)
    return Outcome("new_ticket", ticket.id, message.id)


def _follow_up(
    ticket: Ticket, analysis: Analysis, mailbox: Mailbox | None, uid: int | None, at: datetime
) -> Outcome:
    judged = _judge(ticket.desk, analysis)
    message = _store_message(analysis, mailbox, uid, at, ticket, judged)
    services.apply_fields(ticket, analysis.fields, at=at)
    ticket.updated_at = at
    if not services.complete_if_ready(ticket, at=at):
        services.customer_replied(ticket, at=at)
    refused = [j for j in judged if not j.verdict.allowed]
    if refused and _may_reply(analysis, at):
        _reply("refused", ticket.desk, ticket, analysis, at, refused=refused_files(refused))
    audit.record("mail.follow_up", ticket, None, at, message_id=analysis.message_id)
    return Outcome("follow_up", ticket.id, message.id)


def _reject(
    desk: Desk,
    analysis: Analysis,
    mailbox: Mailbox | None,
    uid: int | None,
    at: datetime,
    judged: list[JudgedAttachment],
) -> Outcome:
    """Refuse the whole message: keep it (quarantined) and tell the sender why."""
    message = _store_message(analysis, mailbox, uid, at, None, judged)
    message.refused = True
    stores().quarantine.put(stores().raw.get(analysis.parsed.sha256), sync=False)
    refused = [j for j in judged if not j.verdict.allowed]
    if _may_reply(analysis, at):
        _reply("refused", desk, None, analysis, at, refused=refused_files(refused))
    audit.record(
        "mail.refused",
        None,
        None,
        at,
        message_id=analysis.message_id,
        desk=desk.slug,
        files=[j.attachment.filename for j in refused],
    )
    return Outcome("refused", None, message.id)


def _file_bounce(
    analysis: Analysis, mailbox: Mailbox | None, uid: int | None, at: datetime
) -> Outcome:
    """A delivery report for one of our messages joins that message's ticket."""
    parsed = analysis.parsed
    ticket_id = None
    if parsed.bounced_message_id:
        ticket_id = db.session.scalar(
            select(Message.ticket_id).where(Message.message_id == parsed.bounced_message_id)
        )
    ticket = db.session.get(Ticket, ticket_id) if ticket_id is not None else None
    message = _store_message(analysis, mailbox, uid, at, ticket, [])
    message.auto_generated = True
    if ticket is not None:
        audit.record("mail.bounce", ticket, None, at, recipients=list(parsed.bounced_recipients))
    return Outcome("bounce", ticket_id, message.id)


def _store_message(
    analysis: Analysis,
    mailbox: Mailbox | None,
    uid: int | None,
    at: datetime,
    ticket: Ticket | None,
    judged: list[JudgedAttachment],
) -> Message:
    parsed = analysis.parsed
    message = Message(
        ticket_id=ticket.id if ticket is not None else None,
        mailbox_id=mailbox.id if mailbox is not None else None,
        direction=Direction.INBOUND,
        message_id=analysis.message_id,
        in_reply_to=parsed.in_reply_to,
        references=list(parsed.references),
        from_address=parsed.from_address,
        from_name=parsed.from_name,
        to=list(parsed.to),
        cc=list(parsed.cc),
        subject=parsed.subject[:500],
        text=parsed.text,
        html=parsed.html,
        raw_sha256=parsed.sha256,
        imap_uid=uid,
        auto_generated=not analysis.may_auto_reply and analysis.no_reply_reason != "",
        oversized=parsed.oversized,
        received_at=at,
        created_at=at,
    )
    message.attachments = [_attachment_row(item) for item in judged]
    db.session.add(message)
    db.session.flush()
    return message


def _attachment_row(item: JudgedAttachment) -> Attachment:
    """Allowed files go to the servable store; refused ones only to the quarantine."""
    part, verdict = item.attachment, item.verdict
    key = None
    if part.content and not part.omitted:
        store = stores().attachments if verdict.allowed else stores().quarantine
        key = store.put(part.content, sync=False)
    return Attachment(
        filename=part.filename,
        declared_type=part.declared_type[:200],
        detected_type=verdict.detected_type[:200],
        size=part.size or len(part.content),
        sha256=key or "",
        storage_key=key if verdict.allowed else None,
        allowed=verdict.allowed,
        reason=verdict.reason,
        detail=verdict.detail,
        inline=part.inline,
        content_id=part.content_id,
        origin=part.origin,
    )


def _may_reply(analysis: Analysis, at: datetime) -> bool:
    sender = analysis.parsed.from_address
    if not analysis.may_auto_reply or not sender:
        return False
    if not outbox.may_auto_reply(sender, at):
        log.info("automatic reply to %s suppressed: hourly limit reached", sender)
        return False
    return True


def _acknowledge(
    ticket: Ticket,
    analysis: Analysis,
    at: datetime,
    refused: list[JudgedAttachment],
    needs_fields: bool,
) -> None:
    if not _may_reply(analysis, at):
        return
    if needs_fields:
        missing = list(analysis.fields.missing)
        _reply("missing_fields", ticket.desk, ticket, analysis, at, missing=missing)
    else:
        from helpdesk.tickets import sla

        due_text, due_reason = sla.due_for_requester(ticket, ticket.language)
        _reply("ack", ticket.desk, ticket, analysis, at, due_text=due_text, due_reason=due_reason)
    if refused and _may_reply(analysis, at):
        _reply("refused", ticket.desk, ticket, analysis, at, refused=refused_files(refused))


def _reply(
    kind: str,
    desk: Desk,
    ticket: Ticket | None,
    analysis: Analysis,
    at: datetime,
    **context: object,
) -> None:
    parsed = analysis.parsed
    queue_reply(
        kind,
        desk=desk,
        ticket=ticket,
        to=parsed.reply_to or parsed.from_address or "",
        lang=ticket.language if ticket is not None else analysis.language.reply_language,
        subject=parsed.subject,
        in_reply_to=parsed.message_id,
        references=parsed.references,
        at=at,
        requester_name=parsed.from_name,
        **context,
    )
