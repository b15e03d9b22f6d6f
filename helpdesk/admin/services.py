"""Admin operations: each changes rows, records an audit event and flushes; the request commits."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, time
from pathlib import Path
from typing import Any

from flask_babel import gettext, ngettext

from helpdesk import audit
from helpdesk.admin import queries
from helpdesk.auth.passwords import generate_password
from helpdesk.auth.services import create_user, set_password
from helpdesk.extensions import db
from helpdesk.i18n import current_language
from helpdesk.mail.cli import retry_failure
from helpdesk.mail.polling import PollReport, poll_mailbox
from helpdesk.models import (
    CalendarOverride,
    CannedAnswer,
    Desk,
    IngestFailure,
    Mailbox,
    Message,
    MessageRepeat,
    Role,
    RoutingRule,
    User,
)
from helpdesk.models.desk import AttachmentAction
from helpdesk.models.mailbox import ImapSecurity
from helpdesk.stores import stores

log = logging.getLogger(__name__)


class AdminError(ValueError):
    """An admin action that cannot be done; the message says why, for the page."""


# -- users -------------------------------------------------------------------------------------


def create_account(
    email: str, name: str, role: Role, desks: Sequence[Desk], actor: User
) -> tuple[User, str]:
    """Add an account with a generated password; returns it with the password (shown once)."""
    if queries.email_taken(email):
        raise AdminError(gettext("An account with this email already exists."))
    password = generate_password()
    user = create_user(email, name.strip(), password, role, desks)
    audit.record(
        "admin.user_created",
        actor=actor,
        user_id=user.id,
        email=user.email,
        role=role.value,
        desks=[d.slug for d in desks],
    )
    return user, password


def update_account(user: User, name: str, role: Role, desks: Sequence[Desk], actor: User) -> None:
    """Change an account's name, role and desks; an admin cannot demote the last admin."""
    if user.role is Role.ADMIN and role is not Role.ADMIN:
        _keep_an_admin(
            user,
            actor,
            gettext("You cannot take the admin role from your own account; ask another admin."),
            gettext("You cannot take the admin role from the last active admin."),
        )
    before = {"role": user.role.value, "desks": sorted(d.slug for d in user.desks)}
    user.name = name.strip()
    user.role = role
    user.desks = list(desks)
    db.session.flush()
    after = {"role": role.value, "desks": sorted(d.slug for d in desks)}
    audit.record("admin.user_updated", actor=actor, user_id=user.id, before=before, after=after)


def set_active(user: User, active: bool, actor: User) -> None:
    """Deactivate (signs the account out everywhere) or reactivate an account."""
    if not active and user.role is Role.ADMIN:
        _keep_an_admin(
            user,
            actor,
            gettext("You cannot deactivate your own account; ask another admin."),
            gettext("You cannot deactivate the last active admin."),
        )
    user.active = active
    db.session.flush()
    action = "admin.user_reactivated" if active else "admin.user_deactivated"
    audit.record(action, actor=actor, user_id=user.id, email=user.email)


def _keep_an_admin(user: User, actor: User, own: str, last: str) -> None:
    """Refuse (saying ``own`` or ``last``) to take an admin's rights from themselves or from
    the last active admin."""
    if user.id == actor.id:
        raise AdminError(own)
    if user.active and queries.active_admin_count() <= 1:
        raise AdminError(last)


def reset_password(user: User, actor: User) -> str:
    """Give the account a new generated password; returns it (shown once)."""
    password = generate_password()
    set_password(user, password)
    db.session.flush()
    audit.record("admin.password_reset", actor=actor, user_id=user.id, email=user.email)
    return password


def turn_off_second_factor(user: User, actor: User) -> None:
    """Remove an account's TOTP second factor (for a lost phone)."""
    user.totp_secret = None
    user.totp_recovery_hashes = None
    db.session.flush()
    audit.record("admin.totp_removed", actor=actor, user_id=user.id, email=user.email)


# -- desks and calendars -----------------------------------------------------------------------


