"""Ticket operations. Services flush; the request, job or command commits once."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import current_app
from flask_babel import gettext
from sqlalchemy import select

from helpdesk import audit, clock, i18n, outbox
from helpdesk.extensions import db
from helpdesk.models import (
    Attachment,
    CannedAnswer,
    Channel,
    Desk,
    Direction,
    Message,
    Priority,
    StatusPeriod,
    Ticket,
    User,
)
from helpdesk.tickets import workflow
from helpdesk.tickets.numbers import next_ticket_number
from helpdesk.tickets.workflow import TicketStatus
from mail_ingest.environment import normalise_environment
from mail_ingest.fields import FIELD_NAMES, RequiredFields, merge
from mail_ingest.filenames import shown_name
from mail_ingest.policy import AttachmentOrigin, Verdict, judge


def open_ticket(
    desk: Desk,
    *,
    subject: str,
    requester_email: str | None,
    requester_name: str | None = None,
    channel: Channel = Channel.EMAIL,
    priority: Priority = Priority.NORMAL,
    status: TicketStatus = TicketStatus.NEW,
    language: str = "ja",
    actor: User | None = None,
    at: datetime | None = None,
    number: str | None = None,
    flush: bool = True,
    **columns: Any,
) -> Ticket:
    """Create a ticket with its number and first status period; ``columns`` set more of its
    fields. Mail ingest passes numbers it took for a whole batch and ``flush=False``, leaving
    the insert to the batch's one flush."""
    at = at or clock.now()
    if number is None:
        year = clock.to_desk_time(at, desk.timezone).year  # type: ignore[union-attr]
        number = next_ticket_number(db.session(), year, current_app.config["TICKET_NUMBER_PREFIX"])
    ticket = Ticket(
        number=number,
        desk=desk,
        subject=subject[:500],
        requester_email=requester_email,
        requester_name=requester_name,
        channel=channel,
        priority=priority,
        status=status,
        language=language,
        created_at=at,
        updated_at=at,
        **columns,
    )
    ticket.status_periods.append(StatusPeriod(status=status, started_at=at))
    db.session.add(ticket)
    if flush:
        db.session.flush()
    audit.record("ticket.opened", ticket, actor, at, status=status.value, channel=channel.value)
    return ticket


def change_status(
    ticket: Ticket, target: TicketStatus, *, actor: User | None = None, at: datetime | None = None
) -> None:
    """Move a ticket to ``target`` if the workflow allows it; raises InvalidTransition."""
    at = at or clock.now()
    previous = ticket.status
    workflow.transition(previous, target)
    _close_period(ticket, at)
    ticket.status = target
    ticket.status_periods.append(StatusPeriod(status=target, started_at=at))
    ticket.updated_at = at
    if target is TicketStatus.RESOLVED:
        ticket.resolved_at = at
    elif target is TicketStatus.CLOSED:
        ticket.closed_at = at
    elif previous is TicketStatus.RESOLVED:
        ticket.resolved_at = None
    db.session.flush()
    audit.record("ticket.status", ticket, actor, at, old=previous.value, new=target.value)
    if ticket.sla_started_at is not None:
        from helpdesk.tickets import sla_clock

        sla_clock.on_status_change(ticket, previous, at)


def _close_period(ticket: Ticket, at: datetime) -> None:
    for period in ticket.status_periods:
        if period.ended_at is None:
            period.ended_at = at


def apply_fields(
    ticket: Ticket, fields: RequiredFields, *, actor: User | None = None, at: datetime | None = None
) -> list[str]:
    """Fill the ticket's missing enquiry fields from ``fields``; returns the names filled."""
    known = RequiredFields(ticket.organisation, ticket.contact, ticket.environment)
    merged = merge(known, fields)
    filled = [name for name in known.missing if getattr(merged, name) is not None]
    for name in filled:
        setattr(ticket, name, str(getattr(merged, name))[:300])
    if "environment" in filled:
        set_environment(ticket, ticket.environment or "")
    if filled:
        audit.record("ticket.fields", ticket, actor, at, filled=filled)
    return filled


