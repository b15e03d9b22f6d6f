"""Turning a submitted web enquiry into a ticket, exactly as an email would become one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.utils import make_msgid

from helpdesk import audit, clock
from helpdesk.extensions import db
from helpdesk.mail.replies import queue_acknowledgement
from helpdesk.models import Channel, Desk, Direction, Message, Ticket
from helpdesk.outbox import domain_of, may_auto_reply
from helpdesk.tickets import services
from helpdesk.tickets.services import Upload
from mail_ingest.fields import RequiredFields
from mail_ingest.language import detect_language
from mail_ingest.policy import AttachmentOrigin, Verdict


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


def submit(desk: Desk, enquiry: Enquiry, at: datetime | None = None) -> Ticket:
    """Open the ticket, store the question and files, start the clock, queue the ack.

    The files are judged first (the desk's list, always, whatever it does with mail: this is a
    public upload form); a refused file raises AttachmentsRefused before anything is written.
    """
    at = at or clock.now()
    judged = services.judge_uploads(desk, enquiry.uploads)
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
    message = _store_message(ticket, enquiry, judged, at)
    services.start_clock(ticket, at)
    audit.record("web.received", ticket, None, at, message_id=message.message_id)
    if may_auto_reply(ticket.requester_email or "", at):
        queue_acknowledgement(
            ticket,
            to=ticket.requester_email or "",
            subject=ticket.subject,
            in_reply_to=message.message_id,
            at=at,
            requester_name=enquiry.name,
        )
    return ticket


def _store_message(
    ticket: Ticket, enquiry: Enquiry, judged: list[tuple[Upload, Verdict]], at: datetime
) -> Message:
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
    services.store_uploads(message, judged, origin=AttachmentOrigin.WEB)
    db.session.add(message)
    db.session.flush()
    return message
