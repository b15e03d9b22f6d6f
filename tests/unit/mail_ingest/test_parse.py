"""parse_message: real-world charsets, MIME shapes, hostile HTML, machine mail, garbage."""

from __future__ import annotations

import dataclasses
import hashlib
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from email.message import EmailMessage

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mail_ingest import parse as parse_module
from mail_ingest.markup import WITHHELD_DEPTH, WITHHELD_SIZE
from mail_ingest.parse import (
    LISTED_NOT_KEPT,
    MAX_PARTS,
    ORIGIN_FORWARDED,
    ORIGIN_MESSAGE,
    ORIGIN_TNEF,
    ParsedMessage,
    decode_bytes,
    html_to_text,
    iter_text_parts,
    normalize_message_id,
    parse_message,
    unflow,
)
from tests.support import mailsamples as samples
from tests.support import reused_ids

JST = timezone(timedelta(hours=9))


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


# ---- Japanese charsets ---------------------------------------------------------------------


def test_iso2022jp_subject_and_body_with_windows_extensions() -> None:
    msg = parse_message(samples.iso2022jp_message())
    assert msg.ok and msg.errors == ()
    assert msg.subject == "ログインできません①"
    assert msg.text == samples.JA_BODY


def test_shift_jis_body_decoded_as_cp932_with_circled_digits_and_halfwidth_kana() -> None:
    msg = parse_message(samples.cp932_message())
    assert "①の件です。～ｶﾀｶﾅ" in msg.text
    assert "所属機関名：株式会社テスト" in msg.text


def test_raw_8bit_shift_jis_headers() -> None:
    msg = parse_message(samples.cp932_message())
    assert msg.subject == "届出について①～③"
    assert msg.from_name == "山田 太郎"
    assert msg.from_address == "taro.yamada@example.co.jp"


def test_euc_jp_subject_and_body() -> None:
    msg = parse_message(samples.eucjp_message())
    assert msg.subject == "在留カードの件"
    assert msg.text == "在留カードの更新について質問です。"


@pytest.mark.parametrize("cte", ["base64", "quoted-printable"])
def test_utf8_bodies_in_both_transfer_encodings(cte: str) -> None:
    msg = parse_message(samples.utf8_message(cte))
    assert msg.subject == "Không đăng nhập được – ログイン"
    assert msg.from_name == "Nguyễn Văn An"
    assert msg.text == "Xin chào,\nTôi không thể đăng nhập. ログインできません。"
    assert msg.errors == ()


def test_encoded_words_split_mid_character_across_folded_lines_and_mixed_charsets() -> None:
    msg = parse_message(samples.split_subject_message())
    # Whitespace between adjacent encoded words is dropped (RFC 2047 section 6.2).
    assert msg.subject == "電子届出の申請– Café plain Ü"


# ---- broken charset declarations -------------------------------------------------------------


@pytest.mark.parametrize(
    ("declared", "body", "expected"),
    [
        ("unknown-8bit", "①お問い合わせ".encode("cp932"), "①お問い合わせ"),
        ("x-unknown", "お問い合わせです".encode(), "お問い合わせです"),
        ("utf8", "Tiếng Việt".encode(), "Tiếng Việt"),
        ("utf-8", "申請書の提出について".encode("cp932"), "申請書の提出について"),
        ("iso-8859-1", "Grüße aus Köln".encode(), "Grüße aus Köln"),
        ("us-ascii", "日本語のテキストです".encode("euc-jp"), "日本語のテキストです"),
        ("no-such-charset", "Café".encode("latin-1"), "Café"),
        (
            "x-unknown",
            "Grüße aus Köln, schöne Straße".encode("latin-1"),
            "Grüße aus Köln, schöne Straße",
        ),
    ],
)
def test_wrong_or_unknown_charset_declarations_still_decode(
    declared: str, body: bytes, expected: str
) -> None:
    msg = parse_message(samples.broken_charset_message(declared, body))
    assert msg.ok
    assert msg.text == expected