def set_environment(ticket: Ticket, text: str) -> None:
    """Store the environment as written and in its normalised form."""
    env = normalise_environment(text)
    ticket.environment = text[:300] or None
    ticket.env_os_family = env.os_family
    ticket.env_os_version = env.os_version
    ticket.env_browser_family = env.browser_family
    ticket.env_browser_version = env.browser_version


def complete_if_ready(ticket: Ticket, *, actor: User | None = None, at: datetime) -> bool:
    """Move a ticket awaiting information to "new" once it has all three fields."""
    if ticket.status is not TicketStatus.AWAITING_INFORMATION or not ticket.has_required_fields:
        return False
    change_status(ticket, TicketStatus.NEW, actor=actor, at=at)
    start_clock(ticket, at)
    return True


def start_clock(ticket: Ticket, at: datetime) -> None:
    """Start the SLA clock: the enquiry is complete and the desk owes an answer from now."""
    from helpdesk.tickets import sla_clock

    if ticket.sla_started_at is None:
        ticket.sla_started_at = at
        ticket.fields_completed_at = at
        if ticket.created_at < at:
            ticket.awaiting_information_minutes = sla_clock.business_minutes(
                ticket.desk, ticket.created_at, at
            )
    sla_clock.refresh(ticket, at)


def customer_replied(ticket: Ticket, *, at: datetime) -> None:
    """The requester wrote again: reopen if resolved or waiting on them, restart the clock."""
    from helpdesk.tickets import sla_clock

    target = workflow.after_customer_reply(ticket.status)
    if target is not None and target is not ticket.status:
        change_status(ticket, target, at=at)
    if ticket.first_response_at is not None and ticket.status in workflow.CLOCK_RUNNING:
        sla_clock.start_next_response(ticket, at)
    sla_clock.refresh(ticket, at)


# --- The agents' operations (web UI) -------------------------------------------------------


class ServiceError(ValueError):
    """An agent's request that the helpdesk refuses, with a message to show them."""


@dataclass(frozen=True)
class Upload:
    """A file attached by an agent (reply, note) or a requester (the web form); ``filename`` is
    the name as shown, ``original_filename`` the one given when that had to be cleaned."""

    filename: str
    content: bytes
    content_type: str = "application/octet-stream"
    original_filename: str | None = None

    def __post_init__(self) -> None:
        if shown_name(self.filename) != self.filename:
            object.__setattr__(self, "original_filename", self.filename)
            object.__setattr__(self, "filename", shown_name(self.filename))


@dataclass(frozen=True)
class RefusedUpload:
    """A file refused by the attachment policy, and why (the policy's reason and detail)."""

    filename: str
    reason: str
    detail: str = ""

    @property
    def reason_text(self) -> str:
        """Why, in the current language."""
        return i18n.reason_text(self.reason, self.detail)


class AttachmentsRefused(ServiceError):
    """One or more of the agent's files may not be sent."""

    def __init__(self, refused: list[RefusedUpload]) -> None:
        names = ", ".join(f"{item.filename}: {item.reason_text}" for item in refused)
        super().__init__(gettext("These files cannot be attached: %(files)s", files=names))
        self.refused = refused


@dataclass
class BulkOutcome:
    """What a bulk change did: how many tickets changed and which ones were refused."""

    changed: int = 0
    refused: list[str] = field(default_factory=list)


def judge_uploads(desk: Desk, uploads: Sequence[Upload]) -> list[tuple[Upload, Verdict]]:
    """Judge every upload with the desk's policy; raise AttachmentsRefused if any fails."""
    forbidden = desk.forbidden_extension_set
    limit = current_app.config["MAX_ATTACHMENT_BYTES"]
    judged, refused = [], []
    for upload in uploads:
        verdict = judge(
            upload.filename, upload.content, forbidden_extensions=forbidden, max_bytes=limit
        )
        if verdict.allowed:
            judged.append((upload, verdict))
            continue
        refused.append(RefusedUpload(upload.filename, verdict.reason, verdict.detail))
    if refused:
        raise AttachmentsRefused(refused)
    return judged


