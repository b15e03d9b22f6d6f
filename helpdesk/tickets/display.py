"""What the agents' pages show of tickets, worked out here so that the templates only format:
due times in desk time with the business time left, queue rows and their links, the thread's
messages, the ticket's labels and clocks, and the history as sentences."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from babel.lists import format_list
from flask import current_app, url_for
from flask_babel import get_translations, gettext
from flask_babel import lazy_gettext as _l

from helpdesk import clock, i18n
from helpdesk.models import (
    Attachment,
    AuditEvent,
    CannedAnswer,
    Desk,
    Direction,
    Message,
    MessageRepeat,
    PresenceActivity,
    Priority,
    Ticket,
    User,
)
from helpdesk.sla import BusinessCalendar, SlaState, explain_due, sla_state
from helpdesk.templating import desk_name, file_size
from helpdesk.tickets.services import expand_canned
from helpdesk.tickets.sla_clock import calendar_for
from helpdesk.tickets.workflow import TicketStatus
from mail_ingest.filenames import revealed
from mail_ingest.markup import HTML_MAX_CHARS, HTML_MAX_DEPTH, HtmlWithheld
from mail_ingest.policy import NOT_KEPT_REASONS
from mail_ingest.quoting import split_quoted

_ = i18n.gettext

# How many characters of a long value (a Message-ID) a history line shows; the whole value
# is in the line's tooltip.
SHORT_VALUE = 32


def time_label(at: datetime | None, timezone: str = "Asia/Tokyo") -> str:
    """A desk-local timestamp."""
    local = clock.to_desk_time(at, timezone)
    return "—" if local is None else f"{local:%Y-%m-%d %H:%M}"


# --- Due times ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DueView:
    """A due time as a page shows it: the moment in desk time, and the business time left
    (or past) on the desk's calendar, which is what the SLA counts."""

    moment: str  # "11-30 (Mon) 10:00", desk time
    full: str  # "2026-11-30 (Mon) 10:00 JST", the tooltip
    iso: str  # the <time> element's machine-readable value
    remaining: str  # "2 h 0 min business time left", "overdue by 1 h 0 min business time"
    overdue: bool


class DueWords:
    """The words due times are written with, in the reader's language: looked up once for a
    page, so that its rows cost no catalog or locale look-ups."""

    def __init__(self) -> None:
        self.weekdays = i18n.weekday_names("abbreviated")
        self.span = str(gettext("%(hours)d h %(minutes)d min"))
        self.left = str(gettext("%(span)s business time left"))
        self.overdue = str(gettext("overdue by %(span)s business time"))

    def business_span(self, minutes: int) -> str:
        """ "3 h 10 min"."""
        hours, minutes = divmod(minutes, 60)
        return self.span % {"hours": hours, "minutes": minutes}


def due_view(
    due: datetime | None,
    now: datetime,
    calendar: BusinessCalendar,
    words: DueWords | None = None,
) -> DueView | None:
    """How ``due`` reads at ``now`` on the desk whose calendar is ``calendar``; None without a
    due time. Over a weekend a ticket due Monday 10:00 has 2 business hours left on Friday at
    16:00, not 66 clock hours. ``words`` are the page's, when it shows many."""
    if due is None:
        return None
    words = words or DueWords()
    local = due.astimezone(calendar.tz)
    weekday = words.weekdays[local.weekday()]
    overdue = now >= due
    if overdue:
        span = words.business_span(calendar.business_minutes_between(due, now))
        remaining = words.overdue % {"span": span}
    else:
        span = words.business_span(calendar.business_minutes_between(now, due))
        remaining = words.left % {"span": span}
    return DueView(
        moment=f"{local:%m-%d} ({weekday}) {local:%H:%M}",
        full=f"{local:%Y-%m-%d} ({weekday}) {local:%H:%M %Z}",
        iso=local.isoformat(timespec="minutes"),
        remaining=remaining,
        overdue=overdue,
    )


def live_sla_state(
    ticket: Ticket, now: datetime, calendar_of: Callable[[Desk], BusinessCalendar] = calendar_for
) -> SlaState:
    """The stored SLA state, brought up to ``now`` for running clocks (the sweep may lag)."""
    if ticket.sla_state not in (SlaState.OK, SlaState.NEAR) or ticket.sla_due_at is None:
        return ticket.sla_state
    if now >= ticket.sla_due_at:
        return SlaState.BREACHED  # what sla_state answers first; no calendar (or its query) needed
    warn = int(current_app.config["SLA_WARN_MINUTES"])
    return sla_state(ticket.sla_due_at, now, calendar_of(ticket.desk), warn)


