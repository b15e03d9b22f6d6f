"""The demo set-up: the four desks of the portal, their mailboxes and an admin account."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from helpdesk.auth.passwords import generate_password
from helpdesk.auth.services import create_user
from helpdesk.extensions import db
from helpdesk.models import Desk, Mailbox, Role, RoutingRule, User
from helpdesk.models.mailbox import ImapSecurity
from mail_ingest.routing import DEFAULT_SCHOOL_KEYWORDS, DEFAULT_SSW_KEYWORDS

NINE_TO_FIVE = {str(d): [["09:00", "17:00"]] for d in range(5)}
INFO_CENTRE_HOURS = {str(d): [["08:30", "17:15"]] for d in range(5)}

DESKS: list[dict[str, Any]] = [
    {
        "slug": "system",
        "name": "System operation helpdesk",
        "name_ja": "システム操作ヘルプデスク",
        "opening_hours": NINE_TO_FIVE,
        "channels": ["phone", "email"],
        "reply_from": "helpdesk@support.example.test",
    },
    {
        "slug": "ssw",
        "name": "Specified skilled worker desk",
        "name_ja": "特定技能窓口",
        "opening_hours": NINE_TO_FIVE,
        "channels": ["email"],
        "reply_from": "ssw-school@support.example.test",
    },
    {
        "slug": "school",
        "name": "Japanese-language school reports desk",
        "name_ja": "日本語教育機関報告窓口",
        "opening_hours": NINE_TO_FIVE,
        "channels": ["email"],
        "reply_from": "ssw-school@support.example.test",
    },
    {
        "slug": "info",
        "name": "General information centre (procedures)",
        "name_ja": "外国人在留総合インフォメーションセンター",
        "opening_hours": INFO_CENTRE_HOURS,
        "channels": ["phone"],
        "accepts_email": False,
        "requires_fields": False,
        "reply_from": "info@support.example.test",
    },
]


@dataclass
class SeedResult:
    """What seeding did; the admin password is set only when the admin was created now."""

    created_desks: list[str]
    admin_email: str
    admin_password: str | None


def seed_demo(admin_email: str = "admin@support.example.test") -> SeedResult:
    """Create what is missing of the demo set-up; running it again changes nothing."""
    created = [spec["slug"] for spec in DESKS if _ensure_desk(spec)]
    db.session.flush()
    _ensure_mailboxes()
    password = None
    if db.session.scalar(select(User).where(User.email == admin_email)) is None:
        password = generate_password()
        desks = db.session.scalars(select(Desk)).all()
        create_user(admin_email, "Administrator", password, Role.ADMIN, desks)
    return SeedResult(created, admin_email, password)


def _ensure_desk(spec: dict[str, Any]) -> bool:
    if db.session.scalar(select(Desk).where(Desk.slug == spec["slug"])) is not None:
        return False
    db.session.add(Desk(**spec))
    return True


def _desk(slug: str) -> Desk:
    return db.session.scalars(select(Desk).where(Desk.slug == slug)).one()


def _ensure_mailboxes() -> None:
    """Two demo mailboxes, disabled until an admin points them at a real server."""
    if db.session.scalar(select(Mailbox).where(Mailbox.name == "system")) is None:
        db.session.add(_demo_mailbox("system", "helpdesk@support.example.test", "system"))
    if db.session.scalar(select(Mailbox).where(Mailbox.name == "ssw-school")) is None:
        mailbox = _demo_mailbox("ssw-school", "ssw-school@support.example.test", "ssw")
        # Same priority: the desk whose keywords the mail names more often wins; a tie or
        # no keyword at all goes to the mailbox's default, the SSW desk.
        mailbox.rules.append(
            RoutingRule(desk=_desk("ssw"), keywords=list(DEFAULT_SSW_KEYWORDS), priority=50)
        )
        mailbox.rules.append(
            RoutingRule(desk=_desk("school"), keywords=list(DEFAULT_SCHOOL_KEYWORDS), priority=50)
        )
        db.session.add(mailbox)
    db.session.flush()


def _demo_mailbox(name: str, address: str, desk_slug: str) -> Mailbox:
    return Mailbox(
        name=name,
        address=address,
        host="127.0.0.1",
        port=143,
        security=ImapSecurity.NONE,
        username=address,
        secret_env=f"HELPDESK_MAILBOX_{name.upper().replace('-', '_')}_PASSWORD",
        default_desk=_desk(desk_slug),
        enabled=False,
    )
