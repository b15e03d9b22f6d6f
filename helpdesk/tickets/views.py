"""Agents' pages: queues, the ticket page, replies and notes, phone tickets, search, files."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import wraps
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import get_translations, gettext, ngettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.wrappers import Response

from helpdesk import clock, i18n
from helpdesk.access import can_work_desk, readable_desks, scope_tickets, ticket_or_404
from helpdesk.auth.views import safe_next
from helpdesk.extensions import db
from helpdesk.models import (
    Attachment,
    Desk,
    Direction,
    Message,
    MessageRepeat,
    Priority,
    Role,
    Ticket,
    User,
)
from helpdesk.models.types import row_id
from helpdesk.stores import stores
from helpdesk.tickets import display, presence, queries, search, services
from helpdesk.tickets.display import live_sla_state, time_label
from helpdesk.tickets.forms import (
    AssignForm,
    BulkForm,
    FieldsForm,
    MoveForm,
    NoteForm,
    PhoneTicketForm,
    PriorityForm,
    QueueFilterForm,
    ReplyForm,
    StatusForm,
    options,
)
from helpdesk.tickets.services import AttachmentsRefused, ServiceError, Upload
from helpdesk.tickets.sla_clock import calendar_for
from helpdesk.tickets.workflow import InvalidTransition, TicketStatus
from helpdesk.transaction import form_status
from mail_ingest.fields import RequiredFields
from mail_ingest.markup import HTML_MAX_CHARS, HTML_MAX_DEPTH, WITHHELD_DEPTH, WITHHELD_SIZE
from mail_ingest.policy import NOT_KEPT_REASONS
from mail_ingest.quoting import split_quoted

bp = Blueprint("tickets", __name__)

_ = i18n.gettext
SERVED_TYPES = frozenset(
    {"image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf", "text/plain"}
)
MAIL_HTML_CSP = (
    "sandbox allow-same-origin; default-src 'none'; img-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'self'"
)
_CID_SRC = re.compile(r'src="cid:([^"]*)"', re.IGNORECASE)


@bp.record_once
def _init(state: Any) -> None:
    search.init_app(state.app)


def ticket_view(*, write: bool) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Load the ticket the user may see (else 404); for changes, the desk must be theirs (403)."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        @login_required
        def wrapped(ticket_id: int, **kwargs: Any) -> Any:
            ticket = ticket_or_404(ticket_id, current_user)
            if write and not can_work_desk(current_user, ticket.desk_id):
                abort(403)
            return view(ticket, **kwargs)

        return wrapped

    return decorator


# --- Presentation helpers: every label the templates show is computed here ------------------


def desk_name(desk: Desk) -> str:
    """The desk's name in the reader's language (its Japanese name when it has one)."""
    return desk.name_in(i18n.current_language())


def _may_work(desk_id: int) -> bool:
    """Whether the user may change the tickets of the desk."""
    return can_work_desk(current_user, desk_id)


def _desk_choices() -> list[Any]:
    """The desks the user works, as form choices named in the reader's language."""
    return options([(d.id, desk_name(d)) for d in queries.workable_desk_list(current_user)])


def _assignable_users(workable: Sequence[Desk] | None = None) -> list[User]:
    """Active members of the desks the user works (``workable``, else looked up), by name."""
    if workable is None:
        workable = queries.workable_desk_list(current_user)
    if not workable:
        return []
    return list(db.session.scalars(queries.members_of([desk.id for desk in workable])))


# --- Queues ---------------------------------------------------------------------------------


def _language_filter(value: str | None) -> str | None:
    if value and value not in i18n.LANGUAGES:
        raise ValueError(f"unknown language {value!r}")
    return value or None


def _assignee_filter(value: str) -> int | None:
    if value == "me":
        return int(current_user.id)
    if not value.isdigit():
        return None
    user_id = row_id(int(value))
    if user_id is None:
        raise ValueError(f"no user has the id {value}")
    return user_id


def _filters(form: QueueFilterForm) -> queries.QueueFilters:
    assignee = form.assignee.data or ""
    return queries.QueueFilters(
        status=TicketStatus(form.status.data) if form.status.data else None,
        priority=Priority(form.priority.data) if form.priority.data else None,
        assignee_id=_assignee_filter(assignee),
        unassigned=assignee == "none",
        language=_language_filter(form.language.data),
        awaiting_information=bool(form.awaiting.data),
    )