# --- Queue rows -----------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueRow:
    """One ticket as a queue shows it."""

    id: int
    number: str
    url: str
    subject: str
    desk: str
    requester: str
    status: str
    priority: str
    priority_class: str
    assignee: str
    due: DueView | None
    sla_class: str
    sla_label: str
    workable: bool


def queue_rows(
    tickets: Sequence[Ticket], now: datetime, may_work: Callable[[int], bool]
) -> list[QueueRow]:
    """Rows with due times and business time left on each desk's calendar; ``may_work``
    says whether the reader may change a desk's tickets (asked once per desk)."""
    # Looked up once, not per row: the language, its labels, calendars and rights per desk.
    lang = i18n.current_language()
    words = i18n.translations()
    workable = {desk_id: may_work(desk_id) for desk_id in {t.desk_id for t in tickets}}
    due_words = DueWords()
    calendars: dict[int, BusinessCalendar] = {}

    def desk_calendar(desk: Desk) -> BusinessCalendar:
        if desk.id not in calendars:
            calendars[desk.id] = calendar_for(desk)
        return calendars[desk.id]

    rows = []
    for t in tickets:
        state = live_sla_state(t, now, desk_calendar)
        due = None
        if t.sla_due_at is not None:
            due = due_view(t.sla_due_at, now, desk_calendar(t.desk), due_words)
        rows.append(
            QueueRow(
                id=t.id,
                number=t.number,
                url=url_for("tickets.show", ticket_id=t.id),
                subject=t.subject or "—",
                desk=t.desk.name_in(lang),
                requester=t.requester_name or t.requester_email or "—",
                status=words.get(t.status.value, t.status.value),
                priority=words.get(t.priority.value, t.priority.value),
                priority_class=f"priority-{t.priority.value}",
                assignee=t.assignee.name if t.assignee else "—",
                due=due,
                sla_class=f"sla-{state}",
                sla_label=words.get(state, state),
                workable=workable[t.desk_id],
            )
        )
    return rows


@dataclass(frozen=True)
class QueueLinks:
    """Where a queue page's links go: the next page, back to the first, and the refresh."""

    next: str | None
    first: str | None
    refresh: str


def queue_links(
    endpoint: str, args: Mapping[str, Any], after: str | None, next_after: str | None
) -> QueueLinks:
    """The links of the queue page at ``endpoint`` with ``args`` (its path values and filters),
    which starts ``after`` a cursor (None: the first page); ``next_after`` is where the next
    page starts (None: this is the last)."""
    since: dict[str, Any] = {"after": after} if after else {}
    return QueueLinks(
        next=url_for(endpoint, **args, after=next_after) if next_after else None,
        first=url_for(endpoint, **args) if after else None,
        refresh=url_for(endpoint, **args, partial=1, **since),
    )


def filter_choices(people: Iterable[User]) -> list[tuple[str, str]]:
    """The queue filter's assignee choices: anyone, the reader, nobody, then by name."""
    return [("", _("Any")), ("me", _("Me")), ("none", _("Unassigned"))] + [
        (str(u.id), u.name) for u in people
    ]


def bulk_choices(people: Iterable[User]) -> list[tuple[str, str]]:
    """The bulk form's assignee choices: no change, nobody, then by name."""
    return [("", _("no change")), ("none", _("Unassigned"))] + [(str(u.id), u.name) for u in people]


# --- The ticket page ------------------------------------------------------------------------


@dataclass(frozen=True)
class AttachmentView:
    """A file of a message as the page shows it."""

    name: str
    size: str
    detected_type: str
    url: str | None
    refused_reason: str | None
    refused_label: str = ""


@dataclass(frozen=True)
class RepeatView:
    """Another copy of a message that came in (same Message-ID and content), as shown."""

    at: str
    source: str
    raw_url: str | None  # for admins


KIND_LABELS = {
    Direction.INBOUND: _l("Inbound"),
    Direction.OUTBOUND: _l("Outbound"),
    Direction.NOTE: _l("Internal note"),
}


