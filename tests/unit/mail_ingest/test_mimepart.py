"""What a MIME part says of itself (mail_ingest.mimepart): its file name, however encoded."""

from __future__ import annotations

from mail_ingest.parse import ParsedMessage, parse_message
from tests.support import mailsamples as samples


def by_name(msg: ParsedMessage) -> dict[str | None, bytes]:
    return {a.filename: a.content for a in msg.attachments}


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


def test_path_components_are_stripped_from_filenames() -> None:
    raw = (
        b"From: a@example.com\r\nSubject: x\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: application/octet-stream; name="C:\\\\Users\\\\a\\\\..\\\\evil.exe"\r\n'
        b"\r\nMZ"
    )
    (att,) = parse_message(raw).attachments
    assert att.filename == "evil.exe"