def _render_queue(
    title: str, desks: Sequence[Desk], desk: Desk | None = None, mine: bool = False
) -> str:
    """A queue page; ``desks`` are the ones the user may read (the desk links)."""
    form = QueueFilterForm(request.args)
    people = _assignable_users([d for d in desks if can_work_desk(current_user, d.id)])
    form.assignee.choices = options(
        [("", _("Any")), ("me", _("Me")), ("none", _("Unassigned"))]
        + [(str(u.id), u.name) for u in people]
    )
    try:
        filters = _filters(form)
    except ValueError:
        abort(400)
    base = queries.queue(current_user, desk.id if desk else None, mine=mine, filters=filters)
    size = int(current_app.config.get("QUEUE_PAGE_SIZE", queries.PAGE_SIZE))
    page = queries.queue_page(base, queries.Cursor.decode(form.after.data), size)
    now = clock.now()
    args = {k: v for k, v in request.args.items() if k not in ("after", "partial") and v}
    view_args = request.view_args or {}
    next_url = (
        url_for(
            request.endpoint or "tickets.index",
            **view_args,
            **args,
            after=page.next_cursor.encode(),
        )
        if page.next_cursor
        else None
    )
    first_url = url_for(request.endpoint or "tickets.index", **view_args, **args)
    bulk = BulkForm(next=request.full_path)
    bulk.assignee.choices = options(
        [("", _("no change")), ("none", _("Unassigned"))] + [(str(u.id), u.name) for u in people]
    )
    context = {
        "title": title,
        "rows": display.queue_rows(page.tickets, now, _may_work),
        "next_url": next_url,
        "first_url": first_url if form.after.data else None,
        "refresh_url": url_for(
            request.endpoint or "tickets.index",
            **view_args,
            **args,
            partial=1,
            **({"after": form.after.data} if form.after.data else {}),
        ),
        "form": form,
        "bulk": bulk,
        "desks": desks,
        "current_desk": desk,
        "refreshed_at": time_label(now),
    }
    template = "tickets/_queue_table.html" if request.args.get("partial") else "tickets/index.html"
    return render_template(template, **context)


@bp.route("/")
@login_required
def index() -> str:
    """The queue of every desk the user may read, due first."""
    return _render_queue(_("All my desks"), readable_desks(current_user))


@bp.route("/mine")
@login_required
def mine() -> str:
    """The tickets assigned to the user, due first."""
    return _render_queue(_("Mine"), readable_desks(current_user), mine=True)


@bp.route("/desks/<slug>")
@login_required
def desk_queue(slug: str) -> str:
    """One desk's queue; a desk the user may not read is a 404."""
    desks = readable_desks(current_user)
    desk = next((d for d in desks if d.slug == slug), None)
    if desk is None:
        abort(404)
    return _render_queue(desk_name(desk), desks, desk=desk)


@bp.route("/tickets/bulk", methods=["POST"])
@login_required
def bulk() -> Response:
    """Assign or change the status of the ticked tickets the user may work."""
    form = BulkForm()
    form.assignee.choices = options(
        [("", ""), ("none", "")] + [(str(u.id), u.name) for u in _assignable_users()]
    )
    if not form.validate_on_submit():
        abort(400)
    ids = [i for i in form.ticket_ids.data or [] if row_id(i) is not None]
    tickets = db.session.scalars(
        scope_tickets(select(Ticket).where(Ticket.id.in_(ids)), current_user)
    ).all()
    workable = [t for t in tickets if can_work_desk(current_user, t.desk_id)]
    refused = [
        f"{t.number}: {_('Read only: you may not change tickets of this desk.')}"
        for t in tickets
        if t not in workable
    ]
    assignee = None
    if form.assignee.data and form.assignee.data.isdigit():
        assignee = db.session.get(User, int(form.assignee.data))
    outcome = services.bulk_update(
        workable,
        current_user,
        assignee=assignee,
        unassign=form.assignee.data == "none",
        status=TicketStatus(form.status.data) if form.status.data else None,
        at=clock.now(),
    )
    flash(ngettext("%(num)d ticket changed.", "%(num)d tickets changed.", outcome.changed), "info")
    for line in refused + outcome.refused:
        flash(line, "error")
    return redirect(safe_next(form.next.data))


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


def _size_label(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / 1024 / 1024:.1f} MB"


