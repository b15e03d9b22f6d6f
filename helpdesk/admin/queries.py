"""Select builders for the admin pages."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import selectinload

from helpdesk.extensions import db
from helpdesk.models import (
    Attachment,
    CalendarOverride,
    CannedAnswer,
    Desk,
    IngestFailure,
    Mailbox,
    Message,
    Role,
    RoutingRule,
    Ticket,
    User,
)
from helpdesk.tickets.workflow import FINISHED

QUARANTINE_PAGE = 50


def users() -> Select[User]:
    """Every account: active ones first, by name."""
    return (
        select(User)
        .options(selectinload(User.desks))
        .order_by(User.active.desc(), func.lower(User.name), User.id)
    )


def email_taken(email: str, except_id: int | None = None) -> bool:
    """Whether an account already has this email (case-insensitive)."""
    query = select(User.id).where(func.lower(User.email) == email.strip().lower())
    if except_id is not None:
        query = query.where(User.id != except_id)
    return db.session.scalar(query.limit(1)) is not None


def active_admin_count() -> int:
    """How many active admin accounts there are."""
    query = select(func.count()).select_from(User).where(User.role == Role.ADMIN, User.active)
    return int(db.session.scalar(query) or 0)


def desks() -> Select[Desk]:
    """Every desk, in the order they were set up."""
    return select(Desk).order_by(Desk.id)


def desks_by_id(ids: Iterable[int]) -> list[Desk]:
    """The desks with these ids."""
    wanted = list(ids)
    if not wanted:
        return []
    return list(db.session.scalars(select(Desk).where(Desk.id.in_(wanted)).order_by(Desk.id)))


def desk_slug_taken(slug: str) -> bool:
    """Whether a desk already has this short name."""
    return db.session.scalar(select(Desk.id).where(Desk.slug == slug.strip()).limit(1)) is not None


def unfinished_ticket_count(desk: Desk) -> int:
    """Tickets of a desk that are neither resolved nor closed."""
    query = (
        select(func.count())
        .select_from(Ticket)
        .where(Ticket.desk_id == desk.id, Ticket.status.not_in(FINISHED))
    )
    return db.session.scalar(query) or 0


def mailboxes_defaulting_to(desk: Desk) -> list[str]:
    """Names of the enabled mailboxes whose unrouted mail goes to this desk."""
    query = select(Mailbox.name).where(Mailbox.default_desk_id == desk.id, Mailbox.enabled)
    return list(db.session.scalars(query.order_by(Mailbox.name)))


def active_desk_count() -> int:
    """Desks that are not deactivated."""
    return db.session.scalar(select(func.count()).select_from(Desk).where(Desk.active)) or 0


def overrides(desk: Desk) -> Select[CalendarOverride]:
    """A desk's calendar overrides by date."""
    return (
        select(CalendarOverride)
        .where(CalendarOverride.desk_id == desk.id)
        .order_by(CalendarOverride.day)
    )


def override_on(desk: Desk, day: Any) -> CalendarOverride | None:
    """The desk's override on ``day``, if any."""
    return db.session.scalar(
        select(CalendarOverride).where(
            CalendarOverride.desk_id == desk.id, CalendarOverride.day == day
        )
    )


def mailboxes() -> Select[Mailbox]:
    """Every mailbox by name."""
    return select(Mailbox).options(selectinload(Mailbox.default_desk)).order_by(Mailbox.name)


def mailbox_name_taken(name: str, except_id: int | None = None) -> bool:
    """Whether another mailbox has this name."""
    query = select(Mailbox.id).where(Mailbox.name == name.strip())
    if except_id is not None:
        query = query.where(Mailbox.id != except_id)
    return db.session.scalar(query.limit(1)) is not None


def rules(mailbox: Mailbox) -> Select[RoutingRule]:
    """A mailbox's routing rules in the order the router weighs them."""
    return (
        select(RoutingRule)
        .options(selectinload(RoutingRule.desk))
        .where(RoutingRule.mailbox_id == mailbox.id)
        .order_by(RoutingRule.priority, RoutingRule.id)
    )


def canned_answers() -> Select[CannedAnswer, Desk | None]:
    """Canned answers with their desk (None: all desks), by desk, language and title."""
    return (
        select(CannedAnswer, Desk)
        .outerjoin(Desk, CannedAnswer.desk_id == Desk.id)
        .order_by(Desk.id.is_not(None), Desk.id, CannedAnswer.language, CannedAnswer.title)
    )


def quarantine(before: int | None = None) -> Select[Attachment, Message, Desk | None]:
    """Refused attachments, newest first, with their message and its desk: the ticket's, or
    for a refused message the desk it was meant for."""
    query = (
        select(Attachment, Message, Desk)
        .join(Message, Attachment.message_id == Message.id)
        .outerjoin(Ticket, Message.ticket_id == Ticket.id)
        .outerjoin(Desk, Desk.id == func.coalesce(Ticket.desk_id, Message.desk_id))
        .where(Attachment.allowed.is_(False))
        .order_by(Attachment.id.desc())
        .limit(QUARANTINE_PAGE)
    )
    return query.where(Attachment.id < before) if before is not None else query


def failures() -> Select[IngestFailure, Mailbox | None]:
    """Failed messages: unresolved first, newest first, with their mailbox."""
    return (
        select(IngestFailure, Mailbox)
        .outerjoin(Mailbox, IngestFailure.mailbox_id == Mailbox.id)
        .order_by(IngestFailure.resolved, IngestFailure.created_at.desc(), IngestFailure.id.desc())
        .limit(200)
    )
