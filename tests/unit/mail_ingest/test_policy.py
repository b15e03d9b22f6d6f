"""The attachment policy, judged on real files built at test time by real tools."""

from __future__ import annotations

import base64
import dataclasses
import functools
import io
import struct
from collections.abc import Callable
from email.header import Header, decode_header, make_header
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.policy import compat32
from email.utils import collapse_rfc2231_value
from typing import Any

import olefile
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mail_ingest import policy
from mail_ingest.policy import (
    DEFAULT_FORBIDDEN_EXTENSIONS,
    REASON_TEXT,
    SNIFF_BYTES,
    Verdict,
    effective_extension,
    judge,
)
from tests.support import samplefiles

RTL = "\u202e"

BUILDERS: dict[str, Callable[[], bytes]] = {
    "xlsx": samplefiles.xlsx,
    "docx": samplefiles.docx,
    "xlsx_encrypted": samplefiles.xlsx_encrypted,
    "xlsm": samplefiles.xlsm,
    "docm": samplefiles.docm,
    "xlsx_vba_part": samplefiles.xlsx_with_vba_part_only,
    "xls": lambda: samplefiles.legacy_xls(macros=False),
    "xls_macros": lambda: samplefiles.legacy_xls(macros=True),
    "doc_macros": samplefiles.legacy_doc_with_macros,
    "xls_sheets": lambda: samplefiles.legacy_xls_with_sheets(("Sheet1", 0), ("Chart1", 2)),
    "xls_xlm": lambda: samplefiles.legacy_xls_with_sheets(("Sheet1", 0), ("Macro1", 1)),
    "xls_vba_module": lambda: samplefiles.legacy_xls_with_sheets(("Module1", 6)),
    "xls_encrypted": lambda: samplefiles.legacy_xls_with_sheets(("Sheet1", 1), encrypted=True),
    "ppt": lambda: samplefiles.legacy_ppt(macros=False),
    "ppt_macros": lambda: samplefiles.legacy_ppt(macros=True),
    "odt": samplefiles.odt,
    "odt_macros": lambda: samplefiles.odt(macros=True),
    "zip": samplefiles.zip_archive,
    "zip_infozip": samplefiles.zip_infozip,
    "zip_encrypted_infozip": samplefiles.zip_encrypted_infozip,
    "zip_encrypted_7z": samplefiles.zip_encrypted_7z,
    "lzh": samplefiles.lzh_archive,
    "pe": samplefiles.pe_executable,
    "elf": samplefiles.elf_executable,
    "jar": samplefiles.jar_archive,
    "lnk": samplefiles.windows_shortcut,
    "chm": samplefiles.compiled_help_file,
    "swf": samplefiles.swf_movie,
    "swf_compressed": lambda: samplefiles.swf_movie(compressed=True),
    "svg": samplefiles.svg,
    "svg_bare": samplefiles.svg_without_declaration,
    "pdf": samplefiles.pdf,
    "png": samplefiles.png,
    "jpeg": samplefiles.jpeg,
    "csv": samplefiles.csv_table,
    "txt": samplefiles.plain_text,
    "html": samplefiles.html_page,
    "sh": samplefiles.shell_script,
    "bat": samplefiles.batch_file,
    "vbs": samplefiles.vbscript,
    "hta": samplefiles.hta_application,
    "wsf": samplefiles.wsf_script,
}


@functools.cache
def _build(kind: str) -> bytes | str:
    try:
        return BUILDERS[kind]()
    except samplefiles.SampleUnavailable as missing:
        return str(missing)


def sample(kind: str) -> bytes:
    """The sample's bytes, built once per test session; skips when its tool is missing."""
    built = _build(kind)
    if isinstance(built, str):
        pytest.skip(built)
    return built


def case(kind: str, name: str | None, reason: str, extension: str | None = None) -> Any:
    return pytest.param(kind, name, reason, extension, id=f"{kind}-as-{name!r}")


