"""Raw RFC 5322 bytes -> ParsedMessage. Pure, and never raises on bad input.

The stdlib parser runs with the ``compat32`` policy, which never raises while parsing; the
tree it gives is walked here, part by part (``mail_ingest.mimepart`` reads each one), and
every header value is decoded from its raw bytes (``mail_ingest.headers``), so that 8-bit
headers (Shift_JIS from Windows mailers), RFC 2047 encoded words split mid-character and wrong
charset declarations (``mail_ingest.charsets``) all end in readable text. Whatever went wrong
is recorded in ``ParsedMessage.errors``.

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
their boundary lines (their headers read, their content never decoded) and listed the same
way (``mail_ingest.sizecut``).

Parts past ``MAX_PARTS`` or deeper than ``MAX_DEPTH`` are not read either. Nothing the parser
does not keep goes unmentioned: the first ``LISTED_NOT_KEPT`` such parts are listed as omitted
attachments with the reason (``not_kept``), and the rest are counted by reason
(``ParsedMessage.not_listed``), so a mail of ten thousand parts costs a count, not a list.

``ParsedMessage.content_sha256`` tells whether two messages say the same thing, whatever their
bytes: see ``mail_ingest.digest`` for what it covers.
"""

from __future__ import annotations

import email
import hashlib
import logging
import mimetypes
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, fields, is_dataclass, replace
from datetime import datetime
from email.message import Message
from email.policy import compat32
from functools import cache
from typing import TypeGuard, cast

from mail_ingest import mimepart, sizecut
from mail_ingest.digest import body_sha256, content_digest
from mail_ingest.filenames import shown_name
from mail_ingest.flowed import unflow
from mail_ingest.headers import (
    Headers,
    header_text,
    message_ids,
    normalize_message_id,
    parse_addresses,
    parse_date,
    raw_bytes,
)
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
    shown_content_ids,
    withheld_reason,
)
from mail_ingest.policy import AttachmentOrigin, AttachmentReason
from mail_ingest.tnef import is_tnef, tnef_files

logger = logging.getLogger(__name__)

MAX_DEPTH = 12
MAX_PARTS = 1000
OMITTED_TEXT_LIMIT = 200_000
LISTED_NOT_KEPT = 20
"""The most parts past a limit (count, depth, size) listed by name; the rest are counted."""


@dataclass(frozen=True, slots=True)
class ParsedAttachment:
    """One attachment or inline part, decoded."""

    filename: str | None
    declared_type: str
    content: bytes
    inline: bool = False
    content_id: str | None = None
    origin: AttachmentOrigin = AttachmentOrigin.MESSAGE
    size: int = 0
    omitted: bool = False
    # The content's SHA-256 (hex), its key in the stores: worked out where the message is
    # parsed (a worker process, usually), so the process that stores the file need not.
    sha256: str = ""
    # The name as the sender wrote it, when ``filename`` had to lose characters that disguise
    # it (see mail_ingest.filenames); kept for the audit.
    original_filename: str | None = None
    # Why an omitted attachment's content was not kept (one of policy.NOT_KEPT_REASONS).
    not_kept: AttachmentReason | None = None

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


def _walk(part: Message, state: _Walk, origin: AttachmentOrigin, depth: int) -> None:
    state.parts += 1
    if depth > MAX_DEPTH or state.parts > MAX_PARTS:
        if "MIME structure too deep or too large; rest skipped" not in state.problems:
            state.problems.append("MIME structure too deep or too large; rest skipped")
        reason = AttachmentReason.TOO_DEEP if depth > MAX_DEPTH else AttachmentReason.TOO_MANY_PARTS
        _not_walked(part, state, origin, reason)
        return
    try:
        _dispatch(part, state, origin, depth)
    except Exception as exc:  # noqa: BLE001 - one broken part must not lose the others
        state.problems.append(f"part skipped: {type(exc).__name__}: {exc}")