@dataclass(frozen=True)
class MessageView:
    """One message of the thread, ready to show."""

    id: int
    kind: str
    kind_label: str
    author: str
    at: str
    subject: str
    text: str
    quoted: str
    html_url: str | None
    html_withheld: str | None = None  # why there is no formatted version
    attachments: list[AttachmentView] = field(default_factory=list)
    # The sender gave an earlier, different message this Message-ID (shown with the ID).
    reused_message_id: str | None = None
    repeats: list[RepeatView] = field(default_factory=list)
    # What of the mail was not kept: a summary, and the parts past the listed ones, counted.
    not_kept: list[str] = field(default_factory=list)
    not_listed: list[str] = field(default_factory=list)


def _attachment_view(item: Attachment) -> AttachmentView:
    refused = None
    if not item.allowed:
        refused = i18n.reason_text(item.reason, item.detail)
    downloadable = item.allowed and item.storage_key is not None
    return AttachmentView(
        name=item.filename or f"attachment-{item.id}",
        size=file_size(item.size),
        detected_type=item.detected_type or item.declared_type,
        url=url_for("tickets.attachment", attachment_id=item.id) if downloadable else None,
        refused_reason=refused,
        refused_label=_("Not kept") if item.reason in NOT_KEPT_REASONS else _("Refused"),
    )


def _repeat_view(
    repeat: MessageRepeat, mailbox: str | None, timezone: str, raw_links: bool
) -> RepeatView:
    if repeat.imap_uid is not None:
        source = f"{mailbox or '—'}, UID {repeat.imap_uid}"
    else:
        source = f"{_('imported')} ({mailbox})" if mailbox else _("imported")
    raw_url = url_for("admin.repeat_raw", repeat_id=repeat.id) if raw_links else None
    return RepeatView(time_label(repeat.received_at, timezone), source, raw_url)


def _not_kept(message: Message) -> tuple[list[str], list[str]]:
    """What the page says of the parts of a mail the parser did not keep: a summary, and a
    line for each reason of those past the listed ones (which have no row)."""
    listed = sum(1 for a in message.attachments if a.reason in NOT_KEPT_REASONS)
    counted = sorted((message.not_listed or {}).items())
    total = listed + sum(count for _reason, count in counted)
    summary = []
    if message.oversized:
        limit = file_size(int(current_app.config["MAX_MESSAGE_BYTES"]))
        summary.append(_("This mail was over the size limit ({limit}).").format(limit=limit))
    if total:
        text = _("Files not kept: {count}. Administrators can download the whole mail.")
        summary.append(text.format(count=f"{total:,}"))
    more = [
        _("… and {count} more not kept: {reason}").format(
            count=f"{count:,}", reason=i18n.reason_text(reason)
        )
        for reason, count in counted
    ]
    return summary, more


def _withheld_note(reason: HtmlWithheld | None) -> str | None:
    """What the agent is told when a message's HTML part was too costly to clean and keep."""
    if reason is None:
        return None
    if reason is HtmlWithheld.SIZE:
        note = _(
            "The formatted version (HTML) of this message is not shown: it is longer than "
            "%(limit)s characters. Its text is shown above."
        )
        return note % {"limit": f"{HTML_MAX_CHARS:,}"}
    if reason is HtmlWithheld.DEPTH:
        note = _(
            "The formatted version (HTML) of this message is not shown: its elements are "
            "nested more than %(limit)s deep. Its text is shown above."
        )
        return note % {"limit": f"{HTML_MAX_DEPTH:,}"}
    return _(
        "The formatted version (HTML) of this message is not shown: its markup is malformed in "
        "a way that would take too long to clean. Its text is shown above."
    )


def _author(message: Message) -> str:
    if message.direction is Direction.NOTE:
        return message.author.name if message.author else (message.from_name or "")
    if message.direction is Direction.OUTBOUND:
        return message.author.name if message.author else (message.from_name or _("system"))
    return f"{message.from_name or ''} <{message.from_address or ''}>".strip()


