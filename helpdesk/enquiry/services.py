"""Turning a submitted web enquiry into a ticket, exactly as an email would become one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.utils import make_msgid

from flask import current_app

from helpdesk import audit, clock
from helpdesk.extensions import db
from helpdesk.mail.replies import queue_reply
from helpdesk.models import Channel, Desk, Direction, Message, Ticket
from helpdesk.outbox import domain_of, may_auto_reply
from helpdesk.tickets import services, sla
from mail_ingest.fields import RequiredFields
from mail_ingest.language import detect_language
from mail_ingest.policy import DEFAULT_FORBIDDEN_EXTENSIONS, Verdict, judge


@dataclass(frozen=True)
class Upload:
    """A file from the form."""

    filename: str
    content_type: str
    content: bytes


@dataclass(frozen=True)
class Enquiry:
    """What the form collected."""

    name: str
    email: str
    organisation: str
    contact: str
    environment: str
    subject: str
    question: str
    uploads: Sequence[Upload] = ()


def judge_uploads(desk: Desk, uploads: Sequence[Upload]) -> list[tuple[Upload, Verdict]]:
    """The attachment policy's verdict on each upload (the desk's list and size limit)."""
    limit = current_app.config["MAX_ATTACHMENT_BYTES"]
    forbidden = desk.forbidden_extensions
    if forbidden is None:
        forbidden = list(DEFAULT_FORBIDDEN_EXTENSIONS)
    # Always applied here, whatever the desk says about mail: this is a public upload form.
    return [
        (u, judge(u.filename, u.content, forbidden_extensions=forbidden, max_bytes=limit))
        for u in uploads
    ]


def submit(desk: Desk, enquiry: Enquiry, at: datetime | None = None) -> Ticket:
    """Open the ticket, store the question and files, start the clock, queue the ack."""
    at = at or clock.now()
    language = detect_language(f"{enquiry.subject}\n{enquiry.question[:2000]}")
    ticket = services.open_ticket(
        desk,
        subject=enquiry.subject,
        requester_email=enquiry.email.strip().lower(),
        requester_name=enquiry.name,
        channel=Channel.WEB,
        language=language.reply_language,
        at=at,
    )
    ticket.language_code = language.code
    services.apply_fields(
        ticket,
        RequiredFields(enquiry.organisation, enquiry.contact, enquiry.environment),
        at=at,
    )
    message = _store_message(ticket, enquiry, at)
    services.start_clock(ticket, at)
    audit.record("web.received", ticket, None, at, message_id=message.message_id)
    if may_auto_reply(ticket.requester_email or "", at):
        due_text, due_reason = sla.due_for_requester(ticket, ticket.language)
        queue_reply(
            "ack",
            desk=desk,
            ticket=ticket,
            to=ticket.requester_email or "",
            lang=ticket.language,
            subject=ticket.subject,
            in_reply_to=message.message_id,
            at=at,
            requester_name=enquiry.name,
            due_text=due_text,
            due_reason=due_reason,
        )
    return ticket


def _store_message(ticket: Ticket, enquiry: Enquiry, at: datetime) -> Message:
    """The question as the ticket's first inbound message, with the allowed files."""
    message = Message(
        ticket_id=ticket.id,
        direction=Direction.INBOUND,
        message_id=make_msgid("web", domain=domain_of(ticket.desk.reply_from)).strip("<>"),
        from_address=ticket.requester_email,
        from_name=enquiry.name,
        to=[ticket.desk.reply_from],
        subject=enquiry.subject,
        text=enquiry.question,
        received_at=at,
        created_at=at,
    )
    for upload, verdict in judge_uploads(ticket.desk, enquiry.uploads):
        if not verdict.allowed:
            continue  # the view refuses the form before this; kept for safety
        services.keep_allowed_file(
            message,
            upload.filename,
            upload.content,
            verdict,
            origin="web",
            declared_type=upload.content_type,
        )
    db.session.add(message)
    db.session.flush()
    return message
