"""Snapshots of the automatic replies, in both languages: what the sender reads.

A reply's text is compared with ``snapshots/<name>.txt``; after changing a template on
purpose, rewrite them with ``HELPDESK_UPDATE_SNAPSHOTS=1`` and read the difference."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from helpdesk.mail.replies import refused_files, reply_text
from helpdesk.models import Ticket
from mail_ingest.parse import ParsedAttachment
from mail_ingest.pipeline import JudgedAttachment
from mail_ingest.policy import Verdict, not_kept

SNAPSHOTS = Path(__file__).parent / "snapshots"
LIMIT = 10 * 1024 * 1024


def _omitted(name: str, size: int, reason: str) -> JudgedAttachment:
    item = ParsedAttachment(name, "application/pdf", b"", size=size, omitted=True, not_kept=reason)
    return JudgedAttachment(item, not_kept(name, item.declared_type, reason, size, max_bytes=LIMIT))


def _refused(name: str, size: int, reason: str) -> JudgedAttachment:
    item = ParsedAttachment(name, "application/octet-stream", b"x" * size)
    return JudgedAttachment(item, Verdict(False, reason, "application/x-dosexec", "", "exe"))


BIG = [_omitted("scan.pdf", 20_000_000, "message_too_large")]
MANY = [_omitted(f"f{i:05}.txt", 10, "too_many_parts") for i in range(998, 1018)]
DEEP = [_omitted("deep.pdf", 13, "too_deep")]
FORBIDDEN = [
    _refused("invoice.pdf.exe", 2048, "executable_content"),
    _refused("report.xlsm", 30_000, "macro_document"),
]
TOO_LARGE = [_refused("photo.jpg", 12 * 1024 * 1024, "too_large")]

CASES = {
    "ack": ("ack", {"due_text": "2026-11-26 10:00", "due_reason": None}),
    "ack_file_too_large_for_the_mail": (
        "ack",
        {"due_text": "2026-11-26 10:00", "due_reason": None, "not_kept": refused_files(BIG)},
    ),
    "ack_too_many_files": (
        "ack",
        {"due_text": None, "not_kept": refused_files(MANY, [("too_many_parts", 8_982)])},
    ),
    "missing_fields_file_too_deep": (
        "missing_fields",
        {"missing": ["organisation", "environment"], "not_kept": refused_files(DEEP)},
    ),
    "refused_on_a_ticket": ("refused", {"refused": refused_files(FORBIDDEN)}),
    "refused_whole_mail": ("refused", {"refused": refused_files(TOO_LARGE + FORBIDDEN[:1])}),
}


@pytest.mark.parametrize("lang", ["ja", "en"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_reply_matches_its_snapshot(demo, name, lang):
    desks, _ = demo
    kind, context = CASES[name]
    ticket = None if name == "refused_whole_mail" else Ticket(number="HD-2026-000123")
    text = reply_text(
        kind, desk=desks["system"], ticket=ticket, lang=lang, requester_name="山田 太郎", **context
    )
    snapshot = SNAPSHOTS / f"{name}.{lang}.txt"
    if os.environ.get("HELPDESK_UPDATE_SNAPSHOTS") == "1":
        snapshot.write_text(text, encoding="utf-8")
    assert text == snapshot.read_text(encoding="utf-8")
