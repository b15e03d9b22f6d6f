"""parse_message: MIME shapes, hostile HTML, forwarded and machine mail, garbage, parts not kept.

Charsets, headers, file names, format=flowed, winmail.dat, the content digest and the size cut
have their own test modules, beside their own modules."""

from __future__ import annotations

import dataclasses
import hashlib
import random
from collections.abc import Iterator
from email.message import EmailMessage

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mail_ingest import mimepart
from mail_ingest.markup import WITHHELD_DEPTH, WITHHELD_SIZE
from mail_ingest.parse import (
    LISTED_NOT_KEPT,
    MAX_PARTS,
    ParsedMessage,
    iter_text_parts,
    parse_message,
)
from mail_ingest.policy import AttachmentOrigin
from tests.support import mailsamples as samples


def by_name(msg: ParsedMessage) -> dict[str | None, bytes]:
    return {a.filename: a.content for a in msg.attachments}


def texts(value: object) -> Iterator[str]:
    """Every text in a parse result, through its tuples and dataclasses."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, tuple):
        for item in value:
            yield from texts(item)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for item in dataclasses.fields(value):
            yield from texts(getattr(value, item.name))


def with_nul(msg: ParsedMessage) -> list[str]:
    return [text for text in texts(msg) if "\x00" in text]


# ---- attachments -----------------------------------------------------------------------------


def test_attachment_metadata() -> None:
    pdf = next(a for a in parse_message(samples.filenames_message()).attachments)
    assert pdf.declared_type == "application/pdf"
    assert pdf.size == len(samples.PDF_BYTES)
    assert (pdf.inline, pdf.origin, pdf.content_id, pdf.omitted) == (False, "message", None, False)
    # Its key in the stores, worked out with the parse (in the workers) so storing needn't.
    assert pdf.sha256 == hashlib.sha256(samples.PDF_BYTES).hexdigest()


def test_forwarded_attachments_keep_their_digest() -> None:
    msg = parse_message(samples.forwarded_message())
    forwarded = [a for a in msg.attachments if a.origin == AttachmentOrigin.FORWARDED]
    assert forwarded
    assert all(a.sha256 == hashlib.sha256(a.content).hexdigest() for a in forwarded)


# ---- the message as a whole ------------------------------------------------------------------


def test_header_only_message() -> None:
    msg = parse_message(samples.header_only())
    assert msg.ok
    assert (msg.subject, msg.text, msg.html, msg.attachments) == ("nothing", "", None, ())


def test_sha256_and_size_of_the_raw_bytes() -> None:
    raw = samples.iso2022jp_message()
    msg = parse_message(raw)
    assert msg.sha256 == hashlib.sha256(raw).hexdigest()
    assert msg.size == len(raw)


# ---- garbage -----------------------------------------------------------------------------


def test_empty_message_is_not_ok() -> None:
    msg = parse_message(b"")
    assert not msg.ok
    assert msg.errors == ("empty message",)
    assert msg.sha256 == hashlib.sha256(b"").hexdigest()


def test_binary_garbage_is_not_ok_but_returns() -> None:
    msg = parse_message(random.Random(7).randbytes(5000))
    assert not msg.ok
    assert msg.subject == ""


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.binary(max_size=4000))
def test_parse_never_raises_on_arbitrary_bytes(raw: bytes) -> None:
    msg = parse_message(raw)
    assert isinstance(msg, ParsedMessage)
    assert msg.sha256 == hashlib.sha256(raw).hexdigest()
    assert with_nul(msg) == []


_CORPUS = [
    samples.iso2022jp_message(),
    samples.cp932_message(),
    samples.filenames_message(),
    samples.forwarded_message(),
    samples.dsn_bounce(),
    samples.inline_image_message(),
]


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    st.sampled_from(_CORPUS),
    st.lists(st.tuples(st.integers(0, 10_000), st.binary(max_size=8)), max_size=12),
)
def test_parse_never_raises_on_damaged_real_messages(
    raw: bytes, edits: list[tuple[int, bytes]]
) -> None:
    data = bytearray(raw)
    for pos, junk in edits:
        at = pos % len(data)
        data[at : at + len(junk)] = junk[::-1] if pos % 2 else junk
    msg = parse_message(bytes(data))
    assert not any(e.startswith("unparsable message") for e in msg.errors)
    assert with_nul(msg) == []


def test_nul_characters_are_removed_from_every_text_and_kept_in_the_files() -> None:
    raw = samples.nul_message()
    msg = parse_message(raw)
    assert msg.ok and with_nul(msg) == []
    assert (msg.subject, msg.from_name) == ("Cannot log in", "Yamada Taro")
    assert msg.text.startswith("Hello, I cannot submit the notification form.")
    assert "Organisation: Example Language School" in msg.text
    assert msg.html == "<p>Hello, I cannot submit the notification form.</p>"
    assert msg.cc == ("other@example.co.jp",) and msg.header("x-mailer") == "Mailer 1.0"
    assert msg.references == ("earlier.1@example.co.jp",)
    (forwarded,) = msg.forwarded
    assert (forwarded.subject, forwarded.text) == ("earlier question", "The earlier question.")
    files = by_name(msg)
    assert files["report.pdf"] == samples.PDF_BYTES + b"\x00\x00"
    assert b"earlier\x00 question" in files["earlier_question.eml"]
    assert msg.sha256 == hashlib.sha256(raw).hexdigest() and b"\x00" in raw


def test_deep_nesting_is_cut_off_not_crashed() -> None:
    head = b"From: a@example.com\r\nMIME-Version: 1.0\r\n"
    raw = head
    for i in range(40):
        raw += f'Content-Type: multipart/mixed; boundary="b{i}"\r\n\r\n--b{i}\r\n'.encode()
    raw += b"Content-Type: text/plain\r\n\r\ndeep\r\n"
    msg = parse_message(raw)
    assert msg.ok
    assert any("too deep" in e for e in msg.errors)


# ---- HTML ------------------------------------------------------------------------------------


def _assert_harmless(html: str) -> None:
    lowered = html.lower()
    for needle in ("<script", "onerror", "onclick", "onload", "javascript:", "<style",
                   "style=", "expression(", "<iframe", "<form", "<input", "<svg", "data:",
                   "tracker.example.com", "display:none"):  # fmt: skip
        assert needle not in lowered, needle


def test_hostile_html_in_alternative_is_sanitised_and_plain_text_preferred() -> None:
    msg = parse_message(samples.html_message())
    assert msg.text == "Hello agent (plain)"
    assert msg.html is not None
    _assert_harmless(msg.html)
    assert "<b>agent</b>" in msg.html
    assert 'href="https://portal.example.go.jp/"' in msg.html
    assert 'alt="pixel"' in msg.html  # the image stays, its remote source does not


def test_html_only_message_gets_a_text_rendering() -> None:
    msg = parse_message(samples.html_message(with_text=False))
    assert msg.html is not None
    _assert_harmless(msg.html)
    assert msg.text.splitlines()[0] == "Hello agent"
    assert "alert" not in msg.text and "display" not in msg.text


def _html_mail(html: str, text: str | None = None) -> bytes:
    msg = EmailMessage()
    msg["From"] = "Mallory <mallory@example.org>"
    msg["Subject"] = "nested"
    if text is not None:
        msg.set_content(text)
        msg.add_alternative(html, subtype="html")
    else:
        msg.set_content(html, subtype="html")
    return msg.as_bytes()


def test_html_of_200000_nested_divs_is_not_kept_and_its_text_is() -> None:
    html = "<div>" * 200_000 + "Please help: I cannot sign in." + "</div>" * 200_000
    msg = parse_message(_html_mail(html))
    assert msg.ok and msg.subject == "nested"
    assert msg.html is None and msg.html_withheld == WITHHELD_SIZE
    assert msg.text == "Please help: I cannot sign in."
    assert "HTML part not kept: longer than 1000000 characters" in msg.errors


def test_html_nested_too_deep_is_not_kept_and_the_text_part_is() -> None:
    html = "<div>" * 5_000 + "formatted" + "</div>" * 5_000
    msg = parse_message(_html_mail(html, text="Plain words."))
    assert msg.html is None and msg.html_withheld == WITHHELD_DEPTH
    assert msg.text == "Plain words."
    assert "HTML part not kept: nested more than 1000 elements deep" in msg.errors


def test_inline_image_is_kept_and_cid_source_allowed() -> None:
    msg = parse_message(samples.inline_image_message())
    (image,) = msg.attachments
    assert image.inline and image.content_id == "shot1@example.vn"
    assert image.content == samples.PNG_1PX
    assert msg.html is not None and 'src="cid:shot1@example.vn"' in msg.html
    assert msg.text == "See the screenshot."


# ---- forwarded ---------------------------------------------------------------------------


def test_forwarded_message_is_an_eml_attachment_and_its_files_are_flattened() -> None:
    msg = parse_message(samples.forwarded_message())
    assert msg.text == "Forwarding the report below."
    eml, pdf = msg.attachments
    assert (eml.filename, eml.declared_type, eml.origin) == (
        "定期報告.eml",
        "message/rfc822",
        AttachmentOrigin.MESSAGE,
    )
    assert parse_message(eml.content).message_id == "inner.1@school.example.jp"
    assert (pdf.filename, pdf.origin, pdf.content) == (
        "報告書.pdf",
        AttachmentOrigin.FORWARDED,
        samples.PDF_BYTES,
    )


def test_forwarded_message_summary() -> None:
    (fwd,) = parse_message(samples.forwarded_message()).forwarded
    assert fwd.message_id == "inner.1@school.example.jp"
    assert fwd.from_address == "hanako.sato@school.example.jp"
    assert fwd.subject == "定期報告"
    assert fwd.text.strip() == "定期報告を添付します。"


def test_iter_text_parts_includes_forwarded_text() -> None:
    parts = list(iter_text_parts(parse_message(samples.forwarded_message())))
    assert parts[0] == "Forwarding the report below."
    assert parts[1].strip() == "定期報告を添付します。"


# ---- machine mail, loops -------------------------------------------------------------------


def test_dsn_bounce_finds_our_returned_message() -> None:
    msg = parse_message(samples.dsn_bounce("ticket-42.reply-1@support.example.jp"))
    assert msg.is_bounce
    assert msg.report_type == "delivery-status"
    assert msg.bounced_message_id == "ticket-42.reply-1@support.example.jp"
    assert msg.bounced_recipients == ("nobody@school.example.jp",)
    assert msg.return_path == ""
    assert msg.auto_submitted == "auto-replied"


def test_bounce_with_only_returned_headers() -> None:
    raw = (
        b"From: postmaster@mx.example.com\r\nSubject: Delivery Status Notification (Failure)\r\n"
        b'MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type="delivery-status";'
        b' boundary="B"\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\nfailed\r\n'
        b"--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx\r\n\r\n"
        b"Final-Recipient: rfc822; <Gone@Example.com>\r\nAction: failed\r\n\r\n"
        b"--B\r\nContent-Type: text/rfc822-headers\r\n\r\nFrom: helpdesk@support.example.jp\r\n"
        b"Message-ID: <reply-9@support.example.jp>\r\n\r\n--B--\r\n"
    )
    msg = parse_message(raw)
    assert msg.is_bounce
    assert msg.bounced_message_id == "reply-9@support.example.jp"
    assert msg.bounced_recipients == ("gone@example.com",)


def test_plain_text_bounce_from_mailer_daemon() -> None:
    raw = (
        b"From: MAILER-DAEMON@mx.example.com\r\nSubject: failure notice\r\n\r\n"
        b"Sorry.\r\n--- Below this line is a copy of the message.\r\n\r\n"
        b"Message-ID: <reply-10@support.example.jp>\r\nSubject: hi\r\n"
    )
    msg = parse_message(raw)
    assert msg.is_bounce
    assert msg.bounced_message_id == "reply-10@support.example.jp"


def test_ordinary_mail_is_not_a_bounce() -> None:
    msg = parse_message(samples.forwarded_message())
    assert not msg.is_bounce and msg.bounced_message_id is None


def test_auto_reply_and_list_headers() -> None:
    auto = parse_message(samples.auto_reply())
    assert auto.auto_submitted == "auto-replied"
    assert auto.subject == "Out of office: Re: [#42] 届出について"
    listed = parse_message(samples.list_mail())
    assert listed.list_id == "JLS news <jls-news.lists.example.org>"
    assert listed.precedence == "list"


# ---- the benchmark mix ---------------------------------------------------------------------


def test_generated_enquiries_parse_cleanly() -> None:
    rng = random.Random(42)
    parsed = [parse_message(samples.generate_enquiry(i, rng)) for i in range(150)]
    assert all(m.ok and m.errors == () for m in parsed)
    assert len({m.message_id for m in parsed}) == 150
    assert any("①" in m.text for m in parsed)
    assert any(m.attachments for m in parsed)
    assert all(m.text.strip() for m in parsed)


# ---- parts not kept: listed by name, then counted -------------------------------------------


def _not_kept(msg: ParsedMessage) -> list[tuple[str | None, str]]:
    return [(a.filename, a.not_kept) for a in msg.attachments if a.omitted]


def test_parts_past_the_part_limit_are_listed_then_counted() -> None:
    msg = parse_message(samples.many_attachments(10_000))
    kept = [a for a in msg.attachments if not a.omitted]
    # The root multipart and the text are parts too: 998 files are read.
    assert len(kept) == MAX_PARTS - 2 and kept[-1].filename == "f00997.txt"
    assert _not_kept(msg) == [(f"f{i:05}.txt", "too_many_parts") for i in range(998, 1018)]
    assert all(a.content == b"" and a.sha256 == "" for a in msg.attachments if a.omitted)
    assert msg.not_listed == (("too_many_parts", 10_000 - 998 - LISTED_NOT_KEPT),)
    assert msg.attachments[-1].size == len(b"file 1017\n")


def test_parts_past_the_limit_are_listed_without_reading_their_content(monkeypatch) -> None:
    raw = samples.many_attachments(3_000)
    decoded = []
    original = mimepart.decoded_payload
    monkeypatch.setattr(
        mimepart, "decoded_payload", lambda part: decoded.append(1) or original(part)
    )
    msg = parse_message(raw)
    assert len(decoded) == MAX_PARTS - 1  # the text and the files read, none past the limit
    listed = sum(1 for a in msg.attachments if a.omitted)
    assert listed + sum(count for _, count in msg.not_listed) == 3_000 - (MAX_PARTS - 2)


def test_parts_nested_too_deep_are_listed() -> None:
    head = b"From: a@example.com\r\nMIME-Version: 1.0\r\n"
    raw = head
    for i in range(40):
        raw += f'Content-Type: multipart/mixed; boundary="b{i}"\r\n\r\n--b{i}\r\n'.encode()
    raw += b'Content-Type: application/pdf; name="deep.pdf"\r\n\r\n%PDF-1.4\r\n'
    msg = parse_message(raw)
    assert _not_kept(msg) == [("deep.pdf", "too_deep")] and msg.not_listed == ()


def test_winmail_dat_files_count_as_parts() -> None:
    files = {f"t{i:04}.txt": b"tnef" for i in range(MAX_PARTS + 30)}
    msg = parse_message(samples.tnef_message(files))
    kept = [a for a in msg.attachments if not a.omitted]
    # The root, the text and winmail.dat are three parts of the limit.
    assert len(kept) == MAX_PARTS - 3 and {a.origin for a in kept} == {AttachmentOrigin.TNEF}
    assert _not_kept(msg) == [(f"t{i:04}.txt", "too_many_parts") for i in range(997, 1017)]
    assert msg.not_listed == (("too_many_parts", 33 - LISTED_NOT_KEPT),)