def _dispatch(part: Message, state: _Walk, origin: AttachmentOrigin, depth: int) -> None:
    ctype = mimepart.content_type(part)
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
    named = filename is not None or mimepart.disposition(part) == "attachment"
    return not named and ctype in ("text/plain", "text/html")


def _leaf(part: Message, state: _Walk, origin: AttachmentOrigin, ctype: str) -> None:
    disposition = mimepart.disposition(part)
    filename = mimepart.filename(part)
    is_body = (
        disposition != "attachment" and filename is None and origin == AttachmentOrigin.MESSAGE
    )
    if is_body and ctype == "text/plain":
        text = mimepart.decoded_text(part, state.problems)
        if (mimepart.param(part, "format") or "").lower() == "flowed":
            text = unflow(text, delsp=(mimepart.param(part, "delsp") or "").lower() == "yes")
        state.texts.append(text)
    elif is_body and ctype == "text/html":
        state.htmls.append(mimepart.decoded_text(part, state.problems))
    elif is_tnef(ctype, filename) and not state.omit_content:
        _tnef(part, filename, state, origin)
    elif state.omit_content and ctype.startswith("multipart/"):
        pass  # a multipart cut before its first part: its parts are read past the cut
    else:
        state.attachments.append(_attachment(part, state, origin, ctype, filename))
        state.last_leaf = part
        return
    state.last_leaf = None


def _attachment(
    part: Message, state: _Walk, origin: AttachmentOrigin, ctype: str, filename: str | None
) -> ParsedAttachment:
    if state.omit_content:
        return _omitted(part, origin, ctype, filename, AttachmentReason.MESSAGE_TOO_LARGE)
    cid, inline = mimepart.content_id(part)
    content = mimepart.decoded_payload(part)
    return ParsedAttachment(filename, ctype, content, inline, cid, origin, len(content))


def _omitted(
    part: Message,
    origin: AttachmentOrigin,
    ctype: str,
    filename: str | None,
    reason: AttachmentReason,
) -> ParsedAttachment:
    """A part listed with its estimated size but without its content (never decoded)."""
    cid, inline = mimepart.content_id(part)
    size = mimepart.estimated_size(part)
    return ParsedAttachment(
        filename, ctype, b"", inline, cid, origin, size, omitted=True, not_kept=reason
    )


def _not_kept(state: _Walk, reason: AttachmentReason) -> bool:
    """Count one part not kept; True while parts are still listed by name."""
    if state.cut.listed < LISTED_NOT_KEPT:
        state.cut.listed += 1
        return True
    _count_unlisted(state, reason)
    return False


def _count_unlisted(state: _Walk, reason: AttachmentReason) -> None:
    state.cut.unlisted[reason] = state.cut.unlisted.get(reason, 0) + 1


def _not_walked(
    part: Message, state: _Walk, origin: AttachmentOrigin, reason: AttachmentReason
) -> None:
    """List the files under a part the walk does not read (a forwarded message is one) by
    their headers, then count the leaves past LISTED_NOT_KEPT without reading even those;
    iteratively, as the tree may be very deep."""
    stack = [part]
    while stack:
        node = stack.pop()
        if node.is_multipart() and not mimepart.content_type(node).startswith("message/"):
            payload = node.get_payload()
            stack.extend(reversed([p for p in payload if isinstance(p, Message)]))
        elif state.cut.listed >= LISTED_NOT_KEPT:
            _count_unlisted(state, reason)  # is_multipart only looked at the payload
        else:
            _list_not_kept(node, state, origin, reason)


def _list_not_kept(
    part: Message, state: _Walk, origin: AttachmentOrigin, reason: AttachmentReason
) -> None:
    """List a file not kept (a text of the message is no file: it is left out)."""
    ctype, filename = mimepart.content_type(part), mimepart.filename(part)
    if not _is_text(part, ctype, filename) and _not_kept(state, reason):
        state.attachments.append(_omitted(part, origin, ctype, filename, reason))


