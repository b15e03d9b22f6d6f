"""Outgoing mail: written into the outbox in the caller's transaction, sent after commit.

A message is written once, with its final Message-ID and Date, in the same transaction as the
ticket change that caused it, so a rollback loses both and a commit keeps both. Its text lives
on its outbound message row; the MIME bytes are made from that row when the message is sent,
and kept on the outbox row from then on (mail carrying files, which no row holds, is rendered
at once). Rendering twice gives the same bytes, so a retry sends the same message.

``deliver_due`` sends what is due, each message in a unit of work of its own: claimed, handed
to the SMTP server, its outcome committed before the next one is claimed, so a message
recorded as sent is never sent again. It refuses to start while the session holds uncommitted
writes: only mail that a commit has written is sent. A temporary SMTP failure is retried with
backoff. SMTP gives no exactly-once delivery: if the process dies between the server's
acceptance and our commit, the message is sent again with the same Message-ID, which mail
clients fold together.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email import encoders
from email.header import Header
from email.message import Message as EmailMessage
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import Compat32
from email.utils import format_datetime, formataddr, make_msgid
from typing import Any

from flask import current_app
from sqlalchemy import func, select

from helpdesk import clock
from helpdesk.extensions import db
from helpdesk.models import Direction, Message, OutboxMessage, OutboxStatus, Ticket
from helpdesk.transaction import unit_of_work

log = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(hours=1)
IN_LIST_CHUNK = 500  # bound parameters per IN list, well under every driver's limit


class _SmtpCompat32(Compat32):
    """compat32 with CRLF line ends that writes a short plain ASCII header as it is.

    The Header folding machinery returns such a header unchanged but costs more than the rest
    of rendering an acknowledgement; longer, non-ASCII or multi-line values still go through it.
    """

    def fold_binary(self, name: str, value: Any) -> bytes:
        """The header line as bytes."""
        if (
            isinstance(value, str)
            and value.isascii()
            and len(name) + len(value) <= _PLAIN_HEADER_CHARS
            and "\n" not in value
            and "\r" not in value
        ):
            return f"{name}: {value}\r\n".encode("ascii")
        return super().fold_binary(name, value)


_PLAIN_HEADER_CHARS = 76  # "Name: value" within the 78 characters RFC 5322 recommends
SMTP_COMPAT32 = _SmtpCompat32(linesep="\r\n")


@dataclass(frozen=True)
class OutgoingMail:
    """What to send; the outbox adds the Message-ID, Date and threading headers."""

    kind: str
    sender: str
    recipient: str
    subject: str
    text: str
    sender_name: str = ""
    in_reply_to: str | None = None
    references: Sequence[str] = ()
    automatic: bool = False
    attachments: Sequence[tuple[str, str, bytes]] = ()  # (filename, MIME type, content)


def domain_of(address: str) -> str:
    """The domain part of an address, for Message-IDs."""
    return address.rpartition("@")[2] or "localhost"


def enqueue(
    mail: OutgoingMail,
    ticket: Ticket | None = None,
    at: datetime | None = None,
    *,
    flush: bool = True,
) -> OutboxMessage:
    """Add ``mail`` and its outbound Message row to the session, to be sent after commit.

    With ``flush=False`` the rows wait for the caller's next flush (mail ingestion writes a
    whole batch at once); their ids are known only after it.
    """
    at = at or clock.now()
    message_id = make_msgid(domain=domain_of(mail.sender))
    raw = _render(mail, message_id, at) if mail.attachments else None
    bare_id = message_id.strip("<>")
    # Every column an inbound message sets, set here too: the flush writes a run of rows in
    # one statement only while they name the same columns (acknowledgements alternate with
    # the enquiries they answer).
    row = Message(
        ticket=ticket,
        direction=Direction.OUTBOUND,
        message_id=bare_id,
        in_reply_to=mail.in_reply_to,
        references=list(mail.references),
        from_address=mail.sender,
        from_name=mail.sender_name or None,
        to=[mail.recipient],
        cc=[],
        subject=mail.subject,
        text=mail.text,
        message_id_reused=False,
        auto_generated=mail.automatic,
        refused=False,
        oversized=False,
        received_at=at,
        created_at=at,
    )
    item = OutboxMessage(
        ticket=ticket,
        message_row=row,
        kind=mail.kind,
        sender=mail.sender,
        recipient=mail.recipient.lower(),
        message_id=bare_id,
        raw=raw,
        automatic=mail.automatic,
        next_attempt_at=at,
        created_at=at,
    )
    db.session.add(item)
    if flush:
        db.session.flush()
    return item


class UnrenderableMail(LookupError):
    """An outbox message without bytes whose outbound message row is gone."""


def rendered(item: OutboxMessage) -> bytes:
    """The message's bytes as they are (or were, or will be) sent."""
    if item.raw is not None:
        return item.raw
    message = item.message_row
    if message is None:
        raise UnrenderableMail(f"the message row of outbox message {item.id} no longer exists")
    mail = OutgoingMail(
        kind=item.kind,
        sender=item.sender,
        recipient=(message.to or [item.recipient])[0],
        subject=message.subject or "",
        text=message.text or "",
        sender_name=message.from_name or "",
        in_reply_to=message.in_reply_to,
        references=tuple(message.references or ()),
        automatic=item.automatic,
    )
    return _render(mail, f"<{item.message_id}>", item.created_at)


