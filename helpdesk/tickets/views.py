"""Agents' pages: queues, the ticket page, replies and notes, phone tickets, search, files.

The routes parse the request, call the queries and services, and render what
``helpdesk.tickets.display`` works out; the Select builders are in ``helpdesk.tickets.queries``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import wraps
from typing import Any, ParamSpec, TypeVar

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
from flask_babel import ngettext
from flask_login import current_user
from werkzeug.datastructures import FileStorage
from werkzeug.wrappers import Response

from helpdesk import clock, i18n
from helpdesk.access import can_work_desk, login_required, readable_desks, ticket_or_404
from helpdesk.auth.views import safe_next
from helpdesk.extensions import db
from helpdesk.models import Attachment, Desk, Message, Priority, Role, Ticket, User
from helpdesk.models.types import row_id
from helpdesk.stores import stores
from helpdesk.templating import desk_name
from helpdesk.tickets import display, presence, queries, search, services
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

bp = Blueprint("tickets", __name__)

_ = i18n.gettext
SERVED_TYPES = frozenset(
    {"image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf", "text/plain"}
)
MAIL_HTML_CSP = (
    "sandbox allow-same-origin; default-src 'none'; img-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'self'"
)

P = ParamSpec("P")
R = TypeVar("R")


@bp.record_once
def _init(state: Any) -> None:
    search.init_app(state.app)


def ticket_view(*, write: bool) -> Callable[[Callable[..., R]], Callable[..., R]]:
    """Load the ticket the user may see (else 404); for changes, the desk must be theirs (403)."""

    def decorator(view: Callable[..., R]) -> Callable[..., R]:
        @wraps(view)
        @login_required
        def wrapped(ticket_id: int, **kwargs: Any) -> R:
            ticket = ticket_or_404(ticket_id, current_user)
            if write and not can_work_desk(current_user, ticket.desk_id):
                abort(403)
            return view(ticket, **kwargs)

        return wrapped

    return decorator


def _may_work(desk_id: int) -> bool:
    """Whether the user may change the tickets of the desk."""
    return can_work_desk(current_user, desk_id)


def _desk_choices() -> list[Any]:
    """The desks the user works, as form choices named in the reader's language."""
    return options(display.desk_choices(queries.workable_desk_list(current_user)))


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
    workable = [d for d in desks if can_work_desk(current_user, d.id)]
    people = queries.assignable_users(current_user, workable)
    form.assignee.choices = options(display.filter_choices(people))
    try:
        filters = _filters(form)
    except ValueError:
        abort(400)
    base = queries.queue(current_user, desk.id if desk else None, mine=mine, filters=filters)
    size = int(current_app.config.get("QUEUE_PAGE_SIZE", queries.PAGE_SIZE))
    page = queries.queue_page(base, queries.Cursor.decode(form.after.data), size)
    now = clock.now()
    args = {k: v for k, v in request.args.items() if k not in ("after", "partial") and v}
    links = display.queue_links(
        request.endpoint or "tickets.index",
        {**args, **(request.view_args or {})},
        form.after.data,
        page.next_cursor.encode() if page.next_cursor else None,
    )
    bulk = BulkForm(next=request.full_path)
    bulk.assignee.choices = options(display.bulk_choices(people))
    context = {
        "title": title,
        "rows": display.queue_rows(page.tickets, now, _may_work),
        "next_url": links.next,
        "first_url": links.first,
        "refresh_url": links.refresh,
        "form": form,
        "bulk": bulk,
        "desks": desks,
        "current_desk": desk,
        "refreshed_at": display.time_label(now),
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
        [("", ""), ("none", "")]
        + [(str(u.id), u.name) for u in queries.assignable_users(current_user)]
    )
    if not form.validate_on_submit():
        abort(400)
    ids = [i for i in form.ticket_ids.data or [] if row_id(i) is not None]
    tickets = db.session.scalars(queries.tickets_by_id(ids, current_user)).all()
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


