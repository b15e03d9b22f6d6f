"""Raw RFC 5322 bytes -> ParsedMessage. Pure, and never raises on bad input.

The stdlib parser runs with the ``compat32`` policy, which never raises while parsing; every
header value is then decoded here from its raw bytes, so that 8-bit headers (Shift_JIS from
Windows mailers), RFC 2047 encoded words split mid-character and wrong charset declarations
all end in readable text. Whatever went wrong is recorded in ``ParsedMessage.errors``.

HTML bodies are sanitised with nh3 (see ``mail_ingest.markup``): scripts, styles, event
handlers, inline CSS and non-web URL schemes are removed, ``cid:`` images are kept so the UI
can point them at the stored inline attachment, and every other image source is dropped, which
blocks tracking pixels and remote content. HTML too large or too deeply nested to clean in
bounded time is not kept at all: ``html_withheld`` says why, and the text stands alone.

Every text in the result is free of NUL characters: PostgreSQL refuses them in text and JSON
columns, and in mail text they mean nothing. The raw bytes and attachments' content keep theirs.

When ``max_bytes`` is given and the raw message is larger, only its first ``max_bytes`` bytes
are parsed: headers and the text found there are kept, attachments seen there are listed with
an estimated size and ``omitted=True`` but no content. The parts past the cut are found by
their boundary lines (their headers read, their content never decoded) and listed the same way.

Parts past ``MAX_PARTS`` or deeper than ``MAX_DEPTH`` are not read either. Nothing the parser
does not keep goes unmentioned: the first ``LISTED_NOT_KEPT`` such parts are listed as omitted
attachments with the reason (``not_kept``), and the rest are counted by reason
(``ParsedMessage.not_listed``), so a mail of ten thousand parts costs a count, not a list.

``ParsedMessage.content_sha256`` tells whether two messages say the same thing, whatever their
bytes: see ``content_digest`` for what it covers.
"""

from __future__ import annotations

import base64
import codecs
import email
import email.parser
import email.utils
import hashlib
import logging
import mimetypes
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, fields, is_dataclass, replace
from datetime import UTC, datetime
from email.message import Message
from email.policy import compat32
from functools import cache
from typing import TypeGuard, cast
from urllib.parse import unquote

from mail_ingest import mimetree
from mail_ingest.filenames import shown_name
from mail_ingest.markup import (
    HTML_MAX_CHARS,
    HTML_MAX_DEPTH,
    HTML_MAX_REOPENED,
    WITHHELD_DEPTH,
    WITHHELD_REOPENED,
    WITHHELD_SIZE,
    HtmlWithheld,
    html_to_text,
    sanitize_html,
    withheld_reason,
)
from mail_ingest.policy import AttachmentOrigin, AttachmentReason

logger = logging.getLogger(__name__)

MAX_DEPTH = 12
MAX_PARTS = 1000
OMITTED_TEXT_LIMIT = 200_000
LISTED_NOT_KEPT = 20
"""The most parts past a limit (count, depth, size) listed by name; the rest are counted."""
TAIL_HEADER_BYTES = 16 * 1024
"""The most read of the headers of a part past the size cut."""

# Why an attachment's content was not kept (``ParsedAttachment.not_kept``).
NOT_KEPT_MESSAGE_TOO_LARGE = AttachmentReason.MESSAGE_TOO_LARGE
NOT_KEPT_TOO_MANY_PARTS = AttachmentReason.TOO_MANY_PARTS
NOT_KEPT_TOO_DEEP = AttachmentReason.TOO_DEEP

ORIGIN_MESSAGE = AttachmentOrigin.MESSAGE
ORIGIN_FORWARDED = AttachmentOrigin.FORWARDED
ORIGIN_TNEF = AttachmentOrigin.TNEF


@dataclass(frozen=True, slots=True)
class ParsedAttachment:
    """One attachment or inline part, decoded."""

    filename: str | None
    declared_type: str
    content: bytes
    inline: bool = False
    content_id: str | None = None
    origin: str = ORIGIN_MESSAGE
    size: int = 0
    omitted: bool = False
    # The content's SHA-256 (hex), its key in the stores: worked out where the message is
    # parsed (a worker process, usually), so the process that stores the file need not.
    sha256: str = ""
    # The name as the sender wrote it, when ``filename`` had to lose characters that disguise
    # it (see mail_ingest.filenames); kept for the audit.
    original_filename: str | None = None
    # Why an omitted attachment's content was not kept (one of the NOT_KEPT_* reasons).
    not_kept: str = ""

    def __post_init__(self) -> None:
        if self.content and not self.sha256:
            object.__setattr__(self, "sha256", hashlib.sha256(self.content).hexdigest())
        if self.filename is not None and shown_name(self.filename) != self.filename:
            object.__setattr__(self, "original_filename", self.filename)
            object.__setattr__(self, "filename", shown_name(self.filename) or None)


@dataclass(frozen=True, slots=True)
class ForwardedMessage:
    """The headers and text of a message/rfc822 part (a forwarded or returned message)."""

    message_id: str | None
    from_address: str | None
    subject: str
    date: datetime | None
    text: str


@dataclass(frozen=True, slots=True)
class ParsedMessage:
    """Everything the pipeline needs from one raw message."""

    sha256: str
    ok: bool
    # What the message says (see ``content_digest``), whatever headers relays gave its bytes.
    content_sha256: str = ""
    message_id: str | None = None
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    from_address: str | None = None
    from_name: str | None = None
    reply_to: str | None = None
    return_path: str | None = None  # "" means the null reverse-path "<>"
    to: tuple[str, ...] = ()
    cc: tuple[str, ...] = ()
    recipients: tuple[str, ...] = ()
    subject: str = ""
    date: datetime | None = None
    text: str = ""
    html: str | None = None
    html_withheld: HtmlWithheld | None = None  # why the HTML part is not kept
    attachments: tuple[ParsedAttachment, ...] = ()
    forwarded: tuple[ForwardedMessage, ...] = ()
    auto_submitted: str | None = None
    precedence: str | None = None
    list_id: str | None = None
    report_type: str | None = None
    is_bounce: bool = False
    bounced_message_id: str | None = None
    bounced_recipients: tuple[str, ...] = ()
    oversized: bool = False
    size: int = 0
    # Parts not kept and not listed in ``attachments`` (past LISTED_NOT_KEPT): (reason, count).
    not_listed: tuple[tuple[str, int], ...] = ()
    headers: tuple[tuple[str, str], ...] = ()
    errors: tuple[str, ...] = ()

    def header(self, name: str) -> str | None:
        """Return the first decoded header called ``name`` (case-insensitive), or None."""
        wanted = name.lower()
        return next((v for k, v in self.headers if k.lower() == wanted), None)


