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
    def load_user(user_id: str) -> User | None:
        user = db.session.get(User, int(user_id))
        return user if user is not None and user.active else None