def store_uploads(
    message: Message,
    judged: list[tuple[Upload, Verdict]],
    *,
    origin: AttachmentOrigin = AttachmentOrigin.AGENT,
) -> None:
    """Keep the allowed files in the attachment store, as rows of ``message``."""
    from helpdesk.stores import stores

    for upload, verdict in judged:
        if upload.original_filename is not None:
            record_renamed(message.ticket, upload.original_filename, upload.filename)
        key = stores().attachments.put(upload.content)
        message.attachments.append(
            Attachment(
                filename=upload.filename[:500],
                declared_type=upload.content_type[:200],
                detected_type=verdict.detected_type[:200],
                size=len(upload.content),
                sha256=key,
                storage_key=key,
                allowed=True,
                reason=verdict.reason,
                detail=verdict.detail,
                origin=origin,
            )
        )


def record_renamed(ticket: Ticket | None, original: str, shown: str) -> None:
    """Keep in the audit the name a file was given, when it is shown without the characters
    that disguised it."""
    audit.record("attachment.renamed", ticket, None, original=original, shown=shown)


def _require_open(ticket: Ticket) -> None:
    if ticket.status is TicketStatus.CLOSED:
        raise ServiceError(
            gettext("%(number)s is closed; it cannot be changed.", number=ticket.number)
        )


def _thread_headers(ticket: Ticket) -> tuple[str | None, list[str]]:
    """In-Reply-To and References for a reply: the requester's latest message."""
    last = db.session.scalar(
        select(Message)
        .where(Message.ticket_id == ticket.id, Message.direction == Direction.INBOUND)
        .order_by(Message.received_at.desc(), Message.id.desc())
        .limit(1)
    )
    if last is None or not last.message_id:
        return None, []
    references = [*(last.references or [])[-10:], last.message_id]
    return last.message_id, references


def reply(
    ticket: Ticket,
    agent: User,
    text: str,
    attachments: Sequence[Upload] = (),
    at: datetime | None = None,
) -> Message:
    """Answer the requester by email: outbox mail, outbound message, response clock, status."""
    from helpdesk.tickets import sla_clock

    at = at or clock.now()
    _require_open(ticket)
    if not ticket.requester_email:
        raise ServiceError(
            gettext("%(number)s has no requester email address to reply to.", number=ticket.number)
        )
    judged = judge_uploads(ticket.desk, attachments)
    body = text.strip() + "\n"
    files = [
        (upload.filename, verdict.detected_type or "application/octet-stream", upload.content)
        for upload, verdict in judged
    ]
    in_reply_to, references = _thread_headers(ticket)
    desk = ticket.desk
    mail = outbox.OutgoingMail(
        kind="reply",
        sender=desk.reply_from,
        sender_name=desk.name_in(ticket.language),
        recipient=ticket.requester_email,
        subject=f"Re: [{ticket.number}] {ticket.subject}",
        text=body,
        in_reply_to=in_reply_to,
        references=references,
        attachments=files,
    )
    item = outbox.enqueue(mail, ticket, at)
    message = db.session.get(Message, item.message_row_id)
    assert message is not None  # enqueue just wrote it
    message.author_id = agent.id
    store_uploads(message, judged)
    sla_clock.record_response(ticket, at)
    target = workflow.after_agent_reply(ticket.status)
    if target is not ticket.status:
        change_status(ticket, target, actor=agent, at=at)
    ticket.updated_at = at
    audit.record("ticket.reply", ticket, agent, at, message_id=message.id)
    db.session.flush()
    return message


