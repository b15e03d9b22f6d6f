"""Admin pages: users, desks and calendars, mailboxes and routing, canned answers, quarantine,
failed messages. Every view is for admins only."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext
from flask_login import current_user
from werkzeug.wrappers import Response

from helpdesk import clock, i18n
from helpdesk.access import role_required
from helpdesk.admin import display, queries, services
from helpdesk.admin.forms import (
    ActionForm,
    ActiveForm,
    CannedAnswerForm,
    DeskCreateForm,
    DeskForm,
    MailboxForm,
    OverrideForm,
    RoutingRuleForm,
    UserCreateForm,
    UserEditForm,
    default_extensions_text,
    parse_extensions,
)
from helpdesk.extensions import db
from helpdesk.models import (
    Attachment,
    CalendarOverride,
    CannedAnswer,
    Desk,
    IngestFailure,
    Mailbox,
    MessageRepeat,
    Role,
    RoutingRule,
    User,
)
from helpdesk.models.types import row_id
from helpdesk.sla.policy import PRIORITIES
from helpdesk.transaction import form_status

bp = Blueprint("admin", __name__, url_prefix="/admin")

admin_only = role_required(Role.ADMIN)


@bp.app_context_processor
def nav_context() -> dict[str, Any]:
    """Whether the navigation shows the reports and admin links."""
    # No user outside a request (mail templates rendered by the poller).
    role = current_user.role if current_user and current_user.is_authenticated else None
    return {
        "nav_show_admin": role is Role.ADMIN,
        "nav_show_reports": role in (Role.MANAGER, Role.ADMIN),
    }


def _actor() -> User:
    return current_user._get_current_object()  # type: ignore[no-any-return]


def _all_desks() -> list[Desk]:
    return list(db.session.scalars(queries.desks()))


def _shown_once(template: str, **context: Any) -> Response:
    """A page carrying a password: never cached."""
    response = make_response(render_template(template, **context))
    response.headers["Cache-Control"] = "no-store"
    return response


def _download(path: Path, name: str) -> Response:
    """A stored file as an inert download."""
    response = send_file(
        path, mimetype="application/octet-stream", as_attachment=True, download_name=name
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/")
@admin_only
def index() -> str:
    """The admin sections."""
    return render_template("admin/index.html")


# -- users -------------------------------------------------------------------------------------


@bp.route("/users")
@admin_only
def users() -> str:
    """Every account."""
    rows = db.session.scalars(queries.users()).all()
    return render_template("admin/users.html", users=rows)


@bp.route("/users/new", methods=["GET", "POST"])
@admin_only
def user_new() -> tuple[str, int] | Response:
    """Create an account; its generated password is shown once."""
    form = UserCreateForm(desks=_all_desks(), taken=queries.email_taken)
    if form.validate_on_submit():
        try:
            user, password = services.create_account(
                form.email.data or "",
                form.name.data or "",
                form.role.data,
                queries.desks_by_id(form.desk_ids.data or []),
                _actor(),
            )
        except services.AdminError as exc:
            form.email.errors.append(str(exc))
        else:
            return _shown_once("admin/password.html", user=user, password=password, created=True)
    return render_template("admin/user_form.html", form=form, user=None), form_status()


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@admin_only
def user_edit(user_id: int) -> tuple[str, int] | Response:
    """Change an account's name, role and desks."""
    user = db.get_or_404(User, user_id)
    form = UserEditForm(
        desks=_all_desks(),
        data={"name": user.name, "role": user.role, "desk_ids": [d.id for d in user.desks]},
    )
    if form.validate_on_submit():
        try:
            services.update_account(
                user,
                form.name.data or "",
                form.role.data,
                queries.desks_by_id(form.desk_ids.data or []),
                _actor(),
            )
        except services.AdminError as exc:
            form.role.errors.append(str(exc))
        else:
            flash(gettext("%(name)s saved.", name=user.email), "success")
            return redirect(url_for("admin.users"))
    page = render_template("admin/user_form.html", form=form, user=user, action=ActionForm())
    return page, form_status()