ALLOWED = [
    case("xlsx", "届出.xlsx", "ok", "xlsx"),
    case("xlsx", "ｂｏｏｋ．ＸＬＳＸ", "ok", "xlsx"),
    case("docx", "問い合わせ.docx", "ok", "docx"),
    case("xlsx_encrypted", "protected.xlsx", "ok", "xlsx"),
    case("xlsx_encrypted", None, "empty_name_ok", ""),
    case("xls", "old.xls", "ok", "xls"),
    case("xls_sheets", "sheets.xls", "ok", "xls"),
    case("xls_encrypted", "protected.xls", "ok", "xls"),
    case("ppt", "slides.ppt", "ok", "ppt"),
    case("pdf", "在留カード.pdf", "ok", "pdf"),
    case("pdf", None, "empty_name_ok", ""),
    case("pdf", "", "empty_name_ok", ""),
    case("png", "scan.png", "ok", "png"),
    case("png", " . ", "empty_name_ok", ""),
    case("jpeg", "photo.JPG", "ok", "jpg"),
    case("csv", "data.CSV", "ok", "csv"),
    case("txt", "memo.txt", "ok", "txt"),
    case("txt", "README", "ok", ""),
    case("html", "notice.html", "ok", "html"),
    case("odt", "letter.odt", "ok", "odt"),
]

REFUSED_BY_CONTENT = [
    case("xlsm", "macro.xlsm", "macro_document", "xlsm"),
    case("xlsm", "book.xlsx", "macro_document", "xlsx"),
    case("docm", "letter.docm", "macro_document", "docm"),
    case("docm", "letter.docx", "macro_document", "docx"),
    case("xlsx_vba_part", "book.xlsx", "macro_document", "xlsx"),
    case("xls_macros", "old.xls", "macro_document", "xls"),
    case("xls_xlm", "report.xls", "macro_document", "xls"),
    case("xls_vba_module", "old.xls", "macro_document", "xls"),
    case("ppt_macros", "slides.ppt", "macro_document", "ppt"),
    case("doc_macros", "letter.doc", "macro_document", "doc"),
    case("odt_macros", "letter.odt", "macro_document", "odt"),
    case("zip", "files.zip", "archive", "zip"),
    case("zip", "report.docx", "archive", "docx"),
    case("zip", None, "archive", ""),
    case("zip_infozip", "files.ZIP", "archive", "zip"),
    case("zip_infozip", "申請書類.pdf", "archive", "pdf"),
    case("zip_encrypted_infozip", "protected.zip", "encrypted_archive", "zip"),
    case("zip_encrypted_infozip", "protected.xlsx", "encrypted_archive", "xlsx"),
    case("zip_encrypted_7z", "protected.zip", "encrypted_archive", "zip"),
    case("zip_encrypted_7z", "data.csv", "encrypted_archive", "csv"),
    case("lzh", "files.lzh", "archive", "lzh"),
    case("lzh", "files.txt", "archive", "txt"),
    case("pe", "setup.exe", "executable_content", "exe"),
    case("pe", "report.pdf", "executable_content", "pdf"),
    case("pe", "invoice.pdf.exe", "executable_content", "exe"),
    case("pe", f"invoice{RTL}fdp.exe", "executable_content", "exe"),
    case("pe", "SETUP.EXE. ", "executable_content", "exe"),
    case("pe", "photo.jpg", "executable_content", "jpg"),
    case("pe", None, "executable_content", ""),
    case("elf", "tool", "executable_content", ""),
    case("elf", "readme.txt", "executable_content", "txt"),
    case("jar", "app.jar", "executable_content", "jar"),
    case("jar", "app.zip", "executable_content", "zip"),
    case("jar", "app.docx", "executable_content", "docx"),
    case("lnk", "invoice.lnk", "shortcut", "lnk"),
    case("lnk", "invoice.pdf", "shortcut", "pdf"),
    case("chm", "manual.chm", "help_file", "chm"),
    case("chm", "manual.pdf", "help_file", "pdf"),
    case("chm", None, "help_file", ""),
    case("swf", "movie.swf", "flash", "swf"),
    case("swf_compressed", "movie.png", "flash", "png"),
    case("svg", "logo.svg", "svg", "svg"),
    case("svg", "logo.png", "svg", "png"),
    case("svg_bare", "logo.xml", "svg", "xml"),
    case("svg_bare", None, "svg", ""),
    case("sh", "setup.sh", "script_content", "sh"),
    case("sh", "notes.txt", "script_content", "txt"),
    case("bat", "run.bat", "script_content", "bat"),
    case("bat", "run.txt", "script_content", "txt"),
    case("vbs", "run.vbs", "script_content", "vbs"),
    case("vbs", "readme.txt", "script_content", "txt"),
    case("hta", "form.hta", "script_content", "hta"),
    case("hta", "form.html", "script_content", "html"),
    case("wsf", "job.wsf", "script_content", "wsf"),
    case("wsf", "job.xml", "script_content", "xml"),
]