def test_a_wrong_declaration_is_recorded_as_an_error() -> None:
    body = "申請書の提出について".encode("cp932")
    msg = parse_message(samples.broken_charset_message("utf-8", body))
    assert any("did not decode" in e and "cp932" in e for e in msg.errors)


def test_decode_bytes_never_raises_and_falls_back_to_latin1() -> None:
    text, problem = decode_bytes(b"\x81\x8d\x8f\x90\x9d", "bogus")
    assert text == "\x81\x8d\x8f\x90\x9d"
    assert problem is not None


# ---- attachment names ----------------------------------------------------------------------


def test_rfc2231_iso2022jp_filename_with_continuations() -> None:
    files = by_name(parse_message(samples.filenames_message()))
    assert files["申請書①.pdf"] == samples.PDF_BYTES


def test_rfc2231_utf8_percent_encoded_filename_in_three_pieces() -> None:
    files = by_name(parse_message(samples.filenames_message()))
    assert files["在留カード（表面）.png"] == samples.PNG_1PX


def test_rfc2047_encoded_filename_and_raw_shift_jis_filename() -> None:
    msg = parse_message(samples.filenames_message())
    files = by_name(msg)
    assert files["届出一覧.xlsx"] == b"PK fake xlsx"
    assert files["ﾒﾓ帳.txt"] == "メモ".encode("cp932")
    assert msg.text == "See attached."


def test_attachment_metadata() -> None:
    pdf = next(a for a in parse_message(samples.filenames_message()).attachments)
    assert pdf.declared_type == "application/pdf"
    assert pdf.size == len(samples.PDF_BYTES)
    assert (pdf.inline, pdf.origin, pdf.content_id, pdf.omitted) == (False, "message", None, False)
    # Its key in the stores, worked out with the parse (in the workers) so storing needn't.
    assert pdf.sha256 == hashlib.sha256(samples.PDF_BYTES).hexdigest()


def test_forwarded_attachments_keep_their_digest() -> None:
    msg = parse_message(samples.forwarded_message())
    forwarded = [a for a in msg.attachments if a.origin == ORIGIN_FORWARDED]
    assert forwarded
    assert all(a.sha256 == hashlib.sha256(a.content).hexdigest() for a in forwarded)


def test_path_components_are_stripped_from_filenames() -> None:
    raw = (
        b"From: a@example.com\r\nSubject: x\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: application/octet-stream; name="C:\\\\Users\\\\a\\\\..\\\\evil.exe"\r\n'
        b"\r\nMZ"
    )
    (att,) = parse_message(raw).attachments
    assert att.filename == "evil.exe"


# ---- headers -----------------------------------------------------------------------------


def test_identity_headers_are_normalised() -> None:
    raw = (
        b'From: "Sato, Hanako" <Hanako.SATO@School.Example.JP>\r\n'
        b'To: helpdesk@support.example.jp, "SSW" <SSW@support.example.jp>\r\n'
        b"Cc: boss@school.example.jp\r\nDelivered-To: ssw@support.example.jp\r\n"
        b"X-Original-To: desk-alias@support.example.jp\r\n"
        b"Reply-To: Office <office@school.example.jp>\r\n"
        b"Message-ID:  < abc.123@school.example.jp >\r\n"
        b"In-Reply-To: <ticket-7@support.example.jp> (Sato's message of Monday)\r\n"
        b"References: <a@x> <b@x>\r\n <a@x>\r\n\tc@x\r\n"
        b"Subject: Re:\r\n  folded\r\n subject\r\n\r\nhi\r\n"
    )
    msg = parse_message(raw)
    assert msg.from_address == "hanako.sato@school.example.jp"
    assert msg.from_name == "Sato, Hanako"
    assert msg.to == ("helpdesk@support.example.jp", "ssw@support.example.jp")
    assert msg.cc == ("boss@school.example.jp",)
    assert msg.recipients == (
        "helpdesk@support.example.jp",
        "ssw@support.example.jp",
        "boss@school.example.jp",
        "desk-alias@support.example.jp",
    )
    assert msg.reply_to == "office@school.example.jp"
    assert msg.message_id == "abc.123@school.example.jp"
    assert msg.in_reply_to == "ticket-7@support.example.jp"
    assert msg.references == ("a@x", "b@x")
    assert msg.subject == "Re: folded subject"


