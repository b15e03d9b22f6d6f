"""Polling the configured mailboxes: one poller per mailbox at a time, state kept for admins.

A poll runs under a per-mailbox database lock (a PostgreSQL advisory lock, or a lease row on
SQLite), so two processes never poll the same mailbox at once. A failure (server down, wrong
password, a reset connection, a timeout) is recorded on the mailbox and the next attempt waits
longer each time, up to an hour; the first success resets it. Nothing here raises into the
web app or the scheduler.
"""

from __future__ import annotations

import logging
import os
import traceback
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from helpdesk import clock
from helpdesk.extensions import db
from helpdesk.mail.ingest import IngestBatch, Outcome, UnreadableMessage, ingest_raw
from helpdesk.models import IngestFailure, Mailbox, MailboxState
from helpdesk.scheduler import leadership_for
from helpdesk.stores import stores
from mail_ingest.parse import parse_message
from mail_ingest.pipeline import Analysis
from mail_ingest.poller import Checkpoint, ImapSettings, PollResult, Progress, poll
from mail_ingest.workers import (
    AnalysisPool,
    AnalysisSettings,
    PendingAnalyses,
    analyse_batch,
    default_processes,
)

log = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(hours=1)
LOCK_SECONDS = 300


class MailboxConfigError(RuntimeError):
    """The mailbox cannot be polled as configured (for example its password is not set)."""


class DatabaseSink:
    """Stores fetched messages of one mailbox; a batch and its checkpoint commit together."""

    def __init__(self, mailbox: Mailbox, on_commit: object = None) -> None:
        self.mailbox_id = mailbox.id
        self._on_commit = on_commit
        self._settings: AnalysisSettings | None = None

    @property
    def mailbox(self) -> Mailbox:
        """The mailbox row (reloaded after commits)."""
        mailbox = db.session.get(Mailbox, self.mailbox_id)
        assert mailbox is not None
        return mailbox

    def load_checkpoint(self) -> Checkpoint:
        """The committed UIDVALIDITY and last UID."""
        mailbox = self.mailbox
        checkpoint = Checkpoint(mailbox.uidvalidity, mailbox.last_uid or 0)
        end_reading()
        return checkpoint

    def prepare(self, messages: Sequence[tuple[int, bytes]]) -> PendingAnalyses:
        """Start parsing and analysing the batch in the worker processes."""
        if self._settings is None:
            settings = IngestBatch(self.mailbox).analysis_settings()
            end_reading()
            self._settings = replace(
                settings,
                raw_store=str(stores().raw.root),
                attachment_store=str(stores().attachments.root),
            )
        return analysis_pool().submit([raw for _uid, raw in messages], self._settings)

    def store_batch(
        self,
        messages: Sequence[tuple[int, bytes]],
        prepared: PendingAnalyses | None = None,
        arrived: Mapping[int, datetime] | None = None,
    ) -> list[str]:
        """Ingest a batch of (UID, raw bytes) that the server received at ``arrived`` (by UID);
        failures are kept, never raised. The batch is parsed (or the workers are waited for)
        before its transaction begins."""
        if prepared is not None:
            prepared.result()
        return store_batch(messages, self.mailbox, prepared, arrived)

    def commit(self, checkpoint: Checkpoint) -> None:
        """Commit the batch with its checkpoint, then renew the mailbox lock."""
        mailbox = self.mailbox
        mailbox.uidvalidity = checkpoint.uidvalidity
        mailbox.last_uid = checkpoint.last_uid
        db.session.commit()
        if callable(self._on_commit):
            self._on_commit()


def end_reading() -> None:
    """End the session's transaction, which has only read. On SQLite every transaction holds
    the write lock (BEGIN IMMEDIATE), so none may stay open while the poller talks to the
    server or parses mail: sign-ins and agents' writes would wait for it."""
    db.session.commit()


def analysis_pool() -> AnalysisPool:
    """This process's analysis workers (``MAIL_ANALYSIS_PROCESSES``; 0 means in-process)."""
    processes = default_processes(current_app.config["MAIL_ANALYSIS_PROCESSES"])
    pool = _POOLS.get(processes)
    if pool is None:
        pool = _POOLS[processes] = AnalysisPool(processes)
    return pool


