"""Who may open which agents' page: anonymous, another desk's agent, agent, manager, admin."""

from __future__ import annotations

import pytest

from helpdesk.models import Attachment, Direction, Message
from helpdesk.stores import stores


@pytest.fixture
def ticket(staff, enquiry, db_session):
    ticket = enquiry(staff.desk, subject="ログインできません")
    message = Message(ticket_id=ticket.id, direction=Direction.INBOUND, text="see file")
    key = stores().attachments.put(b"%PDF-1.4 sample")
    message.attachments.append(
        Attachment(
            filename="guide.pdf",
            size=15,
            sha256=key,
            storage_key=key,
            detected_type="application/pdf",
        )
    )
    db_session.add(message)
    db_session.flush()
    return ticket


def _pages(staff, ticket):
    attachment_id = ticket_attachment_id(ticket)
    return {
        "queue": "/",
        "mine": "/mine",
        "desk": f"/desks/{staff.desk.slug}",
        "ticket": f"/tickets/{ticket.id}",
        "new": "/tickets/new",
        "search": "/search?q=ログイン",
        "attachment": f"/attachments/{attachment_id}",
    }


def ticket_attachment_id(ticket):
    from sqlalchemy import select

    from helpdesk.extensions import db

    return db.session.scalar(
        select(Attachment.id).join(Message).where(Message.ticket_id == ticket.id)
    )


EXPECTED = {
    # role: {page: status}
    "agent": {
        "queue": 200,
        "mine": 200,
        "desk": 200,
        "ticket": 200,
        "new": 200,
        "search": 200,
        "attachment": 200,
    },
    "other_agent": {
        "queue": 200,
        "mine": 200,
        "desk": 404,
        "ticket": 404,
        "new": 200,
        "search": 200,
        "attachment": 404,
    },
    "manager": {
        "queue": 200,
        "mine": 200,
        "desk": 200,
        "ticket": 200,
        "new": 403,
        "search": 200,
        "attachment": 200,
    },
    "admin": {
        "queue": 200,
        "mine": 200,
        "desk": 200,
        "ticket": 200,
        "new": 200,
        "search": 200,
        "attachment": 200,
    },
}
CHANGES = {"agent": 302, "other_agent": 404, "manager": 403, "admin": 302}


def test_anonymous_is_sent_to_sign_in_everywhere(staff, ticket, client, csrf):
    for name, path in _pages(staff, ticket).items():
        with client.get(path) as response:
            assert response.status_code == 302, name
            assert response.headers["Location"].startswith("/auth/login"), name
    assert client.post(f"/tickets/{ticket.id}/note", data={"note-text": "x"}).status_code == 400


@pytest.mark.parametrize("role", sorted(EXPECTED))
def test_access_matrix(role, staff, ticket, login_as, client, csrf):
    login_as(getattr(staff, role))
    for name, path in _pages(staff, ticket).items():
        with client.get(path) as response:
            assert response.status_code == EXPECTED[role][name], (role, name)
    response = client.post(
        f"/tickets/{ticket.id}/note", data={"csrf_token": csrf(), "note-text": "Checked."}
    )
    assert response.status_code == CHANGES[role]


def test_manager_reads_without_forms_and_search_is_scoped(staff, ticket, login_as, client):
    login_as(staff.manager)
    page = client.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    assert "Read only" in page and 'id="reply-form"' not in page and 'id="status-form"' not in page
    assert ticket.number in client.get("/search?q=ログイン").get_data(as_text=True)


def test_another_desks_agent_does_not_find_the_ticket(staff, ticket, login_as, client):
    login_as(staff.other_agent)
    assert ticket.number not in client.get("/search?q=ログイン").get_data(as_text=True)
    assert ticket.number not in client.get("/").get_data(as_text=True)


def test_desk_lists_from_loaded_desks_match_their_queries(staff, make, db_session):
    """The no-query desk lists (from the user's own desks) give what the queries give."""
    from helpdesk.access import readable_desks, visible_desks
    from helpdesk.tickets.queries import workable_desk_list, workable_desks

    closed = make.desk(name="Closed desk", active=False)
    staff.colleague.desks.append(closed)
    staff.manager.desks.append(staff.other_desk)
    db_session.flush()
    people = (staff.agent, staff.colleague, staff.other_agent, staff.manager, staff.admin)
    for user in people:
        assert readable_desks(user) == list(db_session.scalars(visible_desks(user)))
        assert workable_desk_list(user) == list(db_session.scalars(workable_desks(user)))


@pytest.mark.parametrize(
    ("role", "reports", "admin"),
    [("agent", False, False), ("manager", True, False), ("admin", True, True)],
)
def test_the_navigation_links_what_the_role_may_open(staff, login_as, client, role, reports, admin):
    login_as(getattr(staff, role))
    nav = client.get("/mine").get_data(as_text=True).split("</nav>")[0]
    assert ('href="/reports/"' in nav) is reports
    assert ('href="/admin/"' in nav) is admin
    assert 'href="/auth/account"' in nav


def test_japanese_readers_see_desks_and_links_in_japanese(staff, login_as, client):
    login_as(staff.agent)
    page = client.get("/tickets/new", headers={"Accept-Language": "ja"}).get_data(as_text=True)
    assert "システム操作ヘルプデスク" in page and ">アカウント<" in page