REFUSED_BY_NAME = [
    case("docx", "document.zip", "forbidden_extension", "zip"),
    case("xlsx", "book.xlsm", "forbidden_extension", "xlsm"),
    case("xlsx_encrypted", "protected.docm", "forbidden_extension", "docm"),
    case("txt", "example.com", "forbidden_extension", "com"),
    case("txt", "notes.JS", "forbidden_extension", "js"),
    case("txt", "ｒｅａｄｍｅ．ｊｓ", "forbidden_extension", "js"),
    case("txt", "task.job", "forbidden_extension", "job"),
    case("pdf", f"invoice{RTL}fdp.exe", "forbidden_extension", "exe"),
    case("pdf", "請求書.pdf.scr", "forbidden_extension", "scr"),
    case("png", "picture.png.pif .. ", "forbidden_extension", "pif"),
    case("png", "C:\\Users\\a\\Desktop\\shot.cpl", "forbidden_extension", "cpl"),
    case("csv", "list.csv\u200b.cmd", "forbidden_extension", "cmd"),
    case("txt", "help.chm", "forbidden_extension", "chm"),
    case("txt", "slides.pptm", "forbidden_extension", "pptm"),
    case("txt", "encoded.vbe", "forbidden_extension", "vbe"),
    case("txt", "encoded.JSE", "forbidden_extension", "jse"),
]


@pytest.mark.parametrize(("kind", "name", "reason", "extension"), ALLOWED)
def test_allowed_files(kind: str, name: str | None, reason: str, extension: str) -> None:
    verdict = judge(name, sample(kind))
    assert verdict == Verdict(True, reason, verdict.detected_type, verdict.detail, extension)
    assert verdict.detected_type and verdict.detail


@pytest.mark.parametrize(("kind", "name", "reason", "extension"), REFUSED_BY_CONTENT)
def test_refused_by_content(kind: str, name: str | None, reason: str, extension: str) -> None:
    verdict = judge(name, sample(kind))
    assert (verdict.allowed, verdict.reason, verdict.extension) == (False, reason, extension)
    shown = f".{extension}" if extension else "no extension"
    assert shown in verdict.detail


@pytest.mark.parametrize(("kind", "name", "reason", "extension"), REFUSED_BY_NAME)
def test_refused_by_name(kind: str, name: str | None, reason: str, extension: str) -> None:
    verdict = judge(name, sample(kind))
    assert (verdict.allowed, verdict.reason, verdict.extension) == (False, reason, extension)
    assert f".{extension}" in verdict.detail


@pytest.mark.parametrize(
    ("kind", "mime"),
    [
        ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ("xlsx_encrypted", "application/encrypted"),
        ("pdf", "application/pdf"),
        ("png", "image/png"),
        ("jpeg", "image/jpeg"),
        ("zip", "application/zip"),
        ("svg", "image/svg+xml"),
    ],
)
def test_detected_type_is_libmagic_mime(kind: str, mime: str) -> None:
    assert judge("x", sample(kind)).detected_type == mime