_POOLS: dict[int, AnalysisPool] = {}


def store_batch(
    messages: Sequence[tuple[int, bytes]],
    mailbox: Mailbox,
    prepared: PendingAnalyses | None = None,
    arrived: Mapping[int, datetime] | None = None,
) -> list[str]:
    """Ingest a batch in one savepoint; if anything but an unreadable message goes wrong in
    it, undo the batch and store its messages one at a time, each in its own savepoint.
    ``prepared`` holds the batch's analyses (resolve it first to parse outside the
    transaction); ``arrived`` when the server received each message, by UID."""
    arrived = arrived or {}
    try:
        with db.session.begin_nested():
            return _ingest_batch(messages, mailbox, prepared, arrived)
    except Exception as exc:  # noqa: BLE001 - the slow path isolates the message at fault
        log.warning(
            "batch of %d messages of %s failed (%s: %s); storing them one at a time",
            len(messages),
            mailbox.name,
            type(exc).__name__,
            exc,
        )
    analyses = prepared.result() if prepared is not None else [None] * len(messages)
    return [
        store_one(raw, mailbox, uid, arrived.get(uid), analysis=analysis).kind
        for (uid, raw), analysis in zip(messages, analyses, strict=True)
    ]


def _ingest_batch(
    messages: Sequence[tuple[int, bytes]],
    mailbox: Mailbox,
    prepared: PendingAnalyses | None,
    arrived: Mapping[int, datetime],
) -> list[str]:
    batch = IngestBatch(mailbox, size=len(messages))
    if prepared is not None:
        analyses = prepared.result()
        batch.raw_stored = prepared.raw_stored
    else:
        analyses = analyse_batch([raw for _uid, raw in messages], batch.analysis_settings())
    batch.prefetch(analyses, clock.now())
    outcomes = []
    for (uid, raw), analysis in zip(messages, analyses, strict=True):
        try:
            outcome = batch.ingest(raw, analysis, uid, clock.now(), arrived=arrived.get(uid))
            outcomes.append(outcome.kind)
        except UnreadableMessage as exc:
            log.warning("message uid=%s of %s is unreadable: %s", uid, mailbox.name, exc)
            record_failure(raw, mailbox, uid, exc, subject=analysis.parsed.subject)
            outcomes.append("failed")
    batch.finish()
    return outcomes


def store_one(
    raw: bytes,
    mailbox: Mailbox | None,
    uid: int | None,
    arrived: datetime | None = None,
    *,
    analysis: Analysis | None = None,
    dated_by_header: bool = False,
    replies: bool = True,
) -> Outcome:
    """Ingest one raw message; on error keep it as a failure (outcome ``failed``).
    ``analysis``, ``dated_by_header`` and ``replies``: see ``ingest_raw``."""
    try:
        with db.session.begin_nested():
            return ingest_raw(
                raw,
                mailbox=mailbox,
                uid=uid,
                at=clock.now(),
                arrived=arrived,
                analysis=analysis,
                dated_by_header=dated_by_header,
                replies=replies,
            )
    except IntegrityError:
        # Another process (a poller, or an import without a mailbox) stored the same message
        # (Message-ID and content) first: the unique index decides. Its bytes are in the raw
        # store.
        log.info("message uid=%s already stored by another process", uid)
        return Outcome("duplicate")
    except Exception as exc:  # noqa: BLE001 - a bad message must not stop the ones after it
        log.exception("message uid=%s of %s failed", uid, mailbox.name if mailbox else "import")
        subject = analysis.parsed.subject if analysis is not None else None
        record_failure(raw, mailbox, uid, exc, subject=subject)
        return Outcome("failed")


def record_failure(
    raw: bytes,
    mailbox: Mailbox | None,
    uid: int | None,
    exc: BaseException,
    *,
    subject: str | None = None,
) -> None:
    """Keep the raw bytes and the error for an admin to see and retry; ``subject`` is the
    message's, if it was parsed."""
    key = stores().raw.put(raw)
    existing = db.session.scalar(select(IngestFailure).where(IngestFailure.raw_sha256 == key))
    if existing is not None:
        existing.error = _error_text(exc)
        return
    if subject is None:
        subject = parse_message(raw[:65536]).subject
    with db.session.begin_nested():
        db.session.add(
            IngestFailure(
                mailbox_id=mailbox.id if mailbox is not None else None,
                uidvalidity=mailbox.uidvalidity if mailbox is not None else None,
                uid=uid,
                raw_sha256=key,
                subject=subject[:500],
                error=_error_text(exc),
                created_at=clock.now(),
            )
        )


