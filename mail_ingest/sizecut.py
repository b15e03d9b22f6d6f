"""The size cut: where to cut a message past the size limit, and the parts past the cut. Pure.

Only about the first ``max_bytes`` of an oversized message are parsed (``cut_point`` says
where the cut falls). The parts past the cut are found by the boundary lines of the
multiparts read before it, and of those read after it; of each, only its headers are read (at
most TAIL_HEADER_BYTES of them), and the size its content decodes to is worked out without
decoding it.
"""

from __future__ import annotations

import email.parser
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import Message
from email.policy import compat32

from mail_ingest import mimepart
from mail_ingest.headers import raw_bytes

TAIL_HEADER_BYTES = 16 * 1024
"""The most read of the headers of a part past the size cut."""


@dataclass(frozen=True, slots=True)
class TailPart:
    """A leaf part that starts past the cut: its headers (None when the part was only counted,
    not read) and where its content lies in the raw message."""

    headers: Message | None
    start: int
    end: int

    def size(self, raw: bytes) -> int:
        """About how many bytes its content decodes to, without decoding it."""
        encoding = mimepart.transfer_encoding(self.headers) if self.headers is not None else ""
        return mimepart.decoded_size(raw, encoding, self.start, self.end)


def cut_point(raw: bytes, max_bytes: int) -> int:
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


def boundaries_of(tree: Message) -> set[bytes]:
    """The boundaries of every multipart in the tree read before the cut (walked iteratively:
    it may be deep)."""
    found: set[bytes] = set()
    stack = [tree]
    while stack:
        node = stack.pop()
        payload = node.get_payload()
        if isinstance(payload, list):
            stack.extend(p for p in payload if isinstance(p, Message))
        if mimepart.content_type(node).startswith("multipart/"):
            # A multipart cut before its first part has no list of parts, but its boundary.
            boundary = node.get_boundary()
            found.update([raw_bytes(boundary)] if boundary else [])
    return found


def parts_past_the_cut(
    raw: bytes, cut: int, boundaries: set[bytes], *, read_at_most: int
) -> Iterator[TailPart]:
    """The leaf parts that start past the cut, in order, found by the boundary lines from the
    line the cut is in on (``boundaries``: those of the tree read before the cut). Only
    the first ``read_at_most`` parts are read; the rest are given without their headers, so
    that the work stays bounded."""
    known = set(boundaries)  # grows with the multiparts read past the cut
    pending: tuple[Message, int] | None = None  # a leaf read, its content's start
    read = 0
    lines = _boundary_lines(raw, _line_start(raw, cut), known) if known else iter(())
    for line_start, line_end, close in lines:
        if pending is not None:
            yield TailPart(pending[0], pending[1], line_start)
            pending = None
        if close:
            continue
        read += 1
        if read > read_at_most:
            yield TailPart(None, line_end, line_end)
            continue
        part, body = _tail_part(raw, line_end)
        if mimepart.content_type(part).startswith("multipart/"):
            boundary = part.get_boundary()
            known.update([raw_bytes(boundary)] if boundary else [])
            continue
        pending = (part, body)
    if pending is not None:  # no close line
        yield TailPart(pending[0], pending[1], len(raw))


def cut_part_size(raw: bytes, cut: int, boundaries: set[bytes], part: Message) -> int | None:
    """About how many bytes the content of ``part``, the leaf the cut falls in, decodes to:
    what was read of it and what follows up to the next boundary line. None when the cut
    falls at a boundary line (``part`` is whole)."""
    lines = _boundary_lines(raw, _line_start(raw, cut), boundaries) if boundaries else iter(())
    end = next((line_start for line_start, _, _ in lines), len(raw))
    if end <= cut:
        return None
    encoding, payload = mimepart.transfer_encoding(part), part.get_payload()
    seen = mimepart.content_chars(payload, encoding) if isinstance(payload, str) else 0
    return mimepart.decoded_size(raw, encoding, cut, end, before=seen)


def _line_start(raw: bytes, at: int) -> int:
    return raw.rfind(b"\n", 0, at) + 1


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