@dataclass(frozen=True)
class DeskSettings:
    """What the desk form sets."""

    name: str
    name_ja: str
    reply_from: str
    requires_fields: bool
    applies_attachment_policy: bool
    attachment_action: AttachmentAction
    forbidden_extensions: list[str] | None
    timezone: str
    opening_hours: dict[str, list[list[str]]]
    sla_targets: dict[str, dict[str, int]]
    national_holidays: bool
    year_end_closure: bool
    accepts_email: bool


def update_desk(desk: Desk, settings: DeskSettings, actor: User) -> None:
    """Apply the desk form's settings."""
    desk.name = settings.name.strip()
    desk.name_ja = settings.name_ja.strip()
    desk.reply_from = settings.reply_from.strip()
    desk.requires_fields = settings.requires_fields
    desk.applies_attachment_policy = settings.applies_attachment_policy
    desk.attachment_action = settings.attachment_action
    desk.forbidden_extensions = settings.forbidden_extensions
    desk.timezone = settings.timezone
    desk.opening_hours = settings.opening_hours
    desk.sla_targets = settings.sla_targets
    desk.national_holidays = settings.national_holidays
    desk.year_end_closure = settings.year_end_closure
    desk.accepts_email = settings.accepts_email
    db.session.flush()
    audit.record(
        "admin.desk_updated",
        actor=actor,
        desk=desk.slug,
        timezone=desk.timezone,
        opening_hours=desk.opening_hours,
        sla_targets=desk.sla_targets,
        forbidden_extensions=desk.forbidden_extensions,
        attachment_action=desk.attachment_action.value,
        national_holidays=desk.national_holidays,
        year_end_closure=desk.year_end_closure,
        accepts_email=desk.accepts_email,
    )


def create_desk(slug: str, name: str, name_ja: str, timezone: str, actor: User) -> Desk:
    """A new desk with weekday 09:00-17:00 hours and the default SLA targets and rules."""
    slug = slug.strip()
    if queries.desk_slug_taken(slug):
        raise AdminError(gettext("Another desk already has this short name."))
    desk = Desk(slug=slug, name=name.strip(), name_ja=name_ja.strip(), timezone=timezone.strip())
    db.session.add(desk)
    db.session.flush()
    audit.record("admin.desk_created", actor=actor, desk=desk.slug, timezone=desk.timezone)
    return desk


def set_desk_active(desk: Desk, active: bool, actor: User) -> None:
    """Deactivate a desk that has no work left and takes no mail, or bring one back.

    A deactivated desk disappears from agents' queues, its web form closes and routing rules
    naming it fall back to the mailbox's default desk; its tickets and reports stay.
    """
    if not active and desk.active:
        if queries.active_desk_count() <= 1:
            raise AdminError(gettext("You cannot deactivate the last active desk."))
        unfinished = queries.unfinished_ticket_count(desk)
        if unfinished:
            raise AdminError(
                ngettext(
                    "%(desk)s still has %(num)d ticket that is not resolved or closed; "
                    "move or finish it first.",
                    "%(desk)s still has %(num)d tickets that are not resolved or closed; "
                    "move or finish them first.",
                    unfinished,
                    desk=desk.name_in(current_language()),
                )
            )
        mailboxes = queries.mailboxes_defaulting_to(desk)
        if mailboxes:
            raise AdminError(
                gettext(
                    "%(desk)s is the default desk of mailbox %(mailboxes)s; "
                    "give the mailbox another default desk first.",
                    desk=desk.name_in(current_language()),
                    mailboxes=", ".join(mailboxes),
                )
            )
    desk.active = active
    db.session.flush()
    action = "admin.desk_reactivated" if active else "admin.desk_deactivated"
    audit.record(action, actor=actor, desk=desk.slug)


@dataclass(frozen=True)
class OverrideSettings:
    """What the calendar form sets: a named closure on ``day``, or a special opening (with
    hours, or the desk's usual ones when none are given)."""

    day: date
    name: str
    is_open: bool
    opens: time | None = None
    closes: time | None = None