def _attachment_view(item: Attachment) -> AttachmentView:
    refused = None
    if not item.allowed:
        refused = i18n.reason_text(item.reason, item.detail)
    downloadable = item.allowed and item.storage_key is not None
    return AttachmentView(
        name=item.filename or f"attachment-{item.id}",
        size=_size_label(item.size),
        detected_type=item.detected_type or item.declared_type,
        url=url_for("tickets.attachment", attachment_id=item.id) if downloadable else None,
        refused_reason=refused,
        refused_label=_("Not kept") if item.reason in NOT_KEPT_REASONS else _("Refused"),
    )


def _repeat_view(repeat: MessageRepeat, mailbox: str | None, timezone: str) -> RepeatView:
    if repeat.imap_uid is not None:
        source = f"{mailbox or '—'}, UID {repeat.imap_uid}"
    else:
        source = f"{_('imported')} ({mailbox})" if mailbox else _("imported")
    raw_url = None
    if current_user.role is Role.ADMIN:
        raw_url = url_for("admin.repeat_raw", repeat_id=repeat.id)
    return RepeatView(time_label(repeat.received_at, timezone), source, raw_url)


def _repeat_views(messages: Sequence[Message], timezone: str) -> dict[int, list[RepeatView]]:
    """The copies of the thread's messages that came in again, by message id."""
    views: dict[int, list[RepeatView]] = {}
    if not messages:
        return views
    for repeat, mailbox in db.session.execute(queries.repeats([m.id for m in messages])):
        views.setdefault(repeat.message_id, []).append(_repeat_view(repeat, mailbox, timezone))
    return views


def _not_kept(message: Message) -> tuple[list[str], list[str]]:
    """What the page says of the parts of a mail the parser did not keep: a summary, and a
    line for each reason of those past the listed ones (which have no row)."""
    listed = sum(1 for a in message.attachments if a.reason in NOT_KEPT_REASONS)
    counted = sorted((message.not_listed or {}).items())
    total = listed + sum(count for _reason, count in counted)
    summary = []
    if message.oversized:
        limit = _size_label(int(current_app.config["MAX_MESSAGE_BYTES"]))
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


