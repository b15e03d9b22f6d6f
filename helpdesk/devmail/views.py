"""The captured-mail pages (development only; admins)."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, current_app, render_template

from helpdesk.access import role_required
from helpdesk.devmail import captured, captured_message
from helpdesk.models import Role

bp = Blueprint("devmail", __name__, url_prefix="/admin/captured-mail")

admin_only = role_required(Role.ADMIN)


@bp.app_context_processor
def captured_mail_link() -> dict[str, str]:
    """Admin pages link to the captured mail while it exists."""
    return {"captured_mail_url": "devmail.index"}


def _folder() -> Path:
    return Path(current_app.config["MAIL_CAPTURE_PATH"])


@bp.route("/")
@admin_only
def index() -> str:
    """The mail the app has sent, newest first."""
    return render_template("devmail/index.html", mails=captured(_folder()))


@bp.route("/<key>")
@admin_only
def show(key: str) -> str:
    """One sent message: its headers and text."""
    found = captured_message(_folder(), key)
    if found is None:
        abort(404)
    mail, text = found
    return render_template("devmail/show.html", mail=mail, text=text)