def message_view(
    message: Message, timezone: str, repeats: list[RepeatView] | None = None
) -> MessageView:
    """One message of the thread, with its files, its copies that came in again, and what of
    it was not kept."""
    new, quoted = split_quoted(message.text or "")
    not_kept, not_listed = _not_kept(message)
    return MessageView(
        id=message.id,
        kind=message.direction.value,
        kind_label=str(KIND_LABELS[message.direction]),
        author=_author(message),
        at=time_label(message.received_at, timezone),
        subject=message.subject,
        text=new,
        quoted=quoted,
        html_url=url_for("tickets.message_html", message_id=message.id) if message.html else None,
        html_withheld=_withheld_note(message.html_withheld),
        attachments=[_attachment_view(a) for a in message.attachments],
        reused_message_id=message.message_id if message.message_id_reused else None,
        repeats=repeats or [],
        not_kept=not_kept,
        not_listed=not_listed,
    )


def message_views(
    thread: Sequence[Message],
    repeats: Iterable[tuple[MessageRepeat, str | None]],
    timezone: str,
    raw_links: bool = False,
) -> list[MessageView]:
    """The thread as shown; ``repeats`` are the copies of its messages that came in again
    (with their mailbox's name); ``raw_links`` (admins) links each copy's raw mail."""
    copies: dict[int, list[RepeatView]] = {}
    for repeat, mailbox in repeats:
        view = _repeat_view(repeat, mailbox, timezone, raw_links)
        copies.setdefault(repeat.message_id, []).append(view)
    return [message_view(m, timezone, copies.get(m.id)) for m in thread]


def sla_lines(ticket: Ticket, due: datetime | None, calendar: BusinessCalendar) -> list[str]:
    """Why the ticket is due when it is: the business time counted and the closures skipped."""
    if due is None or ticket.sla_started_at is None or due < ticket.sla_started_at:
        return []
    explanation = explain_due(calendar, ticket.sla_started_at, due)
    return explanation.lines(get_translations(), i18n.current_language())


def ticket_labels(ticket: Ticket, now: datetime, calendar: BusinessCalendar) -> dict[str, Any]:
    """The ticket's fields, clocks and SLA state in words, in its desk's time."""
    tz = ticket.desk.timezone
    state = live_sla_state(ticket, now, lambda _desk: calendar)
    return {
        "status": _(ticket.status.value),
        "priority": _(ticket.priority.value),
        "channel": _(ticket.channel.value),
        "sla_state": _(state),
        "sla_class": f"sla-{state}",
        "desk": desk_name(ticket.desk),
        "assignee": ticket.assignee.name if ticket.assignee else "—",
        "requester": f"{ticket.requester_name or ''} <{ticket.requester_email or '—'}>".strip(),
        "created": time_label(ticket.created_at, tz),
        "first_response_due": due_view(ticket.first_response_due_at, now, calendar),
        "resolution_due": due_view(ticket.resolution_due_at, now, calendar),
        "first_response_at": time_label(ticket.first_response_at, tz),
        "missing_fields": not ticket.has_required_fields,
    }


def status_choices() -> list[tuple[str, str]]:
    """Every status, in words."""
    return [(s.value, _(s.value)) for s in TicketStatus]


def priority_choices() -> list[tuple[str, str]]:
    """Every priority, in words."""
    return [(p.value, _(p.value)) for p in Priority]


def desk_choices(desks: Iterable[Desk]) -> list[tuple[int, str]]:
    """Desks as form choices, named in the reader's language."""
    return [(desk.id, desk_name(desk)) for desk in desks]


def canned_choices(answers: Iterable[CannedAnswer], ticket: Ticket) -> list[tuple[int, str, str]]:
    """The canned answers offered on the ticket: id, "[language] title", text for the ticket."""
    return [
        (a.id, f"[{i18n.language_name(a.language)}] {a.title}", expand_canned(a, ticket))
        for a in answers
    ]


def presence_notices(others: Iterable[tuple[str, PresenceActivity]]) -> list[str]:
    """Who else is on the ticket, and doing what: (name, activity) pairs in words."""
    return [
        gettext("%(name)s is replying", name=name)
        if activity == PresenceActivity.REPLYING
        else gettext("%(name)s is viewing", name=name)
        for name, activity in others
    ]


_CID_SRC = re.compile(r'src="cid:([^"]*)"', re.IGNORECASE)