# --------------------------------------------------------------------------------------------
# Charsets
# --------------------------------------------------------------------------------------------

_ALIASES: dict[str, str] = {
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "s-jis": "cp932",
    "ms_kanji": "cp932",
    "csshiftjis": "cp932",
    "windows-31j": "cp932",
    "cp932": "cp932",
    "ms932": "cp932",
    "utf8": "utf-8",
    "utf-8": "utf-8",
    "x-utf-8": "utf-8",
    "unicode-1-1-utf-8": "utf-8",
    "euc-jp": "euc-jp",
    "x-euc-jp": "euc-jp",
    "eucjp": "euc-jp",
    "euc_jp": "euc-jp",
    "cseucpkdfmtjapanese": "euc-jp",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "big5": "big5hkscs",
    "ks_c_5601-1987": "cp949",
    "euc-kr": "cp949",
    "iso-8859-1": "cp1252",
    "latin1": "cp1252",
    "us-ascii": "ascii",
    "ascii": "ascii",
    "tis-620": "cp874",
    "iso-8859-8-i": "iso-8859-8",
}
_ISO2022_JP = re.compile(r"^(cs)?iso-?2022-?jp(-\d|-ext|-ms)?$")
_SINGLE_BYTE = {"cp1252", "ascii", "iso8859-1", "iso8859-15", "cp1250", "cp1251"}
_GUESSES = ("cp932", "euc-jp")


def _canonical(declared: str | None) -> str | None:
    """Map a declared charset to the Python codec used to decode it, or None if unknown."""
    name = (declared or "").strip().strip("\"'").lower()
    if not name:
        return None
    if _ISO2022_JP.match(name):
        return "iso-2022-jp"
    name = _ALIASES.get(name, name)
    try:
        return codecs.lookup(name).name
    except (LookupError, ValueError):
        return None


def _jis_to_sjis(j1: int, j2: int) -> bytes:
    s1 = (j1 + 1) // 2 + 0x70
    if s1 >= 0xA0:
        s1 += 0x40
    s2 = j2 + 0x1F + (1 if j2 >= 0x60 else 0) if j1 % 2 else j2 + 0x7E
    return bytes((s1, s2))


def _iso2022jp_to_sjis(data: bytes) -> bytes:
    """Rewrite ISO-2022-JP (with the CP50220/50221 extensions) as cp932 bytes."""
    out = bytearray()
    mode = "ascii"
    i, n = 0, len(data)
    while i < n:
        b = data[i]
        if b == 0x1B:
            seq = data[i + 1 : i + 3]
            mode = {b"$B": "jis", b"$@": "jis", b"(I": "kana"}.get(seq, "ascii")
            i += 3
        elif b == 0x0E:
            mode, i = "kana", i + 1
        elif b == 0x0F:
            mode, i = "ascii", i + 1
        elif mode == "jis" and 0x21 <= b <= 0x7E and i + 1 < n and 0x21 <= data[i + 1] <= 0x7E:
            out += _jis_to_sjis(b, data[i + 1])
            i += 2
        elif mode == "kana" and 0x21 <= b <= 0x5F:
            out.append(b + 0x80)
            i += 1
        else:
            out.append(b)
            i += 1
    return bytes(out)


def _decode_iso2022jp(data: bytes) -> str:
    for codec in ("iso2022_jp", "iso2022_jp_ext", "iso2022_jp_2"):
        try:
            return data.decode(codec)
        except UnicodeDecodeError:
            pass
    return _iso2022jp_to_sjis(data).decode("cp932")


_PLAUSIBLE = re.compile(
    r"[\t\n\r\x20-\x7e\u00a0-\u024f\u3000-\u30ff\u4e00-\u9fff\uff01-\uff5e\u2460-\u2473]"
)


_ASCII_BYTES = bytes(range(0x80))
_HALFWIDTH_KANA = re.compile(r"[\uff61-\uff9f]")


def _plausibility(text: str) -> float:
    """Share of characters likely in real mail; half-width kana count half (EUC-JP misread)."""
    if not text:
        return 1.0
    kana = len(_HALFWIDTH_KANA.findall(text)) / 2
    return (len(_PLAUSIBLE.findall(text)) + kana) / len(text)


def _guess(data: bytes) -> tuple[str, str]:
    """Decode bytes of unknown charset; returns (text, codec used)."""
    if b"\x1b$B" in data or b"\x1b$@" in data:
        try:
            return _decode_iso2022jp(data), "iso-2022-jp"
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    best: tuple[float, str, str] | None = None
    for codec in _GUESSES:
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            continue
        score = _plausibility(text)
        if best is None or score > best[0]:
            best = (score, text, codec)
    # Japanese text is mostly 8-bit; Western text has isolated 8-bit letters among ASCII.
    dense = len(data.translate(None, _ASCII_BYTES)) > 0.3 * len(data)
    if best is not None and (best[0] >= 0.9 or dense):
        return best[1], best[2]
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1"


def _strict(data: bytes, codec: str) -> str:
    if codec == "iso-2022-jp":
        return _decode_iso2022jp(data)
    fallback = {"euc_jp": "euc_jis_2004", "cp1252": "latin-1"}.get(codec)
    try:
        return data.decode(codec)
    except UnicodeDecodeError:
        if fallback is None:
            raise
        return data.decode(fallback)


def decode_bytes(data: bytes, declared: str | None) -> tuple[str, str | None]:
    """Decode ``data`` declared as ``declared``; returns (text, problem or None). Never raises."""
    if data.isascii() and b"\x1b" not in data:
        return data.decode("ascii"), None
    codec = _canonical(declared)
    if codec in _SINGLE_BYTE:
        # UTF-8 declared as Latin-1 or ASCII is common; real Latin-1 is almost never valid UTF-8.
        try:
            return data.decode("utf-8"), None
        except UnicodeDecodeError:
            pass
    if codec is not None and codec != "ascii":
        try:
            return _strict(data, codec), None
        except (UnicodeDecodeError, LookupError):
            pass
    text, used = _guess(data)
    if declared is None or not declared.strip():
        return text, None
    return text, f"charset {declared!r} did not decode; used {used}"


