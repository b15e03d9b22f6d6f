"""Charsets as Japanese mail really comes (mail_ingest.charsets): declared, wrongly declared,
undeclared."""

from __future__ import annotations

import pytest

from mail_ingest.charsets import decode_bytes
from mail_ingest.parse import parse_message
from tests.support import mailsamples as samples

# ---- Japanese charsets ----------------------------------------------------------------------


def test_iso2022jp_subject_and_body_with_windows_extensions() -> None:
    msg = parse_message(samples.iso2022jp_message())
    assert msg.ok and msg.errors == ()
    assert msg.subject == "ログインできません①"
    assert msg.text == samples.JA_BODY


def test_shift_jis_body_decoded_as_cp932_with_circled_digits_and_halfwidth_kana() -> None:
    msg = parse_message(samples.cp932_message())
    assert "①の件です。～ｶﾀｶﾅ" in msg.text
    assert "所属機関名：株式会社テスト" in msg.text


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


# ---- broken charset declarations ------------------------------------------------------------


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


def test_unknown_charset_halfwidth_kana_is_still_cp932() -> None:
    body = "ｺﾝﾆﾁﾊ ｼｽﾃﾑ ﾆ ﾛｸﾞｲﾝ ﾃﾞｷﾏｾﾝ".encode("cp932")
    assert parse_message(samples.broken_charset_message("x-unknown", body)).text == (
        "ｺﾝﾆﾁﾊ ｼｽﾃﾑ ﾆ ﾛｸﾞｲﾝ ﾃﾞｷﾏｾﾝ"
    )
