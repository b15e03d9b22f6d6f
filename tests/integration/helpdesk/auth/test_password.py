"""Changing one's own password: the current one, the new one twice, at least 12 characters."""

import pytest
from sqlalchemy import select

from helpdesk.auth.passwords import verify_password
from helpdesk.models import AuditEvent
from tests.support.factories import PASSWORD

NEW = "a brand new passphrase"


@pytest.fixture
def user(make, login_as):
    account = make.user()
    login_as(account)
    return account


def test_change_password_then_sign_in_with_it(client, user, post, sign_in, db_session):
    response = post("/auth/password", {"current": PASSWORD, "new": NEW, "confirm": NEW})
    assert response.status_code == 302 and response.headers["Location"] == "/auth/account"
    assert verify_password(user.password_hash, NEW)
    event = db_session.scalar(
        select(AuditEvent).where(AuditEvent.action == "auth.password_changed")
    )
    assert event.actor_id == user.id and event.ticket_id is None

    post("/auth/logout", page="/auth/account")
    assert sign_in(user.email, PASSWORD).status_code == 400
    assert sign_in(user.email, NEW).status_code == 302


@pytest.mark.parametrize(
    ("current", "new", "confirm", "message"),
    [
        ("wrong password", NEW, NEW, "The current password is wrong."),
        (PASSWORD, "too short", "too short", "at least 12 characters"),
        (PASSWORD, NEW, NEW + "!", "The two new passwords differ."),
        (PASSWORD, PASSWORD, PASSWORD, "The new password is the same as the current one."),
    ],
)
def test_bad_changes_are_refused(client, user, post, current, new, confirm, message):
    response = post("/auth/password", {"current": current, "new": new, "confirm": confirm})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert verify_password(user.password_hash, PASSWORD)


def test_password_change_needs_the_csrf_token(client, user):
    response = client.post("/auth/password", data={"current": PASSWORD, "new": NEW, "confirm": NEW})
    assert response.status_code == 400
    assert verify_password(user.password_hash, PASSWORD)


def test_anonymous_is_sent_to_sign_in(client):
    for page in ("/auth/account", "/auth/password", "/auth/totp"):
        response = client.get(page)
        assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_a_password_change_signs_out_the_other_sessions(app, make, login_as, client):
    from helpdesk.auth.services import change_password

    account = make.user()
    elsewhere = app.test_client()
    login_as(account)
    with client.session_transaction() as session:
        stolen = dict(session)
    with elsewhere.session_transaction() as session:
        session.update(stolen)
    assert elsewhere.get("/").status_code == 200
    assert change_password(account, PASSWORD, "a new long passphrase for me")
    from flask import g

    g.pop("_login_user", None)
    assert elsewhere.get("/").status_code == 302
