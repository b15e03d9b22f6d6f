"""Readiness: facts read from the database in a few indexed queries, judged by a pure function.

The checks: the database answers; its schema is the revision this code expects; a scheduler
leader was seen recently; no outgoing mail has waited too long; every enabled mailbox was
polled successfully lately. Each threshold is a setting (``READY_*``, seconds; 0 turns the
check off). The answer names each check and its state, and nothing an outsider could use.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import func, inspect, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, scoped_session

from helpdesk.models import Mailbox, OutboxMessage, OutboxStatus, SchedulerLease
from helpdesk.scheduler import LEADER_NAME

log = logging.getLogger(__name__)

AnySession = Session | scoped_session[Any]  # the request's db.session, or a plain one

OK, FAIL, OFF, UNKNOWN = "ok", "fail", "off", "unknown"
VERSION_TABLE = "alembic_version"


@dataclass(frozen=True)
class MailboxPoll:
    """An enabled mailbox: its poll interval (seconds) and last successful poll."""

    name: str
    interval: int
    last_success_at: datetime | None


@dataclass(frozen=True)
class Facts:
    """What the database says, read at one moment; ``revisions`` None when it cannot be
    reached, ``readable`` False when its tables cannot be read (not migrated, say)."""

    revisions: frozenset[str] | None
    readable: bool = False
    leader_seen_at: datetime | None = None
    oldest_unsent_at: datetime | None = None
    mailboxes: tuple[MailboxPoll, ...] = ()


@dataclass(frozen=True)
class Limits:
    """Largest ages (seconds) the checks accept; 0 turns a check off."""

    leader: int
    outbox: int
    poll: int


def _scripts(directory: str) -> ScriptDirectory:
    config = Config()
    config.set_main_option("script_location", directory)
    return ScriptDirectory.from_config(config)


@functools.cache
def code_heads(directory: str) -> frozenset[str]:
    """The head revisions of the migrations in ``directory`` (read once a process)."""
    return frozenset(_scripts(directory).get_heads())


@functools.cache
def known_revisions(directory: str) -> frozenset[str]:
    """Every revision the migrations in ``directory`` know."""
    return frozenset(script.revision for script in _scripts(directory).walk_revisions())


def database_revisions(session: AnySession) -> frozenset[str]:
    """The revisions the database is stamped with (none when it was never migrated)."""
    connection = session.connection()
    if not inspect(connection).has_table(VERSION_TABLE):
        return frozenset()
    return frozenset(connection.scalars(text(f"SELECT version_num FROM {VERSION_TABLE}")))  # noqa: S608


def gather(session: AnySession, lease_seconds: int) -> Facts:
    """Read the facts (a failure is logged and answered as facts, never raised)."""
    try:
        revisions = database_revisions(session)
    except SQLAlchemyError:
        log.warning("readiness: the database cannot be reached", exc_info=True)
        session.rollback()
        return Facts(None)
    try:
        expires_at = session.scalar(
            select(SchedulerLease.expires_at).where(SchedulerLease.name == LEADER_NAME)
        )
        oldest = session.scalar(
            select(func.min(OutboxMessage.created_at)).where(
                OutboxMessage.status == OutboxStatus.PENDING
            )
        )
        polls = session.execute(
            select(Mailbox.name, Mailbox.poll_interval, Mailbox.last_success_at)
            .where(Mailbox.enabled.is_(True))
            .order_by(Mailbox.name)
        )
        mailboxes = tuple(MailboxPoll(*row) for row in polls)
    except SQLAlchemyError:
        log.warning("readiness: the tables cannot be read", exc_info=True)
        session.rollback()
        return Facts(revisions)
    seen = None if expires_at is None else expires_at - timedelta(seconds=lease_seconds)
    return Facts(revisions, True, seen, oldest, mailboxes)


def _age(now: datetime, then: datetime | None) -> int | None:
    return None if then is None else max(0, int((now - then).total_seconds()))


def _within(age: int | None, limit: int) -> str:
    if limit <= 0:
        return OFF
    return OK if age is not None and age <= limit else FAIL


def judge(
    facts: Facts, heads: frozenset[str], now: datetime, limits: Limits
) -> dict[str, dict[str, Any]]:
    """Each check's state (ok, fail, off, unknown) with the figure it was judged on."""
    unknown = {"state": UNKNOWN}
    checks: dict[str, dict[str, Any]] = {
        "database": {"state": OK if facts.readable else FAIL},
        "migrations": unknown,
        "scheduler": unknown,
        "outbox": unknown,
        "mailboxes": unknown,
    }
    if facts.revisions is not None:
        checks["migrations"] = {
            "state": OK if facts.revisions == heads else FAIL,
            "database": sorted(facts.revisions),
            "code": sorted(heads),
        }
    if not facts.readable:
        return checks
    leader_age = _age(now, facts.leader_seen_at)
    outbox_age = _age(now, facts.oldest_unsent_at)
    checks["scheduler"] = {
        "state": _within(leader_age, limits.leader),
        "seen_seconds_ago": leader_age,
    }
    checks["outbox"] = {
        "state": _within(outbox_age or 0, limits.outbox),  # nothing waiting is fine
        "oldest_unsent_seconds": outbox_age,
    }
    checks["mailboxes"] = _judge_mailboxes(facts.mailboxes, now, limits.poll)
    return checks


def _judge_mailboxes(
    mailboxes: tuple[MailboxPoll, ...], now: datetime, limit: int
) -> dict[str, Any]:
    """A mailbox is late when its last success is older than its interval plus ``limit``."""
    each = {}
    for mailbox in mailboxes:
        age = _age(now, mailbox.last_success_at)
        state = OFF if limit <= 0 else _within(age, mailbox.interval + limit)
        each[mailbox.name] = {"state": state, "last_success_seconds": age}
    states = {entry["state"] for entry in each.values()}
    overall = OFF if limit <= 0 else FAIL if FAIL in states else OK
    return {"state": overall, "mailboxes": each}


def ready(checks: dict[str, dict[str, Any]]) -> bool:
    """Whether no check failed."""
    return all(check["state"] != FAIL for check in checks.values())
