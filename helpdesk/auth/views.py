"""Sign-in (with an optional second step), sign-out, and each user's account security."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from helpdesk import clock
from helpdesk.access import login_required
from helpdesk.auth import services
from helpdesk.auth.forms import (
    CodeForm,
    LoginForm,
    PasswordChangeForm,
    RecoveryCodesForm,
    TotpDisableForm,
    TotpEnableForm,
)
from helpdesk.extensions import db, limiter
from helpdesk.models import User
from helpdesk.transaction import form_status

bp = Blueprint("auth", __name__, url_prefix="/auth")

PENDING_KEY = "auth_pending"
SETUP_KEY = "totp_setup"
PENDING_SECONDS = 300


def _login_limit() -> str:
    return str(current_app.config["LOGIN_RATE_LIMIT"])


def _account_key() -> str:
    return "login-account:" + request.form.get("email", "").strip().lower()


def _pending_key() -> str:
    pending = session.get(PENDING_KEY) or {}
    return f"login-code:{pending.get('uid', request.remote_addr)}"


def safe_next(target: str | None) -> str:
    """A local path to go to after sign-in; anything pointing elsewhere becomes the home page."""
    if not target or any(ord(c) < 0x20 or ord(c) == 0x7F for c in target):
        return url_for("tickets.index")  # control characters would split the Location header
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("tickets.index")
    if "\\" in target:
        return url_for("tickets.index")
    return target


def _finish_login(user: User, next_url: str | None) -> Response:
    services.record_login(user)  # committed with the request; a failed commit is a 500
    login_user(user)
    return redirect(safe_next(next_url))


def _pending_user() -> tuple[User, str | None] | None:
    """The user who gave the right password and still owes a code, if not expired."""
    pending: dict[str, Any] = session.get(PENDING_KEY) or {}
    if not pending or clock.now().timestamp() - float(pending.get("at", 0)) > PENDING_SECONDS:
        session.pop(PENDING_KEY, None)
        return None
    user = db.session.get(User, int(pending["uid"]))
    if user is None or not user.active or not user.totp_secret:
        session.pop(PENDING_KEY, None)
        return None
    return user, pending.get("next")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
@limiter.limit(_login_limit, methods=["POST"], key_func=_account_key)
def login() -> tuple[str, int] | Response:
    """Show the sign-in form; sign in on a correct email and password (and code, if set up)."""
    if current_user.is_authenticated:
        return redirect(url_for("tickets.index"))
    form = LoginForm()
    if form.validate_on_submit():
        user = services.check_credentials(form.email.data or "", form.password.data or "")
        if user is not None and user.totp_secret:
            session[PENDING_KEY] = {
                "uid": user.id,
                "next": request.args.get("next"),
                "at": clock.now().timestamp(),
            }
            return redirect(url_for("auth.login_code"))
        if user is not None:
            return _finish_login(user, request.args.get("next"))
        flash(gettext("Email or password is wrong."), "error")
    return render_template("auth/login.html", form=form), form_status()


@bp.route("/login/code", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
@limiter.limit(_login_limit, methods=["POST"], key_func=_pending_key)
def login_code() -> tuple[str, int] | Response:
    """The second sign-in step: the code from the user's authenticator app."""
    pending = _pending_user()
    if pending is None:
        flash(gettext("Sign in again: the first step has expired."), "error")
        return redirect(url_for("auth.login"))
    user, next_url = pending
    form = CodeForm()
    if form.validate_on_submit():
        code = form.code.data or ""
        if services.accept_totp_code(user, code):
            session.pop(PENDING_KEY, None)
            return _finish_login(user, next_url)
        if services.use_recovery_code(user, code):
            session.pop(PENDING_KEY, None)
            left = len(user.totp_recovery_hashes or ())
            flash(
                gettext(
                    "You signed in with a recovery code; %(num)d left. "
                    "Renew them under Account, two-step sign-in.",
                    num=left,
                ),
                "info" if left > 2 else "error",
            )
            return _finish_login(user, next_url)
        form.code.errors.append(gettext("The code is wrong or has expired; enter the current one."))
    return render_template("auth/login_code.html", form=form), form_status()


