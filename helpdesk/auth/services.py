"""Account operations: authenticate, create users."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select

from helpdesk import clock
from helpdesk.auth.passwords import hash_password, needs_rehash, verify_password
from helpdesk.extensions import db
from helpdesk.models import Desk, Role, User

# Verified against when the account does not exist, so timing does not tell who has one.
_DUMMY_HASH = hash_password("not-a-real-password")


def authenticate(email: str, password: str) -> User | None:
    """The active user with this email and password, or None."""
    user = db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
    if user is None:
        verify_password(_DUMMY_HASH, password)
        return None
    if not user.active or not verify_password(user.password_hash, password):
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = clock.now()
    return user


def create_user(
    email: str, name: str, password: str, role: Role, desks: Sequence[Desk] = ()
) -> User:
    """Add an account (flushes; the caller commits)."""
    user = User(
        email=email.strip().lower(),
        name=name,
        password_hash=hash_password(password),
        role=role,
        desks=list(desks),
    )
    db.session.add(user)
    db.session.flush()
    return user
