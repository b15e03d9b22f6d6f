"""Who may see what: role decorators and desk-scoped queries."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, ParamSpec, TypeVar, cast

import flask_login
from flask import abort
from flask_login import current_user
from sqlalchemy import Select, select

from helpdesk.extensions import db
from helpdesk.models import Desk, Role, Ticket, User

P = ParamSpec("P")
R = TypeVar("R")

RANK = {Role.AGENT: 1, Role.MANAGER: 2, Role.ADMIN: 3}


def has_role(user: User, role: Role) -> bool:
    """Whether ``user`` has ``role`` or a higher one."""
    return RANK[user.role] >= RANK[role]


def login_required(view: Callable[P, R]) -> Callable[P, R]:
    """Flask-Login's decorator, with the view's type kept (Flask-Login has no type hints)."""
    return cast("Callable[P, R]", flask_login.login_required(view))


def role_required(role: Role) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorator: signed in, with at least ``role``; otherwise 403."""

    def decorator(view: Callable[P, R]) -> Callable[P, R]:
        @wraps(view)
        @login_required
        def wrapped(*args: P.args, **kwargs: P.kwargs) -> R:
            if not has_role(current_user, role):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def visible_desk_ids(user: User) -> list[int] | None:
    """Desk ids the user may read; None means every desk (managers and admins)."""
    if has_role(user, Role.MANAGER):
        return None
    return [desk.id for desk in user.desks]


def scope_tickets(query: Select[Any], user: User) -> Select[Any]:
    """Restrict a ticket query to the desks the user may read."""
    desk_ids = visible_desk_ids(user)
    if desk_ids is None:
        return query
    return query.where(Ticket.desk_id.in_(desk_ids))


def visible_desks(user: User) -> Select[Desk]:
    """The desks the user may read, by name."""
    query = select(Desk).where(Desk.active.is_(True)).order_by(Desk.id)
    desk_ids = visible_desk_ids(user)
    return query if desk_ids is None else query.where(Desk.id.in_(desk_ids))


def readable_desks(user: User) -> list[Desk]:
    """The rows of :func:`visible_desks`; an agent's come from their loaded desks, no query."""
    if visible_desk_ids(user) is None:
        return list(db.session.scalars(visible_desks(user)))
    return sorted((desk for desk in user.desks if desk.active), key=lambda desk: desk.id)


def ticket_or_404(ticket_id: int, user: User) -> Ticket:
    """The ticket if this user may see it; another desk's ticket is a 404, not a 403."""
    query = scope_tickets(select(Ticket).where(Ticket.id == ticket_id), user)
    ticket: Ticket | None = db.session.scalar(query)
    if ticket is None:
        abort(404)
    return ticket


def can_work_desk(user: User, desk_id: int) -> bool:
    """Whether the user may change tickets of this desk (managers read other desks only)."""
    if user.role is Role.ADMIN:
        return True
    return any(desk.id == desk_id for desk in user.desks)
