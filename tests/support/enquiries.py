"""Build realistic enquiry mails for pipeline tests (stdlib email, real encodings)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

_ids = itertools.count(1)

COMPLETE_JA = """お世話になっております。
電子届出システムにログインできません。

【機関名】株式会社サンプル商事
【連絡先】03-1234-5678
【利用環境】Windows 11 / Microsoft Edge 120
"""

COMPLETE_EN = """Hello,
I cannot submit the notification form.

Organisation: Example Language School
Phone: 03-9876-5432
Environment: macOS Sonoma, Safari 17
"""

MISSING_JA = """お世話になっております。
電子届出システムの操作方法を教えてください。
"""


def enquiry(
    body: str = COMPLETE_JA,
    *,
    subject: str = "ログインできません",
    sender: str = "yamada@example.co.jp",
    sender_name: str = "山田 太郎",
    to: str = "helpdesk@support.example.test",
    message_id: str | None = None,
    in_reply_to: str | None = None,
    headers: dict[str, str] | None = None,
    attachments: list[tuple[str, bytes, str]] = (),  # type: ignore[assignment]
    charset: str = "utf-8",
    date: datetime | None = None,
) -> bytes:
    """One enquiry as raw bytes; ``message_id=""`` leaves the header out."""
    msg = EmailMessage()
    msg["From"] = f"{sender_name} <{sender}>" if sender_name else sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(date or datetime(2026, 11, 25, 1, 0, tzinfo=UTC))
    if message_id != "":
        msg["Message-ID"] = message_id or make_msgid(f"m{next(_ids)}", domain="example.co.jp")
    if in_reply_to:
        msg["In-Reply-To"] = f"<{in_reply_to}>"
        msg["References"] = f"<{in_reply_to}>"
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body, charset=charset)
    for filename, content, mime in attachments:
        maintype, subtype = mime.split("/", 1)
        msg.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    return msg.as_bytes()
