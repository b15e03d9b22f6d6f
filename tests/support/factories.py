"""Factory callables for tests: desks, users, tickets."""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any

from helpdesk.auth.services import create_user
from helpdesk.models import Desk, Role, Ticket, User
from helpdesk.tickets.services import open_ticket

_counter = itertools.count(1)
PASSWORD = "correct horse battery staple"


class Factories:
    """Builds model objects with sensible defaults; every keyword can be overridden."""

    def __init__(self, session: Any) -> None:
        self.session = session

    def desk(self, **values: Any) -> Desk:
        """A desk with a unique slug."""
        n = next(_counter)
        values.setdefault("slug", f"desk-{n}")
        values.setdefault("name", f"Desk {n}")
        values.setdefault("reply_from", f"desk-{n}@support.example.test")
        desk = Desk(**values)
        self.session.add(desk)
        self.session.flush()
        return desk

    def user(self, role: Role = Role.AGENT, desks: list[Desk] | None = None, **values: Any) -> User:
        """An account whose password is ``PASSWORD``."""
        n = next(_counter)
        email = values.pop("email", f"user{n}@support.example.test")
        name = values.pop("name", f"User {n}")
        user = create_user(email, name, PASSWORD, role, desks or [])
        for key, value in values.items():
            setattr(user, key, value)
        self.session.flush()
        return user

    def ticket(self, desk: Desk | None = None, at: datetime | None = None, **values: Any) -> Ticket:
        """A ticket opened on ``desk`` (a new desk if none)."""
        desk = desk or self.desk()
        subject = values.pop("subject", "Cannot log in to the e-notification system")
        requester = values.pop("requester_email", "requester@example.org")
        ticket = open_ticket(desk, subject=subject, requester_email=requester, at=at, **values)
        return ticket
