"""Every page an agent, a manager and an admin open, shown to a Japanese browser, is Japanese.

Each page is rendered with ``Accept-Language: ja``; its visible text (text nodes, the title,
placeholders, tooltips, accessible labels, buttons) is stripped of the data the page shows
(names, subjects, addresses, numbers, dates, file types) and of a few technical terms that
stay in Latin letters in Japanese too (SLA, CSV, IMAP...). Any English word left is a label
that did not go through the catalog.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from html.parser import HTMLParser
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import g
from sqlalchemy import select

from helpdesk.auth.services import new_recovery_codes
from helpdesk.extensions import db
from helpdesk.models import (
    Attachment,
    CalendarOverride,
    CannedAnswer,
    Desk,
    Direction,
    IngestFailure,
    Mailbox,
    Message,
    Priority,
    Role,
    RoutingRule,
    Ticket,
    User,
)
from helpdesk.models.mailbox import ImapSecurity
from helpdesk.tickets import services, sla_clock
from mail_ingest.policy import DEFAULT_FORBIDDEN_EXTENSIONS
from tests.support.factories import PASSWORD

TOKYO = ZoneInfo("Asia/Tokyo")
CSRF = re.compile(r'name="csrf-token" content="([^"]+)"')

# Latin-letter words a Japanese page may show: acronyms, products and file formats that are
# written this way in Japanese too.
TECHNICAL = frozenset(
    "SLA OS CSV XLSX JSON HTML IMAP SSL TLS STARTTLS UID SHA ZIP LZH QR ID Web KB MB JST "  # noqa: SIM905
    "Excel Office Windows Flash SVG PNG JPEG Google Microsoft Authenticator".split()
)
_DATA_PATTERNS = [
    re.compile(p)
    for p in (
        r"[\w.+-]+@[\w.-]+",  # addresses and message ids
        r"\w+://\S+",  # links
        r"\b[a-z]+/[\w.+-]+",  # MIME types
        r"[A-Z]{2}-\d{4}-\d+",  # ticket numbers
        r"(?<![\w])/[\w./<>-]*",  # paths
        r"\b[A-Z][A-Z0-9]*_[A-Z0-9_]+\b",  # environment variable names
        r"\{\w+\}",  # canned-answer placeholders
        r"\b[0-9a-f]{40,}\b",  # digests
    )
]
_WORD = re.compile(r"(?<![A-Za-z0-9_])[A-Za-z][A-Za-z'’]+(?![A-Za-z0-9_])")


class VisibleText(HTMLParser):
    """The text a reader sees or hears on a page: text nodes and the labelling attributes;
    not scripts and styles, nor literal data (``<code>``, ``<pre>``: keys, codes, bodies)."""

    HIDDEN = ("script", "style", "code", "pre")
    LABELS = ("placeholder", "title", "alt", "aria-label")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.HIDDEN:
            self._hidden += 1
        values = dict(attrs)
        self.parts += [values[name] or "" for name in self.LABELS if values.get(name)]
        if tag == "input" and values.get("type") in ("submit", "button"):
            self.parts.append(values.get("value") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.HIDDEN:
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def english_words(page: str, data: list[str]) -> list[str]:
    """The Latin-letter words of a page's visible text that are neither data nor technical."""
    parser = VisibleText()
    parser.feed(page)
    text = "\n".join(parser.parts)
    for value in data:
        text = text.replace(value, " ")
    for pattern in _DATA_PATTERNS:
        text = pattern.sub(" ", text)
    return [word for word in _WORD.findall(text) if word not in TECHNICAL]


def test_the_filter_finds_english_labels_and_ignores_data():
    page = (
        '<html><head><title>Sign in — ヘルプデスク</title><script>var x = "Hidden";</script>'
        '</head><body><h1>チケット</h1><input placeholder="Search"><p>山田 Cannot log in</p>'
        '<span aria-label="窓口">SLA 期限 yamada@example.co.jp application/pdf HD-2026-000001'
        "</span><button>Save</button></body></html>"
    )
    assert english_words(page, ["Cannot log in"]) == ["Sign", "in", "Search", "Save"]


def _data_of_the_database() -> list[str]:
    """Every free text the pages may show as data, longest first (so phrases go whole)."""
    session = db.session
    values: list[Any] = []
    for desk in session.scalars(select(Desk)):
        values += [desk.name, desk.name_ja, desk.slug, desk.reply_from, desk.timezone]
    for user in session.scalars(select(User)):
        values += [user.name, user.email]
    for ticket in session.scalars(select(Ticket)):
        values += [
            ticket.subject,
            ticket.requester_name,
            ticket.requester_email,
            ticket.organisation,
            ticket.contact,
            ticket.environment,
        ]
    for message in session.scalars(select(Message)):
        values += [message.subject, message.text, message.from_name, message.from_address]
    for item in session.scalars(select(Attachment)):
        values += [item.filename, item.detected_type, item.declared_type, item.detail]
    for mailbox in session.scalars(select(Mailbox)):
        values += [mailbox.name, mailbox.address, mailbox.host, mailbox.username]
        values += [mailbox.secret_env, mailbox.folder, mailbox.last_error]
    for rule in session.scalars(select(RoutingRule)):
        values += [*rule.keywords, rule.recipient, rule.sender_domain]
    for failure in session.scalars(select(IngestFailure)):
        values += [failure.subject, failure.error]
    for answer in session.scalars(select(CannedAnswer)):
        values += [answer.title, answer.body]
    values += list(session.scalars(select(CalendarOverride.name)))
    values += DEFAULT_FORBIDDEN_EXTENSIONS  # the portal's list, shown as it is configured
    texts = {str(v).strip() for v in values if v and str(v).strip()}
    return sorted(texts, key=len, reverse=True)


