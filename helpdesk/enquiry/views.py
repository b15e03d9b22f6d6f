"""Public enquiry pages (no sign-in): the form and its receipt."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

from helpdesk import i18n
from helpdesk.enquiry.forms import EnquiryForm
from helpdesk.enquiry.services import Enquiry, submit
from helpdesk.extensions import db, limiter
from helpdesk.models import Desk, Ticket
from helpdesk.tickets.services import AttachmentsRefused, Upload
from helpdesk.transaction import form_status
from mail_ingest.environment import describe, environment_from_user_agent

bp = Blueprint("enquiry", __name__, url_prefix="/enquiry")


def _rate_limit() -> str:
    return str(current_app.config["ENQUIRY_RATE_LIMIT"])


def _desk_or_404(slug: str) -> Desk:
    desk = db.session.scalar(
        select(Desk).where(Desk.slug == slug, Desk.active.is_(True), Desk.accepts_email.is_(True))
    )
    if desk is None:
        abort(404)
    return desk


def proposed_environment(user_agent: str) -> str:
    """The OS and browser the request's User-Agent names, for the sender to confirm."""
    env = environment_from_user_agent(user_agent or "")
    return describe(env) if env.is_known else ""


@bp.route("/<slug>", methods=["GET", "POST"])
@limiter.limit(_rate_limit, methods=["POST"])
def form(slug: str) -> tuple[str, int] | Response:
    """Show the enquiry form of a desk; on a complete submission open the ticket."""
    desk = _desk_or_404(slug)
    form = EnquiryForm()
    if request.method == "GET" and not form.environment.data:
        form.environment.data = proposed_environment(request.headers.get("User-Agent", ""))
    if form.validate_on_submit():
        uploads = [
            Upload(f.filename or "", f.read(), f.mimetype or "application/octet-stream")
            for f in (form.attachments.data or [])
            if f and f.filename
        ]
        try:
            ticket = submit(desk, _enquiry(form, uploads))
        except AttachmentsRefused as error:  # raised before anything is written
            form.attachments.errors = [_refusal(r.filename, r.reason) for r in error.refused]
        else:
            return redirect(url_for("enquiry.received", slug=desk.slug, number=ticket.number))
    return render_template("enquiry/form.html", desk=desk, form=form), form_status()


def _refusal(filename: str, reason: str) -> str:
    """Why a file was refused, in both languages, as everything on the bilingual form."""
    texts = []
    for lang in ("en", "ja"):
        with i18n.language(lang):
            texts.append(i18n.reason_text(reason))
    return f"{filename}: {' / '.join(texts)}"


def _enquiry(form: EnquiryForm, uploads: list[Upload]) -> Enquiry:
    return Enquiry(
        name=form.name.data or "",
        email=form.email.data or "",
        organisation=form.organisation.data or "",
        contact=form.contact.data or "",
        environment=form.environment.data or "",
        subject=form.subject.data or "",
        question=form.question.data or "",
        uploads=uploads,
    )


@bp.route("/<slug>/received/<number>")
def received(slug: str, number: str) -> str:
    """The receipt: the ticket number to quote, and when to expect an answer."""
    desk = _desk_or_404(slug)
    ticket = db.session.scalar(
        select(Ticket).where(Ticket.number == number, Ticket.desk_id == desk.id)
    )
    if ticket is None:
        abort(404)
    return render_template("enquiry/received.html", desk=desk, number=ticket.number)
