"""Fixtures for the mail pipeline: the demo desks and mailboxes, a fixed clock."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from helpdesk import clock
from helpdesk.models import Desk, Mailbox
from helpdesk.seed import seed_demo

# Wednesday 2026-11-25 10:00 in Tokyo: inside opening hours.
NOW = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)


@pytest.fixture
def frozen_now():
    """Freeze helpdesk.clock at NOW; yields a setter to move it."""
    current = {"now": NOW}
    clock.set_now_source(lambda: current["now"])

    def move_to(when: datetime) -> datetime:
        current["now"] = when
        return when

    yield move_to
    clock.set_now_source(None)


@pytest.fixture
def demo(db_session, frozen_now):
    """The seeded demo set-up; returns (desks by slug, mailboxes by name)."""
    seed_demo()
    desks = {d.slug: d for d in db_session.scalars(select(Desk))}
    mailboxes = {m.name: m for m in db_session.scalars(select(Mailbox))}
    return desks, mailboxes