# --------------------------------------------------------------------------------------------
# Headers
# --------------------------------------------------------------------------------------------

_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=")
_BETWEEN_WORDS = re.compile(r"(\?=)[ \t\r\n]+(=\?)")


def _ew_bytes(encoding: str, payload: str) -> bytes:
    if encoding in "bB":
        clean = re.sub(r"[^A-Za-z0-9+/]", "", payload)
        return base64.b64decode(clean + "=" * (-len(clean) % 4))
    raw = payload.replace("_", " ")
    return re.sub(
        rb"=([0-9A-Fa-f]{2})", lambda m: bytes((int(m.group(1), 16),)), raw.encode("latin-1")
    )


def decode_encoded_words(value: str) -> tuple[str, list[str]]:
    """Decode RFC 2047 encoded words, joining adjacent words of one charset before decoding."""
    problems: list[str] = []
    value = _BETWEEN_WORDS.sub(r"\1\2", value)
    out: list[str] = []
    pos = 0
    pending: tuple[str, bytearray] | None = None
    for m in _ENCODED_WORD.finditer(value):
        if m.start() > pos:
            _flush(pending, out, problems)
            pending = None
            out.append(value[pos : m.start()])
        charset = m.group(1).split("*", 1)[0]
        try:
            chunk = _ew_bytes(m.group(2), m.group(3))
        except (ValueError, UnicodeEncodeError):
            chunk = m.group(0).encode("utf-8", "replace")
            problems.append("undecodable encoded word")
        if pending is not None and pending[0].lower() == charset.lower():
            pending[1].extend(chunk)
        else:
            _flush(pending, out, problems)
            pending = (charset, bytearray(chunk))
        pos = m.end()
    _flush(pending, out, problems)
    out.append(value[pos:])
    return "".join(out), problems


def _flush(pending: tuple[str, bytearray] | None, out: list[str], problems: list[str]) -> None:
    if pending is not None:
        text, problem = decode_bytes(bytes(pending[1]), pending[0])
        out.append(text)
        if problem:
            problems.append(problem)


def _raw_bytes(value: object) -> bytes:
    """The original bytes of a header value as stored by the compat32 bytes parser."""
    return str(value).encode("utf-8", "surrogateescape")


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _unfold(text: str) -> str:
    return _CONTROL.sub("", re.sub(r"\r?\n[ \t]*", " ", text)).strip()


def _header_text(raw: bytes, problems: list[str], *, words: bool = True) -> str:
    """Header bytes -> text: 8-bit bytes by guessing, then encoded words when ``words``."""
    if raw.isascii():
        text = raw.decode("ascii")
    else:
        text, problem = decode_bytes(raw, None)
        if problem:
            problems.append(problem)
    text = _unfold(text)
    if words and "=?" in text:
        text, found = decode_encoded_words(text)
        problems.extend(found)
    return text


class _Headers:
    """Case-insensitive access to the decoded headers of one Message."""

    def __init__(self, msg: Message, problems: list[str]) -> None:
        self._problems = problems
        self._raw: dict[str, list[bytes]] = {}
        self.order: list[tuple[str, bytes]] = []
        try:
            items = list(msg.raw_items())
        except Exception as exc:  # noqa: BLE001 - the parser keeps whatever it stored
            problems.append(f"headers unreadable: {exc}")
            items = []
        for name, value in items:
            raw = _raw_bytes(value)
            key = str(name).lower()
            self._raw.setdefault(key, []).append(raw)
            self.order.append((str(name), raw))

    def raw(self, name: str) -> bytes | None:
        """The raw bytes of the first header ``name``."""
        values = self._raw.get(name)
        return values[0] if values else None

    def all_raw(self, name: str) -> list[bytes]:
        """The raw bytes of every header ``name``."""
        return self._raw.get(name, [])

    def text(self, name: str) -> str | None:
        """The first header ``name`` decoded to text, or None when missing."""
        raw = self.raw(name)
        return None if raw is None else _header_text(raw, self._problems)

    def addresses(self, name: str) -> list[tuple[str, str]]:
        """(display name, lower-case address) pairs of every header ``name``."""
        found: list[tuple[str, str]] = []
        for raw in self.all_raw(name):
            found.extend(_parse_addresses(_header_text(raw, self._problems, words=False)))
        return [(_header_text(n.encode(), self._problems), a) for n, a in found]


def _parse_addresses(text: str) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    try:
        parsed = email.utils.getaddresses([text])
    except Exception:  # noqa: BLE001 - a malformed list yields what can be found
        parsed = [("", a) for a in re.findall(r"[^\s<>,;\"']+@[^\s<>,;\"']+", text)]
    for name, addr in parsed:
        addr = addr.strip().strip("<>").strip().lower()
        if addr:
            pairs.append((name.strip(), addr))
    return pairs


_MSGID = re.compile(r"<\s*([^<>\s]+?)\s*>")


def normalize_message_id(value: str | None) -> str | None:
    """``<id@host>`` (with junk or whitespace around it) -> ``id@host``; None when empty."""
    if not value:
        return None
    match = _MSGID.search(value)
    if match:
        return match.group(1)
    token = value.strip().split()
    return token[0].strip("<>") or None if token else None


def _message_ids(value: str | None) -> tuple[str, ...]:
    if not value:
        return ()
    ids = _MSGID.findall(value) or [t.strip("<>") for t in value.split() if "@" in t]
    return tuple(dict.fromkeys(i for i in ids if i))


def _parse_date(value: str | None, problems: list[str]) -> datetime | None:
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except Exception:  # noqa: BLE001 - any unparsable date becomes None
        problems.append(f"unparsable Date: {value[:60]!r}")
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


# --------------------------------------------------------------------------------------------
# MIME walk
# --------------------------------------------------------------------------------------------


@dataclass
class _Cut:
    """The parts of one message past a limit: how many are listed by name, and the rest
    counted by reason (shared by the walks of a message and of the messages it forwards)."""

    listed: int = 0
    unlisted: dict[str, int] = field(default_factory=dict)


@dataclass
class _Walk:
    """Mutable state while walking the MIME tree of one message."""

    problems: list[str]
    omit_content: bool
    cut: _Cut = field(default_factory=_Cut)
    texts: list[str] = field(default_factory=list)
    htmls: list[str] = field(default_factory=list)
    attachments: list[ParsedAttachment] = field(default_factory=list)
    forwarded: list[ForwardedMessage] = field(default_factory=list)
    report_type: str | None = None
    delivery_status: bool = False
    failed_recipients: list[str] = field(default_factory=list)
    returned_ids: list[str] = field(default_factory=list)
    parts: int = 0
    # The part of state.attachments[-1] when the last leaf walked was that attachment (not a
    # text): what a size cut leaves of it continues past the cut.
    last_leaf: Message | None = None


