"""Header bytes -> text, addresses, Message-IDs and dates. Pure, and never raises.

The stdlib parser (``compat32``) stores each header value as it came, 8-bit bytes included;
they are decoded here: 8-bit bytes by guessing their charset (``mail_ingest.charsets``), then
RFC 2047 encoded words, adjacent words of one charset joined before decoding, so that a
character split across two words (as some mailers split them) is read whole. Whatever went
wrong is appended to the caller's list of problems.
"""

from __future__ import annotations

import base64
import email.utils
import re
from datetime import UTC, datetime
from email.message import Message

from mail_ingest.charsets import decode_bytes

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


def raw_bytes(value: object) -> bytes:
    """The original bytes of a header value as stored by the compat32 bytes parser."""
    return str(value).encode("utf-8", "surrogateescape")


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def without_controls(text: str) -> str:
    """``text`` without control characters other than tab, CR and LF."""
    return _CONTROL.sub("", text)


def unfold(text: str) -> str:
    """A folded header value on one line, without control characters."""
    return _CONTROL.sub("", re.sub(r"\r?\n[ \t]*", " ", text)).strip()


def header_text(raw: bytes, problems: list[str], *, words: bool = True) -> str:
    """Header bytes -> text: 8-bit bytes by guessing, then encoded words when ``words``."""
    if raw.isascii():
        text = raw.decode("ascii")
    else:
        text, problem = decode_bytes(raw, None)
        if problem:
            problems.append(problem)
    text = unfold(text)
    if words and "=?" in text:
        text, found = decode_encoded_words(text)
        problems.extend(found)
    return text


class Headers:
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
            raw = raw_bytes(value)
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
        return None if raw is None else header_text(raw, self._problems)

    def addresses(self, name: str) -> list[tuple[str, str]]:
        """(display name, lower-case address) pairs of every header ``name``."""
        found: list[tuple[str, str]] = []
        for raw in self.all_raw(name):
            found.extend(parse_addresses(header_text(raw, self._problems, words=False)))
        return [(header_text(n.encode(), self._problems), a) for n, a in found]


def parse_addresses(text: str) -> list[tuple[str, str]]:
    """(display name, lower-case address) pairs of an address list, however malformed."""
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


def message_ids(value: str | None) -> tuple[str, ...]:
    """The Message-IDs of a References header, in order, each once."""
    if not value:
        return ()
    ids = _MSGID.findall(value) or [t.strip("<>") for t in value.split() if "@" in t]
    return tuple(dict.fromkeys(i for i in ids if i))


def parse_date(value: str | None, problems: list[str]) -> datetime | None:
    """A Date header as an aware datetime (UTC when it names no zone), or None."""
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