def _sub_message(part: Message) -> Message | None:
    payload = part.get_payload()
    if isinstance(payload, list) and payload and isinstance(payload[0], Message):
        return payload[0]
    if isinstance(payload, str):
        return email.message_from_bytes(mimepart.decoded_payload(part), policy=compat32)
    return None


def _walk_rfc822(part: Message, state: _Walk, depth: int) -> None:
    inner = _sub_message(part)
    if inner is None:
        return
    raw = _serialise(inner)
    summary = _Walk(
        problems=state.problems, omit_content=state.omit_content, cut=state.cut, parts=state.parts
    )
    _walk(inner, summary, AttachmentOrigin.MESSAGE, depth + 1)
    headers = Headers(inner, state.problems)
    message_id = normalize_message_id(headers.text("message-id"))
    state.returned_ids.extend([message_id] if message_id else [])
    subject = headers.text("subject") or ""
    name = mimepart.filename(part) or f"{_safe_stem(subject) or 'message'}.eml"
    state.attachments.append(
        ParsedAttachment(
            name, "message/rfc822", raw, False, None, AttachmentOrigin.MESSAGE, len(raw)
        )
    )
    text = "\n".join(summary.texts) or html_to_text("\n".join(summary.htmls))
    from_pairs = headers.addresses("from")
    state.forwarded.append(
        ForwardedMessage(
            message_id,
            from_pairs[0][1] if from_pairs else None,
            subject,
            parse_date(headers.text("date"), state.problems),
            text,
        )
    )
    state.attachments.extend(_as_forwarded(a) for a in summary.attachments)
    state.forwarded.extend(summary.forwarded)
    state.parts = summary.parts
    state.last_leaf = None


def _as_forwarded(att: ParsedAttachment) -> ParsedAttachment:
    return (
        att
        if att.origin != AttachmentOrigin.MESSAGE
        else replace(att, origin=AttachmentOrigin.FORWARDED)
    )


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
    head = b"".join(raw_bytes(k) + b": " + raw_bytes(v) + b"\r\n" for k, v in msg.raw_items())
    payload = msg.get_payload()
    if not isinstance(payload, list):
        return head + b"\r\n" + raw_bytes(payload)
    boundary = raw_bytes(msg.get_boundary() or "")
    parts = [b"--" + boundary + b"\r\n" + _raw_serialise(p) for p in payload if _is_msg(p)]
    return head + b"\r\n" + b"\r\n".join(parts) + b"\r\n--" + boundary + b"--\r\n"


def _delivery_status(part: Message, state: _Walk) -> None:
    state.delivery_status = True
    blocks = part.get_payload()
    for block in blocks if isinstance(blocks, list) else []:
        for name, value in block.raw_items() if _is_msg(block) else []:
            if name.lower() == "final-recipient":
                address = raw_bytes(value).decode("ascii", "replace").split(";")[-1]
                state.failed_recipients.append(address.strip().strip("<>").lower())


def _returned_headers(part: Message, state: _Walk) -> None:
    match = re.search(rb"(?im)^message-id:\s*(<[^>\r\n]+>)", mimepart.decoded_payload(part))
    if match:
        found = normalize_message_id(match.group(1).decode("ascii", "replace"))
        state.returned_ids.extend([found] if found else [])


# --------------------------------------------------------------------------------------------
# TNEF (winmail.dat)
# --------------------------------------------------------------------------------------------


def _tnef(part: Message, filename: str | None, state: _Walk, origin: AttachmentOrigin) -> None:
    data = mimepart.decoded_payload(part)
    try:
        files = tnef_files(data)
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
            item = ParsedAttachment(
                name, ctype, content, False, None, AttachmentOrigin.TNEF, len(content)
            )
        elif _not_kept(state, AttachmentReason.TOO_MANY_PARTS):
            item = ParsedAttachment(
                name, ctype, b"", False, None, AttachmentOrigin.TNEF, len(content),
                omitted=True, not_kept=AttachmentReason.TOO_MANY_PARTS,
            )  # fmt: skip
        else:
            continue
        state.attachments.append(item)