@bp.route("/users/<int:user_id>/active", methods=["POST"])
@admin_only
def user_active(user_id: int) -> Response:
    """Deactivate or reactivate an account (the button says which)."""
    user = db.get_or_404(User, user_id)
    _toggle_active(user.email, lambda active: services.set_active(user, active, _actor()))
    return redirect(url_for("admin.user_edit", user_id=user.id))


def _toggle_active(name: str, apply: Callable[[bool], None]) -> None:
    """Run the deactivate / reactivate button's choice (in a savepoint, undone if refused);
    say what happened or why not."""
    form = ActiveForm()
    if not form.validate_on_submit():
        return
    active = form.active.data == "1"
    try:
        with db.session.begin_nested():
            apply(active)
    except services.AdminError as exc:
        flash(str(exc), "error")
    else:
        if active:
            flash(gettext("%(name)s is now active.", name=name), "success")
        else:
            flash(gettext("%(name)s is now deactivated.", name=name), "success")


@bp.route("/users/<int:user_id>/password", methods=["POST"])
@admin_only
def user_password(user_id: int) -> Response:
    """Reset an account's password; the new one is shown once."""
    user = db.get_or_404(User, user_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    password = services.reset_password(user, _actor())
    return _shown_once("admin/password.html", user=user, password=password, created=False)


@bp.route("/users/<int:user_id>/totp", methods=["POST"])
@admin_only
def user_totp_off(user_id: int) -> Response:
    """Remove an account's second factor."""
    user = db.get_or_404(User, user_id)
    if ActionForm().validate_on_submit():
        services.turn_off_second_factor(user, _actor())
        flash(gettext("Two-step sign-in is off for %(email)s.", email=user.email), "success")
    return redirect(url_for("admin.user_edit", user_id=user.id))


# -- desks and calendars -----------------------------------------------------------------------


@bp.route("/desks")
@admin_only
def desks() -> str:
    """Every desk with its hours and rules."""
    rows = [
        (desk, display.weekly_hours(desk), display.attachment_action(desk)) for desk in _all_desks()
    ]
    return render_template("admin/desks.html", rows=rows, default_ext=default_extensions_text())


@bp.route("/desks/new", methods=["GET", "POST"])
@admin_only
def desk_new() -> tuple[str, int] | Response:
    """Set up a desk; its hours, rules and targets are edited on the next page."""
    form = DeskCreateForm(taken=queries.desk_slug_taken)
    if form.validate_on_submit():
        desk = services.create_desk(
            form.slug.data or "",
            form.name.data or "",
            form.name_ja.data or "",
            form.timezone.data or "",
            _actor(),
        )
        flash(
            gettext(
                "%(desk)s created: set its hours, rules and targets below.",
                desk=desk.name_in(i18n.current_language()),
            ),
            "success",
        )
        return redirect(url_for("admin.desk_edit", desk_id=desk.id))
    return render_template("admin/desk_new.html", form=form), form_status()


@bp.route("/desks/<int:desk_id>/active", methods=["POST"])
@admin_only
def desk_active(desk_id: int) -> Response:
    """Deactivate or reactivate a desk (the button says which)."""
    desk = db.get_or_404(Desk, desk_id)
    _toggle_active(
        desk.name_in(i18n.current_language()),
        lambda active: services.set_desk_active(desk, active, _actor()),
    )
    return redirect(url_for("admin.desk_edit", desk_id=desk.id))


@bp.route("/desks/<int:desk_id>", methods=["GET", "POST"])
@admin_only
def desk_edit(desk_id: int) -> tuple[str, int] | Response:
    """Edit a desk's settings, hours and SLA targets."""
    desk = db.get_or_404(Desk, desk_id)
    form = DeskForm(data=DeskForm.data_of(desk))
    if form.validate_on_submit():
        settings = services.DeskSettings(
            name=form.name.data or "",
            name_ja=form.name_ja.data or "",
            reply_from=form.reply_from.data or "",
            requires_fields=bool(form.requires_fields.data),
            applies_attachment_policy=bool(form.applies_attachment_policy.data),
            attachment_action=form.attachment_action.data,
            forbidden_extensions=parse_extensions(form.forbidden_extensions.data or ""),
            timezone=(form.timezone.data or "").strip(),
            opening_hours=form.opening_hours(),
            sla_targets=form.sla_targets(),
            national_holidays=bool(form.national_holidays.data),
            year_end_closure=bool(form.year_end_closure.data),
            accepts_email=bool(form.accepts_email.data),
        )
        services.update_desk(desk, settings, _actor())
        flash(gettext("%(name)s saved.", name=desk.name_in(i18n.current_language())), "success")
        return redirect(url_for("admin.desks"))
    page = render_template(
        "admin/desk_form.html",
        form=form,
        desk=desk,
        weekday_fields=[f"hours_{day}" for day in range(7)],
        priorities=PRIORITIES,
        targets=display.sla_target_headings(),
        defaults=display.sla_defaults(desk),
        default_ext=default_extensions_text(),
        action=ActionForm(),
    )
    return page, form_status()


@bp.route("/desks/<int:desk_id>/calendar", methods=["GET", "POST"])
@admin_only
def desk_calendar(desk_id: int) -> tuple[str, int] | Response:
    """A desk's month of business days and closures, its overrides, and a form to add one."""
    desk = db.get_or_404(Desk, desk_id)
    form = OverrideForm()
    if form.validate_on_submit():
        settings = services.OverrideSettings(
            day=form.day.data,
            name=form.name.data or "",
            is_open=form.kind.data == "open",
            opens=form.opens.data,
            closes=form.closes.data,
        )
        try:
            services.add_override(desk, settings, _actor())
        except services.AdminError as exc:
            form.day.errors = [*form.day.errors, str(exc)]
        else:
            flash(gettext("Calendar updated."), "success")
            month = form.day.data.strftime("%Y-%m")
            return redirect(url_for("admin.desk_calendar", desk_id=desk.id, month=month))
    today = clock.to_desk_time(clock.now(), desk.timezone)
    year, month = display.parse_month(request.args.get("month"), today.date())  # type: ignore[union-attr]
    page = render_template(
        "admin/calendar.html",
        desk=desk,
        form=form,
        action=ActionForm(),
        view=display.month_view(desk, year, month),
        overrides=db.session.scalars(queries.overrides(desk)).all(),
        weekdays=i18n.weekday_names("abbreviated"),
    )
    return page, form_status()


@bp.route("/desks/<int:desk_id>/calendar/<int:override_id>/delete", methods=["POST"])
@admin_only
def override_delete(desk_id: int, override_id: int) -> Response:
    """Remove a calendar override."""
    override = db.get_or_404(CalendarOverride, override_id)
    if override.desk_id != desk_id:
        abort(404)
    if ActionForm().validate_on_submit():
        month = override.day.strftime("%Y-%m")
        services.remove_override(override, _actor())
        flash(gettext("Calendar updated."), "success")
        return redirect(url_for("admin.desk_calendar", desk_id=desk_id, month=month))
    abort(400)


# -- mailboxes and routing ---------------------------------------------------------------------


@bp.route("/mailboxes")
@admin_only
def mailboxes() -> str:
    """Every mailbox with its polling state."""
    rows = [
        (m, display.secret_is_set(m), display.mailbox_state(m), display.security_label(m))
        for m in db.session.scalars(queries.mailboxes())
    ]
    return render_template("admin/mailboxes.html", rows=rows, action=ActionForm())


def _mailbox_settings(form: MailboxForm) -> services.MailboxSettings:
    desk = db.session.get(Desk, form.default_desk_id.data)
    if desk is None:
        abort(400)
    return services.MailboxSettings(
        name=form.name.data or "",
        address=form.address.data or "",
        host=form.host.data or "",
        port=form.port.data or 0,
        security=form.security.data,
        username=form.username.data or "",
        secret_env=form.secret_env.data or "",
        folder=form.folder.data or "INBOX",
        processed_folder=form.processed_folder.data,
        processed_flag=form.processed_flag.data or "",
        poll_interval=form.poll_interval.data or 60,
        enabled=bool(form.enabled.data),
        default_desk=desk,
    )


@bp.route("/mailboxes/new", methods=["GET", "POST"])
@admin_only
def mailbox_new() -> tuple[str, int] | Response:
    """Add a mailbox."""
    form = MailboxForm(desks=_all_desks(), taken=queries.mailbox_name_taken)
    if form.validate_on_submit():
        mailbox = services.save_mailbox(None, _mailbox_settings(form), _actor())
        flash(gettext("Mailbox %(name)s added.", name=mailbox.name), "success")
        return redirect(url_for("admin.mailbox_edit", mailbox_id=mailbox.id))
    page = render_template("admin/mailbox_form.html", form=form, mailbox=None, secret_set=None)
    return page, form_status()


@bp.route("/mailboxes/<int:mailbox_id>", methods=["GET", "POST"])
@admin_only
def mailbox_edit(mailbox_id: int) -> tuple[str, int] | Response:
    """Change a mailbox; its routing rules are listed below."""
    mailbox = db.get_or_404(Mailbox, mailbox_id)
    form = MailboxForm(
        obj=mailbox,
        desks=_all_desks(),
        taken=lambda name: queries.mailbox_name_taken(name, except_id=mailbox.id),
    )
    if form.validate_on_submit():
        services.save_mailbox(mailbox, _mailbox_settings(form), _actor())
        flash(gettext("Mailbox %(name)s saved.", name=mailbox.name), "success")
        return redirect(url_for("admin.mailbox_edit", mailbox_id=mailbox.id))
    page = render_template(
        "admin/mailbox_form.html",
        form=form,
        mailbox=mailbox,
        secret_set=display.secret_is_set(mailbox),
        rules=db.session.scalars(queries.rules(mailbox)).all(),
        rule_form=RoutingRuleForm(desks=_all_desks()),
        action=ActionForm(),
    )
    return page, form_status()


@bp.route("/mailboxes/<int:mailbox_id>/poll", methods=["POST"])
@admin_only
def mailbox_poll(mailbox_id: int) -> Response:
    """Poll a mailbox now and say how it went."""
    mailbox = db.get_or_404(Mailbox, mailbox_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    report = services.poll_now(mailbox, _actor())
    flash(*services.describe_poll(report))
    return redirect(url_for("admin.mailboxes"))


@bp.route("/mailboxes/<int:mailbox_id>/rules", methods=["POST"])
@admin_only
def rule_add(mailbox_id: int) -> tuple[str, int] | Response:
    """Add a routing rule to a mailbox."""
    mailbox = db.get_or_404(Mailbox, mailbox_id)
    form = RoutingRuleForm(desks=_all_desks())
    if form.validate_on_submit():
        settings = services.RuleSettings(
            desk=db.get_or_404(Desk, form.desk_id.data),
            recipient=form.recipient.data,
            keywords=form.keyword_list(),
            sender_domain=form.sender_domain.data,
            priority=form.priority.data or 0,
        )
        services.add_rule(mailbox, settings, _actor())
        flash(gettext("Routing rule added."), "success")
        return redirect(url_for("admin.mailbox_edit", mailbox_id=mailbox.id) + "#rules")
    page = render_template(
        "admin/mailbox_form.html",
        form=MailboxForm(obj=mailbox, formdata=None, desks=_all_desks()),
        mailbox=mailbox,
        secret_set=display.secret_is_set(mailbox),
        rules=db.session.scalars(queries.rules(mailbox)).all(),
        rule_form=form,
        action=ActionForm(),
    )
    return page, form_status()


@bp.route("/mailboxes/<int:mailbox_id>/rules/<int:rule_id>/delete", methods=["POST"])
@admin_only
def rule_delete(mailbox_id: int, rule_id: int) -> Response:
    """Remove a routing rule."""
    rule = db.get_or_404(RoutingRule, rule_id)
    if rule.mailbox_id != mailbox_id:
        abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    services.delete_rule(rule, _actor())
    flash(gettext("Routing rule removed."), "success")
    return redirect(url_for("admin.mailbox_edit", mailbox_id=mailbox_id) + "#rules")


# -- canned answers ----------------------------------------------------------------------------


@bp.route("/canned")
@admin_only
def canned_answers() -> str:
    """Canned answers by desk and language."""
    rows = db.session.execute(queries.canned_answers()).all()
    return render_template("admin/canned.html", rows=rows, action=ActionForm())


def _save_canned(answer: CannedAnswer | None) -> tuple[str, int] | Response:
    data = None
    if answer is not None:
        data = {
            "desk_id": answer.desk_id or 0,
            "language": answer.language,
            "title": answer.title,
            "body": answer.body,
        }
    form = CannedAnswerForm(desks=_all_desks(), data=data)
    if form.validate_on_submit():
        desk = db.session.get(Desk, form.desk_id.data) if form.desk_id.data else None
        services.save_canned_answer(
            answer,
            desk,
            form.language.data or "ja",
            form.title.data or "",
            form.body.data or "",
            _actor(),
        )
        flash(gettext("Canned answer saved."), "success")
        return redirect(url_for("admin.canned_answers"))
    return render_template("admin/canned_form.html", form=form, answer=answer), form_status()


@bp.route("/canned/new", methods=["GET", "POST"])
@admin_only
def canned_new() -> tuple[str, int] | Response:
    """Write a new canned answer."""
    return _save_canned(None)


@bp.route("/canned/<int:answer_id>", methods=["GET", "POST"])
@admin_only
def canned_edit(answer_id: int) -> tuple[str, int] | Response:
    """Change a canned answer."""
    return _save_canned(db.get_or_404(CannedAnswer, answer_id))


@bp.route("/canned/<int:answer_id>/delete", methods=["POST"])
@admin_only
def canned_delete(answer_id: int) -> Response:
    """Remove a canned answer."""
    answer = db.get_or_404(CannedAnswer, answer_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    services.delete_canned_answer(answer, _actor())
    flash(gettext("Canned answer removed."), "success")
    return redirect(url_for("admin.canned_answers"))


# -- quarantine and failed messages ------------------------------------------------------------


@bp.route("/quarantine")
@admin_only
def quarantine() -> str:
    """Refused attachments, newest first."""
    before = row_id(request.args.get("before", 0, type=int))
    rows = db.session.execute(queries.quarantine(before)).all()
    lang = i18n.current_language()
    items = [
        (a, m, d.name_in(lang) if d is not None else "—", i18n.reason_text(a.reason, a.detail))
        for a, m, d in rows
    ]
    older = None
    if len(rows) == queries.QUARANTINE_PAGE:
        older = url_for("admin.quarantine", before=rows[-1][0].id)
    return render_template("admin/quarantine.html", items=items, older=older)


@bp.route("/quarantine/<int:attachment_id>/raw")
@admin_only
def quarantine_raw(attachment_id: int) -> Response:
    """The raw message that carried a refused file, as an inert download."""
    attachment = db.get_or_404(Attachment, attachment_id)
    if attachment.allowed:
        abort(404)
    path = services.quarantined_message_file(attachment.message, _actor())
    if path is None:
        abort(404)
    return _download(path, f"quarantined-message-{attachment.message_id}.eml")


@bp.route("/repeats/<int:repeat_id>/raw")
@admin_only
def repeat_raw(repeat_id: int) -> Response:
    """The raw bytes of another copy of a stored message (shown on its ticket), inert."""
    repeat = db.get_or_404(MessageRepeat, repeat_id)
    path = services.repeat_file(repeat, _actor())
    if path is None:
        abort(404)
    return _download(path, f"message-{repeat.message_id}-copy-{repeat.id}.eml")


@bp.route("/failures")
@admin_only
def failures() -> str:
    """Messages that could not be imported: unresolved first."""
    rows = db.session.execute(queries.failures()).all()
    return render_template("admin/failures.html", rows=rows, action=ActionForm())


@bp.route("/failures/<int:failure_id>/retry", methods=["POST"])
@admin_only
def failure_retry(failure_id: int) -> Response:
    """Run a failed message through the pipeline again."""
    failure = db.get_or_404(IngestFailure, failure_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        outcome = services.retry(failure, _actor())
    except services.AdminError as exc:
        flash(str(exc), "error")
    else:
        category = "error" if outcome == "failed" else "success"
        text = gettext(
            "Message #%(id)d: %(outcome)s.", id=failure.id, outcome=display.retry_outcome(outcome)
        )
        flash(text, category)
    return redirect(url_for("admin.failures"))


@bp.route("/failures/<int:failure_id>/raw")
@admin_only
def failure_raw(failure_id: int) -> Response:
    """The raw bytes of a failed message, as an inert download."""
    failure = db.get_or_404(IngestFailure, failure_id)
    path = services.failure_file(failure, _actor())
    if path is None:
        abort(404)
    return _download(path, f"failed-message-{failure.id}.eml")
