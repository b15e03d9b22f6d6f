"""Fixtures for the agents' pages: a fixed clock, two desks, their people, a CSRF helper."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

import pytest

from helpdesk import clock
from helpdesk.models import Desk, Direction, Message, Role, Ticket, User
from helpdesk.tickets.services import start_clock
from helpdesk.tickets.sla_clock import refresh
from tests.conftest import NOW  # noqa: F401  (re-exported for the tests here)

QUOTED_BODY = (
    "Thank you, it still fails.\n\n"
    "On Tue, 24 Nov 2026 at 10:00, Helpdesk <helpdesk@support.example.test> wrote:\n"
    "> Please try again.\n> Regards\n"
)


@dataclass
class Staff:
    """Two desks and the people who work them."""

    desk: Desk
    other_desk: Desk
    agent: User
    colleague: User
    other_agent: User
    manager: User
    admin: User


@pytest.fixture
def staff(make, frozen_now) -> Staff:
    """Desk A (agent, colleague), desk B (other agent), a manager and an admin."""
    desk = make.desk(name="System operation helpdesk", name_ja="システム操作ヘルプデスク")
    other = make.desk(name="Specified skilled worker desk")
    return Staff(
        desk=desk,
        other_desk=other,
        agent=make.user(Role.AGENT, desks=[desk], name="Agent Aoki"),
        colleague=make.user(Role.AGENT, desks=[desk], name="Colleague Chiba"),
        other_agent=make.user(Role.AGENT, desks=[other], name="Other Ono"),
        manager=make.user(Role.MANAGER, desks=[], name="Manager Mori"),
        admin=make.user(Role.ADMIN, desks=[], name="Admin Abe"),
    )


@pytest.fixture
def enquiry(make, db_session):
    """A complete email ticket with one inbound message and its clock running."""

    def build(desk: Desk, *, text: str = QUOTED_BODY, at: datetime = NOW, **values) -> Ticket:
        values.setdefault("requester_name", "山田 太郎")
        organisation = values.pop("organisation", "株式会社サンプル商事")
        ticket = make.ticket(desk, at=at, **values)
        ticket.organisation = organisation
        ticket.contact = "03-1234-5678"
        ticket.environment = "Windows 11 / Edge"
        db_session.add(
            Message(
                ticket_id=ticket.id,
                direction=Direction.INBOUND,
                message_id=f"enquiry-{ticket.number}@example.co.jp",
                references=["earlier@example.co.jp"],
                from_address=ticket.requester_email,
                from_name=ticket.requester_name,
                subject=ticket.subject,
                text=text,
                received_at=at,
                created_at=at,
            )
        )
        start_clock(ticket, at)
        refresh(ticket, clock.now())  # what the SLA sweep would have marked by now
        db_session.flush()
        return ticket

    return build


@pytest.fixture
def csrf(client):
    """The session's CSRF token, read from a page's meta tag."""

    def token(path: str = "/") -> str:
        page = client.get(path).get_data(as_text=True)
        return re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)

    return token


@pytest.fixture
def sign_in(login_as):
    """Sign ``user`` in on the test client, forgetting the user loaded for earlier requests.

    The test's app context outlives requests, so Flask-Login's per-request cache in ``g``
    would otherwise keep the previous user.
    """

    def switch(user: User):
        from flask import g

        client = login_as(user)
        g.pop("_login_user", None)
        return client

    return switch


def token_of(client) -> str:
    """The CSRF token of ``client``'s session."""
    page = client.get("/").get_data(as_text=True)
    return re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)


@pytest.fixture
def statements_of(client):
    """A callable: the SQL a GET of a URL runs, from an empty session as in a real request."""
    from flask import g
    from sqlalchemy import event

    from helpdesk.extensions import db

    def run(url: str) -> list[str]:
        db.session.expunge_all()
        g.pop("_login_user", None)
        seen: list[str] = []

        def record(conn, cursor, statement, *args) -> None:
            seen.append(statement)

        event.listen(db.engine, "before_cursor_execute", record)
        try:
            assert client.get(url).status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", record)
        return seen

    return run
