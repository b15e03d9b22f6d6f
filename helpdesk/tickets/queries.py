"""Ticket queries as Select builders, and keyset pages of a queue."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, select, tuple_
from sqlalchemy.orm import joinedload, load_only, selectinload
from sqlalchemy.orm.interfaces import LoaderOption

from helpdesk.access import scope_tickets
from helpdesk.extensions import db
from helpdesk.models import (
    Attachment,
    AuditEvent,
    CannedAnswer,
    Desk,
    Direction,
    Mailbox,
    Message,
    MessageRepeat,
    Priority,
    Role,
    Ticket,
    User,
)
from helpdesk.models.presence import PresenceActivity, TicketPresence
from helpdesk.models.types import row_id
from helpdesk.tickets.workflow import FINISHED, TicketStatus

PAGE_SIZE = 50
# What a queue or search row shows of a ticket (helpdesk.tickets.display.queue_rows); loading
# only these spares converting forty columns, a dozen of them datetimes, on every row.
LISTED_COLUMNS = (
    Ticket.id,
    Ticket.number,
    Ticket.desk_id,
    Ticket.status,
    Ticket.priority,
    Ticket.subject,
    Ticket.requester_name,
    Ticket.requester_email,
    Ticket.assignee_id,
    Ticket.sla_due_at,
    Ticket.sla_state,
)


@dataclass(frozen=True)
class QueueFilters:
    """What an agent narrowed a queue to; None means any."""

    status: TicketStatus | None = None
    priority: Priority | None = None
    assignee_id: int | None = None
    unassigned: bool = False
    language: str | None = None
    awaiting_information: bool = False


@dataclass(frozen=True)
class Cursor:
    """Where a queue page ends: the last row's due time (None sorts last) and id."""

    due: datetime | None
    id: int

    def encode(self) -> str:
        """Compact URL form: microseconds since the epoch (or "n") and the id."""
        if self.due is None:
            return f"n.{self.id}"
        micros = int(self.due.timestamp() * 1_000_000)
        return f"{micros}.{self.id}"

    @classmethod
    def decode(cls, value: str | None) -> Cursor | None:
        """Parse :meth:`encode`'s output; anything malformed means the first page."""
        if not value:
            return None
        due_part, _, id_part = value.partition(".")
        try:
            ticket_id = int(id_part)
            due = (
                None
                if due_part == "n"
                else datetime.fromtimestamp(int(due_part) / 1_000_000, tz=UTC)
            )
        except (ValueError, OverflowError, OSError):
            return None
        if row_id(ticket_id) is None:
            return None
        return cls(due, ticket_id)


@dataclass(frozen=True)
class QueuePage:
    """One page of a queue and where the next one starts."""

    tickets: list[Ticket]
    next_cursor: Cursor | None


def queue(
    user: User,
    desk_id: int | None = None,
    *,
    mine: bool = False,
    filters: QueueFilters | None = None,
) -> Select[Any]:
    """Tickets of the user's queue (unfinished unless a status is chosen), unordered."""
    filters = filters or QueueFilters()
    query = select(Ticket)
    if filters.awaiting_information:
        query = query.where(Ticket.status == TicketStatus.AWAITING_INFORMATION)
    elif filters.status is not None:
        query = query.where(Ticket.status == filters.status)
    if filters.status is None or filters.status not in FINISHED:
        query = query.where(Ticket.status.not_in(list(FINISHED)))
    if desk_id is not None:
        query = query.where(Ticket.desk_id == desk_id)
    if mine:
        query = query.where(Ticket.assignee_id == user.id)
    if filters.priority is not None:
        query = query.where(Ticket.priority == filters.priority)
    if filters.unassigned:
        query = query.where(Ticket.assignee_id.is_(None))
    elif filters.assignee_id is not None:
        query = query.where(Ticket.assignee_id == filters.assignee_id)
    if filters.language:
        query = query.where(Ticket.language == filters.language)
    return scope_tickets(query, user)


def _with_due(query: Select[Any], after: Cursor | None) -> Select[Any]:
    """Rows with a due time after the cursor, due first."""
    query = query.where(Ticket.sla_due_at.is_not(None))
    if after is not None:
        query = query.where(tuple_(Ticket.sla_due_at, Ticket.id) > (after.due, after.id))
    return query.order_by(Ticket.sla_due_at, Ticket.id)


def _without_due(query: Select[Any], after: Cursor | None) -> Select[Any]:
    """Rows with no due time (they sort last), by id."""
    query = query.where(Ticket.sla_due_at.is_(None))
    if after is not None and after.due is None:
        query = query.where(Ticket.id > after.id)
    # Ordering by the (all-NULL) due time too lets the partial queue indexes give the order.
    return query.order_by(Ticket.sla_due_at, Ticket.id)


def queue_page(base: Select[Any], after: Cursor | None, size: int = PAGE_SIZE) -> QueuePage:
    """A keyset page of ``base`` ordered by due time (nulls last) then id; never OFFSET."""
    options = listed()
    rows: list[Ticket] = []
    if after is None or after.due is not None:
        with_due = _with_due(base, after).options(*options).limit(size + 1)
        rows = list(db.session.scalars(with_due))
    if len(rows) <= size:
        rest = _without_due(base, after).options(*options).limit(size + 1 - len(rows))
        rows.extend(db.session.scalars(rest))
    if len(rows) <= size:
        return QueuePage(rows, None)
    last = rows[size - 1]
    return QueuePage(rows[:size], Cursor(last.sla_due_at, last.id))