def _rewrite_cid(html: str, message: Message) -> str:
    """Point cid: images at the accepted inline attachment; drop the others."""
    by_cid = {
        (a.content_id or "").strip("<>"): a.id
        for a in message.attachments
        if a.allowed and a.storage_key and a.content_id
    }

    def replace(match: re.Match[str]) -> str:
        attachment_id = by_cid.get(match.group(1).strip("<>"))
        if attachment_id is None:
            return 'src=""'
        return f'src="{url_for("tickets.attachment", attachment_id=attachment_id)}"'

    return _CID_SRC.sub(replace, html)


def mail_html_page(message: Message, html: str) -> str:
    """The page a sandboxed frame shows of a message's stored HTML ``html``, with its cid:
    images pointed at their files (nothing is cleaned again: that was done at ingest)."""
    body = _rewrite_cid(html, message)
    return f'<!doctype html><html><head><meta charset="utf-8"></head><body>{body}</body></html>'


# --- The ticket's history -------------------------------------------------------------------


@dataclass(frozen=True)
class HistoryLine:
    """One event of a ticket's history: when, who, and what happened in a sentence."""

    at: str
    actor: str
    text: str
    link: str | None = None  # "#message-12": the message of the thread the event is about
    title: str | None = None  # what the sentence leaves out or shortens (a whole Message-ID)


@dataclass(frozen=True)
class _Said:
    """What a line builder says of an event."""

    text: str
    link: str | None = None
    title: str | None = None


class _Thread:
    """The thread's messages, to point a history line at the message it is about."""

    def __init__(self, messages: Iterable[Message]) -> None:
        self._rows: set[int] = set()
        self._by_header: dict[str, list[int]] = {}
        for message in messages:
            self._rows.add(message.id)
            if message.message_id:
                self._by_header.setdefault(message.message_id, []).append(message.id)

    def row(self, row_id: Any) -> str | None:
        return f"#message-{row_id}" if row_id in self._rows else None

    def header(self, message_id: Any) -> str | None:
        rows = self._by_header.get(message_id) if isinstance(message_id, str) else None
        if not rows:
            return None
        # A sender may reuse a Message-ID: its events come in the order its messages did.
        return f"#message-{rows.pop(0) if len(rows) > 1 else rows[0]}"


@dataclass(frozen=True)
class _Context:
    words: Mapping[str, str]
    timezone: str
    desk_names: Mapping[str, str]
    thread: _Thread

    def listed(self, values: Iterable[str]) -> str:
        """ "Organisation, Contact"; "組織名、連絡先"."""
        # CLDR's narrow list: no "and" ("A, B, C"); Babel supports it but does not type it.
        style: Any = "standard-narrow"
        return str(format_list(list(values), style, locale=i18n.current_language()))

    def label(self, value: Any) -> str:
        """A known internal value (a status, a field name) in words, else the value as sent."""
        text = str(value)
        return self.words[text] if text in i18n.LABELS else revealed(text)


def _shortened(value: str) -> str:
    return value if len(value) <= SHORT_VALUE else value[: SHORT_VALUE - 1] + "…"


def _opened(action: str, detail: Mapping[str, Any], c: _Context) -> _Said:
    return _Said(
        gettext(
            "Ticket opened (%(channel)s, status: %(status)s)",
            channel=c.label(detail.get("channel", "—")),
            status=c.label(detail.get("status", "—")),
        )
    )


def _changed(action: str, detail: Mapping[str, Any], c: _Context) -> _Said:
    """Status and priority: the old value and the new, in words."""
    old, new = ("—" if detail.get(k) is None else c.label(detail[k]) for k in ("old", "new"))
    return _Said(f"{c.words[action]}: {old} → {new}")


def _assigned(action: str, detail: Mapping[str, Any], c: _Context) -> _Said:
    nobody = gettext("Unassigned")
    old, new = (revealed(str(detail[k])) if detail.get(k) else nobody for k in ("old", "new"))
    return _Said(f"{c.words[action]}: {old} → {new}")


def _moved(action: str, detail: Mapping[str, Any], c: _Context) -> _Said:
    """Desks by their names in the reader's language (a deleted desk by its slug)."""
    old, new = (c.desk_names.get(str(detail.get(k)), str(detail.get(k))) for k in ("old", "new"))
    return _Said(f"{c.words[action]}: {old} → {new}")


def _fields(action: str, detail: Mapping[str, Any], c: _Context) -> _Said:
    """ "Required fields updated: Organisation, Contact" (filled in from a mail or changed)."""
    names = detail.get("changed") or detail.get("filled") or []
    return _Said(f"{c.words[action]}: {c.listed(c.label(name) for name in names)}")