def _content_type(part: Message) -> str:
    try:
        return part.get_content_type().lower()
    except Exception:  # noqa: BLE001
        return "application/octet-stream"


def _param(part: Message, name: str, header: str = "content-type") -> str | None:
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
    return _header_text(_raw_bytes(value), [])


def _first_raw(part: Message, header: str) -> bytes | None:
    return next((_raw_bytes(v) for k, v in part.raw_items() if k.lower() == header), None)


def _param_8bit(raw_header: bytes, name: str, header: str) -> object:
    """Read a parameter from a header holding raw 8-bit bytes (names from Windows mailers)."""
    text, _problem = decode_bytes(raw_header, None)
    scratch = Message()
    scratch[header] = _unfold(text)
    try:
        value = scratch.get_param(name, None, header)
    except Exception:  # noqa: BLE001 - malformed RFC 2231 continuations
        return None
    return value if isinstance(value, str | tuple) else None


def _filename(part: Message) -> str | None:
    name = _param(part, "filename", "content-disposition") or _param(part, "name")
    if not name:
        return None
    name = re.split(r"[\\/]", name.strip().strip('"'))[-1]
    return _CONTROL.sub("", name).strip() or None


def _payload(part: Message) -> bytes:
    try:
        data = part.get_payload(decode=True)
    except Exception:  # noqa: BLE001
        return b""
    return data if isinstance(data, bytes) else b""


def _estimated_size(part: Message) -> int:
    raw = part.get_payload()
    if not isinstance(raw, str):
        return 0
    return _decoded_size(raw, str(part.get("content-transfer-encoding", "")))


def _decoded_size(
    encoded: str | bytes, cte: str, start: int = 0, end: int | None = None, *, before: int = 0
) -> int:
    """About how many bytes ``encoded[start:end]`` decodes to, without decoding or copying it;
    ``before``: the content characters of the same part before ``start`` (see _content_chars)."""
    chars = before + _content_chars(encoded, cte, start, end)
    return chars * 3 // 4 if _is_base64(cte) else chars


def _content_chars(encoded: str | bytes, cte: str, start: int = 0, end: int | None = None) -> int:
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


def _part_text(part: Message, problems: list[str]) -> str:
    try:
        charset = part.get_param("charset")
    except Exception:  # noqa: BLE001
        charset = None
    declared = charset[2] if isinstance(charset, tuple) else charset
    text, problem = decode_bytes(_payload(part), str(declared) if declared else None)
    if problem:
        problems.append(problem)
    return text.replace("\r\n", "\n").replace("\r", "\n")


def unflow(text: str, *, delsp: bool = False) -> str:
    """The paragraphs of a format=flowed text (RFC 3676) with its soft line breaks joined.

    A line that ends in a space (after the stuffed space is removed) continues on the next line
    of the same quote depth; the signature separator "-- " never does. With DelSp=yes that
    trailing space was added by the sender and goes. Quoted lines come back as "> " prefixes.
    """
    out: list[str] = []
    pending: str | None = None
    pending_depth = 0
    for line in text.split("\n"):
        depth = len(line) - len(line.lstrip(">"))
        content = line[depth:]
        if content.startswith(" "):
            content = content[1:]  # space-stuffing, or the space after the quote marks
        flowed = content.endswith(" ") and content != "-- "
        if pending is not None and depth != pending_depth:
            out.append(_quote(pending_depth, pending))  # a quote depth change ends a paragraph
            pending = None
        if flowed and delsp:
            content = content[:-1]
        pending = content if pending is None else pending + content
        pending_depth = depth
        if not flowed:
            out.append(_quote(depth, pending))
            pending = None
    if pending is not None:
        out.append(_quote(pending_depth, pending))
    return "\n".join(out)


def _quote(depth: int, content: str) -> str:
    return f"{'>' * depth} {content}" if depth else content


def _disposition(part: Message) -> str:
    try:
        return (part.get_content_disposition() or "").lower()
    except Exception:  # noqa: BLE001
        return ""


def _walk(part: Message, state: _Walk, origin: str, depth: int) -> None:
    state.parts += 1
    if depth > MAX_DEPTH or state.parts > MAX_PARTS:
        if "MIME structure too deep or too large; rest skipped" not in state.problems:
            state.problems.append("MIME structure too deep or too large; rest skipped")
        reason = NOT_KEPT_TOO_DEEP if depth > MAX_DEPTH else NOT_KEPT_TOO_MANY_PARTS
        _not_walked(part, state, origin, reason)
        return
    try:
        _dispatch(part, state, origin, depth)
    except Exception as exc:  # noqa: BLE001 - one broken part must not lose the others
        state.problems.append(f"part skipped: {type(exc).__name__}: {exc}")


def _dispatch(part: Message, state: _Walk, origin: str, depth: int) -> None:
    ctype = _content_type(part)
    if ctype == "message/rfc822" or ctype == "message/global":
        _walk_rfc822(part, state, depth)
    elif ctype == "message/delivery-status":
        _delivery_status(part, state)
    elif ctype == "text/rfc822-headers":
        _returned_headers(part, state)
    elif part.is_multipart():
        payload = part.get_payload()
        for child in payload if isinstance(payload, list) else []:
            if isinstance(child, Message):
                _walk(child, state, origin, depth + 1)
    else:
        _leaf(part, state, origin, ctype)


def _is_text(part: Message, ctype: str, filename: str | None) -> bool:
    """A part that is text of the message (a body or a fragment of it), not a file."""
    named = filename is not None or _disposition(part) == "attachment"
    return not named and ctype in ("text/plain", "text/html")


def _leaf(part: Message, state: _Walk, origin: str, ctype: str) -> None:
    disposition = _disposition(part)
    filename = _filename(part)
    is_body = disposition != "attachment" and filename is None and origin == ORIGIN_MESSAGE
    if is_body and ctype == "text/plain":
        text = _part_text(part, state.problems)
        if (_param(part, "format") or "").lower() == "flowed":
            text = unflow(text, delsp=(_param(part, "delsp") or "").lower() == "yes")
        state.texts.append(text)
    elif is_body and ctype == "text/html":
        state.htmls.append(_part_text(part, state.problems))
    elif _is_tnef(ctype, filename) and not state.omit_content:
        _tnef(part, filename, state, origin)
    elif state.omit_content and ctype.startswith("multipart/"):
        pass  # a multipart cut before its first part: its parts are read past the cut
    else:
        state.attachments.append(_attachment(part, state, origin, ctype, filename))
        state.last_leaf = part
        return
    state.last_leaf = None