def tokyo(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=TOKYO)


@pytest.fixture
def world(db_session, make, frozen_now):
    """Two desks, their people, a worked ticket, a mailbox with a rule, a refused file, a
    failed message, a canned answer and a closure: something on every page."""
    system = make.desk(
        slug="desk-a",
        name="System operation helpdesk",
        name_ja="システム操作ヘルプデスク",
        channels=["phone", "email"],
    )
    ssw = make.desk(slug="desk-b", name="Specified skilled worker desk", name_ja="特定技能窓口")
    agent = make.user(Role.AGENT, desks=[system], name="青木 一郎")
    colleague = make.user(Role.AGENT, desks=[system, ssw], name="千葉 花子")
    colleague.totp_secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    new_recovery_codes(colleague)
    manager = make.user(Role.MANAGER, name="森 課長")
    admin = make.user(Role.ADMIN, desks=[system, ssw], name="阿部 管理者")

    ticket = make.ticket(
        system,
        at=tokyo(20, 16, 30),
        subject="電子届出システムにログインできません",
        requester_name="山田 太郎",
        requester_email="yamada@example.co.jp",
    )
    ticket.organisation, ticket.contact = "株式会社サンプル商事", "03-1234-5678"
    ticket.environment = "Windows 11 / Edge"
    inbound = Message(
        ticket_id=ticket.id,
        direction=Direction.INBOUND,
        message_id="first@example.co.jp",
        from_address=ticket.requester_email,
        from_name=ticket.requester_name,
        subject=ticket.subject,
        text="ログインできません。\n\n> 以前のメッセージ\n",
        received_at=tokyo(20, 16, 30),
    )
    inbound.attachments = [
        Attachment(filename="画面.png", detected_type="image/png", size=2048, sha256="a" * 64),
        Attachment(
            filename="手順.zip",
            detected_type="application/zip",
            size=4096,
            sha256="b" * 64,
            allowed=False,
            reason="archive",
        ),
    ]
    db_session.add(inbound)
    services.start_clock(ticket, tokyo(20, 16, 30))
    services.set_priority(ticket, Priority.HIGH, agent, tokyo(24, 9))
    services.assign(ticket, agent, agent, tokyo(24, 9, 5))
    services.add_note(ticket, agent, "電話で確認済み。", [], tokyo(24, 9, 10))
    make.ticket(
        ssw,
        at=tokyo(25, 9),
        subject="申請方法について",
        requester_email="school@example.ac.jp",
        language="en",
    )
    sla_clock.sweep()

    mailbox = Mailbox(
        name="shared-box",
        address="ssw-school@support.example.test",
        host="imap.example.test",
        port=993,
        security=ImapSecurity.SSL,
        username="ssw-school@support.example.test",
        secret_env="HELPDESK_MAILBOX_SHARED_PASSWORD",
        default_desk=ssw,
        last_error="LOGIN failed",
        last_error_at=tokyo(25, 8),
        consecutive_failures=2,
    )
    mailbox.rules.append(RoutingRule(desk=system, keywords=["ログイン"], priority=50))
    db_session.add(mailbox)
    db_session.flush()
    db_session.add(
        IngestFailure(
            mailbox_id=mailbox.id,
            uid=7,
            raw_sha256="c" * 64,
            subject="文字化けしたメール",
            error="UnicodeDecodeError: 'utf-8' codec can't decode byte 0x82",
        )
    )
    db_session.add(
        CannedAnswer(
            desk_id=system.id,
            title="ログインできない場合",
            language="ja",
            body="{requester_name} 様\n受付番号 {ticket_number}",
        )
    )
    db_session.add(CalendarOverride(desk_id=system.id, day=date(2026, 11, 27), name="設備点検"))
    db_session.flush()
    return {
        "agent": agent,
        "totp_user": colleague,
        "manager": manager,
        "admin": admin,
        "ticket": ticket,
        "desk": system,
        "mailbox": mailbox,
        "answer": db_session.scalar(select(CannedAnswer)),
        "data": _data_of_the_database(),
    }