def add_note(
    ticket: Ticket,
    agent: User,
    text: str,
    attachments: Sequence[Upload] = (),
    at: datetime | None = None,
) -> Message:
    """Add an internal note; notes are never sent."""
    at = at or clock.now()
    judged = judge_uploads(ticket.desk, attachments)
    note = Message(
        ticket_id=ticket.id,
        direction=Direction.NOTE,
        from_name=agent.name,
        author_id=agent.id,
        subject="",
        text=text.strip(),
        received_at=at,
        created_at=at,
    )
    store_uploads(note, judged)
    db.session.add(note)
    ticket.updated_at = at
    db.session.flush()
    audit.record("ticket.note", ticket, agent, at, message_id=note.id)
    return note


def set_status(
    ticket: Ticket, target: TicketStatus, agent: User, at: datetime | None = None
) -> None:
    """An agent changes the status; an incomplete enquiry cannot start its clock this way."""
    at = at or clock.now()
    if target is ticket.status:
        return
    change_status(ticket, target, actor=agent, at=at)
    complete = ticket.has_required_fields or not ticket.desk.requires_fields
    if ticket.sla_started_at is None and target in workflow.CLOCK_RUNNING and complete:
        start_clock(ticket, at)


def set_priority(
    ticket: Ticket, priority: Priority, agent: User, at: datetime | None = None
) -> None:
    """Change the priority; the SLA targets (and so the due times) may change with it."""
    from helpdesk.tickets import sla_clock

    at = at or clock.now()
    if priority is ticket.priority:
        return
    _require_open(ticket)
    old = ticket.priority.value
    audit.record("ticket.priority", ticket, agent, at, old=old, new=priority.value)
    ticket.priority = priority
    ticket.updated_at = at
    if ticket.sla_started_at is not None:
        sla_clock.refresh(ticket, at)
    db.session.flush()


def assign(ticket: Ticket, assignee: User | None, agent: User, at: datetime | None = None) -> None:
    """Give the ticket to a member of its desk (None: unassign)."""
    at = at or clock.now()
    if assignee is not None and ticket.desk not in assignee.desks:
        raise ServiceError(
            gettext(
                "%(name)s does not work the desk %(desk)s.",
                name=assignee.name,
                desk=ticket.desk.name_in(i18n.current_language()),
            )
        )
    if (assignee.id if assignee else None) == ticket.assignee_id:
        return
    previous = ticket.assignee.name if ticket.assignee else None
    ticket.assignee = assignee
    ticket.updated_at = at
    audit.record(
        "ticket.assigned", ticket, agent, at, old=previous, new=assignee.name if assignee else None
    )
    db.session.flush()


def move_to_desk(ticket: Ticket, desk: Desk, agent: User, at: datetime | None = None) -> None:
    """Move the ticket to another desk; its calendar and targets now apply."""
    from helpdesk.tickets import sla_clock

    at = at or clock.now()
    if desk.id == ticket.desk_id:
        return
    _require_open(ticket)
    previous = ticket.desk
    ticket.desk = desk
    if ticket.assignee is not None and desk not in ticket.assignee.desks:
        ticket.assignee = None
    ticket.updated_at = at
    audit.record("ticket.moved", ticket, agent, at, old=previous.slug, new=desk.slug)
    if ticket.sla_started_at is not None:
        sla_clock.refresh(ticket, at)
    db.session.flush()


def update_fields(
    ticket: Ticket, agent: User, fields: RequiredFields, at: datetime | None = None
) -> bool:
    """Set the enquiry's fields as the agent wrote them (an empty one clears it); start the
    clock once complete."""
    at = at or clock.now()
    changed = [
        name
        for name in FIELD_NAMES
        if (getattr(fields, name) or "").strip() != (getattr(ticket, name) or "")
    ]
    ticket.organisation = (fields.organisation or "").strip()[:300] or None
    ticket.contact = (fields.contact or "").strip()[:300] or None
    if "environment" in changed:
        set_environment(ticket, (fields.environment or "").strip())
    if changed:
        ticket.updated_at = at
        audit.record("ticket.fields", ticket, agent, at, changed=changed)
    db.session.flush()
    return complete_if_ready(ticket, actor=agent, at=at)