def _message_view(
    message: Message, timezone: str, repeats: list[RepeatView] | None = None
) -> MessageView:
    new, quoted = split_quoted(message.text or "")
    if message.direction is Direction.NOTE:
        author = message.author.name if message.author else (message.from_name or "")
    elif message.direction is Direction.OUTBOUND:
        author = message.author.name if message.author else (message.from_name or _("system"))
    else:
        author = f"{message.from_name or ''} <{message.from_address or ''}>".strip()
    not_kept, not_listed = _not_kept(message)
    return MessageView(
        id=message.id,
        kind=message.direction.value,
        kind_label=str(KIND_LABELS[message.direction]),
        author=author,
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


def _withheld_note(reason: str | None) -> str | None:
    """What the agent is told when a message's HTML part was too costly to clean and keep."""
    if reason is None:
        return None
    if reason == WITHHELD_SIZE:
        note = _(
            "The formatted version (HTML) of this message is not shown: it is longer than "
            "%(limit)s characters. Its text is shown above."
        )
        return note % {"limit": f"{HTML_MAX_CHARS:,}"}
    if reason == WITHHELD_DEPTH:
        note = _(
            "The formatted version (HTML) of this message is not shown: its elements are "
            "nested more than %(limit)s deep. Its text is shown above."
        )
        return note % {"limit": f"{HTML_MAX_DEPTH:,}"}
    return _(
        "The formatted version (HTML) of this message is not shown: its markup is malformed in "
        "a way that would take too long to clean. Its text is shown above."
    )


def _sla_lines(ticket: Ticket, due: datetime | None) -> list[str]:
    if due is None or ticket.sla_started_at is None or due < ticket.sla_started_at:
        return []
    from helpdesk.sla import explain_due

    explanation = explain_due(calendar_for(ticket.desk), ticket.sla_started_at, due)
    return explanation.lines(get_translations(), i18n.current_language())


def _history(ticket: Ticket, thread: Sequence[Message]) -> list[display.HistoryLine]:
    """The ticket's history as sentences, pointing at the messages of ``thread``."""
    events = db.session.execute(queries.history(ticket)).all()
    slugs = display.moved_desk_slugs(events)
    desks = db.session.scalars(queries.desks_by_slug(slugs)).all() if slugs else []
    names = {desk.slug: desk_name(desk) for desk in desks}
    return display.history_lines(events, ticket.desk.timezone, thread, names)


def _presence_notices(ticket: Ticket) -> list[str]:
    return [
        gettext("%(name)s is replying", name=name)
        if activity == "replying"
        else gettext("%(name)s is viewing", name=name)
        for name, activity in presence.others(ticket, current_user, clock.now())
    ]


def _render_ticket(ticket: Ticket, status_code: int = 200, **forms: Any) -> tuple[str, int]:
    """The ticket page; forms passed in (with errors) replace the empty ones."""
    tz, now, calendar = ticket.desk.timezone, clock.now(), calendar_for(ticket.desk)
    state = live_sla_state(ticket, now, lambda _desk: calendar)
    workable = can_work_desk(current_user, ticket.desk_id)
    reply = forms.get("reply") or ReplyForm(prefix="reply", formdata=None)
    note = forms.get("note") or NoteForm(prefix="note", formdata=None)
    fields = forms.get("fields") or FieldsForm(prefix="fields", formdata=None, obj=ticket)
    status = StatusForm(prefix="status", formdata=None, status=ticket.status.value)
    status.status.choices = options([(s.value, _(s.value)) for s in TicketStatus])
    priority = PriorityForm(prefix="priority", formdata=None, priority=ticket.priority.value)
    priority.priority.choices = options([(p.value, _(p.value)) for p in Priority])
    assign = AssignForm(prefix="assign", formdata=None, assignee=str(ticket.assignee_id or ""))
    members = db.session.scalars(queries.desk_members(ticket.desk)).all()
    assign.assignee.choices = options(
        [("", _("Unassigned"))] + [(str(u.id), u.name) for u in members]
    )
    move = MoveForm(prefix="move", formdata=None, desk=ticket.desk_id)
    move.desk.choices = _desk_choices()
    canned = [
        (a.id, f"[{i18n.language_name(a.language)}] {a.title}", services.expand_canned(a, ticket))
        for a in db.session.scalars(queries.canned_answers(ticket.desk))
    ]
    thread = db.session.scalars(queries.thread(ticket)).unique().all()
    repeats = _repeat_views(thread, tz)
    context = {
        "ticket": ticket,
        "messages": [_message_view(m, tz, repeats.get(m.id)) for m in thread],
        "history": _history(ticket, thread),
        "notices": _presence_notices(ticket),
        "workable": workable,
        "labels": {
            "status": _(ticket.status.value),
            "priority": _(ticket.priority.value),
            "channel": _(ticket.channel.value),
            "sla_state": _(state),
            "sla_class": f"sla-{state}",
            "desk": desk_name(ticket.desk),
            "assignee": ticket.assignee.name if ticket.assignee else "—",
            "requester": f"{ticket.requester_name or ''} <{ticket.requester_email or '—'}>".strip(),
            "created": time_label(ticket.created_at, tz),
            "first_response_due": display.due_view(ticket.first_response_due_at, now, calendar),
            "resolution_due": display.due_view(ticket.resolution_due_at, now, calendar),
            "first_response_at": time_label(ticket.first_response_at, tz),
            "missing_fields": not ticket.has_required_fields,
        },
        "first_response_lines": _sla_lines(ticket, ticket.first_response_due_at),
        "resolution_lines": _sla_lines(ticket, ticket.resolution_due_at),
        "canned": canned,
        "forms": {
            "reply": reply,
            "note": note,
            "fields": fields,
            "status": status,
            "priority": priority,
            "assign": assign,
            "move": move,
        },
        "presence_url": url_for("tickets.heartbeat", ticket_id=ticket.id),
    }
    return render_template("tickets/show.html", **context), status_code


@bp.route("/tickets/<int:ticket_id>")
@ticket_view(write=False)
def show(ticket: Ticket) -> tuple[str, int]:
    """The thread, files, fields, clocks, history and the agent's actions."""
    return _render_ticket(ticket)


def _uploads(files: list[Any]) -> list[Upload]:
    return [Upload(f.filename, f.read()) for f in files or [] if f and f.filename]


def _refusal_errors(error: AttachmentsRefused) -> list[str]:
    return [f"{r.filename}: {r.reason_text}" for r in error.refused]


def _back(ticket: Ticket) -> Response:
    return redirect(url_for("tickets.show", ticket_id=ticket.id))


def _apply_or_flash(change: Callable[[], object]) -> bool:
    """Make an agent's change in a savepoint; if refused, undo it there and flash why (the
    request commits the rest)."""
    try:
        with db.session.begin_nested():
            change()
    except ServiceError as error:
        flash(str(error), "error")
        return False
    return True


def _post_to_thread(
    ticket: Ticket,
    name: str,
    form: ReplyForm | NoteForm,
    write: Callable[[str, list[Upload]], object],
    done: str | None = None,
) -> Response | tuple[str, int]:
    """Add a reply or note from its form; a refusal is shown on the form (the thread as it was
    before: the savepoint is undone) and nothing is kept. ``done`` is flashed on success."""
    if not form.validate_on_submit():
        return _render_ticket(ticket, 400, **{name: form})
    try:
        with db.session.begin_nested():
            write(form.text.data or "", _uploads(form.files.data))
    except AttachmentsRefused as error:
        form.files.errors = _refusal_errors(error)  # type: ignore[assignment]
        return _render_ticket(ticket, 422, **{name: form})
    except ServiceError as error:
        form.text.errors = [str(error)]  # type: ignore[assignment]
        return _render_ticket(ticket, 422, **{name: form})
    if done:
        flash(done, "info")
    return _back(ticket)


@bp.route("/tickets/<int:ticket_id>/reply", methods=["POST"])
@ticket_view(write=True)
def reply(ticket: Ticket) -> Response | tuple[str, int]:
    """Send the requester an answer by email (through the outbox, after commit)."""

    def send(text: str, uploads: list[Upload]) -> object:
        return services.reply(ticket, current_user, text, uploads, clock.now())

    form = ReplyForm(prefix="reply")
    return _post_to_thread(ticket, "reply", form, send, done=_("Send reply") + " ✓")


@bp.route("/tickets/<int:ticket_id>/note", methods=["POST"])
@ticket_view(write=True)
def note(ticket: Ticket) -> Response | tuple[str, int]:
    """Add an internal note (never sent)."""

    def keep(text: str, uploads: list[Upload]) -> object:
        return services.add_note(ticket, current_user, text, uploads, clock.now())

    return _post_to_thread(ticket, "note", NoteForm(prefix="note"), keep)


@bp.route("/tickets/<int:ticket_id>/status", methods=["POST"])
@ticket_view(write=True)
def status(ticket: Ticket) -> Response:
    """Change the status; a change the workflow forbids is explained, not applied."""
    form = StatusForm(prefix="status")
    if not form.validate_on_submit():
        abort(400)
    target = TicketStatus(form.status.data)
    try:
        with db.session.begin_nested():
            services.set_status(ticket, target, current_user, clock.now())
    except InvalidTransition as error:
        flash(f"{ticket.number}: {services.refused_transition(error)}", "error")
    return _back(ticket)


@bp.route("/tickets/<int:ticket_id>/priority", methods=["POST"])
@ticket_view(write=True)
def priority(ticket: Ticket) -> Response:
    """Change the priority."""
    form = PriorityForm(prefix="priority")
    if not form.validate_on_submit():
        abort(400)
    target = Priority(form.priority.data)
    _apply_or_flash(lambda: services.set_priority(ticket, target, current_user, clock.now()))
    return _back(ticket)


@bp.route("/tickets/<int:ticket_id>/assign", methods=["POST"])
@ticket_view(write=True)
def assign(ticket: Ticket) -> Response:
    """Give the ticket to a member of its desk, or nobody."""
    form = AssignForm(prefix="assign")
    if not form.validate_on_submit():
        abort(400)
    value = form.assignee.data or ""
    assignee = db.session.get(User, int(value)) if value.isdigit() else None
    if value and assignee is None:
        abort(400)
    _apply_or_flash(lambda: services.assign(ticket, assignee, current_user, clock.now()))
    return _back(ticket)


@bp.route("/tickets/<int:ticket_id>/move", methods=["POST"])
@ticket_view(write=True)
def move(ticket: Ticket) -> Response:
    """Move the ticket to another desk the agent works."""
    form = MoveForm(prefix="move")
    form.desk.choices = _desk_choices()
    if not form.validate_on_submit():
        abort(400)
    desk = db.session.get(Desk, form.desk.data)
    if desk is None:
        abort(400)
    if not _apply_or_flash(lambda: services.move_to_desk(ticket, desk, current_user, clock.now())):
        return _back(ticket)
    if not can_work_desk(current_user, desk.id) or ticket_id_hidden(ticket):
        return redirect(url_for("tickets.index"))
    return _back(ticket)


def ticket_id_hidden(ticket: Ticket) -> bool:
    """Whether the user can no longer see the ticket (moved to a desk they do not read)."""
    query = scope_tickets(select(Ticket.id).where(Ticket.id == ticket.id), current_user)
    return db.session.scalar(query) is None


@bp.route("/tickets/<int:ticket_id>/fields", methods=["POST"])
@ticket_view(write=True)
def fields(ticket: Ticket) -> Response | tuple[str, int]:
    """Correct or complete the enquiry's fields; a complete enquiry starts its clock."""
    form = FieldsForm(prefix="fields")
    if not form.validate_on_submit():
        return _render_ticket(ticket, 400, fields=form)
    given = RequiredFields(form.organisation.data, form.contact.data, form.environment.data)
    services.update_fields(ticket, current_user, given, clock.now())
    return _back(ticket)


@bp.route("/tickets/<int:ticket_id>/presence", methods=["POST"])
@ticket_view(write=False)
def heartbeat(ticket: Ticket) -> Response:
    """The page's heartbeat: record this agent, answer who else is on the ticket."""
    presence.heartbeat(ticket, current_user, request.form.get("activity", "viewing"), clock.now())
    return jsonify(notices=_presence_notices(ticket))


# --- Phone tickets, search, files -----------------------------------------------------------


@bp.route("/tickets/new", methods=["GET", "POST"])
@login_required
def new_ticket() -> tuple[str, int] | Response:
    """Log a phone enquiry on one of the agent's desks."""
    form = PhoneTicketForm()
    form.desk.choices = _desk_choices()
    if not form.desk.choices:
        abort(403)
    if form.validate_on_submit():
        desk = db.session.get(Desk, form.desk.data)
        if desk is None or not can_work_desk(current_user, desk.id):
            abort(403)
        ticket = services.open_phone_ticket(desk, current_user, _phone_enquiry(form), clock.now())
        return redirect(url_for("tickets.show", ticket_id=ticket.id))
    return render_template("tickets/new.html", form=form), form_status()


def _phone_enquiry(form: PhoneTicketForm) -> services.PhoneEnquiry:
    return services.PhoneEnquiry(
        subject=form.subject.data or "",
        question=form.question.data or "",
        as_note=form.record_as.data == "note",
        requester_name=form.requester_name.data,
        requester_email=form.requester_email.data,
        fields=RequiredFields(form.organisation.data, form.contact.data, form.environment.data),
        language=form.language.data or "ja",
        priority=Priority(form.priority.data),
    )


@bp.route("/search")
@login_required
def search_page() -> str:
    """Tickets matching the query in number, subject, bodies, requester or organisation."""
    query = request.args.get("q", "").strip()[:200]
    rows: list[display.QueueRow] = []
    if query:
        rows = display.queue_rows(search.find_tickets(query, current_user), clock.now(), _may_work)
    return render_template("tickets/search.html", query=query, search_query=query, rows=rows)


def _attachment_or_404(attachment_id: int) -> Attachment:
    query = (
        select(Attachment)
        .join(Message, Message.id == Attachment.message_id)
        .join(Ticket, Ticket.id == Message.ticket_id)
        .where(Attachment.id == attachment_id)
    )
    item = db.session.scalar(scope_tickets(query, current_user))
    if item is None:
        abort(404)
    return item


@bp.route("/attachments/<int:attachment_id>")
@login_required
def attachment(attachment_id: int) -> Response:
    """Download an accepted file; refused files are never served here."""
    item = _attachment_or_404(attachment_id)
    if not item.allowed or not item.storage_key:
        abort(404)
    mimetype = (
        item.detected_type if item.detected_type in SERVED_TYPES else "application/octet-stream"
    )
    response = send_file(
        stores().attachments.open(item.storage_key),
        mimetype=mimetype,
        as_attachment=True,
        download_name=item.filename or f"attachment-{item.id}",
        max_age=0,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


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


@bp.route("/messages/<int:message_id>/html")
@login_required
def message_html(message_id: int) -> Response:
    """A message's HTML, for a sandboxed frame: no scripts, no remote content. It was
    sanitised when the mail came in and is served as stored; only cid: sources change."""
    query = (
        select(Message).join(Ticket, Ticket.id == Message.ticket_id).where(Message.id == message_id)
    )
    message = db.session.scalar(scope_tickets(query, current_user))
    if message is None or not message.html:
        abort(404)
    body = _rewrite_cid(message.html, message)
    page = f'<!doctype html><html><head><meta charset="utf-8"></head><body>{body}</body></html>'
    response = Response(page, mimetype="text/html")
    response.headers["Content-Security-Policy"] = MAIL_HTML_CSP
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    response.headers["Cache-Control"] = "private, no-store"
    return response
