"""format=flowed (RFC 3676): mail_ingest.flowed, and plain-text bodies that declare it."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from mail_ingest.flowed import unflow
from mail_ingest.parse import parse_message


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


@settings(max_examples=200)
@given(st.text(alphabet=st.sampled_from(list("ab >-\n日")), max_size=200))
def test_unflow_keeps_every_word(text: str) -> None:
    """Unflowing only joins lines and drops spaces and quote marks: the words stay, in order."""
    assert unflow(text).replace(">", "").split() == text.replace(">", "").split()


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
