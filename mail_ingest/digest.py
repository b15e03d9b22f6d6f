"""What a message says, as one digest: the same for two copies of a message, however they
travelled. Pure.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mail_ingest.parse import ParsedAttachment

CONTENT_DIGEST_VERSION = 1


def content_digest(
    subject: str,
    texts: Sequence[str],
    htmls: Sequence[str],
    attachments: Sequence[ParsedAttachment],
    whole_body: str = "",
) -> str:
    """The SHA-256 (hex) of what a message says: two copies of one message have the same one
    however they travelled, and two messages that say different things differ.

    It covers, decoded: the subject, each plain-text and each HTML body part in order, and each
    attachment (forwarded messages and winmail.dat contents included) by its file name and its
    content's SHA-256. Transfer encodings and charsets do not count (a relay that re-encodes
    8-bit mail as quoted-printable changes no text), nor line endings, spaces at the ends of
    lines or blank lines at the end of a part (mbox tools and relays add and drop them).

    No other header counts: relays add Received, Return-Path, Delivered-To, DKIM and spam
    verdict headers, and a copy sent to two addresses differs in them, yet it is one message;
    the From and Date of a form mailer or a resend say nothing about what was asked. The
    subject counts because it is the sender's own words: on a mobile phone often the only ones.

    A message past the size limit is read only in part, and where the cut falls depends on
    the headers in front: give ``whole_body``, the SHA-256 of its body as raw bytes (which
    relays leave alone), and that stands for the parts.
    """
    digest = hashlib.sha256(f"helpdesk content {CONTENT_DIGEST_VERSION}".encode())

    def add(kind: str, value: str) -> None:  # each piece named and sized: none runs into the next
        data = value.encode("utf-8", "surrogatepass")
        digest.update(f"\0{kind} {len(data)}\0".encode())
        digest.update(data)

    add("subject", " ".join(subject.split()))
    if whole_body:
        add("body", whole_body)
        return digest.hexdigest()
    for text in texts:
        add("text", _content_lines(text))
    for markup in htmls:
        add("html", _content_lines(markup))
    for item in attachments:
        add("file", item.filename or "")
        add("sha256", item.sha256)
    return digest.hexdigest()


def body_sha256(raw: bytes) -> str:
    """The SHA-256 of a raw message's body: the bytes after its header block."""
    ends = [i + len(sep) for sep in (b"\r\n\r\n", b"\n\n") if (i := raw.find(sep)) >= 0]
    return hashlib.sha256(raw[min(ends) :] if ends else b"").hexdigest()


def _content_lines(text: str) -> str:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(line.rstrip() for line in lines).rstrip("\n")
