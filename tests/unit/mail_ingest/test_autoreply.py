"""should_auto_reply: RFC 3834 loop protection."""

from __future__ import annotations

import pytest

from mail_ingest.autoreply import AUTO_REPLY_HEADERS, should_auto_reply
from mail_ingest.parse import parse_message
from tests.support import mailsamples as samples

OWN = {"helpdesk@support.example.jp", "SSW@support.example.jp"}


def mail(*headers: str, body: str = "hello") -> bytes:
    base = {"From": "Taro <taro@example.co.jp>", "To": "helpdesk@support.example.jp"}
    lines = [f"{k}: {v}" for k, v in base.items() if not any(h.startswith(k) for h in headers)]
    return ("\r\n".join(lines + list(headers)) + "\r\n\r\n" + body).encode()


def test_a_person_gets_a_reply() -> None:
    assert should_auto_reply(parse_message(mail()), own_addresses=OWN) == (True, "")
    assert should_auto_reply(parse_message(samples.cp932_message()), own_addresses=OWN)[0]


def test_auto_submitted_no_is_a_person() -> None:
    msg = parse_message(mail("Auto-Submitted: No"))
    assert should_auto_reply(msg, own_addresses=OWN) == (True, "")


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ("Auto-Submitted: auto-replied", "Auto-Submitted"),
        ("Auto-Submitted: auto-generated; owner-email=x@y", "Auto-Submitted"),
        ("Precedence: bulk", "Precedence"),
        ("Precedence: JUNK", "Precedence"),
        ("Precedence: list", "Precedence"),
        ("List-Id: <news.lists.example.org>", "mailing-list"),
        ("List-Unsubscribe: <mailto:leave@lists.example.org>", "mailing-list"),
        ("X-Auto-Response-Suppress: DR, OOF, AutoReply", "X-Auto-Response-Suppress"),
        ("Return-Path: <>", "null return path"),
        ("From: MAILER-DAEMON@mx.example.com", "machine sender"),
        ("From: Postmaster <postmaster@example.com>", "machine sender"),
        ("From: no-reply@portal.example.go.jp", "machine sender"),
        ("From: noreply+alerts@example.com", "machine sender"),
        ("From: owner-jls@lists.example.org", "machine sender"),
        ("From: jls-request@lists.example.org", "machine sender"),
        ("From: undisclosed-recipients:;", "no usable sender"),
        ("From: Helpdesk <HELPDESK@support.example.jp>", "own addresses"),
        ("Reply-To: ssw@support.example.jp", "own addresses"),
    ],
)
def test_no_reply_to_machines_lists_and_ourselves(header: str, reason: str) -> None:
    allowed, why = should_auto_reply(parse_message(mail(header)), own_addresses=OWN)
    assert not allowed
    assert reason in why


def test_missing_from_header() -> None:
    raw = b"To: helpdesk@support.example.jp\r\nSubject: x\r\n\r\nhi"
    allowed, why = should_auto_reply(parse_message(raw), own_addresses=OWN)
    assert (allowed, why) == (False, "no usable sender address")


def test_no_reply_to_sample_machine_mail() -> None:
    for raw in (samples.dsn_bounce(), samples.auto_reply(), samples.list_mail()):
        assert not should_auto_reply(parse_message(raw), own_addresses=OWN)[0]


def test_no_reply_to_a_report_without_other_markers() -> None:
    raw = (
        b"From: reader@example.com\r\nSubject: Read: x\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: multipart/report; report-type=disposition-notification; boundary=B\r\n"
        b"\r\n--B\r\nContent-Type: text/plain\r\n\r\nread\r\n--B--\r\n"
    )
    allowed, why = should_auto_reply(parse_message(raw), own_addresses=OWN)
    assert (allowed, why) == (False, "delivery or disposition report")


def test_no_reply_to_garbage() -> None:
    assert should_auto_reply(parse_message(b"\x00\x01garbage"), own_addresses=OWN) == (
        False,
        "message not understood",
    )


def test_our_replies_carry_the_auto_submitted_header() -> None:
    assert AUTO_REPLY_HEADERS["Auto-Submitted"] == "auto-replied"
