"""Sign-in and sign-out pages."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response

from helpdesk.auth.forms import LoginForm
from helpdesk.auth.services import authenticate
from helpdesk.extensions import db, limiter

bp = Blueprint("auth", __name__, url_prefix="/auth")


def _login_limit() -> str:
    from flask import current_app

    return str(current_app.config["LOGIN_RATE_LIMIT"])


def _account_key() -> str:
    return "login-account:" + request.form.get("email", "").strip().lower()


def safe_next(target: str | None) -> str:
    """A local path to go to after sign-in; anything pointing elsewhere becomes the home page."""
    if not target:
        return url_for("tickets.index")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("tickets.index")
    if "\\" in target:
        return url_for("tickets.index")
    return target


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
@limiter.limit(_login_limit, methods=["POST"], key_func=_account_key)
def login() -> str | Response:
    """Show the sign-in form; sign in on a correct email and password."""
    if current_user.is_authenticated:
        return redirect(url_for("tickets.index"))
    form = LoginForm()
    if form.validate_on_submit():
        user = authenticate(form.email.data or "", form.password.data or "")
        if user is not None:
            db.session.commit()
            login_user(user)
            return redirect(safe_next(request.args.get("next")))
        flash("Email or password is wrong.", "error")
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout() -> Response:
    """Sign out."""
    logout_user()
    return redirect(url_for("auth.login"))
