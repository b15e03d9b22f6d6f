"""Automatic replies: acknowledgement, request for missing fields, refused attachments."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l

from helpdesk import i18n, outbox
from helpdesk.models import Desk, Ticket
from helpdesk.outbox import OutgoingMail
from helpdesk.tickets import sla_clock
from mail_ingest.parse import MAX_PARTS
from mail_ingest.pipeline import JudgedAttachment
from mail_ingest.policy import NOT_KEPT_REASONS
from mail_ingest.policy import AttachmentReason as R

# The letters themselves are templates/mail/<kind>.<lang>.txt, one per language: a whole
# letter reads best translated as a whole. What they name is in the catalog.
FIELD_LABELS = {
    "organisation": _l("Organisation name"),
    "contact": _l("Contact (phone number or email)"),
    "environment": _l("Usage environment (OS and browser)"),
}

SUBJECT_PREFIXES = {
    "ack": _l("[Received]"),
    "missing_fields": _l("[Information needed]"),
    "refused": _l("[Attachments refused]"),
}


MAIL_LISTED_FILES = 20
"""The most files a reply names; it counts the rest."""


@dataclass(frozen=True)
class RefusedFile:
    """A file refused or not kept, as a reply names it: the policy's reason and detail."""

    name: str
    reason: str
    detail: str = ""
    size: str = ""

    @property
    def reason_text(self) -> str:
        """Why, in the language being written."""
        return i18n.reason_text(self.reason, self.detail)


@dataclass(frozen=True)
class FilesNotKept:
    """The files of a mail that were refused or not kept, as a reply lists them: the first
    MAIL_LISTED_FILES by name, the rest counted, and which advice on sending them applies."""

    listed: list[RefusedFile] = field(default_factory=list)
    more: int = 0
    reasons: frozenset[str] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.listed) or self.more > 0

    @property
    def more_text(self) -> str:
        """How many more, with thousands separators."""
        return f"{self.more:,}"

    @property
    def forbidden(self) -> bool:
        """Some were refused for what they are: the advice on passwords and file types."""
        return bool(self.reasons - NOT_KEPT_REASONS - {R.TOO_LARGE})

    @property
    def too_large(self) -> bool:
        """Some were too large, alone or with the rest of the mail: the advice on sizes."""
        return bool(self.reasons & {R.TOO_LARGE, R.MESSAGE_TOO_LARGE})

    @property
    def too_many(self) -> bool:
        """The mail had more parts than are read: the advice on several mails."""
        return R.TOO_MANY_PARTS in self.reasons

    @property
    def too_deep(self) -> bool:
        """Files nested in forwarded mails: the advice to attach them directly."""
        return R.TOO_DEEP in self.reasons


def hours_text(desk: Desk, lang: str) -> str:
    """The desk's weekly opening hours in words, e.g. 'Mon-Fri 09:00-17:00'."""
    spans = sorted({tuple(map(tuple, v)) for v in desk.opening_hours.values() if v})
    days = sorted(int(d) for d, v in desk.opening_hours.items() if v)
    if not days:
        return "—"
    hours = ", ".join(f"{a}-{b}" for span in spans for a, b in span)
    with i18n.language(lang):
        names = i18n.weekday_names("abbreviated")
        return i18n.gettext("%(first)s-%(last)s %(hours)s") % {
            "first": names[days[0]],
            "last": names[days[-1]],
            "hours": hours,
        }


def _reply_subject(kind: str, number: str, subject: str) -> str:
    """E.g. "[Received] HD-2026-000123 Cannot log in"; the number keeps replies threaded."""
    parts = [str(SUBJECT_PREFIXES[kind]), number, subject.strip()]
    return " ".join(part for part in parts if part)


def _context(desk: Desk, lang: str, **extra: Any) -> dict[str, Any]:
    return {
        "desk": desk,
        "hours": hours_text(desk, lang),
        "labels": {name: str(label) for name, label in FIELD_LABELS.items()},
        "limits": limits_text(),
        **extra,
    }


def render(kind: str, lang: str, **context: Any) -> str:
    """Render templates/mail/<kind>.<lang>.txt in ``lang``, straight through the app's Jinja
    environment (its globals such as ``config`` and its filters included). Flask's
    ``render_template`` would add the page context (request, session, the signed-in user's
    navigation) that mail never shows, at a cost paid once for every acknowledgement of a
    poll."""
    template = current_app.jinja_env.get_template(f"mail/{kind}.{lang}.txt")
    with i18n.language(lang):
        return template.render(context).strip() + "\n"


