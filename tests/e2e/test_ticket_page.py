"""The ticket page in a real browser at a laptop's width: long values wrap, nothing scrolls
sideways."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from helpdesk import audit, clock
from helpdesk.extensions import db
from helpdesk.models import Desk, Direction, Message, Role
from helpdesk.seed import seed_demo
from helpdesk.tickets.services import open_ticket, start_clock
from tests.conftest import make_app
from tests.support.browser import screenshot
from tests.support.factories import PASSWORD, Factories

AGENT = "aoki@support.example.test"
# A Message-ID of 300 characters without a space, as some mailers make them.
LONG_ID = ("CAKx9Qz_" * 40)[:283] + "@mail.example.com"


@pytest.fixture
def ticket_app(tmp_path: Path) -> Iterator[tuple[Flask, int]]:
    """An app on its own SQLite file with one ticket whose mail has a 300-character
    Message-ID (reused by its sender, so the thread shows it too)."""
    from flask_migrate import upgrade

    app = make_app(f"sqlite:///{tmp_path / 'ticket.sqlite3'}", tmp_path / "instance")
    with app.app_context():
        upgrade()
        seed_demo()
        desk = db.session.scalar(select(Desk).where(Desk.slug == "system"))
        Factories(db.session).user(Role.AGENT, desks=[desk], email=AGENT, name="Aoki")
        now = clock.now()
        requester = "notifications-" + "x" * 120 + "@example.co.jp"
        ticket = open_ticket(desk, subject="ログインできません", requester_email=requester, at=now)
        ticket.organisation, ticket.contact = "株式会社サンプル商事", "03-1234-5678"
        ticket.environment = "Windows 11 / Edge"
        db.session.add(
            Message(
                ticket_id=ticket.id,
                direction=Direction.INBOUND,
                message_id=LONG_ID,
                message_id_reused=True,
                from_address=requester,
                subject=ticket.subject,
                text="ログインできません。",
                received_at=now,
                created_at=now,
            )
        )
        audit.record("mail.received", ticket, None, now, message_id=LONG_ID)
        start_clock(ticket, now)
        db.session.commit()
        ticket_id = ticket.id
    yield app, ticket_id
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_a_long_message_id_does_not_widen_the_page_at_1280_px(
    page: Any, serve_wsgi: Callable[[Any], str], ticket_app: tuple[Flask, int]
) -> None:
    assert len(LONG_ID) == 300
    app, ticket_id = ticket_app
    base = serve_wsgi(app)
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{base}/auth/login")
    page.fill("input[name=email]", AGENT)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    page.goto(f"{base}/tickets/{ticket_id}")

    widths = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    screenshot(page, "ticket-long-message-id")
    assert widths[0] <= widths[1], widths
    # The thread still shows the whole reused Message-ID, wrapped; the history names the
    # mail and keeps the Message-ID in its tooltip.
    assert page.inner_text(".reused-id code") == LONG_ID
    mail = page.locator("section.history a", has_text="Mail received")
    assert mail.get_attribute("title") == f"Message-ID: {LONG_ID}"
    assert LONG_ID not in page.inner_text("section.history")