@pytest.mark.parametrize(
    ("name", "extension"),
    [
        ("report.pdf", "pdf"),
        ("REPORT.PDF", "pdf"),
        ("invoice.pdf.exe", "exe"),
        ("invoice.exe.pdf", "pdf"),
        (f"invoice{RTL}fdp.exe", "exe"),
        ("photo\u2066gpj.scr\u2069", "scr"),
        ("SETUP.EXE. ", "exe"),
        ("setup.exe....   ", "exe"),
        ("ｓｅｔｕｐ．ｅｘｅ", "exe"),
        ("archive.tar.gz", "gz"),
        ("folder/sub\\file.Docx", "docx"),
        (".exe", "exe"),
        ("noextension", ""),
        ("", ""),
        (None, ""),
    ],
)
def test_effective_extension(name: str | None, extension: str) -> None:
    assert effective_extension(name) == extension


def test_default_list_is_the_portal_list() -> None:
    assert len(DEFAULT_FORBIDDEN_EXTENSIONS) == 24
    assert {"zip", "xlsm", "com", "job", "lzh", "svg", "vbe"} <= DEFAULT_FORBIDDEN_EXTENSIONS
    assert all(e == e.lower() and not e.startswith(".") for e in DEFAULT_FORBIDDEN_EXTENSIONS)


def test_custom_forbidden_extensions_are_normalised() -> None:
    assert judge("memo.TXT", sample("txt"), forbidden_extensions={".Txt"}).reason == (
        "forbidden_extension"
    )
    assert judge("tool.exe", sample("txt"), forbidden_extensions=()).allowed


# --- names decoded from real mail headers ---------------------------------------------------------


def _attachment(raw: bytes) -> tuple[Message, bytes]:
    """Parse a raw message as the legacy parser does; return its one attachment and payload."""
    parsed = BytesParser(policy=compat32).parsebytes(raw)
    parts = [p for p in parsed.walk() if p.get_content_disposition() == "attachment"]
    assert len(parts) == 1
    payload = parts[0].get_payload(decode=True)
    assert isinstance(payload, bytes)
    return parts[0], payload


def _rfc2231_filename(part: Message) -> str:
    value = part.get_param("filename", header="content-disposition")
    assert value is not None
    return collapse_rfc2231_value(value)


def test_rfc2231_name_decoded_then_judged() -> None:
    message = EmailMessage()
    message.set_content("添付します。")
    message.add_attachment(
        sample("pe"), maintype="application", subtype="pdf", filename="請求書.pdf.exe"
    )
    raw = message.as_bytes()
    assert b"filename*=" in raw
    part, payload = _attachment(raw)
    name = _rfc2231_filename(part)
    assert name == "請求書.pdf.exe"
    verdict = judge(name, payload)
    assert (verdict.reason, verdict.extension) == ("executable_content", "exe")


def test_rfc2047_name_with_rtl_override_decoded_then_judged() -> None:
    encoded = Header(f"請求書{RTL}fdp.exe", "utf-8").encode()
    message = EmailMessage()
    message.set_content("see attached")
    message.add_attachment(sample("pdf"), maintype="application", subtype="pdf", filename="x.pdf")
    raw = message.as_bytes().replace(b'filename="x.pdf"', f'filename="{encoded}"'.encode())
    part, payload = _attachment(raw)
    name = str(make_header(decode_header(part.get_filename(""))))
    assert name == f"請求書{RTL}fdp.exe"
    verdict = judge(name, payload)
    assert (verdict.reason, verdict.extension) == ("forbidden_extension", "exe")