def _render(mail: OutgoingMail, message_id: str, at: datetime) -> bytes:
    """The message as bytes: UTF-8 text, RFC 2047 headers, threading and auto-reply headers."""
    body = MIMEText(mail.text, "plain", "utf-8")
    if mail.attachments:
        msg: EmailMessage = MIMEMultipart()
        msg.attach(body)
        for filename, mime_type, content in mail.attachments:
            msg.attach(_attachment_part(filename, mime_type, content))
    else:
        msg = body
    if mail.sender_name:
        msg["From"] = formataddr((mail.sender_name, mail.sender), charset="utf-8")
    else:
        msg["From"] = mail.sender
    msg["To"] = mail.recipient
    # A Header is RFC 2047 encoded as the message is written (typeshed allows only str here).
    msg["Subject"] = Header(mail.subject, "utf-8")  # type: ignore[assignment]
    msg["Date"] = format_datetime(at)
    msg["Message-ID"] = message_id
    if mail.in_reply_to:
        msg["In-Reply-To"] = f"<{mail.in_reply_to}>"
    references = [r for r in mail.references if r]
    if references:
        msg["References"] = " ".join(f"<{r}>" for r in references)
    if mail.automatic:
        msg["Auto-Submitted"] = "auto-replied"
        msg["X-Auto-Response-Suppress"] = "All"
    # CRLF line ends: smtplib sends bytes as they are, and SMTP servers count lines by CRLF.
    return msg.as_bytes(policy=SMTP_COMPAT32)


def _attachment_part(filename: str, mime_type: str, content: bytes) -> MIMEBase:
    """A base64 attachment part with an RFC 2231 encoded file name."""
    maintype, _, subtype = (mime_type or "application/octet-stream").partition("/")
    part = MIMEBase(maintype or "application", subtype or "octet-stream")
    part.set_payload(content)
    encoders.encode_base64(part)
    part.add_header("Content-Disposition", "attachment", filename=("utf-8", "", filename))
    return part


def automatic_replies_since(recipient: str, since: datetime) -> int:
    """How many automatic replies went (or are going) to ``recipient`` since ``since``."""
    return (
        db.session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(
                OutboxMessage.recipient == recipient.lower(),
                OutboxMessage.automatic.is_(True),
                OutboxMessage.created_at >= since,
            )
        )
        or 0
    )


def automatic_replies_by_recipient(recipients: Iterable[str], since: datetime) -> Counter[str]:
    """``automatic_replies_since`` for many recipients in one query (lower-cased keys)."""
    wanted = sorted({r.lower() for r in recipients if r})
    counts: Counter[str] = Counter()
    for start in range(0, len(wanted), IN_LIST_CHUNK):
        rows = db.session.execute(
            select(OutboxMessage.recipient, func.count())
            .where(
                OutboxMessage.recipient.in_(wanted[start : start + IN_LIST_CHUNK]),
                OutboxMessage.automatic.is_(True),
                OutboxMessage.created_at >= since,
            )
            .group_by(OutboxMessage.recipient)
        )
        counts.update({recipient: count for recipient, count in rows})
    return counts


