"""``flask --app helpdesk mail ...``: poll now, import files, list and retry failures."""

from __future__ import annotations

import mailbox as mailboxes
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from helpdesk import clock
from helpdesk.extensions import db
from helpdesk.mail.ingest import analysis_settings
from helpdesk.mail.polling import end_reading, poll_mailbox, store_one
from helpdesk.models import IngestFailure, Mailbox
from helpdesk.outbox import deliver_due
from helpdesk.stores import stores
from mail_ingest.workers import analyse_batch

mail = AppGroup("mail", help="Mail in and out: poll, import, failures, outbox.")

IMPORT_COMMIT_EVERY = 100
REUSED = "same ID, different content (kept)"


@mail.command("poll")
@click.option("--mailbox", "name", help="Only this mailbox (by name); default: every enabled one.")
def poll_command(name: str | None) -> None:
    """Poll mailboxes now, then send what the outbox holds."""
    query = select(Mailbox).order_by(Mailbox.id)
    query = query.where(Mailbox.name == name) if name else query.where(Mailbox.enabled.is_(True))
    targets = db.session.scalars(query).all()
    if name and not targets:
        raise click.BadParameter(f"no mailbox called {name!r}", param_hint="--mailbox")
    failed = False
    for target in targets:
        report = _poll_with_progress(target)
        if report.skipped:
            click.echo(f"{report.mailbox}: skipped, {report.error}")
        elif report.ok and report.result is not None:
            counts = ", ".join(f"{k} {v}" for k, v in sorted(report.result.outcomes.items()))
            click.echo(
                f"{report.mailbox}: fetched {report.result.fetched} ({counts or 'nothing new'})"
            )
        else:
            failed = True
            click.echo(f"{report.mailbox}: FAILED, {report.error}", err=True)
    sent = deliver_due()
    click.echo(f"outbox: sent {sent.sent}, to retry {sent.retried}, failed {sent.failed}")
    if failed:
        sys.exit(1)


def _poll_with_progress(target: Mailbox):  # type: ignore[no-untyped-def]
    if not sys.stdout.isatty():
        return poll_mailbox(target)
    with click.progressbar(length=1, label=target.name, show_pos=True) as bar:

        def progress(done: int, total: int) -> None:
            bar.length = max(total, 1)
            bar.update(done - bar.pos)

        return poll_mailbox(target, progress)


@mail.command("import")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--mailbox", "name", help="Route as if received by this mailbox.")
@click.option(
    "--no-replies",
    is_flag=True,
    help="Send no automatic reply (for mail moved from another system, answered there).",
)
def import_command(path: Path, name: str | None, no_replies: bool) -> None:
    """Import one .eml file, an mbox file, a Maildir, or a folder of .eml files through the
    same pipeline. Each message counts as received at its Date header (not in the future):
    a new ticket opens then unless that was more than MAIL_ARRIVAL_MAX_AGE_HOURS ago."""
    target = None
    if name:
        target = db.session.scalar(select(Mailbox).where(Mailbox.name == name))
        if target is None:
            raise click.BadParameter(f"no mailbox called {name!r}", param_hint="--mailbox")
    settings = analysis_settings(target)
    end_reading()
    counts: Counter[str] = Counter()
    reused = 0
    limit = current_app.config["MAIL_BATCH_BYTES"]
    for chunk in _chunks(read_messages(path), IMPORT_COMMIT_EVERY, limit):
        # Parsed before the chunk's transaction, which holds SQLite's write lock.
        analyses = analyse_batch([raw for _label, raw in chunk], settings)
        for (label, raw), analysis in zip(chunk, analyses, strict=True):
            outcome = store_one(
                raw,
                target,
                None,
                analysis=analysis,
                dated_by_header=True,
                replies=not no_replies,
            )
            counts[outcome.kind] += 1
            reused += outcome.reused_message_id
            note = f" ({REUSED})" if outcome.reused_message_id else ""
            click.echo(f"{outcome.kind:10} {label}{note}")
        db.session.commit()
    summary = ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "no messages found"
    click.echo(f"imported from {path}: {summary}")
    click.echo(f"duplicates: identical {counts['duplicate']}, {REUSED} {reused}")