def _attachment(
    part: Message, state: _Walk, origin: str, ctype: str, filename: str | None
) -> ParsedAttachment:
    if state.omit_content:
        return _omitted(part, origin, ctype, filename, NOT_KEPT_MESSAGE_TOO_LARGE)
    cid, inline = _content_id(part)
    content = _payload(part)
    return ParsedAttachment(filename, ctype, content, inline, cid, origin, len(content))


def _content_id(part: Message) -> tuple[str | None, bool]:
    """The part's Content-ID, and whether it is shown inline."""
    cid = normalize_message_id(str(part.get("content-id", "") or "")) or None
    inline = _disposition(part) == "inline" or (cid is not None and _disposition(part) == "")
    return cid, inline


def _omitted(
    part: Message, origin: str, ctype: str, filename: str | None, reason: str
) -> ParsedAttachment:
    """A part listed with its estimated size but without its content (never decoded)."""
    cid, inline = _content_id(part)
    size = _estimated_size(part)
    return ParsedAttachment(
        filename, ctype, b"", inline, cid, origin, size, omitted=True, not_kept=reason
    )


def _not_kept(state: _Walk, reason: str) -> bool:
    """Count one part not kept; True while parts are still listed by name."""
    if state.cut.listed < LISTED_NOT_KEPT:
        state.cut.listed += 1
        return True
    _count_unlisted(state, reason)
    return False


def _count_unlisted(state: _Walk, reason: str) -> None:
    state.cut.unlisted[reason] = state.cut.unlisted.get(reason, 0) + 1


def _not_walked(part: Message, state: _Walk, origin: str, reason: str) -> None:
    """List the files under a part the walk does not read (a forwarded message is one) by
    their headers, then count the leaves past LISTED_NOT_KEPT without reading even those;
    iteratively, as the tree may be very deep."""
    stack = [part]
    while stack:
        node = stack.pop()
        if node.is_multipart() and not _content_type(node).startswith("message/"):
            payload = node.get_payload()
            stack.extend(reversed([p for p in payload if isinstance(p, Message)]))
        elif state.cut.listed >= LISTED_NOT_KEPT:
            _count_unlisted(state, reason)  # is_multipart only looked at the payload
        else:
            _list_not_kept(node, state, origin, reason)


def _list_not_kept(part: Message, state: _Walk, origin: str, reason: str) -> None:
    """List a file not kept (a text of the message is no file: it is left out)."""
    ctype, filename = _content_type(part), _filename(part)
    if not _is_text(part, ctype, filename) and _not_kept(state, reason):
        state.attachments.append(_omitted(part, origin, ctype, filename, reason))


def _sub_message(part: Message) -> Message | None:
    payload = part.get_payload()
    if isinstance(payload, list) and payload and isinstance(payload[0], Message):
        return payload[0]
    if isinstance(payload, str):
        return email.message_from_bytes(_payload(part), policy=compat32)
    return None


def _walk_rfc822(part: Message, state: _Walk, depth: int) -> None:
    inner = _sub_message(part)
    if inner is None:
        return
    raw = _serialise(inner)
    summary = _Walk(
        problems=state.problems, omit_content=state.omit_content, cut=state.cut, parts=state.parts
    )
    _walk(inner, summary, ORIGIN_MESSAGE, depth + 1)
    headers = _Headers(inner, state.problems)
    message_id = normalize_message_id(headers.text("message-id"))
    state.returned_ids.extend([message_id] if message_id else [])
    subject = headers.text("subject") or ""
    name = _filename(part) or f"{_safe_stem(subject) or 'message'}.eml"
    state.attachments.append(
        ParsedAttachment(name, "message/rfc822", raw, False, None, ORIGIN_MESSAGE, len(raw))
    )
    text = "\n".join(summary.texts) or html_to_text("\n".join(summary.htmls))
    from_pairs = headers.addresses("from")
    state.forwarded.append(
        ForwardedMessage(
            message_id,
            from_pairs[0][1] if from_pairs else None,
            subject,
            _parse_date(headers.text("date"), state.problems),
            text,
        )
    )
    state.attachments.extend(_as_forwarded(a) for a in summary.attachments)
    state.forwarded.extend(summary.forwarded)
    state.parts = summary.parts
    state.last_leaf = None


def _as_forwarded(att: ParsedAttachment) -> ParsedAttachment:
    return att if att.origin != ORIGIN_MESSAGE else replace(att, origin=ORIGIN_FORWARDED)


def _safe_stem(subject: str) -> str:
    return re.sub(r"[\\/:*?\"<>|\s]+", "_", subject).strip("_")[:60]


def _serialise(inner: Message) -> bytes:
    try:
        return inner.as_bytes(policy=compat32)
    except Exception:  # noqa: BLE001 - the generator refuses some broken headers
        logger.debug("generator refused a message/rfc822 part; writing it back raw")
    try:
        return _raw_serialise(inner)
    except Exception:  # noqa: BLE001
        return b""


def _is_msg(value: object) -> TypeGuard[Message]:
    return isinstance(value, Message)


def _raw_serialise(msg: Message) -> bytes:
    """Write a message back from the raw header values the parser stored, without refolding."""
    head = b"".join(_raw_bytes(k) + b": " + _raw_bytes(v) + b"\r\n" for k, v in msg.raw_items())
    payload = msg.get_payload()
    if not isinstance(payload, list):
        return head + b"\r\n" + _raw_bytes(payload)
    boundary = _raw_bytes(msg.get_boundary() or "")
    parts = [b"--" + boundary + b"\r\n" + _raw_serialise(p) for p in payload if _is_msg(p)]
    return head + b"\r\n" + b"\r\n".join(parts) + b"\r\n--" + boundary + b"--\r\n"


def _delivery_status(part: Message, state: _Walk) -> None:
    state.delivery_status = True
    blocks = part.get_payload()
    for block in blocks if isinstance(blocks, list) else []:
        for name, value in block.raw_items() if _is_msg(block) else []:
            if name.lower() == "final-recipient":
                address = _raw_bytes(value).decode("ascii", "replace").split(";")[-1]
                state.failed_recipients.append(address.strip().strip("<>").lower())