def _ticket_forms(ticket: Ticket, given: dict[str, Any]) -> dict[str, Any]:
    """The ticket page's forms, empty but for those ``given`` (shown again with errors)."""
    status = StatusForm(prefix="status", formdata=None, status=ticket.status.value)
    status.status.choices = options(display.status_choices())
    priority = PriorityForm(prefix="priority", formdata=None, priority=ticket.priority.value)
    priority.priority.choices = options(display.priority_choices())
    assign = AssignForm(prefix="assign", formdata=None, assignee=str(ticket.assignee_id or ""))
    members = db.session.scalars(queries.desk_members(ticket.desk)).all()
    assign.assignee.choices = options(
        [("", _("Unassigned"))] + [(str(u.id), u.name) for u in members]
    )
    move = MoveForm(prefix="move", formdata=None, desk=ticket.desk_id)
    move.desk.choices = _desk_choices()
    return {
        "reply": given.get("reply") or ReplyForm(prefix="reply", formdata=None),
        "note": given.get("note") or NoteForm(prefix="note", formdata=None),
        "fields": given.get("fields") or FieldsForm(prefix="fields", formdata=None, obj=ticket),
        "status": status,
        "priority": priority,
        "assign": assign,
        "move": move,
    }


def _presence_notices(ticket: Ticket) -> list[str]:
    return display.presence_notices(presence.others(ticket, current_user, clock.now()))


def _render_ticket(ticket: Ticket, status_code: int = 200, **forms: Any) -> tuple[str, int]:
    """The ticket page; forms passed in (with errors) replace the empty ones."""
    now, calendar = clock.now(), calendar_for(ticket.desk)
    thread = db.session.scalars(queries.thread(ticket)).unique().all()
    repeats = db.session.execute(queries.repeats([m.id for m in thread])).all() if thread else []
    events = db.session.execute(queries.history(ticket)).all()
    slugs = display.moved_desk_slugs(events)
    moved = db.session.scalars(queries.desks_by_slug(slugs)).all() if slugs else []
    tz = ticket.desk.timezone
    context = {
        "ticket": ticket,
        "messages": display.message_views(thread, repeats, tz, current_user.role is Role.ADMIN),
        "history": display.history_lines(events, tz, thread, moved),
        "notices": _presence_notices(ticket),
        "workable": can_work_desk(current_user, ticket.desk_id),
        "labels": display.ticket_labels(ticket, now, calendar),
        "first_response_lines": display.sla_lines(ticket, ticket.first_response_due_at, calendar),
        "resolution_lines": display.sla_lines(ticket, ticket.resolution_due_at, calendar),
        "canned": display.canned_choices(
            db.session.scalars(queries.canned_answers(ticket.desk)), ticket
        ),
        "forms": _ticket_forms(ticket, forms),
        "presence_url": url_for("tickets.heartbeat", ticket_id=ticket.id),
    }
    return render_template("tickets/show.html", **context), status_code


@bp.route("/tickets/<int:ticket_id>")
@ticket_view(write=False)
def show(ticket: Ticket) -> tuple[str, int]:
    """The thread, files, fields, clocks, history and the agent's actions."""
    return _render_ticket(ticket)


def _uploads(files: list[FileStorage] | None) -> list[Upload]:
    return [Upload(f.filename, f.read()) for f in files or [] if f and f.filename]


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
        form.files.errors = [f"{r.filename}: {r.reason_text}" for r in error.refused]
        return _render_ticket(ticket, 422, **{name: form})
    except ServiceError as error:
        form.text.errors = [str(error)]
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
    visible = queries.visible_ticket_id(ticket.id, current_user)
    if not can_work_desk(current_user, desk.id) or db.session.scalar(visible) is None:
        return redirect(url_for("tickets.index"))
    return _back(ticket)


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


@bp.route("/attachments/<int:attachment_id>")
@login_required
def attachment(attachment_id: int) -> Response:
    """Download an accepted file; refused files are never served here."""
    item: Attachment | None = db.session.scalar(queries.attachment(attachment_id, current_user))
    if item is None or not item.allowed or not item.storage_key:
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


@bp.route("/messages/<int:message_id>/html")
@login_required
def message_html(message_id: int) -> Response:
    """A message's HTML, for a sandboxed frame: no scripts, no remote content. It was
    sanitised when the mail came in and is served as stored; only cid: sources change."""
    message: Message | None = db.session.scalar(queries.message(message_id, current_user))
    if message is None or not message.html:
        abort(404)
    response = Response(display.mail_html_page(message, message.html), mimetype="text/html")
    response.headers["Content-Security-Policy"] = MAIL_HTML_CSP
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    response.headers["Cache-Control"] = "private, no-store"
    return response
