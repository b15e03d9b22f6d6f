"""What the agents' pages show of tickets, worked out here so that the templates only format:
due times in desk time with the business time left, queue rows, and the history as sentences."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from babel.lists import format_list
from flask import current_app, url_for
from flask_babel import gettext

from helpdesk import clock, i18n
from helpdesk.models import AuditEvent, Desk, Message, Ticket
from helpdesk.sla import BusinessCalendar, sla_state
from helpdesk.tickets.sla_clock import calendar_for
from mail_ingest.filenames import revealed

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
) -> str:
    """The stored SLA state, brought up to ``now`` for running clocks (the sweep may lag)."""
    if ticket.sla_state not in ("ok", "near") or ticket.sla_due_at is None:
        return ticket.sla_state
    if now >= ticket.sla_due_at:
        return "breached"  # what sla_state answers first; no calendar (or its query) needed
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
    desk_names: Mapping[str, str] | None = None,
) -> list[HistoryLine]:
    """(event, actor's name) pairs as sentences in the reader's language, each pointing at the
    message of ``thread`` it is about; ``desk_names`` names desks by slug."""
    context = _Context(i18n.translations(), timezone, desk_names or {}, _Thread(thread))
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