def _error_text(exc: BaseException) -> str:
    # An error may quote what it choked on: a NUL there would fail the failure's own row.
    text = "".join(traceback.format_exception_only(type(exc), exc)).replace("\x00", "")
    return text.strip()[:4000]


def imap_settings(mailbox: Mailbox) -> ImapSettings:
    """Connection settings; the password comes from the environment variable the row names."""
    password = os.environ.get(mailbox.secret_env)
    if not password:
        raise MailboxConfigError(
            f"the password variable {mailbox.secret_env} is not set in the environment"
        )
    return ImapSettings(
        host=mailbox.host,
        port=mailbox.port,
        username=mailbox.username,
        password=password,
        security=mailbox.security.value,
        folder=mailbox.folder,
        processed_folder=mailbox.processed_folder,
        processed_flag=mailbox.processed_flag,
        batch_size=current_app.config["MAIL_BATCH_SIZE"],
        batch_bytes=current_app.config["MAIL_BATCH_BYTES"],
        timeout=float(current_app.config["IMAP_TIMEOUT"]),
    )


@dataclass
class PollReport:
    """The outcome of polling one mailbox."""

    mailbox: str
    ok: bool
    result: PollResult | None = None
    error: str | None = None
    skipped: bool = False


def poll_mailbox(mailbox: Mailbox, progress: Progress | None = None) -> PollReport:
    """Poll one mailbox under its lock and record how it went; never raises."""
    name, mailbox_id = mailbox.name, mailbox.id
    # End our own transaction first: on SQLite it would hold the write lock the lock row needs.
    db.session.commit()
    lock = leadership_for(db.engine, LOCK_SECONDS, name=f"mailbox-poll:{mailbox_id}")
    if not lock.heartbeat():
        return PollReport(name, ok=True, skipped=True, error="another process is polling it")
    result, error = None, None
    try:
        sink = DatabaseSink(mailbox, on_commit=lock.heartbeat)
        result = poll(imap_settings(mailbox), sink, progress)
    except Exception as exc:  # noqa: BLE001 - recorded on the mailbox, retried with backoff
        error = f"{type(exc).__name__}: {exc}"
        log.warning("polling %s failed: %s", name, error)
    finally:
        db.session.rollback()
        lock.release()
    _record_poll(db.session.get(Mailbox, mailbox_id), clock.now(), error)
    return PollReport(name, ok=error is None, result=result, error=error)


def _record_poll(mailbox: Mailbox | None, now: datetime, error: str | None) -> None:
    if mailbox is None:
        return
    mailbox.last_poll_at = now
    if error is None:
        mailbox.state = MailboxState.OK
        mailbox.last_success_at = now
        mailbox.consecutive_failures = 0
        mailbox.next_poll_at = now + timedelta(seconds=mailbox.poll_interval)
    else:
        mailbox.state = MailboxState.ERROR
        mailbox.last_error = error[:4000]
        mailbox.last_error_at = now
        mailbox.consecutive_failures += 1
        mailbox.next_poll_at = now + backoff(mailbox.poll_interval, mailbox.consecutive_failures)
    db.session.commit()


def backoff(interval: int, failures: int) -> timedelta:
    """The wait after ``failures`` failures in a row: the interval, doubled each time, <= 1 h."""
    return min(timedelta(seconds=interval * 2 ** max(failures - 1, 0)), MAX_BACKOFF)


def poll_due_mailboxes(now: datetime | None = None) -> list[PollReport]:
    """Poll each enabled mailbox whose next poll is due (the scheduler's job)."""
    now = now or clock.now()
    due = db.session.scalars(
        select(Mailbox)
        .where(Mailbox.enabled.is_(True))
        .where(or_(Mailbox.next_poll_at.is_(None), Mailbox.next_poll_at <= now))
        .order_by(Mailbox.id)
    ).all()
    db.session.commit()
    return [poll_mailbox(mailbox) for mailbox in due]
