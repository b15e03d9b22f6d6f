"""Flask-Login wiring: loading the signed-in user."""

from __future__ import annotations

from flask_login import LoginManager

from helpdesk.extensions import db
from helpdesk.models import User


def init_login_manager(manager: LoginManager) -> None:
    """Tell Flask-Login how to load users and where the sign-in page is."""
    manager.login_view = "auth.login"
    manager.session_protection = "strong"

    @manager.user_loader
    def load_user(session_id: str) -> User | None:
        user_id, _, version = session_id.partition(":")
        if not user_id.isdigit() or not version.isdigit():
            return None  # a session from before session versions: sign in again
        user = db.session.get(User, int(user_id))
        if user is None or not user.active or user.session_version != int(version):
            return None
        return user
