"""Hostile mail for the tests and the benchmarks."""

from __future__ import annotations

from email.message import EmailMessage

WORDS = "Please help: I cannot sign in to the notification system."


def nested_html_mail(depth: int, *, message_id: str | None = None) -> bytes:
    """A text/html-only enquiry whose words sit inside ``depth`` nested <div>s."""
    msg = EmailMessage()
    msg["From"] = "Mallory <mallory@example.org>"
    msg["To"] = "helpdesk@support.example.test"
    msg["Subject"] = f"{depth} nested divs"
    msg["Message-ID"] = message_id or f"<nested-{depth}@example.org>"
    msg.set_content("<div>" * depth + WORDS + "</div>" * depth, subtype="html")
    return msg.as_bytes()
