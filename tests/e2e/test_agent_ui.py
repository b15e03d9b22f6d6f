"""The agents' UI in a real browser: sign in, work the queue, answer, note, close, search."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from helpdesk import clock
from helpdesk.auth.services import create_user
from helpdesk.extensions import db
from helpdesk.models import CannedAnswer, Desk, Direction, Message, Role
from helpdesk.outbox import deliver_due
from helpdesk.seed import seed_demo
from helpdesk.tickets.services import open_ticket, start_clock
from tests.conftest import make_app
from tests.support.browser import screenshot, serve_app

PASSWORD = "agent password for the browser"


@dataclass(frozen=True)
class LiveHelpdesk:
    """The served app, its URL and what was seeded."""

    app: Flask
    url: str
    numbers: dict[str, str]
    ids: dict[str, int]


def _seed(app: Flask) -> tuple[dict[str, str], dict[str, int]]:
    with app.app_context():
        seed_demo()
        desk = db.session.scalar(select(Desk).where(Desk.slug == "system"))
        create_user("aoki@support.example.test", "Aoki Agent", PASSWORD, Role.AGENT, [desk])
        create_user("chiba@support.example.test", "Chiba Colleague", PASSWORD, Role.AGENT, [desk])
        db.session.add(
            CannedAnswer(
                desk_id=desk.id,
                title="受付のご連絡",
                language="ja",
                body="{requester_name} 様\n受付番号 {ticket_number} で承りました。",
            )
        )
        now = clock.now()
        numbers, ids = {}, {}
        for key, subject, body, age in [
            (
                "login",
                "ログインできません",
                "電子届出システムにログインできません。\n> 以前の質問",
                30,
            ),
            ("form", "届出フォームの入力方法", "届出の入力方法を教えてください。", 5),
        ]:
            at = now - timedelta(hours=age)
            ticket = open_ticket(
                desk,
                subject=subject,
                requester_email=f"{key}@example.co.jp",
                requester_name="山田 太郎",
                at=at,
            )
            ticket.organisation, ticket.contact = "株式会社サンプル商事", "03-1234-5678"
            ticket.environment = "Windows 11 / Edge"
            db.session.add(
                Message(
                    ticket_id=ticket.id,
                    direction=Direction.INBOUND,
                    message_id=f"{key}@example.co.jp",
                    from_address=f"{key}@example.co.jp",
                    from_name="山田 太郎",
                    subject=subject,
                    text=body,
                    received_at=at,
                    created_at=at,
                )
            )
            start_clock(ticket, at)
            numbers[key], ids[key] = ticket.number, ticket.id
        db.session.commit()
    return numbers, ids


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveHelpdesk]:
    """A separate app on a fresh SQLite file, migrated and seeded, served on 127.0.0.1."""
    from flask_migrate import upgrade

    folder: Path = tmp_path_factory.mktemp("agent-ui")
    app = make_app(f"sqlite:///{folder / 'helpdesk.sqlite3'}", folder / "instance")
    with app.app_context():
        upgrade()
    numbers, ids = _seed(app)
    with serve_app(app) as url:
        yield LiveHelpdesk(app, url, numbers, ids)
    with app.app_context():
        db.engine.dispose()


def _sign_in(page, live: LiveHelpdesk, email: str) -> None:
    page.goto(live.url + "/")
    assert "/auth/login" in page.url
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.login button[type=submit]")
    page.wait_for_url(live.url + "/")


def test_agent_works_a_ticket_end_to_end(live, page, browser, smtp_sink):
    _sign_in(page, live, "aoki@support.example.test")

    # The queue, due first, with the desks' links.
    rows = page.locator("table.queue tbody tr")
    assert rows.count() == 2
    assert live.numbers["login"] in rows.nth(0).inner_text()
    page.click("nav.desks >> text=System operation helpdesk")
    page.wait_for_url(re.compile(r".*/desks/system$"))
    screenshot(page, "agent-queue")

    # A colleague has the ticket open: the page says so.
    other = browser.new_context(locale="en-US", timezone_id="Asia/Tokyo")
    other.set_default_timeout(10_000)
    colleague = other.new_page()
    _sign_in(colleague, live, "chiba@support.example.test")
    with colleague.expect_response(lambda response: response.url.endswith("/presence")):
        colleague.goto(f"{live.url}/tickets/{live.ids['login']}")

    page.click(f"text={live.numbers['login']}")
    page.wait_for_url(f"{live.url}/tickets/{live.ids['login']}")
    assert "電子届出システムにログインできません。" in page.inner_text("article.message.inbound")
    assert page.locator("details.quoted").count() == 1
    page.wait_for_selector("#collision .notice")
    assert "Chiba Colleague is viewing" in page.inner_text("#collision")
    other.close()
    screenshot(page, "agent-ticket")

    # Reply with a canned answer inserted by the page's script; the mail leaves after commit.
    page.select_option("#canned-select", label="[Japanese] 受付のご連絡")
    page.click("#canned-insert")
    assert live.numbers["login"] in page.input_value("#reply-text")
    page.fill("#reply-text", page.input_value("#reply-text") + "\n再度ログインをお試しください。")
    page.click("#reply-form button[type=submit]")
    page.wait_for_selector("article.message.outbound")
    assert page.inner_text(".summary .status") == "Awaiting customer"
    live.app.config.update(SMTP_HOST=smtp_sink.host, SMTP_PORT=smtp_sink.port)
    with live.app.app_context():
        assert deliver_due().sent == 1
    (mail,) = smtp_sink.wait_for(1)
    assert mail.subject == f"Re: [{live.numbers['login']}] ログインできません"
    assert mail.message["In-Reply-To"] == "<login@example.co.jp>"
    assert "再度ログインをお試しください" in mail.message.get_content()

    # An internal note, then resolve the ticket.
    page.fill("#note-text", "電話でも案内済み")
    page.click("#note-form button[type=submit]")
    page.wait_for_selector("article.message.note >> text=電話でも案内済み")
    page.select_option("#status-status", "resolved")
    page.click("#status-form button[type=submit]")
    page.wait_for_selector(".summary .status >> text=Resolved")
    assert len(smtp_sink.messages) == 1  # the note was never sent

    # Search in Japanese from the header.
    page.fill("header form.search input[name=q]", "入力方法")
    page.press("header form.search input[name=q]", "Enter")
    page.wait_for_url(re.compile(r".*/search\?q=.*"))
    results = page.inner_text("table.results")
    assert live.numbers["form"] in results and live.numbers["login"] not in results
    screenshot(page, "agent-search")


def test_no_inline_script_or_csp_violation(live, page):
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    _sign_in(page, live, "aoki@support.example.test")
    page.goto(f"{live.url}/tickets/{live.ids['form']}")
    page.wait_for_selector("#ticket")
    assert not [e for e in errors if "Content Security Policy" in e]