def reply_text(kind: str, *, desk: Desk, ticket: Ticket | None, lang: str, **context: Any) -> str:
    """The text of an automatic reply of ``kind`` in ``lang`` ("ja" or "en")."""
    with i18n.language(lang):
        return render(kind, lang, **_context(desk, lang, ticket=ticket, **context))


def queue_reply(
    kind: str,
    *,
    desk: Desk,
    ticket: Ticket | None,
    to: str,
    lang: str,
    subject: str,
    in_reply_to: str | None,
    references: Sequence[str] = (),
    at: datetime | None = None,
    **context: Any,
) -> None:
    """Render an automatic reply and put it in the outbox (written at the caller's flush)."""
    lang = "ja" if lang == "ja" else "en"
    number = ticket.number if ticket is not None else ""
    text = reply_text(kind, desk=desk, ticket=ticket, lang=lang, **context)
    with i18n.language(lang):
        reply_subject = _reply_subject(kind, number, subject)
    mail = OutgoingMail(
        kind=kind,
        sender=desk.reply_from,
        sender_name=desk.name_in(lang),
        recipient=to,
        subject=reply_subject,
        text=text,
        in_reply_to=in_reply_to,
        references=[*references, *([in_reply_to] if in_reply_to else [])],
        automatic=True,
    )
    outbox.enqueue(mail, ticket, at, flush=False)


def queue_acknowledgement(
    ticket: Ticket,
    *,
    to: str,
    subject: str,
    in_reply_to: str | None,
    references: Sequence[str] = (),
    at: datetime | None = None,
    requester_name: str | None = None,
) -> None:
    """The acknowledgement of a new ticket (mail or web form): its number and the due time."""
    queue_reply(
        "ack",
        desk=ticket.desk,
        ticket=ticket,
        to=to,
        lang=ticket.language,
        subject=subject,
        in_reply_to=in_reply_to,
        references=references,
        at=at,
        requester_name=requester_name,
        **acknowledgement_context(ticket),
    )


def acknowledgement_context(ticket: Ticket, now: datetime | None = None) -> dict[str, str | None]:
    """What an acknowledgement says beyond the number: by when, and why then, in its language.
    Nothing about when if that is past by ``now`` (mail that waited for a poller that was
    down): a promise already broken is not sent."""
    due = ticket.first_response_due_at
    if now is not None and due is not None and due <= now:
        return {"due_text": None, "due_reason": None}
    due_text, due_reason = sla_clock.due_for_requester(ticket, ticket.language)
    return {"due_text": due_text, "due_reason": due_reason}


def refused_files(
    judged: Sequence[JudgedAttachment], not_listed: Iterable[tuple[str, int]] = ()
) -> FilesNotKept:
    """The refused or not kept files of a message, with the policy's reasons (worded when
    rendered); with
    ``not_listed``, the (reason, count) of the parts not kept that have no row of their own."""
    files = []
    refused = [item for item in judged if not item.verdict.allowed]
    for item in refused[:MAIL_LISTED_FILES]:
        files.append(
            RefusedFile(
                name=item.attachment.filename or "(no name)",
                reason=item.verdict.reason,
                detail=item.verdict.detail,
                size=size_text(item.attachment.size or len(item.attachment.content)),
            )
        )
    reasons: set[str] = {item.verdict.reason for item in refused}
    counted = [(reason, count) for reason, count in not_listed if count > 0]
    reasons.update(reason for reason, _ in counted)
    more = len(refused) - len(files) + sum(count for _, count in counted)
    return FilesNotKept(files, more, frozenset(reasons))


def size_text(size: int) -> str:
    """A file size as a reply gives it: 9 B, 12.3 KB, 20.0 MB (units of 1,024, as Windows)."""
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / 1024 / 1024:.1f} MB"


def limits_text() -> dict[str, str]:
    """The limits a reply's advice on sending files names, from the settings."""
    config = current_app.config
    message = config["MAX_MESSAGE_BYTES"]
    return {
        "message": _whole_megabytes(message),
        "file": _whole_megabytes(config["MAX_ATTACHMENT_BYTES"]),
        # Base64 makes an attached file a third larger: what fits in a mail of that size.
        "files_in_message": _whole_megabytes(message * 3 // 4),
        "parts": f"{MAX_PARTS:,}",
    }


def _whole_megabytes(size: int) -> str:
    return f"{size // (1024 * 1024)} MB"