# --------------------------------------------------------------------------------------------
# Past the size cut
# --------------------------------------------------------------------------------------------


def _past_the_cut(raw: bytes, cut: int, tree: Message, state: _Walk) -> None:
    """List the parts of an oversized message that lie past the cut (only their headers are
    read), and count in the size of the last attachment before the cut what follows of it."""
    boundaries = sizecut.boundaries_of(tree)
    if state.last_leaf is not None:
        size = sizecut.cut_part_size(raw, cut, boundaries, state.last_leaf)
        if size is not None:
            _resize(state, len(state.attachments) - 1, size)
    for tail in sizecut.parts_past_the_cut(raw, cut, boundaries, read_at_most=MAX_PARTS):
        if tail.headers is None:  # counted, not read: the work stays bounded
            _count_unlisted(state, AttachmentReason.MESSAGE_TOO_LARGE)
            continue
        listed = len(state.attachments)
        _list_not_kept(
            tail.headers, state, AttachmentOrigin.MESSAGE, AttachmentReason.MESSAGE_TOO_LARGE
        )
        if len(state.attachments) > listed:
            _resize(state, listed, tail.size(raw))


def _resize(state: _Walk, index: int, size: int) -> None:
    state.attachments[index] = replace(state.attachments[index], size=size)


# --------------------------------------------------------------------------------------------
# The message
# --------------------------------------------------------------------------------------------


def _flag(headers: Headers, name: str) -> str | None:
    value = headers.text(name)
    return value.strip().lower() if value else None


def _addresses(headers: Headers, *names: str) -> tuple[str, ...]:
    found = (a for n in names for _, a in headers.addresses(n))
    return tuple(dict.fromkeys(found))


def _return_path(headers: Headers) -> str | None:
    value = headers.text("return-path")
    if value is None:
        return None
    if value.strip().strip("<>").strip() == "":
        return ""
    pairs = parse_addresses(value)
    return pairs[0][1] if pairs else ""


def _understood(headers: Headers) -> bool:
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
    shown = shown_content_ids(html_raw)
    return [
        replace(a, inline=True) if a.content_id is not None and a.content_id in shown else a
        for a in attachments
    ]


def _report_type(msg: Message) -> str | None:
    if mimepart.content_type(msg) != "multipart/report":
        return None
    value = mimepart.param(msg, "report-type")
    return value.lower() if value else None


def _build(raw: bytes, digest: str, max_bytes: int | None, problems: list[str]) -> ParsedMessage:
    oversized = max_bytes is not None and len(raw) > max_bytes
    cut = sizecut.cut_point(raw, max_bytes) if oversized and max_bytes is not None else len(raw)
    source = raw[:cut]
    if oversized:
        problems.append(f"message of {len(raw)} bytes exceeds the {max_bytes}-byte limit")
    msg = email.message_from_bytes(source, policy=compat32)
    headers = Headers(msg, problems)
    state = _Walk(problems=problems, omit_content=oversized)
    state.report_type = _report_type(msg)
    _walk(msg, state, AttachmentOrigin.MESSAGE, 0)
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
        references=message_ids(headers.text("references")),
        from_address=from_address,
        from_name=(sender[0][0] or None) if sender else None,
        reply_to=reply_to[0][1] if reply_to else None,
        return_path=_return_path(headers),
        to=to,
        cc=cc,
        recipients=tuple(dict.fromkeys(to + cc + delivered)),
        subject=subject,
        date=parse_date(headers.text("date"), problems),
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
        headers=tuple((n, header_text(v, problems)) for n, v in headers.order),
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