def _returned_headers(part: Message, state: _Walk) -> None:
    match = re.search(rb"(?im)^message-id:\s*(<[^>\r\n]+>)", _payload(part))
    if match:
        found = normalize_message_id(match.group(1).decode("ascii", "replace"))
        state.returned_ids.extend([found] if found else [])


# --------------------------------------------------------------------------------------------
# TNEF (winmail.dat)
# --------------------------------------------------------------------------------------------


def _is_tnef(ctype: str, filename: str | None) -> bool:
    named = (filename or "").lower() == "winmail.dat"
    return ctype in {"application/ms-tnef", "application/vnd.ms-tnef"} or named


def _tnef_files(data: bytes) -> list[tuple[str | None, bytes]]:
    from tnefparse import TNEF

    files: list[tuple[str | None, bytes]] = []
    for item in TNEF(data).attachments:
        try:
            name: str | None = str(item.long_filename() or "") or None
        except Exception:  # noqa: BLE001 - a name in an unknown codepage
            name = None
        if isinstance(item.data, bytes):
            files.append((name, item.data))
    return files


def _tnef(part: Message, filename: str | None, state: _Walk, origin: str) -> None:
    data = _payload(part)
    try:
        files = _tnef_files(data)
    except Exception as exc:  # noqa: BLE001 - tnefparse missing or the file is broken
        files = []
        state.problems.append(f"winmail.dat not extracted: {type(exc).__name__}")
    if not files:
        ctype = "application/ms-tnef"
        state.attachments.append(_attachment(part, state, origin, ctype, filename))
        return
    for name, content in files:
        ctype = mimetypes.guess_type(name or "")[0] or "application/octet-stream"
        state.parts += 1  # each file counts as a part: a winmail.dat may hold thousands
        if state.parts <= MAX_PARTS:
            item = ParsedAttachment(name, ctype, content, False, None, ORIGIN_TNEF, len(content))
        elif _not_kept(state, NOT_KEPT_TOO_MANY_PARTS):
            item = ParsedAttachment(
                name, ctype, b"", False, None, ORIGIN_TNEF, len(content),
                omitted=True, not_kept=NOT_KEPT_TOO_MANY_PARTS,
            )  # fmt: skip
        else:
            continue
        state.attachments.append(item)


# --------------------------------------------------------------------------------------------
# Past the size cut
# --------------------------------------------------------------------------------------------


def _cut_point(raw: bytes, max_bytes: int) -> int:
    """Where to cut an oversized message: at ``max_bytes``, but before a short line starting
    "-" that it would cut (a boundary line, perhaps), and before the line starting "--" (a
    boundary line, likely) before it if the header block after that line is not complete by
    then: the part is then read past the cut, headers and all, not by a few of its headers,
    as an empty part, or with a piece of a boundary line in its content."""
    cut = max_bytes
    line = raw.rfind(b"\n", max(0, cut - 100), cut) + 1
    if line > 0 and raw.startswith(b"-", line):
        cut = line
    boundary = raw.rfind(b"\n--", max(0, cut - TAIL_HEADER_BYTES), cut)
    if boundary < 0 or raw.find(b"\n\n", boundary, cut) >= 0:
        return cut
    return cut if raw.find(b"\n\r\n", boundary, cut) >= 0 else boundary + 1


def _boundaries(tree: Message) -> set[bytes]:
    """The boundaries of every multipart in the tree (walked iteratively: it may be deep)."""
    found: set[bytes] = set()
    stack = [tree]
    while stack:
        node = stack.pop()
        payload = node.get_payload()
        if isinstance(payload, list):
            stack.extend(p for p in payload if isinstance(p, Message))
        # A multipart cut before its first part has no list of parts, but its boundary.
        boundary = node.get_boundary() if _content_type(node).startswith("multipart/") else None
        found.update([_raw_bytes(boundary)] if boundary else [])
    return found


def _boundary_lines(
    raw: bytes, start: int, boundaries: set[bytes]
) -> Iterator[tuple[int, int, bool]]:
    """(where it starts, where the next line starts, whether it closes) of each boundary line
    from ``start`` (a line start) on; ``boundaries`` may grow between two lines."""
    at = start if raw.startswith(b"--", start) else _line_after(raw.find(b"\n--", start))
    while at >= 0:
        longest = max(map(len, boundaries)) + 8  # "--", boundary, "--", some blanks, CRLF
        newline = raw.find(b"\n", at, at + longest + 1)
        end = len(raw) if newline < 0 else newline + 1
        if end - at <= longest:
            token = raw[at + 2 : end].rstrip(b"\r\n").rstrip(b" \t")
            if token in boundaries:
                yield at, end, False
            elif token.endswith(b"--") and token[:-2] in boundaries:
                yield at, end, True
        at = _line_after(raw.find(b"\n--", at + 2))


def _line_after(newline: int) -> int:
    return newline + 1 if newline >= 0 else -1


def _tail_part(raw: bytes, start: int) -> tuple[Message, int]:
    """The headers of the part that starts at ``start`` (at most TAIL_HEADER_BYTES of them),
    and where its body starts."""
    window = raw[start : start + TAIL_HEADER_BYTES]
    if window.startswith((b"\r\n", b"\n")):
        return Message(policy=compat32), start + window.index(b"\n") + 1
    ends = [(i, len(sep)) for sep in (b"\r\n\r\n", b"\n\n") if (i := window.find(sep)) >= 0]
    blank, width = min(ends) if ends else (len(window), 0)
    headers = email.parser.BytesHeaderParser(policy=compat32).parsebytes(window[:blank])
    return headers, start + blank + width


def _encoding(part: Message) -> str:
    return str(part.get("content-transfer-encoding", ""))