def test_rfc2231_continuation_name_decoded_then_judged() -> None:
    body = base64.encodebytes(sample("zip_encrypted_infozip")).decode()
    raw = (
        "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
        "--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nhi\r\n"
        "--b\r\nContent-Type: application/octet-stream\r\n"
        "Content-Transfer-Encoding: base64\r\nContent-Disposition: attachment;\r\n"
        " filename*0*=utf-8'ja'%E5%B1%8A%E5%87%BA;\r\n filename*1*=%EF%BC%8Exlsx\r\n\r\n"
        f"{body}\r\n--b--\r\n"
    ).encode()
    part, payload = _attachment(raw)
    name = _rfc2231_filename(part)
    assert name == "届出．xlsx"
    verdict = judge(name, payload)
    assert (verdict.reason, verdict.extension) == ("encrypted_archive", "xlsx")


# --- size limit, and how much content is read ----------------------------------------------------


class CountingSniffer:
    """Wraps libmagic and records what it was given."""

    def __init__(self) -> None:
        self.calls: list[int] = []

    def __call__(self, prefix: bytes) -> str:
        self.calls.append(len(prefix))
        return policy.sniff_mime(prefix)


def test_libmagic_sees_one_bounded_prefix() -> None:
    sniffer = CountingSniffer()
    big = sample("txt") * 4000
    assert len(big) > SNIFF_BYTES
    assert judge("long.txt", big, sniff=sniffer).allowed
    assert sniffer.calls == [SNIFF_BYTES]


def test_long_japanese_text_is_not_mistaken_for_a_dos_program() -> None:
    # libmagic calls this "DOS executable (COM)": 電 is E9 9B BB, read as a near jump.
    text = "電子届出システムの操作について\n".encode() * 3000
    verdict = judge("log.txt", text)
    assert (verdict.allowed, verdict.detected_type) == (True, "application/x-dosexec")


@pytest.mark.parametrize(
    "text", [b"MZ notes about the file\n", b"ITSF meeting\n", b"CWS,name,date\n1,2,3\n"]
)
def test_text_starting_like_a_binary_signature_is_text(text: bytes) -> None:
    verdict = judge("notes.txt", text)
    assert (verdict.allowed, verdict.detected_type) == (True, "text/plain")


def test_too_large_reads_no_more_than_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_container_parsing(*args: object, **kwargs: object) -> None:
        raise AssertionError("an oversize file must not be opened")

    content = sample("docx")
    monkeypatch.setattr("mail_ingest.policy.zipfile.ZipFile", no_container_parsing)
    sniffer = CountingSniffer()
    verdict = judge("big.docx", content, max_bytes=1000, sniff=sniffer)
    assert (verdict.allowed, verdict.reason) == (False, "too_large")
    assert sniffer.calls == [1000]
    assert str(len(content)) in verdict.detail


def test_oversize_executable_still_reported_as_executable() -> None:
    verdict = judge("setup.pdf", sample("pe"), max_bytes=4096)
    assert verdict.reason == "executable_content"


def test_forbidden_name_outranks_size() -> None:
    assert judge("a.exe", sample("txt"), max_bytes=10).reason == "forbidden_extension"


def test_within_limit_is_judged_normally() -> None:
    content = sample("xlsm")
    assert judge("a.xlsx", content, max_bytes=len(content)).reason == "macro_document"


# --- reason texts, verdict shape ------------------------------------------------------------------

ALL_CASES = ALLOWED + REFUSED_BY_CONTENT + REFUSED_BY_NAME


def test_every_reason_has_a_text() -> None:
    # The texts are the msgids of the helpdesk's catalog, which holds their Japanese.
    produced = {p.values[2] for p in ALL_CASES} | {"too_large", "malformed_document"}
    produced |= policy.NOT_KEPT_REASONS
    assert produced <= REASON_TEXT.keys()
    assert all(REASON_TEXT.values())
    assert "Save As" in REASON_TEXT["forbidden_extension"]


def test_verdict_is_frozen() -> None:
    verdict = judge("a.txt", b"hello")
    with pytest.raises(dataclasses.FrozenInstanceError):
        verdict.allowed = False  # type: ignore[misc]