def add_override(desk: Desk, settings: OverrideSettings, actor: User) -> CalendarOverride:
    """Close the desk on a day (with a name) or open it specially, optionally with hours."""
    day, is_open = settings.day, settings.is_open
    existing = queries.override_on(desk, day)
    if existing is not None:
        raise AdminError(
            gettext(
                "%(day)s already has an entry (%(name)s); remove it first.",
                day=day.isoformat(),
                name=existing.name,
            )
        )
    override = CalendarOverride(
        day=day,
        name=settings.name.strip(),
        is_open=is_open,
        opens=settings.opens if is_open else None,
        closes=settings.closes if is_open else None,
    )
    desk.calendar_overrides.append(override)
    db.session.flush()
    audit.record(
        "admin.calendar_override_added",
        actor=actor,
        desk=desk.slug,
        day=day.isoformat(),
        name=override.name,
        is_open=is_open,
    )
    return override


def remove_override(override: CalendarOverride, actor: User) -> None:
    """Remove an override; the date goes back to the desk's normal calendar."""
    desk = override.desk
    desk.calendar_overrides.remove(override)
    db.session.flush()
    audit.record(
        "admin.calendar_override_removed",
        actor=actor,
        desk=desk.slug,
        day=override.day.isoformat(),
        name=override.name,
    )


# -- mailboxes and routing ---------------------------------------------------------------------


@dataclass(frozen=True)
class MailboxSettings:
    """What the mailbox form sets."""

    name: str
    address: str
    host: str
    port: int
    security: ImapSecurity
    username: str
    secret_env: str
    folder: str
    processed_folder: str | None
    processed_flag: str
    poll_interval: int
    enabled: bool
    default_desk: Desk


def save_mailbox(mailbox: Mailbox | None, settings: MailboxSettings, actor: User) -> Mailbox:
    """Create a mailbox (``mailbox`` None) or change one."""
    created = mailbox is None
    if mailbox is None:
        mailbox = Mailbox()
        db.session.add(mailbox)
    for key, value in vars(settings).items():
        setattr(mailbox, key, value.strip() if isinstance(value, str) else value)
    mailbox.processed_folder = (settings.processed_folder or "").strip() or None
    db.session.flush()
    audit.record(
        "admin.mailbox_created" if created else "admin.mailbox_updated",
        actor=actor,
        mailbox=mailbox.name,
        host=mailbox.host,
        port=mailbox.port,
        secret_env=mailbox.secret_env,
        enabled=mailbox.enabled,
    )
    return mailbox


def poll_now(mailbox: Mailbox, actor: User) -> PollReport:
    """Poll the mailbox at once (poll_mailbox commits its own batches) and audit it."""
    report = poll_mailbox(mailbox)
    audit.record(
        "admin.mailbox_polled",
        actor=actor,
        mailbox=report.mailbox,
        ok=report.ok,
        skipped=report.skipped,
        error=report.error,
    )
    db.session.flush()
    return report


@dataclass(frozen=True)
class RuleSettings:
    """What the routing rule form sets: mail matching every condition given goes to ``desk``;
    the rule with the lowest ``priority`` number wins."""

    desk: Desk
    recipient: str | None = None
    keywords: Sequence[str] = ()
    sender_domain: str | None = None
    priority: int = 100


def add_rule(mailbox: Mailbox, settings: RuleSettings, actor: User) -> RoutingRule:
    """Add a routing rule to a mailbox."""
    keywords = list(settings.keywords)
    rule = RoutingRule(
        desk=settings.desk,
        recipient=(settings.recipient or "").strip().lower() or None,
        keywords=keywords,
        sender_domain=(settings.sender_domain or "").strip().lower() or None,
        priority=settings.priority,
    )
    mailbox.rules.append(rule)
    db.session.flush()
    audit.record(
        "admin.routing_rule_added",
        actor=actor,
        mailbox=mailbox.name,
        rule_id=rule.id,
        desk=settings.desk.slug,
        recipient=rule.recipient,
        keywords=keywords,
        sender_domain=rule.sender_domain,
        priority=settings.priority,
    )
    return rule


