"""One MIME part of the stdlib's ``compat32`` tree, read without raising. Pure.

Its type, disposition, Content-ID and parameters (RFC 2231 and RFC 2047 encoded, or raw
8-bit bytes from Windows mailers), its file name, its content decoded to bytes or text, and
the size its content decodes to, worked out without decoding it (for parts not kept).
"""

from __future__ import annotations

import re
from email.message import Message

from mail_ingest.charsets import decode_bytes
from mail_ingest.headers import (
    header_text,
    normalize_message_id,
    raw_bytes,
    unfold,
    without_controls,
)


def content_type(part: Message) -> str:
    """The lower-case content type; application/octet-stream when it cannot be read."""
    try:
        return part.get_content_type().lower()
    except Exception:  # noqa: BLE001
        return "application/octet-stream"


def disposition(part: Message) -> str:
    """The lower-case Content-Disposition ("inline", "attachment"), or ""."""
    try:
        return (part.get_content_disposition() or "").lower()
    except Exception:  # noqa: BLE001
        return ""


def transfer_encoding(part: Message) -> str:
    """The Content-Transfer-Encoding as written, or ""."""
    return str(part.get("content-transfer-encoding", ""))


def content_id(part: Message) -> tuple[str | None, bool]:
    """The part's Content-ID, and whether it is shown inline."""
    cid = normalize_message_id(str(part.get("content-id", "") or "")) or None
    inline = disposition(part) == "inline" or (cid is not None and disposition(part) == "")
    return cid, inline


def param(part: Message, name: str, header: str = "content-type") -> str | None:
    """A MIME parameter, RFC 2231 and RFC 2047 decoded, or None."""
    try:
        value: object = part.get_param(name, None, header)
    except Exception:  # noqa: BLE001
        return None
    if value is None:
        return None
    raw_header = _first_raw(part, header)
    if raw_header is not None and not raw_header.isascii():
        value = _param_8bit(raw_header, name, header)
    if isinstance(value, tuple) and len(value) == 3:
        charset, _lang, text = value
        raw = str(text).encode("raw-unicode-escape", "replace")
        return decode_bytes(raw, str(charset or "") or None)[0]
    return header_text(raw_bytes(value), [])


def _first_raw(part: Message, header: str) -> bytes | None:
    return next((raw_bytes(v) for k, v in part.raw_items() if k.lower() == header), None)


def _param_8bit(raw_header: bytes, name: str, header: str) -> object:
    """Read a parameter from a header holding raw 8-bit bytes (names from Windows mailers)."""
    text, _problem = decode_bytes(raw_header, None)
    scratch = Message()
    scratch[header] = unfold(text)
    try:
        value = scratch.get_param(name, None, header)
    except Exception:  # noqa: BLE001 - malformed RFC 2231 continuations
        return None
    return value if isinstance(value, str | tuple) else None


def filename(part: Message) -> str | None:
    """The file name the part declares, without a path or control characters, or None."""
    name = param(part, "filename", "content-disposition") or param(part, "name")
    if not name:
        return None
    name = re.split(r"[\\/]", name.strip().strip('"'))[-1]
    return without_controls(name).strip() or None


def decoded_payload(part: Message) -> bytes:
    """The content, its transfer encoding undone; empty when it cannot be decoded."""
    try:
        data = part.get_payload(decode=True)
    except Exception:  # noqa: BLE001
        return b""
    return data if isinstance(data, bytes) else b""


def decoded_text(part: Message, problems: list[str]) -> str:
    """The content as text in its declared charset (or a guessed one), with LF line ends."""
    try:
        charset = part.get_param("charset")
    except Exception:  # noqa: BLE001
        charset = None
    declared = charset[2] if isinstance(charset, tuple) else charset
    text, problem = decode_bytes(decoded_payload(part), str(declared) if declared else None)
    if problem:
        problems.append(problem)
    return text.replace("\r\n", "\n").replace("\r", "\n")


def estimated_size(part: Message) -> int:
    """About how many bytes the content decodes to, without decoding it."""
    raw = part.get_payload()
    if not isinstance(raw, str):
        return 0
    return decoded_size(raw, transfer_encoding(part))


def decoded_size(
    encoded: str | bytes, cte: str, start: int = 0, end: int | None = None, *, before: int = 0
) -> int:
    """About how many bytes ``encoded[start:end]`` decodes to, without decoding or copying it;
    ``before``: the content characters of the same part before ``start`` (see content_chars)."""
    chars = before + content_chars(encoded, cte, start, end)
    return chars * 3 // 4 if _is_base64(cte) else chars


def content_chars(encoded: str | bytes, cte: str, start: int = 0, end: int | None = None) -> int:
    """The characters of ``encoded[start:end]`` that carry content: in base64, all but the
    line breaks, blanks and the padding "=" (which only ends it)."""
    end = len(encoded) if end is None else end
    length = max(end - start, 0)
    if not _is_base64(cte):
        return length
    # Two counts and two searches of the whole span; the padding is only at the end.
    last = max(start, end - 16)
    if isinstance(encoded, str):
        blanks = encoded.count("\n", start, end) + encoded.count("\r", start, end)
        blanks += sum(
            encoded.count(c, start, end) for c in " \t" if encoded.find(c, start, end) >= 0
        )
        return length - blanks - encoded.count("=", last, end)
    blanks = encoded.count(b"\n", start, end) + encoded.count(b"\r", start, end)
    blanks += sum(
        encoded.count(c, start, end) for c in (b" ", b"\t") if encoded.find(c, start, end) >= 0
    )
    return length - blanks - encoded.count(b"=", last, end)


def _is_base64(cte: str) -> bool:
    return cte.strip().lower() == "base64"
