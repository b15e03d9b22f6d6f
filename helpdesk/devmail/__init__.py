"""Outgoing mail caught on this machine, for the embedded development set-up.

``flask serve`` in development starts an SMTP server (aiosmtpd) on the configured SMTP host and
port, which keeps every message in a Maildir under the instance folder; admins read them at
``/admin/captured-mail``. Nothing leaves the machine, and the outbox works exactly as it does in
production. Production never starts it and has no such page.
"""

from __future__ import annotations

import logging
import mailbox
import socket
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

log = logging.getLogger(__name__)

PAGE_SIZE = 100


class _KeepInMaildir:
    """aiosmtpd handler: every message accepted goes into the Maildir."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        raw = envelope.original_content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        mailbox.Maildir(self.folder, create=True).add(raw)
        return "250 Message kept"


def start_capture(folder: Path, host: str, port: int) -> Controller | None:
    """Listen for SMTP on ``host:port`` and keep what arrives in ``folder``; None (and a log
    line) when the port is taken, for instance by a capture server already running."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # Binding, not connecting, disturbs no one; SO_REUSEADDR (as the server's own socket
        # has) lets closed connections in TIME_WAIT pass and stops only at a listener.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            log.warning("%s:%s is taken; this process does not catch mail", host, port)
            return None
    controller = Controller(_KeepInMaildir(folder), hostname=host, port=port)
    controller.start()
    return controller


@dataclass(frozen=True)
class CapturedMail:
    """One caught message, as the list shows it."""

    key: str
    sent_at: datetime | None
    sender: str
    recipients: str
    subject: str


def _parse(raw: bytes) -> EmailMessage:
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(message, EmailMessage)
    return message


def _date(message: EmailMessage) -> datetime | None:
    try:
        return parsedate_to_datetime(str(message["Date"])) if message["Date"] else None
    except (TypeError, ValueError):
        return None


def _summary(key: str, message: EmailMessage) -> CapturedMail:
    return CapturedMail(
        key=key,
        sent_at=_date(message),
        sender=str(message["From"] or ""),
        recipients=", ".join(str(v) for v in message.get_all("To", [])),
        subject=str(message["Subject"] or ""),
    )


def captured(folder: Path, limit: int = PAGE_SIZE) -> list[CapturedMail]:
    """The newest ``limit`` messages caught, newest first (Maildir keys start with the time)."""
    if not folder.is_dir():
        return []
    box = mailbox.Maildir(folder, create=False)
    keys = sorted(box.keys(), reverse=True)[:limit]
    return [_summary(key, _parse(box.get_bytes(key))) for key in keys]


def captured_message(folder: Path, key: str) -> tuple[CapturedMail, str] | None:
    """One caught message: its summary and its text (None if there is no such message)."""
    if not folder.is_dir():
        return None
    try:
        message = _parse(mailbox.Maildir(folder, create=False).get_bytes(key))
    except KeyError:
        return None
    body = message.get_body(preferencelist=("plain", "html"))
    return _summary(key, message), str(body.get_content()) if body is not None else ""


def enabled(config: Any) -> bool:
    """Whether this app catches its outgoing mail (development with a capture folder)."""
    return config["ENV"] == "development" and bool(config.get("MAIL_CAPTURE_PATH"))