def _chunks(
    messages: Iterator[tuple[str, bytes]], count: int, size: int
) -> Iterator[list[tuple[str, bytes]]]:
    """Runs of at most ``count`` messages and ``size`` bytes (a bigger message alone)."""
    chunk: list[tuple[str, bytes]] = []
    total = 0
    for label, raw in messages:
        if chunk and (len(chunk) >= count or total + len(raw) > size):
            yield chunk
            chunk, total = [], 0
        chunk.append((label, raw))
        total += len(raw)
    if chunk:
        yield chunk


def read_messages(path: Path) -> Iterator[tuple[str, bytes]]:
    """Raw messages from one message file (.eml), an mbox file, a Maildir, or a folder of .eml
    files. A file is an mbox when it starts with an mbox "From " line, else one message."""
    if path.is_file() and not _is_mbox(path):
        yield path.name, path.read_bytes()
    elif path.is_file():
        box = mailboxes.mbox(path, create=False)
        try:
            for key in box.iterkeys():
                yield f"{path.name}#{key}", box.get_bytes(key)
        finally:
            box.close()
    elif (path / "cur").is_dir() or (path / "new").is_dir():
        maildir = mailboxes.Maildir(path, create=False)
        for key in sorted(maildir.iterkeys()):
            yield key, maildir.get_bytes(key)
    else:
        for eml in sorted(path.glob("*.eml")):
            yield eml.name, eml.read_bytes()


def _is_mbox(path: Path) -> bool:
    with path.open("rb") as stream:
        return stream.read(5) == b"From "


@mail.command("failures")
@click.option("--all", "show_all", is_flag=True, help="Include resolved ones.")
def failures_command(show_all: bool) -> None:
    """List messages that could not be imported."""
    query = select(IngestFailure).order_by(IngestFailure.id)
    if not show_all:
        query = query.where(IngestFailure.resolved.is_(False))
    rows = db.session.scalars(query).all()
    for row in rows:
        state = "resolved" if row.resolved else "open"
        click.echo(f"#{row.id} [{state}] uid={row.uid} {row.subject!r}: {row.error}")
    click.echo(f"{len(rows)} failure(s)")


@mail.command("retry")
@click.argument("failure_id", type=int)
def retry_command(failure_id: int) -> None:
    """Run a failed message through the pipeline again (after a fix)."""
    if db.session.get(IngestFailure, failure_id) is None:
        raise click.BadParameter(f"no failure #{failure_id}")
    outcome = retry_failure(failure_id)
    db.session.commit()
    click.echo(f"#{failure_id}: {outcome}")


def retry_failure(failure_id: int) -> str:
    """Ingest a kept failure again; it is resolved when that works. The message is parsed
    after the session's reading transaction has ended and before the one that stores it, as
    a poll does (on SQLite every transaction holds the write lock). Raises FileNotFoundError
    when the raw message is no longer stored."""
    failure = db.session.get_one(IngestFailure, failure_id)
    raw = stores().raw.get(failure.raw_sha256)
    target = db.session.get(Mailbox, failure.mailbox_id) if failure.mailbox_id else None
    settings = analysis_settings(target)
    end_reading()
    (analysis,) = analyse_batch([raw], settings)
    failure = db.session.get_one(IngestFailure, failure_id)
    target = db.session.get(Mailbox, failure.mailbox_id) if failure.mailbox_id else None
    failure.resolved = True  # an open failure of the same bytes would count as a duplicate
    failure.retried_at = clock.now()
    db.session.flush()
    outcome = store_one(raw, target, failure.uid, analysis=analysis).kind
    if outcome == "failed":
        failure.resolved = False
    return outcome


@mail.command("send")
def send_command() -> None:
    """Send what the outbox holds that is due."""
    report = deliver_due()
    click.echo(f"outbox: sent {report.sent}, to retry {report.retried}, failed {report.failed}")