@bp.route("/logout", methods=["POST"])
@login_required
def logout() -> Response:
    """Sign out, and end every session of the account: a copied cookie stops working too."""
    services.end_sessions(current_user)
    logout_user()
    return redirect(url_for("auth.login"))


@bp.route("/account")
@login_required
def account() -> str:
    """The user's account: password and two-step sign-in."""
    return render_template("auth/account.html")


@bp.route("/password", methods=["GET", "POST"])
@login_required
def password() -> tuple[str, int] | Response:
    """Change one's own password."""
    form = PasswordChangeForm()
    if form.validate_on_submit():
        if services.change_password(current_user, form.current.data or "", form.new.data or ""):
            flash(gettext("Your password has been changed."), "success")
            return redirect(url_for("auth.account"))
        form.current.errors.append(gettext("The current password is wrong."))
    return render_template("auth/password.html", form=form), form_status()


@bp.route("/totp", methods=["GET", "POST"])
@login_required
def totp() -> tuple[str, int] | Response:
    """Set up two-step sign-in: show a new secret, confirm it with a code."""
    if current_user.totp_secret:
        return _totp_on_page(TotpDisableForm(), RecoveryCodesForm())
    secret = session.get(SETUP_KEY) or services.new_totp_secret()
    session[SETUP_KEY] = secret
    form = TotpEnableForm()
    if form.validate_on_submit():
        codes = services.enable_totp(current_user, secret, form.code.data or "")
        if codes is not None:
            session.pop(SETUP_KEY, None)
            flash(gettext("Two-step sign-in is on."), "success")
            return _recovery_codes_page(codes)
        form.code.errors.append(
            gettext("The code does not match; check the app's clock and try again.")
        )
    response = make_response(
        render_template(
            "auth/totp_setup.html",
            form=form,
            secret=secret,
            uri=services.totp_uri(current_user, secret),
        ),
        form_status(),
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/totp/qr.svg")
@login_required
def totp_qr() -> Response:
    """The QR code of the secret being set up (never of one already in use)."""
    secret = session.get(SETUP_KEY)
    if current_user.totp_secret or not secret:
        abort(404)
    svg = services.totp_qr_svg(services.totp_uri(current_user, secret))
    response = make_response(svg)
    response.headers["Content-Type"] = "image/svg+xml"
    response.headers["Cache-Control"] = "no-store"
    return response


def _totp_on_page(form: TotpDisableForm, renew: RecoveryCodesForm) -> tuple[str, int]:
    """The page of an account with two-step sign-in on: renew the codes, or turn it off (400
    when it shows one of them again with its errors)."""
    left = len(current_user.totp_recovery_hashes or ())
    page = render_template("auth/totp_on.html", form=form, renew=renew, recovery_left=left)
    return page, form_status()


def _recovery_codes_page(codes: list[str]) -> Response:
    response = make_response(render_template("auth/recovery_codes.html", codes=codes))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/totp/recovery-codes", methods=["POST"])
@login_required
def recovery_codes() -> tuple[str, int] | Response:
    """Replace the recovery codes (needs the password); the new ones are shown once."""
    if not current_user.totp_secret:
        return redirect(url_for("auth.totp"))
    form = RecoveryCodesForm()
    if form.validate_on_submit():
        codes = services.renew_recovery_codes(current_user, form.password.data or "")
        if codes is not None:
            return _recovery_codes_page(codes)
        form.password.errors.append(gettext("The password is wrong."))
    return _totp_on_page(TotpDisableForm(), form)


@bp.route("/totp/disable", methods=["POST"])
@login_required
def totp_disable() -> tuple[str, int] | Response:
    """Turn two-step sign-in off (needs the password)."""
    form = TotpDisableForm()
    if form.validate_on_submit():
        if services.disable_totp(current_user, form.password.data or ""):
            flash(gettext("Two-step sign-in is off."), "success")
            return redirect(url_for("auth.account"))
        form.password.errors.append(gettext("The password is wrong."))
    return _totp_on_page(form, RecoveryCodesForm())
