"""Flask-Login wiring: loading the signed-in user."""

from __future__ import annotations

from flask_babel import gettext
from flask_login import LoginManager

from helpdesk.extensions import db
from helpdesk.i18n import N_
from helpdesk.models import User


def init_login_manager(manager: LoginManager) -> None:
    """Tell Flask-Login how to load users and where the sign-in page is."""
    manager.login_view = "auth.login"
    manager.session_protection = "strong"
    # Flashed on the way to the sign-in page, translated when flashed.
    manager.login_message = N_("Please sign in to see this page.")
    manager.localize_callback = gettext

    def load_user(session_id: str) -> User | None:
        user_id, _, version = session_id.partition(":")
        if not user_id.isdigit() or not version.isdigit():
            return None  # a session from before session versions: sign in again
        user = db.session.get(User, int(user_id))
        if user is None or not user.active or user.session_version != int(version):
            return None
        return user

    manager.user_loader(load_user)  # not as a decorator: Flask-Login has no type hints
