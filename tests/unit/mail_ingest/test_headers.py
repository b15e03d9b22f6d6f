"""Headers (mail_ingest.headers): 8-bit and encoded words, addresses, Message-IDs, dates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from mail_ingest.headers import normalize_message_id
from mail_ingest.parse import parse_message
from tests.support import mailsamples as samples

JST = timezone(timedelta(hours=9))


def test_raw_8bit_shift_jis_headers() -> None:
    msg = parse_message(samples.cp932_message())
    assert msg.subject == "届出について①～③"
    assert msg.from_name == "山田 太郎"
    assert msg.from_address == "taro.yamada@example.co.jp"


def test_encoded_words_split_mid_character_across_folded_lines_and_mixed_charsets() -> None:
    msg = parse_message(samples.split_subject_message())
    # Whitespace between adjacent encoded words is dropped (RFC 2047 section 6.2).
    assert msg.subject == "電子届出の申請– Café plain Ü"


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


def test_decoded_headers_are_kept_for_lookup() -> None:
    msg = parse_message(samples.cp932_message())
    assert msg.header("SUBJECT") == "届出について①～③"
    assert msg.header("x-missing") is None