def _mail(action: str, detail: Mapping[str, Any], c: _Context) -> _Said:
    """A mail or web enquiry came in: the line points at its message; the Message-ID, which
    says nothing to an agent, is in the tooltip (and shortened in the line when the message
    is not in the thread)."""
    header = detail.get("message_id")
    if not header:
        return _Said(c.words[action])
    whole = revealed(str(header))
    link = c.thread.header(header)
    text = c.words[action] if link else f"{c.words[action]} (Message-ID {_shortened(whole)})"
    return _Said(text, link, f"Message-ID: {whole}")


def _written(action: str, detail: Mapping[str, Any], c: _Context) -> _Said:
    """A reply or note: the line points at it (the event keeps its row id)."""
    return _Said(c.words[action], c.thread.row(detail.get("message_id")))


def _bounce(action: str, detail: Mapping[str, Any], c: _Context) -> _Said:
    recipients = [revealed(str(r)) for r in detail.get("recipients") or []]
    return _Said(f"{c.words[action]}: {c.listed(recipients)}" if recipients else c.words[action])


def _renamed(action: str, detail: Mapping[str, Any], c: _Context) -> _Said:
    shown, original = (revealed(str(detail.get(k, ""))) for k in ("shown", "original"))
    return _Said(f"{c.words[action]}: {shown} ({c.words['original']}: {original})")


def _sla(action: str, detail: Mapping[str, Any], c: _Context) -> _Said:
    """SLA due soon or breached, with the due time in desk time."""
    due = detail.get("due")
    try:
        when = time_label(datetime.fromisoformat(str(due)), c.timezone)
    except ValueError:
        return _Said(c.words[action])
    due_at = gettext("due %(when)s", when=when)
    return _Said(f"{c.words[action]} ({due_at})")


def _other(action: str, detail: Mapping[str, Any], c: _Context) -> _Said:
    """An event without its own sentence: its name and its details, long values shortened."""
    shown, whole = [], []
    for key, value in detail.items():
        text = c.listed(c.label(v) for v in value) if isinstance(value, list) else c.label(value)
        shown.append(f"{c.label(key)}: {_shortened(text)}")
        if len(text) > SHORT_VALUE:
            whole.append(text)
    sentence = f"{c.words[action]}: {', '.join(shown)}" if shown else c.words[action]
    return _Said(sentence, title=" ".join(whole) or None)


LINES: dict[str, Callable[[str, Mapping[str, Any], _Context], _Said]] = {
    "ticket.opened": _opened,
    "ticket.status": _changed,
    "ticket.priority": _changed,
    "ticket.assigned": _assigned,
    "ticket.moved": _moved,
    "ticket.fields": _fields,
    "ticket.reply": _written,
    "ticket.note": _written,
    "mail.received": _mail,
    "mail.follow_up": _mail,
    "web.received": _mail,
    "mail.bounce": _bounce,
    "attachment.renamed": _renamed,
    "sla.near": _sla,
    "sla.breached": _sla,
}


def moved_desk_slugs(events: Iterable[tuple[AuditEvent, str | None]]) -> set[str]:
    """The desks the history's moves name (by slug), whose names the lines need."""
    return {
        str(event.detail[key])
        for event, _actor in events
        if event.action == "ticket.moved" and event.detail
        for key in ("old", "new")
        if event.detail.get(key)
    }


def history_lines(
    events: Iterable[tuple[AuditEvent, str | None]],
    timezone: str,
    thread: Iterable[Message] = (),
    desks: Iterable[Desk] = (),
) -> list[HistoryLine]:
    """(event, actor's name) pairs as sentences in the reader's language, each pointing at the
    message of ``thread`` it is about; ``desks`` are those the moves name (by slug)."""
    names = {desk.slug: desk_name(desk) for desk in desks}
    context = _Context(i18n.translations(), timezone, names, _Thread(thread))
    system = gettext("system")
    lines = []
    for event, actor in events:
        said = LINES.get(event.action, _other)(event.action, dict(event.detail or {}), context)
        lines.append(
            HistoryLine(
                time_label(event.created_at, timezone),
                actor or system,
                said.text,
                said.link,
                said.title,
            )
        )
    return lines
