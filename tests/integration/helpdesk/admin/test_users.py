"""Users: create with a password shown once, edit, deactivate, reset the password."""

import re

from sqlalchemy import select

from helpdesk.models import AuditEvent, Role, User
from tests.support.factories import PASSWORD

from .conftest import csrf_token


def _shown_password(page):
    return re.search(r'<code class="secret-once">([^<]+)</code>', page).group(1)


def _sign_in(client, email, password):
    client.post("/auth/logout", data={"csrf_token": csrf_token(client)})
    token = csrf_token(client, "/auth/login")
    return client.post(
        "/auth/login", data={"email": email, "password": password, "csrf_token": token}
    )


def test_created_user_signs_in_with_the_password_shown_once(client, admin, make, post, db_session):
    desk = make.desk(name="Specified skilled worker desk")
    response = post(
        "/admin/users/new",
        {
            "email": "Hana@Support.example.test",
            "name": "Hana",
            "role": "agent",
            "desk_ids": desk.id,
        },
    )
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    password = _shown_password(response.get_data(as_text=True))
    user = db_session.scalar(select(User).where(User.email == "hana@support.example.test"))
    assert user.role is Role.AGENT and user.desks == [desk]
    assert password not in user.password_hash
    event = db_session.scalar(select(AuditEvent).where(AuditEvent.action == "admin.user_created"))
    assert event.actor_id == admin.id and event.ticket_id is None
    assert password not in str(event.detail)

    assert _sign_in(client, "hana@support.example.test", password).status_code == 302
    assert "Specified skilled worker desk" in client.get("/").get_data(as_text=True)


def test_the_users_list_never_shows_passwords(client, admin):
    page = client.get("/admin/users").get_data(as_text=True)
    assert admin.email in page and "secret-once" not in page


def test_duplicate_email_is_refused_with_a_message(client, admin, post):
    response = post(
        "/admin/users/new", {"email": admin.email.upper(), "name": "Again", "role": "agent"}
    )
    assert response.status_code == 400
    assert "An account with this email already exists." in response.get_data(as_text=True)


def test_bad_email_and_missing_name_are_explained(client, admin, post):
    page = post("/admin/users/new", {"email": "not-an-address", "role": "agent"}).get_data(
        as_text=True
    )
    assert "This is not an email address." in page and "This field is required." in page


def test_edit_role_desks_and_name(client, admin, make, post, db_session):
    first, second = make.desk(), make.desk()
    user = make.user(Role.AGENT, desks=[first])
    response = post(
        f"/admin/users/{user.id}",
        {"name": "Renamed", "role": "manager", "desk_ids": [first.id, second.id]},
    )
    assert response.status_code == 302
    db_session.refresh(user)
    assert (user.name, user.role) == ("Renamed", Role.MANAGER)
    assert {d.id for d in user.desks} == {first.id, second.id}


def test_deactivated_user_cannot_sign_in_until_reactivated(client, admin, make, post, db_session):
    user = make.user()
    assert post(f"/admin/users/{user.id}/active", {"active": "0"}).status_code == 302
    assert user.active is False
    assert _sign_in(client, user.email, PASSWORD).status_code == 400


def test_reactivate(client, admin, make, post):
    user = make.user(active=False)
    post(f"/admin/users/{user.id}/active", {"active": "1"})
    assert user.active is True


def test_admin_cannot_deactivate_or_demote_themself(client, admin, post):
    response = post(f"/admin/users/{admin.id}/active", {"active": "0"}, follow_redirects=True)
    assert "You cannot deactivate your own account" in response.get_data(as_text=True)
    assert admin.active
    response = post(f"/admin/users/{admin.id}", {"name": admin.name, "role": "agent"})
    assert "You cannot take the admin role from your own account" in response.get_data(as_text=True)
    assert admin.role is Role.ADMIN


def test_reset_password_shows_a_new_one_once(client, admin, make, post):
    user = make.user()
    response = post(f"/admin/users/{user.id}/password")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    password = _shown_password(response.get_data(as_text=True))
    assert _sign_in(client, user.email, PASSWORD).status_code == 400
    assert _sign_in(client, user.email, password).status_code == 302


def test_admin_turns_off_a_lost_second_factor(client, admin, make, post):
    user = make.user(totp_secret="JBSWY3DPEHPK3PXP", totp_recovery_hashes=["0" * 64])
    assert "Turn off two-step sign-in" in client.get(f"/admin/users/{user.id}").get_data(
        as_text=True
    )
    post(f"/admin/users/{user.id}/totp")
    assert user.totp_secret is None and user.totp_recovery_hashes is None
