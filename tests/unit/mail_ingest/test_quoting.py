"""Splitting the sender's new text from quoted earlier messages."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from mail_ingest.quoting import split_quoted

LINES = (
    "機関名：株式会社A",
    "> 前のメッセージ",
    "＞ 全角の引用",
    "On Mon, Helpdesk wrote:",
    "2026年11月25日(水) 10:00 山田 <y@example.jp>:",
    "-----Original Message-----",
    "From: Helpdesk",
    "Sent: Monday",
    "差出人: ヘルプデスク",
    "件名: RE",
    "",
    "   ",
    "--",
    "Windows 11 / Edge",
)


def test_no_quote() -> None:
    """A mail with nothing quoted is all new."""
    assert split_quoted("こんにちは。\nよろしくお願いします。") == (
        "こんにちは。\nよろしくお願いします。",
        "",
    )


def test_empty() -> None:
    """Empty text splits into two empty parts."""
    assert split_quoted("") == ("", "")


def test_angle_bracket_lines_half_and_full_width() -> None:
    """Lines starting with > or ＞ are quoted."""
    new, quoted = split_quoted("はい。\n> 機関名は？\n＞ 連絡先は？")
    assert new == "はい。"
    assert quoted == "> 機関名は？\n＞ 連絡先は？"


def test_on_wrote_attribution_is_quoted() -> None:
    """The "On ... wrote:" line belongs to the quote."""
    new, quoted = split_quoted("Thanks.\n\nOn Wed, 25 Nov 2026, Helpdesk wrote:\n> Hello")
    assert new == "Thanks."
    assert quoted.startswith("On Wed, 25 Nov 2026, Helpdesk wrote:")


def test_wrapped_on_wrote_attribution() -> None:
    """A two-line "On ... <\\naddr> wrote:" attribution is quoted whole."""
    text = "Yes.\n\nOn Wed, Nov 25, 2026 at 10:00 AM Helpdesk <\nhelp@example.jp> wrote:\n> Hi"
    new, quoted = split_quoted(text)
    assert new == "Yes."
    assert quoted.splitlines()[0].startswith("On Wed")


def test_japanese_gmail_attribution() -> None:
    """Japanese Gmail's "2026年11月25日(水) 10:00 山田 <x@y>:" starts a quote."""
    text = "承知しました。\n\n2026年11月25日(水) 10:00 山田 <yamada@example.jp>:\n> ご連絡ください"
    new, quoted = split_quoted(text)
    assert new == "承知しました。"
    assert "山田 <yamada@example.jp>:" in quoted


def test_japanese_wrote_attribution() -> None:
    """Thunderbird's Japanese "... さんは書きました:" starts a quote."""
    new, quoted = split_quoted("了解です。\n2026/11/25 10:00 山田さんは書きました:\n> 本文")
    assert new == "了解です。"
    assert quoted.endswith("> 本文")


def test_original_message_separator() -> None:
    """Everything after -----Original Message----- is quoted, even unprefixed."""
    new, quoted = split_quoted("OK\n-----Original Message-----\nFrom: a\nPlease send it.")
    assert new == "OK"
    assert quoted.endswith("Please send it.")


def test_japanese_original_message_separator() -> None:
    """-----元のメッセージ----- works the same."""
    new, quoted = split_quoted("了解\n-----元のメッセージ-----\n機関名：株式会社A")
    assert new == "了解"
    assert "株式会社A" in quoted


def test_outlook_header_block() -> None:
    """An Outlook From:/Sent:/To:/Subject: block starts the quote."""
    text = "See below.\n\nFrom: Helpdesk <h@x.jp>\nSent: Wednesday\nTo: me\nSubject: Re\n\nBody"
    new, quoted = split_quoted(text)
    assert new == "See below."
    assert quoted.startswith("From: Helpdesk")


def test_outlook_underscore_line_goes_with_headers() -> None:
    """The underscore rule Outlook puts above the headers is quoted too."""
    text = "Hi\n________________________________\nFrom: A\nSent: B\nBody"
    new, quoted = split_quoted(text)
    assert new == "Hi"
    assert quoted.startswith("_____")


def test_japanese_outlook_header_block() -> None:
    """差出人: / 送信日時: / 宛先: / 件名: start the quote."""
    text = (
        "追記します。\n\n差出人: ヘルプデスク\n送信日時: 2026年11月25日\n宛先: 山田\n"
        "件名: RE\n\n本文"
    )
    new, quoted = split_quoted(text)
    assert new == "追記します。"
    assert quoted.startswith("差出人: ヘルプデスク")


def test_from_line_alone_is_not_a_header_block() -> None:
    """A sentence starting with From: and no other header stays new text."""
    text = "From: 株式会社A の山田です\nよろしくお願いします。"
    assert split_quoted(text) == (text, "")


def test_signature_stays_in_new_part() -> None:
    """The signature above the quote carries the organisation and stays new."""
    text = (
        "了解です。\n\n--\n株式会社サンプル\n山田\n\n2026年11月25日(水) 10:00 H <h@x.jp>:\n> 依頼"
    )
    new, _quoted = split_quoted(text)
    assert new.endswith("株式会社サンプル\n山田")


def test_inline_answers_between_quoted_lines_are_new() -> None:
    """Answers written between quoted questions are the sender's new text."""
    text = "On Mon, Helpdesk wrote:\n> Organisation?\nABC Co., Ltd.\n> Environment?\nWindows 11"
    new, quoted = split_quoted(text)
    assert new == "ABC Co., Ltd.\nWindows 11"
    assert quoted == "On Mon, Helpdesk wrote:\n> Organisation?\n> Environment?"


def test_unprefixed_quote_after_attribution_is_quoted() -> None:
    """When the client quoted without > marks, everything after "wrote:" is quoted."""
    new, quoted = split_quoted("OK\nOn Mon, Helpdesk wrote:\nPlease send your OS.")
    assert new == "OK"
    assert quoted.endswith("Please send your OS.")


def test_crlf_line_endings() -> None:
    """CRLF mail bodies split the same way."""
    assert split_quoted("Yes\r\n> q\r\n") == ("Yes", "> q")


@given(st.lists(st.sampled_from(LINES), max_size=12))
def test_every_line_lands_in_exactly_one_part(lines: list[str]) -> None:
    """No line is lost or duplicated: new and quoted together hold every non-blank line."""
    new, quoted = split_quoted("\n".join(lines))
    parts = [line for line in (new + "\n" + quoted).split("\n") if line.strip()]
    assert sorted(parts) == sorted(line for line in lines if line.strip())