def may_auto_reply(recipient: str, at: datetime | None = None) -> bool:
    """Whether the per-sender hourly limit on automatic replies still allows one more."""
    at = at or clock.now()
    limit = current_app.config["AUTOREPLY_LIMIT_PER_HOUR"]
    return automatic_replies_since(recipient, at - timedelta(hours=1)) < int(limit)


@dataclass
class DeliveryReport:
    """What one delivery run did."""

    sent: int = 0
    retried: int = 0
    failed: int = 0


def deliver_due(now: datetime | None = None, limit: int = 100) -> DeliveryReport:
    """Send the due outbox messages, committing each outcome; returns the counts. The caller
    has committed its own work (else RuntimeError, and nothing is sent)."""
    now = now or clock.now()
    report = DeliveryReport()
    with unit_of_work():  # ends the read before the first message is claimed
        ids = _claimable_ids(now, limit)
    for item_id in ids:
        with unit_of_work():
            _deliver(item_id, now, report)
    return report


def _claimable_ids(now: datetime, limit: int) -> list[int]:
    query = (
        select(OutboxMessage.id)
        .where(OutboxMessage.status == OutboxStatus.PENDING)
        .where(OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
    )
    return list(db.session.scalars(query))


def _deliver(item_id: int, now: datetime, report: DeliveryReport) -> None:
    """Claim, send and record one message (unless another sender has it, or it is not due)."""
    item = _claim(item_id, now)
    if item is not None:
        _record(item, _send(item), now, report)


def _claim(item_id: int, now: datetime) -> OutboxMessage | None:
    """Lock one pending row so two senders never send the same message."""
    query = select(OutboxMessage).where(
        OutboxMessage.id == item_id, OutboxMessage.status == OutboxStatus.PENDING
    )
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    item = db.session.scalar(query)
    if item is None or item.next_attempt_at > now:
        return None
    return item


def _send(item: OutboxMessage) -> str | None:
    """Hand one message to the SMTP server; the error text, or None when accepted."""
    config = current_app.config
    try:
        raw = rendered(item)
    except UnrenderableMail as exc:
        return str(exc)
    try:
        with _connect(config) as smtp:
            smtp.sendmail(item.sender, [item.recipient], raw)
    except (smtplib.SMTPException, OSError) as exc:
        return f"{type(exc).__name__}: {exc}"
    item.raw = raw  # what went out, kept as sent
    return None


def _connect(config: Mapping[str, Any]) -> smtplib.SMTP:
    host, port, timeout = config["SMTP_HOST"], config["SMTP_PORT"], config["SMTP_TIMEOUT"]
    security = config["SMTP_SECURITY"]
    if security == "ssl":
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(
            host, port, timeout=timeout, context=ssl.create_default_context()
        )
    else:
        smtp = smtplib.SMTP(host, port, timeout=timeout)
        if security == "starttls":
            smtp.starttls(context=ssl.create_default_context())
    if config["SMTP_USERNAME"]:
        smtp.login(config["SMTP_USERNAME"], config["SMTP_PASSWORD"])
    return smtp


def _record(item: OutboxMessage, error: str | None, now: datetime, report: DeliveryReport) -> None:
    item.attempts += 1
    if error is None:
        item.status = OutboxStatus.SENT
        item.sent_at = now
        item.last_error = None
        _mark_message_sent(item, now)
        report.sent += 1
        return
    item.last_error = error
    if item.attempts >= current_app.config["OUTBOX_MAX_ATTEMPTS"]:
        item.status = OutboxStatus.FAILED
        report.failed += 1
        log.error("giving up on outbox message %s to %s: %s", item.id, item.recipient, error)
        return
    item.next_attempt_at = now + backoff(item.attempts)
    report.retried += 1
    log.warning("outbox message %s to %s will be retried: %s", item.id, item.recipient, error)


def _mark_message_sent(item: OutboxMessage, now: datetime) -> None:
    if item.message_row_id is not None:
        message = db.session.get(Message, item.message_row_id)
        if message is not None:
            message.sent_at = now


def backoff(attempts: int) -> timedelta:
    """Wait before the next attempt: 30 s, 1 min, 2 min, ... at most an hour."""
    return min(timedelta(seconds=30 * 2 ** (attempts - 1)), MAX_BACKOFF)
