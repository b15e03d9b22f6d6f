"""Raw message bytes -> the stdlib's ``compat32`` Message tree, faster for well-formed mail.

The stdlib's feed parser reads a message one line at a time and tests every line of every part
against the boundaries in force, so a message's base64 attachments cost it most of its time
(about three quarters of a parse). Well-formed MIME does not need that: the boundary lines can
be found with ``str.find`` over the whole text, and each part's headers and body cut out
between them.

``message_from_bytes`` does that when the message is regular: CRLF line endings (or LF
throughout), none bare in a header block or before a boundary line, every header line a
header, every multipart with its boundary, a start and a close line, and parts that are leaves
or multiparts (no ``message/*`` part, no ``multipart/digest``). It builds the
tree with the stdlib's own classes and header parser (``compat32.header_source_parse``), so
the result is the tree ``email.message_from_bytes(raw, policy=compat32)`` gives: the same
headers, payloads, preambles and epilogues. Anything irregular, and everything the feed parser
would record a defect for, goes to the stdlib parser as a whole: this module only makes the
common case fast and never decides how broken mail is read.
"""

from __future__ import annotations

import email
import itertools
import re
from email.message import Message
from email.policy import compat32

MAX_DEPTH = 20  # deeper trees go to the stdlib parser (which has no limit of its own)
# What the feed parser takes for a header line (its ``headerRE``, not in its public API).
_HEADER_LINE = re.compile(r"^(From |[\041-\071\073-\176]*:|[\t ])")


class _Irregular(Exception):
    """The message is not of the shape this module reads; the stdlib parser reads it."""


def message_from_bytes(raw: bytes) -> Message:
    """The same tree as ``email.message_from_bytes(raw, policy=compat32)``."""
    tree = read_regular(raw)
    return tree if tree is not None else email.message_from_bytes(raw, policy=compat32)


def read_regular(raw: bytes) -> Message | None:
    """The tree of a regular message (see above), or None for any other."""
    text = raw.decode("ascii", "surrogateescape")  # what the stdlib's BytesParser does first
    try:
        return _Reader(text).message(0, len(text), 0)
    except _Irregular:
        return None


class _Reader:
    def __init__(self, text: str) -> None:
        # The stdlib ends a line at CRLF, CR or LF. With CRLF, a bare CR or LF matters only
        # in a header block or before a boundary, and both are checked there: scanning the
        # whole text for one costs a tenth of the reading.
        if "\r\n" in text:
            self.eol = "\r\n"
        elif "\r" not in text:
            self.eol = "\n"
        else:
            raise _Irregular  # bare-CR line endings
        if text.startswith("From "):
            raise _Irregular  # an mbox envelope line (the stdlib keeps it as the unixfrom)
        self.text = text

    def message(self, start: int, end: int, depth: int) -> Message:
        """The part in text[start:end]: the whole text, or a part of a multipart, which ends
        with the line ending that belongs to the boundary line after it (RFC 2046)."""
        if depth > MAX_DEPTH:
            raise _Irregular
        msg = Message(policy=compat32)
        body = self._headers(msg, start, end)
        maintype = msg.get_content_maintype()
        if maintype == "message" or msg.get_content_type() == "multipart/digest":
            raise _Irregular  # nested messages and digests: left to the stdlib
        if maintype == "multipart":
            epilogue = self._multipart(msg, body, end, depth)
            if depth == 0:
                msg.epilogue = epilogue
            else:
                msg.epilogue = _without_eol(epilogue) if epilogue else None
        else:
            payload = self.text[body:end]
            msg.set_payload(_without_eol(payload) if depth > 0 else payload)
        return msg

    def _headers(self, msg: Message, start: int, end: int) -> int:
        """Set the headers found from ``start``; return where the body starts."""
        text, eol = self.text, self.eol
        if text.startswith(eol, start):
            return start + len(eol)  # no headers, just the blank line
        blank = text.find(eol + eol, start, end)
        if blank < 0:
            raise _Irregular  # no blank line before the part ends
        lines = text[start:blank].split(eol)
        group: list[str] = []
        for line in lines:
            if not _HEADER_LINE.match(line) or line.startswith(("From ", ":")):
                raise _Irregular  # a defect, an envelope line or a missing name
            if "\r" in line or "\n" in line:
                raise _Irregular  # a line the stdlib would end at a bare CR or LF
            if line[0] in " \t":
                if not group:
                    raise _Irregular  # a continuation with nothing to continue
                group.append(line + eol)
                continue
            if group:
                msg.set_raw(*compat32.header_source_parse(group))
            group = [line + eol]
        msg.set_raw(*compat32.header_source_parse(group))
        return blank + 2 * len(eol)

    def _multipart(self, msg: Message, body: int, end: int, depth: int) -> str:
        """Attach the parts of the multipart whose body is text[body:end]; return the text
        after its close line (its epilogue)."""
        cte = str(msg.get("content-transfer-encoding", "8bit")).lower()
        boundary = msg.get_boundary()
        if boundary is None or cte not in ("7bit", "8bit", "binary"):
            raise _Irregular
        lines = self._boundary_lines(boundary, body, end)
        if len(lines) < 2:
            raise _Irregular  # a close line and no part
        if lines[0][0] > body:
            msg.preamble = _without_eol(self.text[body : lines[0][0]])
        for (_, after), (before, _) in itertools.pairwise(lines):
            if after == before:
                raise _Irregular  # two boundary lines in a row: the stdlib skips one
            msg.attach(self.message(after, before, depth + 1))
        return self.text[lines[-1][1] : end]

    def _boundary_lines(self, boundary: str, start: int, end: int) -> list[tuple[int, int]]:
        """Where each boundary line of text[start:end] starts and ends (its line ending
        included), up to and with the close line. A boundary line is the separator, "--" after
        it for the close line, then spaces or tabs at most (the feed parser's rule)."""
        text, eol = self.text, self.eol
        separator = "--" + boundary
        found: list[tuple[int, int]] = []
        at = text.find(separator, start, end)
        while at >= 0:
            if at > start and text[at - 1] in "\r\n" and not text.startswith(eol, at - len(eol)):
                raise _Irregular  # a line start only at a bare CR or LF (the stdlib's)
            if at == start or (at - len(eol) >= start and text.startswith(eol, at - len(eol))):
                line_end = text.find(eol, at, end)
                rest = text[at + len(separator) : end if line_end < 0 else line_end]
                close = rest.startswith("--")
                if (rest[2:] if close else rest).strip(" \t"):
                    raise _Irregular  # a line that starts like a boundary but is not one
                found.append((at, end if line_end < 0 else line_end + len(eol)))
                if close:
                    return found
            at = text.find(separator, at + len(separator), end)
        raise _Irregular  # no close line


def _without_eol(value: str) -> str:
    """Drop one line ending at the end: it belongs to the boundary line after it."""
    if value.endswith("\r\n"):
        return value[:-2]
    if value.endswith(("\n", "\r")):
        return value[:-1]
    return value