def listed() -> tuple[LoaderOption, ...]:
    """Loader options for tickets shown as rows: their columns, and assignees in one query.

    No loader for Ticket.desk: the views load the user's desks first, so each row finds its
    desk in the session without a query.
    """
    return (load_only(*LISTED_COLUMNS), selectinload(Ticket.assignee))


def thread(ticket: Ticket) -> Select[Message]:
    """The ticket's messages in order, with their attachments (same query) and authors.

    Joined rows repeat the message: read the result with ``.unique()``.
    """
    return (
        select(Message)
        .where(Message.ticket_id == ticket.id)
        .options(joinedload(Message.attachments), selectinload(Message.author))
        .order_by(Message.received_at, Message.id)
    )


def repeats(message_ids: Sequence[int]) -> Select[MessageRepeat, str | None]:
    """The other copies of these messages that came in (same Message-ID and content, other
    bytes), in the order they came, with the name of the mailbox each came to."""
    return (
        select(MessageRepeat, Mailbox.name)
        .outerjoin(Mailbox, Mailbox.id == MessageRepeat.mailbox_id)
        .where(MessageRepeat.message_id.in_(message_ids))
        .order_by(MessageRepeat.received_at, MessageRepeat.id)
    )


def last_inbound(ticket: Ticket) -> Select[Message]:
    """The requester's latest message on the ticket."""
    return (
        select(Message)
        .where(Message.ticket_id == ticket.id)
        .where(Message.direction == Direction.INBOUND)
        .order_by(Message.received_at.desc(), Message.id.desc())
        .limit(1)
    )


def history(ticket: Ticket) -> Select[AuditEvent, str | None]:
    """The ticket's audit events, oldest first, with the actor's name."""
    return (
        select(AuditEvent, User.name)
        .outerjoin(User, User.id == AuditEvent.actor_id)
        .where(AuditEvent.ticket_id == ticket.id)
        .order_by(AuditEvent.created_at, AuditEvent.id)
    )


def desks_by_slug(slugs: Iterable[str]) -> Select[Desk]:
    """The desks of these slugs (a history names desks by slug)."""
    return select(Desk).where(Desk.slug.in_(list(slugs)))


def canned_answers(desk: Desk) -> Select[CannedAnswer]:
    """The desk's canned answers and the shared ones (no desk)."""
    return (
        select(CannedAnswer)
        .where((CannedAnswer.desk_id == desk.id) | CannedAnswer.desk_id.is_(None))
        .order_by(CannedAnswer.language, CannedAnswer.title)
    )


def desk_members(desk: Desk) -> Select[User]:
    """Active users who work this desk, by name."""
    return (
        select(User)
        .where(User.active.is_(True), User.desks.any(Desk.id == desk.id))
        .order_by(User.name)
    )


def members_of(desk_ids: list[int]) -> Select[User]:
    """Active users who work any of these desks, by name."""
    return (
        select(User)
        .where(User.active.is_(True), User.desks.any(Desk.id.in_(desk_ids)))
        .order_by(User.name, User.id)
    )


def assignable_users(user: User, workable: Sequence[Desk] | None = None) -> list[User]:
    """Active members of the desks the user works (``workable``, else looked up), by name."""
    if workable is None:
        workable = workable_desk_list(user)
    if not workable:
        return []
    return list(db.session.scalars(members_of([desk.id for desk in workable])))


def workable_desks(user: User) -> Select[Desk]:
    """Active desks the user may change tickets on (their own; every desk for admins)."""
    query = select(Desk).where(Desk.active.is_(True)).order_by(Desk.id)
    if user.role is Role.ADMIN:
        return query
    return query.where(Desk.members.any(User.id == user.id))


def workable_desk_list(user: User) -> list[Desk]:
    """The rows of :func:`workable_desks`; a non-admin's come from their loaded desks."""
    if user.role is Role.ADMIN:
        return list(db.session.scalars(workable_desks(user)))
    return sorted((desk for desk in user.desks if desk.active), key=lambda desk: desk.id)


def presence(ticket: Ticket, since: datetime, excluding: User) -> Select[str, PresenceActivity]:
    """Names and activities of the other agents on this ticket since ``since``."""
    return (
        select(User.name, TicketPresence.activity)
        .select_from(TicketPresence)
        .join(User, User.id == TicketPresence.user_id)
        .where(TicketPresence.ticket_id == ticket.id, TicketPresence.seen_at >= since)
        .where(TicketPresence.user_id != excluding.id)
        .order_by(User.name)
    )


def tickets_by_id(ticket_ids: Sequence[int], user: User) -> Select[Ticket]:
    """The tickets of these ids that the user may see."""
    return scope_tickets(select(Ticket).where(Ticket.id.in_(ticket_ids)), user)


def visible_ticket_id(ticket_id: int, user: User) -> Select[int]:
    """The ticket's id if the user may see it (no row if not)."""
    return scope_tickets(select(Ticket.id).where(Ticket.id == ticket_id), user)


def attachment(attachment_id: int, user: User) -> Select[Attachment]:
    """The file if it belongs to a ticket the user may see."""
    query = (
        select(Attachment)
        .join(Message, Message.id == Attachment.message_id)
        .join(Ticket, Ticket.id == Message.ticket_id)
        .where(Attachment.id == attachment_id)
    )
    return scope_tickets(query, user)


def message(message_id: int, user: User) -> Select[Message]:
    """The message if it belongs to a ticket the user may see."""
    query = (
        select(Message).join(Ticket, Ticket.id == Message.ticket_id).where(Message.id == message_id)
    )
    return scope_tickets(query, user)