def _pages(world: dict[str, Any]) -> dict[str, list[str]]:
    ticket, desk, mailbox = world["ticket"], world["desk"], world["mailbox"]
    agent = [
        "/",
        "/mine",
        f"/desks/{desk.slug}",
        f"/tickets/{ticket.id}",
        "/search?q=ログイン",
        "/search?q=存在しない",
        "/tickets/new",
        "/auth/account",
        "/auth/password",
        "/auth/totp",
    ]
    manager = [f"/tickets/{ticket.id}", "/reports/"]
    manager += [f"/reports/?group={group}" for group in ("agent", "week", "month", "channel")]
    manager += ["/reports/?group=language"]
    admin = [
        "/admin/",
        "/admin/users",
        "/admin/users/new",
        f"/admin/users/{world['agent'].id}",
        f"/admin/users/{world['totp_user'].id}",
        "/admin/desks",
        "/admin/desks/new",
        f"/admin/desks/{desk.id}",
        f"/admin/desks/{desk.id}/calendar?month=2026-11",
        "/admin/mailboxes",
        "/admin/mailboxes/new",
        f"/admin/mailboxes/{mailbox.id}",
        "/admin/canned",
        "/admin/canned/new",
        f"/admin/canned/{world['answer'].id}",
        "/admin/quarantine",
        "/admin/failures",
    ]
    return {"agent": agent, "manager": manager, "admin": admin, "totp_user": ["/auth/totp"]}


class Browser:
    """A Japanese browser on the test client, signing in as one user after another."""

    def __init__(self, client: Any, login_as: Any) -> None:
        self.client, self.login_as = client, login_as
        client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "ja,en;q=0.5"

    def become(self, user: User) -> None:
        g.pop("_login_user", None)
        self.login_as(user)
        g.pop("_login_user", None)

    def get(self, url: str) -> str:
        response = self.client.get(url, follow_redirects=True)
        assert response.status_code == 200, url
        return response.get_data(as_text=True)

    def post(self, url: str, data: dict[str, str], token_from: str = "/auth/login") -> str:
        token = CSRF.search(self.get(token_from)).group(1)
        response = self.client.post(url, data={"csrf_token": token, **data}, follow_redirects=True)
        assert response.status_code in (200, 400, 422), (url, response.status_code)
        return response.get_data(as_text=True)


def _shown_pages(client: Any, login_as: Any, world: dict[str, Any]) -> dict[str, str]:
    """Every page, and the pages forms, refusals and flashes lead to, by a label."""
    browser = Browser(client, login_as)
    shown: dict[str, str] = {}
    totp_user = world["totp_user"]
    shown["login"] = browser.get("/auth/login")
    shown["login, asked for"] = browser.get("/")
    shown["login, wrong password"] = browser.post(
        "/auth/login", {"email": totp_user.email, "password": "wrong password"}
    )
    shown["login, empty"] = browser.post("/auth/login", {"email": "", "password": ""})
    shown["login code"] = browser.post(
        "/auth/login", {"email": totp_user.email, "password": PASSWORD}
    )
    shown["login code, wrong"] = browser.post(
        "/auth/login/code", {"code": "000000"}, token_from="/auth/login/code"
    )
    for who, urls in _pages(world).items():
        browser.become(world[who])
        for url in urls:
            shown[f"{who} {url}"] = browser.get(url)
    browser.become(world["agent"])
    shown["password, wrong"] = browser.post(
        "/auth/password", {"current": "nope", "new": "short", "confirm": "other"}
    )
    browser.become(world["totp_user"])
    shown["recovery codes"] = browser.post(
        "/auth/totp/recovery-codes", {"password": PASSWORD}, token_from="/auth/totp"
    )
    browser.become(world["manager"])
    shown["reports, bad period"] = client.get(
        "/reports/?date_from=2026-11-30&date_to=2026-11-01"
    ).get_data(as_text=True)
    browser.become(world["admin"])
    desk, user = world["desk"], world["agent"]
    shown["admin new user, empty"] = browser.post("/admin/users/new", {})
    shown["admin password"] = browser.post(f"/admin/users/{user.id}/password", {})
    shown["admin desk, bad hours"] = browser.post(
        f"/admin/desks/{desk.id}", {"name": desk.name, "timezone": "Asia/Tokyo", "hours_0": "9-5"}
    )
    shown["admin canned saved"] = browser.post(
        "/admin/canned/new",
        {"desk_id": "0", "language": "ja", "title": "お礼", "body": "ありがとうございました。"},
    )
    shown["admin deactivate self"] = browser.post(
        f"/admin/users/{world['admin'].id}/active", {"active": "0"}
    )
    browser.become(world["agent"])
    errors = {
        "error: not found": client.get("/no/such/page"),
        "error: forbidden": client.get("/admin/"),
        "error: form expired": client.post("/auth/password", data={}),
        "error: wrong method": client.delete("/auth/account"),
    }
    for label, response in errors.items():
        assert response.status_code >= 400, label
        shown[label] = response.get_data(as_text=True)
    return shown


def test_every_page_speaks_japanese_to_a_japanese_browser(client, login_as, world):
    shown = _shown_pages(client, login_as, world)
    data = [*world["data"], *_data_of_the_database()]  # what the forms above added
    english = {
        label: " ".join(dict.fromkeys(words))
        for label, page in shown.items()
        if (words := english_words(page, data))
    }
    assert not english, "English on Japanese pages:\n" + "\n".join(
        f"{label}: {words}" for label, words in english.items()
    )
