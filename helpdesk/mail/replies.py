"""Automatic replies: acknowledgement, request for missing fields, refused attachments."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app

from helpdesk import outbox
from helpdesk.models import Desk, Ticket
from helpdesk.outbox import OutgoingMail
from helpdesk.tickets import sla
from mail_ingest.pipeline import JudgedAttachment
from mail_ingest.policy import REASON_TEXT

FIELD_LABELS = {
    "ja": {
        "organisation": "機関名・所属機関名",
        "contact": "連絡先(電話番号またはメールアドレス)",
        "environment": "利用環境(OS・ブラウザ)",
    },
    "en": {
        "organisation": "Organisation name",
        "contact": "Contact (phone number or email)",
        "environment": "Usage environment (OS and browser)",
    },
}

SUBJECT_PREFIXES = {
    "ack": {"ja": "【受付】", "en": "[Received]"},
    "missing_fields": {"ja": "【情報のお願い】", "en": "[Information needed]"},
    "refused": {"ja": "【添付ファイルを受信できません】", "en": "[Attachments refused]"},
}

WEEKDAYS = {"ja": "月火水木金土日", "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")}


@dataclass(frozen=True)
class RefusedFile:
    """A refused file as the refusal mail names it."""

    name: str
    reason_ja: str
    reason_en: str


def hours_text(desk: Desk, lang: str) -> str:
    """The desk's weekly opening hours in words, e.g. 'Mon-Fri 9:00-17:00'."""
    spans = sorted({tuple(map(tuple, v)) for v in desk.opening_hours.values() if v})
    days = sorted(int(d) for d, v in desk.opening_hours.items() if v)
    if not days:
        return "—"
    names = WEEKDAYS["ja" if lang == "ja" else "en"]
    first, last = names[days[0]], names[days[-1]]
    hours = ", ".join(f"{a}-{b}" for span in spans for a, b in span)
    if lang == "ja":
        return f"{first}〜{last}曜日の {hours}"
    return f"{first}-{last} {hours}"


def _reply_subject(kind: str, lang: str, number: str, subject: str) -> str:
    """E.g. "[Received] HD-2026-000123 Cannot log in"; the number keeps replies threaded."""
    parts = [SUBJECT_PREFIXES[kind][lang], number, subject.strip()]
    return " ".join(part for part in parts if part)


def _context(desk: Desk, lang: str, **extra: Any) -> dict[str, Any]:
    return {
        "desk": desk,
        "hours_ja": hours_text(desk, "ja"),
        "hours_en": hours_text(desk, "en"),
        "labels_ja": FIELD_LABELS["ja"],
        "labels_en": FIELD_LABELS["en"],
        **extra,
    }


def render(kind: str, lang: str, **context: Any) -> str:
    """Render templates/mail/<kind>.<lang>.txt, straight through the app's Jinja environment
    (its globals such as ``config`` and its filters included). Flask's ``render_template``
    would add the page context (request, session, the signed-in user's navigation) that mail
    never shows, at a cost paid once for every acknowledgement of a poll."""
    template = current_app.jinja_env.get_template(f"mail/{kind}.{lang}.txt")
    return template.render(context).strip() + "\n"


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
    text = render(kind, lang, **_context(desk, lang, ticket=ticket, **context))
    mail = OutgoingMail(
        kind=kind,
        sender=desk.reply_from,
        sender_name=desk.name_in(lang),
        recipient=to,
        subject=_reply_subject(kind, lang, number, subject),
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
    due_text, due_reason = sla.due_for_requester(ticket, ticket.language)
    return {"due_text": due_text, "due_reason": due_reason}


def refused_files(judged: Sequence[JudgedAttachment]) -> list[RefusedFile]:
    """The refused files of a message, with their reasons in both languages."""
    files = []
    for item in judged:
        if item.verdict.allowed:
            continue
        texts = REASON_TEXT.get(item.verdict.reason, {})
        files.append(
            RefusedFile(
                name=item.attachment.filename or "(no name)",
                reason_ja=texts.get("ja", item.verdict.detail),
                reason_en=texts.get("en", item.verdict.detail),
            )
        )
    return files