@dataclass(frozen=True)
class PhoneEnquiry:
    """A phone enquiry as an agent logs it: the question, who asked, the enquiry's fields,
    and whether the question is kept as an internal note rather than the requester's words."""

    subject: str
    question: str
    as_note: bool = False
    requester_name: str | None = None
    requester_email: str | None = None
    fields: RequiredFields = RequiredFields()
    language: str = "ja"
    priority: Priority = Priority.NORMAL


def open_phone_ticket(
    desk: Desk, agent: User, enquiry: PhoneEnquiry, at: datetime | None = None
) -> Ticket:
    """Log a phone enquiry by hand; the clock starts once the required fields are known."""
    at = at or clock.now()
    given = enquiry.fields
    complete = bool(given.organisation and given.contact and given.environment)
    complete = complete or not desk.requires_fields
    ticket = open_ticket(
        desk,
        subject=enquiry.subject,
        requester_email=(enquiry.requester_email or "").strip().lower() or None,
        requester_name=enquiry.requester_name or None,
        channel=Channel.PHONE,
        priority=enquiry.priority,
        status=TicketStatus.NEW if complete else TicketStatus.AWAITING_INFORMATION,
        language=enquiry.language,
        actor=agent,
        at=at,
    )
    ticket.organisation = (given.organisation or "").strip()[:300] or None
    ticket.contact = (given.contact or "").strip()[:300] or None
    if given.environment:
        set_environment(ticket, given.environment.strip())
    message = Message(
        ticket_id=ticket.id,
        direction=Direction.NOTE if enquiry.as_note else Direction.INBOUND,
        from_name=agent.name if enquiry.as_note else enquiry.requester_name,
        from_address=None if enquiry.as_note else ticket.requester_email,
        author_id=agent.id if enquiry.as_note else None,
        subject=enquiry.subject[:500],
        text=enquiry.question.strip(),
        received_at=at,
        created_at=at,
    )
    db.session.add(message)
    db.session.flush()
    if complete:
        start_clock(ticket, at)
    return ticket


def bulk_update(
    tickets: Sequence[Ticket],
    agent: User,
    *,
    assignee: User | None = None,
    unassign: bool = False,
    status: TicketStatus | None = None,
    at: datetime | None = None,
) -> BulkOutcome:
    """Assign and/or change the status of several tickets; refusals are reported, not raised.
    Each ticket changes in a savepoint: a refused one is left as it was, not half changed."""
    at = at or clock.now()
    outcome = BulkOutcome()
    for ticket in tickets:
        try:
            with db.session.begin_nested():
                if assignee is not None or unassign:
                    assign(ticket, assignee, agent, at)
                if status is not None:
                    set_status(ticket, status, agent, at)
        except ServiceError as error:
            outcome.refused.append(f"{ticket.number}: {error}")
            continue
        except workflow.InvalidTransition as error:
            outcome.refused.append(f"{ticket.number}: {refused_transition(error)}")
            continue
        outcome.changed += 1
    return outcome


def refused_transition(error: workflow.InvalidTransition) -> str:
    """Why a status change was refused, in the current language."""
    return str(
        gettext(
            "a ticket cannot go from %(current)s to %(target)s",
            current=i18n.gettext(error.current.value),
            target=i18n.gettext(error.target.value),
        )
    )


_PLACEHOLDER = re.compile(r"\{(ticket_number|requester_name|desk_hours)\}")


def expand_canned(answer: CannedAnswer, ticket: Ticket) -> str:
    """A canned answer's body with {ticket_number}, {requester_name} and {desk_hours} filled."""
    from helpdesk.mail.replies import hours_text

    lang = "ja" if answer.language == "ja" else "en"
    values = {
        "ticket_number": ticket.number,
        "requester_name": ticket.requester_name or ticket.requester_email or "",
        "desk_hours": hours_text(ticket.desk, lang),
    }
    return _PLACEHOLDER.sub(lambda match: values[match.group(1)], answer.body)