def delete_rule(rule: RoutingRule, actor: User) -> None:
    """Remove a routing rule."""
    mailbox = rule.mailbox
    audit.record(
        "admin.routing_rule_deleted",
        actor=actor,
        mailbox=mailbox.name,
        rule_id=rule.id,
        desk=rule.desk.slug,
    )
    mailbox.rules.remove(rule)
    db.session.flush()


# -- canned answers ----------------------------------------------------------------------------


def save_canned_answer(
    answer: CannedAnswer | None,
    desk: Desk | None,
    language: str,
    title: str,
    body: str,
    actor: User,
) -> CannedAnswer:
    """Create a canned answer (``answer`` None) or change one; desk None means every desk."""
    created = answer is None
    if answer is None:
        answer = CannedAnswer()
        db.session.add(answer)
    answer.desk_id = desk.id if desk is not None else None
    answer.language = language
    answer.title = title.strip()
    answer.body = body.replace("\r\n", "\n")
    db.session.flush()
    audit.record(
        "admin.canned_answer_created" if created else "admin.canned_answer_updated",
        actor=actor,
        canned_answer_id=answer.id,
        desk=desk.slug if desk is not None else None,
        language=language,
        title=answer.title,
    )
    return answer


def delete_canned_answer(answer: CannedAnswer, actor: User) -> None:
    """Remove a canned answer."""
    audit.record(
        "admin.canned_answer_deleted", actor=actor, canned_answer_id=answer.id, title=answer.title
    )
    db.session.delete(answer)
    db.session.flush()


# -- quarantine and failed messages ------------------------------------------------------------


def quarantined_message_file(message: Message, actor: User) -> Path | None:
    """The stored raw bytes of a message with a refused file (quarantine first), audited."""
    key = message.raw_sha256
    if not key:
        return None
    for store in (stores().quarantine, stores().raw):
        if store.exists(key):
            audit.record("admin.quarantine_downloaded", actor=actor, message_row_id=message.id)
            db.session.flush()
            return store.path(key)
    return None


def failure_file(failure: IngestFailure, actor: User) -> Path | None:
    """The stored raw bytes of a failed message, audited."""
    if not stores().raw.exists(failure.raw_sha256):
        return None
    audit.record("admin.failure_downloaded", actor=actor, failure_id=failure.id)
    db.session.flush()
    return stores().raw.path(failure.raw_sha256)


def repeat_file(repeat: MessageRepeat, actor: User) -> Path | None:
    """The stored raw bytes of another copy of a message, audited."""
    if not stores().raw.exists(repeat.raw_sha256):
        return None
    audit.record("admin.repeat_downloaded", actor=actor, repeat_id=repeat.id)
    db.session.flush()
    return stores().raw.path(repeat.raw_sha256)


def retry(failure: IngestFailure, actor: User) -> str:
    """Run a failed message through the pipeline again; returns the outcome word."""
    try:
        outcome = retry_failure(failure.id)
    except FileNotFoundError:
        raise AdminError(
            gettext("The raw message is no longer stored; it cannot be retried.")
        ) from None
    audit.record("admin.failure_retried", actor=actor, failure_id=failure.id, outcome=outcome)
    db.session.flush()
    return outcome


def describe_poll(report: PollReport) -> tuple[str, str]:
    """The flash message and its category for a poll report."""
    from helpdesk.admin.display import retry_outcome

    if report.skipped:
        text = gettext("%(mailbox)s: skipped, %(why)s.", mailbox=report.mailbox, why=report.error)
        return text, "info"
    if report.ok and report.result is not None:
        counts: dict[str, Any] = dict(report.result.outcomes)
        summary = ", ".join(f"{retry_outcome(k)} {v}" for k, v in sorted(counts.items()))
        text = gettext(
            "%(mailbox)s: fetched %(count)d (%(summary)s).",
            mailbox=report.mailbox,
            count=report.result.fetched,
            summary=summary or gettext("nothing new"),
        )
        return text, "success"
    text = gettext("%(mailbox)s: polling failed: %(why)s", mailbox=report.mailbox, why=report.error)
    return text, "error"