def test_normalize_message_id_variants() -> None:
    assert normalize_message_id("<x@y>") == "x@y"
    assert normalize_message_id("  x@y ") == "x@y"
    assert normalize_message_id("junk <x@y> more") == "x@y"
    assert normalize_message_id("") is None
    assert normalize_message_id(None) is None


def test_dates_are_aware_naive_means_utc_and_garbage_is_none() -> None:
    assert parse_message(samples.iso2022jp_message()).date == datetime(2024, 3, 1, 23, tzinfo=JST)
    naive = parse_message(samples.no_message_id()).date
    assert naive == datetime(2024, 3, 4, 10, tzinfo=UTC)
    bad = parse_message(b"From: a@example.com\r\nDate: yesterday-ish\r\n\r\nx")
    assert bad.date is None
    assert any("Date" in e for e in bad.errors)


def test_message_without_message_id() -> None:
    msg = parse_message(samples.no_message_id())
    assert msg.ok
    assert msg.message_id is None
    assert msg.from_address == "scanner@example.co.jp"


def test_header_only_message() -> None:
    msg = parse_message(samples.header_only())
    assert msg.ok
    assert (msg.subject, msg.text, msg.html, msg.attachments) == ("nothing", "", None, ())


def test_decoded_headers_are_kept_for_lookup() -> None:
    msg = parse_message(samples.cp932_message())
    assert msg.header("SUBJECT") == "届出について①～③"
    assert msg.header("x-missing") is None


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


def test_html_to_text_renders_blocks_and_lists() -> None:
    html = "<h1>Title</h1><p>One&amp;two</p><ul><li>a</li><li>b</li></ul>x<br>y"
    assert html_to_text(html) == "Title\n\nOne&two\n\n- a\n- b\nx\ny"


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


# ---- forwarded, TNEF ----------------------------------------------------------------------