def test_damaged_ole2_file_is_refused() -> None:
    damaged = sample("xls")[:1024]
    assert judge("old.xls", damaged).reason == "malformed_document"


def test_sample_compound_files_read_back_with_olefile() -> None:
    with olefile.OleFileIO(io.BytesIO(sample("xls_macros"))) as ole:
        assert ole.exists("_VBA_PROJECT_CUR/VBA/dir")
        assert ole.openstream("Workbook").read(2) == b"\x09\x08"
    with olefile.OleFileIO(io.BytesIO(samplefiles.vba_project_bin())) as ole:
        assert b"AutoOpen" in ole.openstream("VBA/Module1").read()


# --- properties -----------------------------------------------------------------------------------

_INVISIBLE = st.sampled_from(["\u202e", "\u202d", "\u2066", "\u2069", "\u200b", "\u200e", "\ufeff"])


@given(
    stem=st.text(st.characters(categories=["L", "N"]), min_size=1, max_size=12),
    extension=st.sampled_from(sorted(DEFAULT_FORBIDDEN_EXTENSIONS)),
    noise=st.lists(st.tuples(st.integers(0, 30), _INVISIBLE), max_size=4),
    tail=st.text(" .", max_size=4),
    upper=st.booleans(),
)
def test_hidden_forbidden_extension_is_found(
    stem: str, extension: str, noise: list[tuple[int, str]], tail: str, upper: bool
) -> None:
    name = f"{stem}.{extension.upper() if upper else extension}"
    for position, char in noise:
        cut = min(position, len(name))
        name = name[:cut] + char + name[cut:]
    assert effective_extension(name + tail) == extension


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.one_of(st.none(), st.text(max_size=40)),
    head=st.sampled_from([b"", b"PK\x03\x04", bytes.fromhex("D0CF11E0A1B11AE1"), b"MZ", b"#!"]),
    body=st.binary(max_size=4096),
)
def test_judge_never_raises(name: str | None, head: bytes, body: bytes) -> None:
    verdict = judge(name, head + body)
    assert verdict.reason in REASON_TEXT


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(
    kind=st.sampled_from(["xlsx", "xls_macros", "xlsx_encrypted", "zip", "xls_xlm", "ppt_macros"]),
    flips=st.lists(st.tuples(st.integers(0, 1 << 20), st.integers(1, 255)), min_size=1),
)
def test_damaged_real_containers_never_raise(kind: str, flips: list[tuple[int, int]]) -> None:
    content = bytearray(sample(kind))
    for position, value in flips:
        content[position % len(content)] ^= value
    verdict = judge("file.xlsx", bytes(content))
    assert verdict.reason in REASON_TEXT


@settings(max_examples=200)
@given(stream=st.binary(max_size=2048))
def test_record_walkers_take_any_stream(stream: bytes) -> None:
    """The BIFF and PowerPoint record walkers end on any bytes, with an answer, never an error."""
    assert policy._biff_macro_sheet(stream) in (None, *policy._MACRO_SHEETS.values())
    assert policy._ppt_has_vba(stream) in (True, False)


def test_deeply_nested_powerpoint_containers_stop_at_a_depth() -> None:
    stream = b""
    for _ in range(10_000):
        stream = struct.pack("<HHI", 0xF, 0x03E8, len(stream)) + stream
    assert policy._ppt_has_vba(stream) is False


def test_a_part_not_kept_is_refused_with_its_reason_and_size() -> None:
    verdict = policy.not_kept(
        "scan.PDF", "application/pdf", "message_too_large", 20_000_000, max_bytes=10_000_000
    )
    assert (verdict.allowed, verdict.reason, verdict.extension) == (
        False,
        "message_too_large",
        "pdf",
    )
    assert "20000000 bytes, over the 10000000-byte limit" in verdict.detail
    small = policy.not_kept("a.txt", "text/plain", "too_many_parts", 10, max_bytes=10_000_000)
    assert small.detail == "the mail had more parts than are read"
