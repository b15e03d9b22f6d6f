"""What a message says (mail_ingest.digest): the same for copies however they travelled, and
different for messages that say different things."""

from __future__ import annotations

import pytest

from mail_ingest.parse import parse_message
from tests.support import mailsamples as samples
from tests.support import reused_ids


def _relayed(raw: bytes, hop: str) -> bytes:
    return reused_ids.relayed(raw, hop=hop, queue_id=f"Q{len(hop)}", at="Wed, 25 Nov 2026")


def test_copies_delivered_through_other_relays_say_the_same_thing() -> None:
    """Received, Return-Path, Delivered-To, DKIM and spam verdicts are the relays', not the
    message's: two deliveries of one message differ in them and in nothing else."""
    original = reused_ids.multipart_enquiry()
    copies = [_relayed(original, "smtp.example-school.jp"), _relayed(original, "mx.isp.example")]
    parsed = [parse_message(raw) for raw in (original, *copies)]
    assert len({p.sha256 for p in parsed}) == 3
    assert len({p.content_sha256 for p in parsed}) == 1


def test_a_copy_re_encoded_on_the_way_says_the_same_thing() -> None:
    """A relay without 8BITMIME re-encodes (quoted-printable to base64, new boundaries); a
    mailbox export turns CRLF into LF and adds a blank line at the end."""
    original = parse_message(reused_ids.multipart_enquiry())
    base64_copy = reused_ids.multipart_enquiry(encoding="base64", boundary="=_relay_42")
    exported = reused_ids.multipart_enquiry().replace(b"\r\n", b"\n") + b"\n"
    for raw in (base64_copy, exported):
        assert parse_message(raw).content_sha256 == original.content_sha256


def test_utf8_text_in_any_transfer_encoding_says_the_same_thing() -> None:
    digests = {parse_message(samples.utf8_message(cte)).content_sha256 for cte in _ENCODINGS}
    assert len(digests) == 1


_ENCODINGS = ("8bit", "quoted-printable", "base64")


@pytest.mark.parametrize(
    "changed",
    [
        {"text": reused_ids.ENQUIRY_TEXT.replace("エラー", "別のエラー")},
        {"attachment": reused_ids.PDF_BYTES + b"% another page\n"},
    ],
    ids=["body", "attachment"],
)
def test_another_body_or_attachment_is_another_message(changed) -> None:
    same_id = reused_ids.multipart_enquiry(**changed)
    original = parse_message(reused_ids.multipart_enquiry())
    assert parse_message(same_id).message_id == original.message_id
    assert parse_message(same_id).content_sha256 != original.content_sha256


def test_a_form_mailer_s_enquiries_under_one_message_id_differ() -> None:
    parsed = [parse_message(reused_ids.form_mail(body)) for body in reused_ids.FORM_BODIES]
    assert len({p.message_id for p in parsed}) == 1
    assert len({p.content_sha256 for p in parsed}) == 3


def test_the_subject_counts_the_sender_and_date_do_not() -> None:
    """On a phone the subject may be all a sender writes; a form mailer's From and Date say
    nothing of what was asked."""
    base = enquiry_like(subject="在留カードの件", sender="a@example.jp", date="Mon, 1 Jan 2024")
    other_subject = enquiry_like(
        subject="在留カードの件2", sender="a@example.jp", date="Mon, 1 Jan 2024"
    )
    other_sender = enquiry_like(
        subject="在留カードの件", sender="b@example.jp", date="Tue, 2 Jan 2024"
    )
    digest = parse_message(base).content_sha256
    assert parse_message(other_subject).content_sha256 != digest
    assert parse_message(other_sender).content_sha256 == digest


def enquiry_like(*, subject: str, sender: str, date: str) -> bytes:
    return (
        f"From: {sender}\r\nTo: desk@example.test\r\nDate: {date}\r\n"
        f"Message-ID: <same@example.jp>\r\nSubject: {subject}\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
    ).encode() + "本文\r\n".encode()


def test_an_oversized_message_is_told_apart_past_the_cut() -> None:
    """Past the size limit only the start is read: its body's raw bytes count too, which
    relays leave alone, so another delivery is the same and another file is not."""
    small, large = samples.big_message(300_000), samples.big_message(400_000)
    first = parse_message(small, max_bytes=200_000)
    assert first.oversized
    assert first.content_sha256 != parse_message(large, max_bytes=200_000).content_sha256
    relayed = parse_message(_relayed(small, "mx.isp.example"), max_bytes=200_000)
    assert relayed.content_sha256 == first.content_sha256
