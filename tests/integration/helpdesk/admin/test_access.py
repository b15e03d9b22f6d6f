"""Every admin page is for admins: anonymous users are sent to sign in, others get 403."""

import pytest

from helpdesk.models import Mailbox, Role

PAGES = [
    "/admin/",
    "/admin/users",
    "/admin/users/new",
    "/admin/users/{user}",
    "/admin/desks",
    "/admin/desks/{desk}",
    "/admin/desks/{desk}/calendar",
    "/admin/mailboxes",
    "/admin/mailboxes/new",
    "/admin/mailboxes/{mailbox}",
    "/admin/canned",
    "/admin/canned/new",
    "/admin/quarantine",
    "/admin/failures",
]
ACTIONS = [
    "/admin/users/new",
    "/admin/users/{user}/active",
    "/admin/users/{user}/password",
    "/admin/desks/{desk}",
    "/admin/desks/{desk}/calendar",
    "/admin/mailboxes/{mailbox}/poll",
    "/admin/mailboxes/{mailbox}/rules",
]


@pytest.fixture
def ids(make, db_session):
    desk = make.desk()
    user = make.user(Role.AGENT, desks=[desk])
    mailbox = Mailbox(
        name="box",
        address="box@support.example.test",
        host="127.0.0.1",
        username="box",
        secret_env="BOX_PASSWORD",
        default_desk=desk,
    )
    db_session.add(mailbox)
    db_session.flush()
    return {"desk": desk.id, "user": user.id, "mailbox": mailbox.id}


@pytest.mark.parametrize("page", PAGES)
def test_anonymous_is_sent_to_sign_in(client, ids, page):
    response = client.get(page.format(**ids))
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/login")


@pytest.mark.parametrize("role", [Role.AGENT, Role.MANAGER])
@pytest.mark.parametrize("page", PAGES)
def test_agents_and_managers_are_forbidden(client, make, login_as, ids, role, page):
    login_as(make.user(role))
    assert client.get(page.format(**ids)).status_code == 403


@pytest.mark.parametrize("role", [Role.AGENT, Role.MANAGER])
@pytest.mark.parametrize("action", ACTIONS)
def test_agents_and_managers_cannot_post(client, make, login_as, post, ids, role, action):
    login_as(make.user(role))
    assert post(action.format(**ids), {"active": "0"}).status_code == 403


@pytest.mark.parametrize("page", PAGES)
def test_admin_sees_every_page(client, admin, ids, page):
    response = client.get(page.format(**ids))
    assert response.status_code == 200
    assert "Content-Security-Policy" in response.headers


def test_no_admin_link_for_managers(client, make, login_as):
    login_as(make.user(Role.MANAGER))
    page = client.get("/auth/account").get_data(as_text=True)
    assert 'href="/auth/account"' in page and 'href="/admin/"' not in page


def test_admin_link_for_admins(client, admin):
    assert 'href="/admin/"' in client.get("/auth/account").get_data(as_text=True)


def test_post_without_csrf_token_is_refused(client, admin, make):
    desk = make.desk()
    response = client.post(
        "/admin/users/new",
        data={"email": "x@support.example.test", "name": "X", "role": "agent", "desk_ids": desk.id},
    )
    assert response.status_code == 400
    response = client.post(f"/admin/desks/{desk.id}/calendar", data={"day": "2026-12-01"})
    assert response.status_code == 400
