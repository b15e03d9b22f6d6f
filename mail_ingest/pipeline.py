"""One message, understood: parsed, its new text split from the quoted, its fields, language,
route and whether it may get an automatic reply. Pure: the app decides what to do with it."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace

from mail_ingest.autoreply import should_auto_reply
from mail_ingest.fields import RequiredFields, extract_required_fields
from mail_ingest.language import Language, detect_language
from mail_ingest.parse import (
    ParsedAttachment,
    ParsedMessage,
    parse_message,
)
from mail_ingest.policy import (
    DEFAULT_FORBIDDEN_EXTENSIONS,
    AttachmentReason,
    Inspection,
    Verdict,
    decide,
    effective_extension,
    inspect,
    not_kept,
)
from mail_ingest.quoting import split_quoted
from mail_ingest.routing import RouteDecision, Rule, route

MISSING_ID_DOMAIN = "missing-message-id.invalid"


@dataclass(frozen=True)
class Analysis:
    """What the pipeline found out about one message."""

    parsed: ParsedMessage
    message_id: str
    new_text: str
    fields: RequiredFields
    language: Language
    route: RouteDecision
    may_auto_reply: bool
    no_reply_reason: str
    # One per attachment of ``parsed`` (None for an omitted one): what judging needs of the
    # content, so a desk's rules can be applied later without looking at it again.
    inspections: tuple[Inspection | None, ...]
    # The keys of the attachments the analysis workers put in the attachment store already:
    # the ones allowed whatever the desk (see ``workers.AnalysisSettings.attachment_store``).
    stored_attachments: frozenset[str] = frozenset()


def message_key(parsed: ParsedMessage) -> str:
    """The Message-ID, or one made from the raw bytes' sha256 when the message has none."""
    return parsed.message_id or f"sha256.{parsed.sha256}@{MISSING_ID_DOMAIN}"


def analyse(
    raw: bytes,
    *,
    rules: Sequence[Rule],
    default_desk: str,
    own_addresses: Collection[str],
    max_bytes: int | None = None,
    attachment_max_bytes: int | None = None,
) -> Analysis:
    """Parse and understand one raw message, its attachments' content included (see
    ``policy.inspect``); never raises on bad input."""
    parsed = parse_message(raw, max_bytes=max_bytes)
    new_text, _quoted = split_quoted(parsed.text)
    decision = route(
        rules,
        recipients=parsed.recipients,
        subject=parsed.subject,
        body=new_text,
        sender=parsed.from_address or "",
        default_desk=default_desk,
    )
    allowed, reason = should_auto_reply(parsed, own_addresses=own_addresses)
    return Analysis(
        parsed=parsed,
        message_id=message_key(parsed),
        new_text=new_text,
        fields=extract_required_fields(parsed.text),
        language=detect_language(f"{parsed.subject}\n{new_text[:2000]}"),
        route=decision,
        may_auto_reply=allowed,
        no_reply_reason=reason,
        inspections=tuple(
            None if item.omitted else _inspect(item, attachment_max_bytes)
            for item in parsed.attachments
        ),
    )


# The content half of recent inspections, by the content's digest: the same logo or
# letterhead comes with mail after mail, and libmagic costs 0.05-1.5 ms a file.
_INSPECTIONS: OrderedDict[tuple[str, int | None], Inspection] = OrderedDict()
_INSPECTIONS_KEPT = 256
_INSPECTIONS_LOCK = threading.Lock()  # the web app's threads analyse too


def _inspect(item: ParsedAttachment, max_bytes: int | None) -> Inspection:
    """``policy.inspect`` of the attachment, its content looked at once for all names: all
    an inspection takes from the name is the extension."""
    if not item.sha256:
        return inspect(item.filename, item.content, max_bytes=max_bytes)
    key = (item.sha256, max_bytes)
    with _INSPECTIONS_LOCK:
        known = _INSPECTIONS.get(key)
        if known is not None:
            _INSPECTIONS.move_to_end(key)
    if known is None:
        known = inspect(item.filename, item.content, max_bytes=max_bytes)
        with _INSPECTIONS_LOCK:
            _INSPECTIONS[key] = known
            while len(_INSPECTIONS) > _INSPECTIONS_KEPT:
                _INSPECTIONS.popitem(last=False)
        return known
    extension = effective_extension(item.filename)
    return known if known.extension == extension else replace(known, extension=extension)


@dataclass(frozen=True)
class JudgedAttachment:
    """An attachment with the policy's verdict on it."""

    attachment: ParsedAttachment
    verdict: Verdict


def judge_attachments(
    attachments: Sequence[ParsedAttachment],
    inspections: Sequence[Inspection | None],
    *,
    forbidden_extensions: Collection[str] | None = None,
    attachment_max_bytes: int | None = None,
) -> list[JudgedAttachment]:
    """Judge every attachment, forwarded messages' ones included, under one desk's forbidden
    extensions; ``inspections`` are the analysis' (None for an omitted attachment, which is
    not kept, for the reason the parser gives)."""
    forbidden = (
        DEFAULT_FORBIDDEN_EXTENSIONS if forbidden_extensions is None else forbidden_extensions
    )
    return [
        JudgedAttachment(
            item,
            _omitted_verdict(item, attachment_max_bytes)
            if inspection is None
            else decide(item.filename, inspection, forbidden_extensions=forbidden),
        )
        for item, inspection in zip(attachments, inspections, strict=True)
    ]


def _omitted_verdict(item: ParsedAttachment, max_bytes: int | None) -> Verdict:
    reason = item.not_kept or AttachmentReason.MESSAGE_TOO_LARGE
    return not_kept(item.filename, item.declared_type, reason, item.size, max_bytes=max_bytes)