def _past_the_cut(raw: bytes, cut: int, tree: Message, state: _Walk) -> None:
    """List the parts of an oversized message that lie past the cut (found by the boundary
    lines of its multiparts; only their headers are read), and count in the size of the last
    attachment before the cut what follows of it."""
    boundaries = _boundaries(tree)
    last = (len(state.attachments) - 1, state.last_leaf) if state.last_leaf else None
    rest_of_last = len(raw)
    pending: tuple[int, int, str] | None = None  # (attachment index, body start, encoding)
    read = 0
    start = raw.rfind(b"\n", 0, cut) + 1  # the line the cut is in
    lines = _boundary_lines(raw, start, boundaries) if boundaries else iter(())
    for line_start, line_end, close in lines:
        rest_of_last = min(rest_of_last, line_start)
        if pending is not None:
            _resize(state, pending[0], _decoded_size(raw, pending[2], pending[1], line_start))
            pending = None
        if close:
            continue
        read += 1
        if read > MAX_PARTS:  # counted, not read: the work stays bounded
            _count_unlisted(state, NOT_KEPT_MESSAGE_TOO_LARGE)
            continue
        part, body = _tail_part(raw, line_end)
        if _content_type(part).startswith("multipart/"):
            boundary = part.get_boundary()
            boundaries.update([_raw_bytes(boundary)] if boundary else [])
            continue
        listed = len(state.attachments)
        _list_not_kept(part, state, ORIGIN_MESSAGE, NOT_KEPT_MESSAGE_TOO_LARGE)
        if len(state.attachments) > listed:
            pending = (listed, body, _encoding(part))
    if pending is not None:  # no close line
        _resize(state, pending[0], _decoded_size(raw, pending[2], pending[1], len(raw)))
    if last is not None and rest_of_last > cut:
        index, part = last
        cte, payload = _encoding(part), part.get_payload()
        seen = _content_chars(payload, cte) if isinstance(payload, str) else 0
        _resize(state, index, _decoded_size(raw, cte, cut, rest_of_last, before=seen))


def _resize(state: _Walk, index: int, size: int) -> None:
    state.attachments[index] = replace(state.attachments[index], size=size)


# --------------------------------------------------------------------------------------------
# What the message says
# --------------------------------------------------------------------------------------------

CONTENT_DIGEST_VERSION = 1


def content_digest(
    subject: str,
    texts: Sequence[str],
    htmls: Sequence[str],
    attachments: Sequence[ParsedAttachment],
    whole_body: str = "",
) -> str:
    """The SHA-256 (hex) of what a message says: two copies of one message have the same one
    however they travelled, and two messages that say different things differ.

    It covers, decoded: the subject, each plain-text and each HTML body part in order, and each
    attachment (forwarded messages and winmail.dat contents included) by its file name and its
    content's SHA-256. Transfer encodings and charsets do not count (a relay that re-encodes
    8-bit mail as quoted-printable changes no text), nor line endings, spaces at the ends of
    lines or blank lines at the end of a part (mbox tools and relays add and drop them).

    No other header counts: relays add Received, Return-Path, Delivered-To, DKIM and spam
    verdict headers, and a copy sent to two addresses differs in them, yet it is one message;
    the From and Date of a form mailer or a resend say nothing about what was asked. The
    subject counts because it is the sender's own words: on a mobile phone often the only ones.

    A message past the size limit is read only in part, and where the cut falls depends on
    the headers in front: give ``whole_body``, the SHA-256 of its body as raw bytes (which
    relays leave alone), and that stands for the parts.
    """
    digest = hashlib.sha256(f"helpdesk content {CONTENT_DIGEST_VERSION}".encode())

    def add(kind: str, value: str) -> None:  # each piece named and sized: none runs into the next
        data = value.encode("utf-8", "surrogatepass")
        digest.update(f"\0{kind} {len(data)}\0".encode())
        digest.update(data)

    add("subject", " ".join(subject.split()))
    if whole_body:
        add("body", whole_body)
        return digest.hexdigest()
    for text in texts:
        add("text", _content_lines(text))
    for markup in htmls:
        add("html", _content_lines(markup))
    for item in attachments:
        add("file", item.filename or "")
        add("sha256", item.sha256)
    return digest.hexdigest()


def body_sha256(raw: bytes) -> str:
    """The SHA-256 of a raw message's body: the bytes after its header block."""
    ends = [i + len(sep) for sep in (b"\r\n\r\n", b"\n\n") if (i := raw.find(sep)) >= 0]
    return hashlib.sha256(raw[min(ends) :] if ends else b"").hexdigest()


def _content_lines(text: str) -> str:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(line.rstrip() for line in lines).rstrip("\n")


# --------------------------------------------------------------------------------------------
# The message
# --------------------------------------------------------------------------------------------


def _flag(headers: _Headers, name: str) -> str | None:
    value = headers.text(name)
    return value.strip().lower() if value else None


def _addresses(headers: _Headers, *names: str) -> tuple[str, ...]:
    found = (a for n in names for _, a in headers.addresses(n))
    return tuple(dict.fromkeys(found))


def _return_path(headers: _Headers) -> str | None:
    value = headers.text("return-path")
    if value is None:
        return None
    if value.strip().strip("<>").strip() == "":
        return ""
    pairs = _parse_addresses(value)
    return pairs[0][1] if pairs else ""


def _understood(headers: _Headers) -> bool:
    known = ("from", "to", "subject", "date", "message-id", "received", "mime-version")
    return any(headers.raw(name) is not None for name in known)


def _bounce_id(state: _Walk, text: str) -> str | None:
    if state.returned_ids:
        return state.returned_ids[0]
    match = re.search(r"(?im)^\s*(?:original-)?message-id:\s*(<[^>\s]+>)", text)
    return normalize_message_id(match.group(1)) if match else None


_BOUNCE_SUBJECT = re.compile(
    r"undeliver|returned mail|delivery status notification|failure notice|delivery fail"
    r"|配信不能|配送エラー|届きませんでした",
    re.IGNORECASE,
)


def _looks_bounced(state: _Walk, sender: str | None, subject: str) -> bool:
    if state.delivery_status or state.report_type == "delivery-status":
        return True
    local = (sender or "").split("@", 1)[0]
    daemon = local in {"mailer-daemon", "postmaster"}
    return daemon and bool(_BOUNCE_SUBJECT.search(subject))


_WITHHELD_PROBLEM = {
    WITHHELD_SIZE: f"HTML part not kept: longer than {HTML_MAX_CHARS} characters",
    WITHHELD_DEPTH: f"HTML part not kept: nested more than {HTML_MAX_DEPTH} elements deep",
    WITHHELD_REOPENED: (
        f"HTML part not kept: reopens formatting elements more than {HTML_MAX_REOPENED} times"
    ),
}