def test_forwarded_message_is_an_eml_attachment_and_its_files_are_flattened() -> None:
    msg = parse_message(samples.forwarded_message())
    assert msg.text == "Forwarding the report below."
    eml, pdf = msg.attachments
    assert (eml.filename, eml.declared_type, eml.origin) == (
        "定期報告.eml",
        "message/rfc822",
        ORIGIN_MESSAGE,
    )
    assert parse_message(eml.content).message_id == "inner.1@school.example.jp"
    assert (pdf.filename, pdf.origin, pdf.content) == (
        "報告書.pdf",
        ORIGIN_FORWARDED,
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


def test_unknown_charset_halfwidth_kana_is_still_cp932() -> None:
    body = "ｺﾝﾆﾁﾊ ｼｽﾃﾑ ﾆ ﾛｸﾞｲﾝ ﾃﾞｷﾏｾﾝ".encode("cp932")
    assert parse_message(samples.broken_charset_message("x-unknown", body)).text == (
        "ｺﾝﾆﾁﾊ ｼｽﾃﾑ ﾆ ﾛｸﾞｲﾝ ﾃﾞｷﾏｾﾝ"
    )


def test_tnef_winmail_dat_is_unpacked() -> None:
    msg = parse_message(samples.tnef_message())
    files = {a.filename: a for a in msg.attachments}
    assert set(files) == {"report.pdf", "tool.exe"}
    assert files["report.pdf"].content == samples.PDF_BYTES
    assert files["tool.exe"].origin == ORIGIN_TNEF
    assert files["report.pdf"].declared_type == "application/pdf"


def test_broken_winmail_dat_is_kept_as_is_and_noted() -> None:
    garbage = b"not really tnef at all"
    msg = parse_message(samples.tnef_message(raw_tnef=garbage))
    (att,) = msg.attachments
    assert (att.filename, att.content) == ("winmail.dat", garbage)
    assert any("winmail.dat not extracted" in e for e in msg.errors)


# ---- machine mail, loops, size -------------------------------------------------------------


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


def test_oversized_message_keeps_headers_and_text_but_not_content() -> None:
    raw = samples.big_message(2_000_000)
    msg = parse_message(raw, max_bytes=200_000)
    assert msg.oversized and msg.ok
    assert msg.subject == "big" and msg.text == "Here is a big file."
    (att,) = msg.attachments
    assert (att.filename, att.content, att.omitted, att.sha256) == ("big.pdf", b"", True, "")
    assert 0 < att.size <= 2_000_000
    assert msg.sha256 == hashlib.sha256(raw).hexdigest()
    assert any("exceeds" in e for e in msg.errors)


def test_message_within_the_limit_is_not_oversized() -> None:
    raw = samples.big_message(10_000)
    msg = parse_message(raw, max_bytes=len(raw))
    assert not msg.oversized
    assert len(msg.attachments[0].content) == 10_000


# ---- the benchmark mix ---------------------------------------------------------------------


def test_generated_enquiries_parse_cleanly() -> None:
    rng = random.Random(42)
    parsed = [parse_message(samples.generate_enquiry(i, rng)) for i in range(150)]
    assert all(m.ok and m.errors == () for m in parsed)
    assert len({m.message_id for m in parsed}) == 150
    assert any("①" in m.text for m in parsed)
    assert any(m.attachments for m in parsed)
    assert all(m.text.strip() for m in parsed)


# ---- format=flowed (RFC 3676) ------------------------------------------------------------------


def test_unflow_joins_soft_breaks_and_keeps_hard_ones() -> None:
    flowed = "Hello, this is a long \nparagraph that wraps.\nNew line.\n\n-- \nYamada\n"
    assert (
        unflow(flowed) == "Hello, this is a long paragraph that wraps.\nNew line.\n\n-- \nYamada\n"
    )


def test_unflow_removes_stuffing_and_the_delsp_space() -> None:
    assert unflow(" From here \non.") == "From here on."
    assert unflow("ログインでき\nません") == "ログインでき\nません"  # no trailing space: hard
    assert unflow("ログインでき \nません", delsp=True) == "ログインできません"


def test_unflow_keeps_quote_depths_apart() -> None:
    flowed = "> quoted and \n> flowed\n>> deeper \n>> too\nmine \nhere"
    assert unflow(flowed) == "> quoted and flowed\n>> deeper too\nmine here"
    # A flowed line followed by a different depth is not joined to it.
    assert unflow("> ends flowed \nnot quoted") == "> ends flowed \nnot quoted"


def test_flowed_plain_text_body_is_unflowed() -> None:
    raw = (
        b"From: a@example.test\r\nTo: b@example.test\r\nSubject: s\r\n"
        b"MIME-Version: 1.0\r\n"
        b'Content-Type: text/plain; charset="utf-8"; format=flowed; delsp=yes\r\n'
        b"Content-Transfer-Encoding: 8bit\r\n\r\n"
        + "在留カードの更新について \r\n質問があります。\r\n> 以前のお問い合わせ \r\n> の引用\r\n".encode()
    )
    msg = parse_message(raw)
    assert msg.text == "在留カードの更新について質問があります。\n> 以前のお問い合わせの引用"


def test_plain_text_without_format_flowed_is_left_alone() -> None:
    raw = (
        b"From: a@example.test\r\nTo: b@example.test\r\nSubject: s\r\n"
        b"Content-Type: text/plain; charset=us-ascii\r\n\r\n"
        b"line one \r\nline two\r\n"
    )
    assert parse_message(raw).text == "line one \nline two"


@settings(max_examples=200)
@given(st.text(alphabet=st.sampled_from(list("ab >-\n日")), max_size=200))
def test_unflow_keeps_every_word(text: str) -> None:
    """Unflowing only joins lines and drops spaces and quote marks: the words stay, in order."""
    assert unflow(text).replace(">", "").split() == text.replace(">", "").split()


# ---- what a message says: the content digest -------------------------------------------------


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
    original = parse_module._payload
    monkeypatch.setattr(parse_module, "_payload", lambda part: decoded.append(1) or original(part))
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


def test_oversized_message_lists_the_parts_past_the_cut() -> None:
    big, after = random.Random(2).randbytes(600_000), [b"x" * 1000] * 30
    names = [f"after{i:02}.pdf" for i in range(30)]
    raw = samples.files_message([("big.pdf", big), *zip(names, after, strict=True)])
    msg = parse_message(raw, max_bytes=300_000)
    assert msg.oversized
    # The file cut in two was seen by the walk; of those past the cut the first are named.
    listed = [("big.pdf", "message_too_large")]
    listed += [(name, "message_too_large") for name in names[:LISTED_NOT_KEPT]]
    assert _not_kept(msg) == listed
    assert msg.not_listed == (("message_too_large", 30 - LISTED_NOT_KEPT),)
    sizes = {a.filename: a.size for a in msg.attachments}
    # The file cut in two is counted whole; the ones past the cut by their own length.
    assert sizes["big.pdf"] == 600_000 and sizes["after00.pdf"] == 1000


def test_oversized_single_file_is_counted_whole() -> None:
    raw = samples.big_message(2_000_000)
    msg = parse_message(raw, max_bytes=200_000)
    (att,) = msg.attachments
    assert (att.filename, att.not_kept, att.size) == ("big.pdf", "message_too_large", 2_000_000)


def test_winmail_dat_files_count_as_parts() -> None:
    files = {f"t{i:04}.txt": b"tnef" for i in range(MAX_PARTS + 30)}
    msg = parse_message(samples.tnef_message(files))
    kept = [a for a in msg.attachments if not a.omitted]
    # The root, the text and winmail.dat are three parts of the limit.
    assert len(kept) == MAX_PARTS - 3 and {a.origin for a in kept} == {ORIGIN_TNEF}
    assert _not_kept(msg) == [(f"t{i:04}.txt", "too_many_parts") for i in range(997, 1017)]
    assert msg.not_listed == (("too_many_parts", 33 - LISTED_NOT_KEPT),)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    st.lists(st.integers(0, 3000), min_size=1, max_size=LISTED_NOT_KEPT + 8),
    st.floats(0, 1, exclude_max=True),
    st.booleans(),
)
def test_wherever_the_cut_falls_every_file_is_listed_or_counted(sizes, where, lf) -> None:
    """Each file is listed with its size (the one cut in two as well) or counted."""
    rng = random.Random(len(sizes))
    files = [(f"file{i:02}.bin", rng.randbytes(size)) for i, size in enumerate(sizes)]
    raw = samples.files_message(files)
    raw = raw.replace(b"\r\n", b"\n") if lf else raw
    headers_end = raw.index(b"\n\n" if lf else b"\r\n\r\n") + (2 if lf else 4)
    cut = headers_end + int(where * (len(raw) - headers_end))
    msg = parse_message(raw, max_bytes=cut)
    listed = [a for a in msg.attachments if a.omitted]
    assert not [a for a in msg.attachments if not a.omitted]
    assert len(listed) + sum(count for _, count in msg.not_listed) == len(files)
    names = [a.filename for a in listed]
    assert names == sorted(names) and len(set(names)) == len(names)
    actual = dict(files)
    assert {a.filename: a.size for a in listed} == {n: len(actual[n]) for n in names}