def _body(state: _Walk, omit: bool) -> tuple[str, str | None, HtmlWithheld | None]:
    """The text, the cleaned HTML and why the HTML was not kept (then it is None)."""
    html_raw = "\n".join(state.htmls) if state.htmls else None
    text = "\n".join(t.strip("\n") for t in state.texts)
    if not text.strip() and html_raw:
        text = html_to_text(html_raw)
    withheld = withheld_reason(html_raw) if html_raw is not None else None
    if withheld is not None:
        state.problems.append(_WITHHELD_PROBLEM[withheld])
    html_clean = sanitize_html(html_raw) if html_raw is not None and withheld is None else None
    if omit:
        text = text[:OMITTED_TEXT_LIMIT]
    return text, html_clean, withheld


def _mark_inline(attachments: list[ParsedAttachment], html_raw: str) -> list[ParsedAttachment]:
    """Parts that the HTML shows by ``cid:`` are inline, whatever their disposition says."""
    shown = {unquote(c).strip("<>") for c in re.findall(r"(?i)cid:([^\"'\s>)]+)", html_raw)}
    return [
        replace(a, inline=True) if a.content_id is not None and a.content_id in shown else a
        for a in attachments
    ]


def _report_type(msg: Message) -> str | None:
    if _content_type(msg) != "multipart/report":
        return None
    value = _param(msg, "report-type")
    return value.lower() if value else None


def _build(raw: bytes, digest: str, max_bytes: int | None, problems: list[str]) -> ParsedMessage:
    oversized = max_bytes is not None and len(raw) > max_bytes
    cut = _cut_point(raw, max_bytes) if oversized and max_bytes is not None else len(raw)
    source = raw[:cut]
    if oversized:
        problems.append(f"message of {len(raw)} bytes exceeds the {max_bytes}-byte limit")
    msg = mimetree.message_from_bytes(source)
    headers = _Headers(msg, problems)
    state = _Walk(problems=problems, omit_content=oversized)
    state.report_type = _report_type(msg)
    _walk(msg, state, ORIGIN_MESSAGE, 0)
    if oversized:
        try:
            _past_the_cut(raw, cut, msg, state)
        except Exception as exc:  # noqa: BLE001 - what was read before the cut stands
            problems.append(f"parts past the size limit not listed: {type(exc).__name__}")
    text, html_clean, html_withheld = _body(state, oversized)
    attachments = _mark_inline(state.attachments, "\n".join(state.htmls))
    sender = headers.addresses("from")
    reply_to = headers.addresses("reply-to")
    subject = headers.text("subject") or ""
    from_address = sender[0][1] if sender else None
    to, cc = _addresses(headers, "to"), _addresses(headers, "cc")
    delivered = _addresses(headers, "delivered-to", "x-original-to")
    bounce = _looks_bounced(state, from_address, subject)
    return ParsedMessage(
        sha256=digest,
        ok=_understood(headers),
        content_sha256=content_digest(
            subject,
            state.texts,
            state.htmls,
            attachments,
            whole_body=body_sha256(raw) if oversized else "",
        ),
        message_id=normalize_message_id(headers.text("message-id")),
        in_reply_to=normalize_message_id(headers.text("in-reply-to")),
        references=_message_ids(headers.text("references")),
        from_address=from_address,
        from_name=(sender[0][0] or None) if sender else None,
        reply_to=reply_to[0][1] if reply_to else None,
        return_path=_return_path(headers),
        to=to,
        cc=cc,
        recipients=tuple(dict.fromkeys(to + cc + delivered)),
        subject=subject,
        date=_parse_date(headers.text("date"), problems),
        text=text,
        html=html_clean,
        html_withheld=html_withheld,
        attachments=tuple(attachments),
        forwarded=tuple(state.forwarded),
        auto_submitted=_flag(headers, "auto-submitted"),
        precedence=_flag(headers, "precedence"),
        list_id=headers.text("list-id"),
        report_type=state.report_type,
        is_bounce=bounce,
        bounced_message_id=_bounce_id(state, text) if bounce else None,
        bounced_recipients=tuple(dict.fromkeys(state.failed_recipients)),
        oversized=oversized,
        size=len(raw),
        not_listed=tuple(sorted(state.cut.unlisted.items())),
        headers=tuple((n, _header_text(v, problems)) for n, v in headers.order),
        errors=tuple(dict.fromkeys(problems)),
    )


_LEAVES = (type(None), bool, int, float, bytes, datetime)


@cache
def _field_names(kind: type) -> tuple[str, ...]:
    return tuple(item.name for item in fields(kind))


def _drop_nul(value: object) -> object:
    """``value`` with NUL removed from every text in it, through tuples and dataclasses; the
    same object when it holds none. Bytes (an attachment's content) are left as they are."""
    kind: type = type(value)
    if kind in _LEAVES:  # most of a message: let these through first
        return value
    if isinstance(value, str):
        return value.replace("\x00", "") if "\x00" in value else value
    if isinstance(value, tuple):
        items = [_drop_nul(item) for item in value]
        for new, old in zip(items, value, strict=True):
            if new is not old:
                return tuple(items)
        return value
    if is_dataclass(value) and not isinstance(value, type):
        changes = {}
        for name in _field_names(kind):
            old = getattr(value, name)
            new = _drop_nul(old)
            if new is not old:
                changes[name] = new
        return replace(value, **changes) if changes else value
    return value


def parse_message(raw: bytes, *, max_bytes: int | None = None) -> ParsedMessage:
    """Parse raw message bytes; never raises, and records what went wrong in ``errors``."""
    data = bytes(raw) if isinstance(raw, bytes | bytearray | memoryview) else b""
    digest = hashlib.sha256(data).hexdigest()
    if not data.strip():
        return ParsedMessage(sha256=digest, ok=False, size=len(data), errors=("empty message",))
    problems: list[str] = []
    try:
        parsed = _build(data, digest, max_bytes, problems)
    except Exception as exc:  # noqa: BLE001 - the contract is to never raise
        logger.warning("message %s could not be parsed: %r", digest[:12], exc)
        problems.append(f"unparsable message: {type(exc).__name__}: {exc}")
        parsed = ParsedMessage(sha256=digest, ok=False, size=len(data), errors=tuple(problems))
    # Once, here, for every text the message gives (body, HTML, subject, names, addresses,
    # filenames, headers, errors): a NUL in any of them would fail the whole message's rows.
    return cast(ParsedMessage, _drop_nul(parsed))


def iter_text_parts(msg: ParsedMessage) -> Iterator[str]:
    """Yield the body text then the text of each forwarded message (for field extraction)."""
    yield msg.text
    for fwd in msg.forwarded:
        yield fwd.text
