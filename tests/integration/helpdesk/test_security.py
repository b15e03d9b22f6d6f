"""A request that carries a NUL character is refused with a 400 that says why, whatever the
route: PostgreSQL stores no NUL in text, and a form or query that reached it with one was a
500 (on SQLite the NUL was stored)."""

import io
import re

import pytest
from sqlalchemy import func, select

from helpdesk.extensions import limiter
from helpdesk.models import CannedAnswer, Desk, Direction, Message, Role, Ticket
from helpdesk.seed import seed_demo

REFUSED = "contains a NUL character"
TOKEN = re.compile(r'name="csrf[-_]token" (?:type="hidden" value|content)="([^"]+)"')


@pytest.fixture
def desks(db_session, frozen_now):
    limiter.reset()
    seed_demo()
    return {d.slug: d for d in db_session.scalars(select(Desk))}


def _token(client, path="/"):
    return TOKEN.search(client.get(path).get_data(as_text=True)).group(1)


def _count(db_session, model, *where):
    return db_session.scalar(select(func.count()).select_from(model).where(*where))


def _enquiry(client, **overrides):
    data = {
        "csrf_token": _token(client, "/enquiry/system"),
        "name": "Nguyen Van A",
        "email": "nguyen@example.org",
        "organisation": "Sample Support Organisation",
        "contact": "03-1234-5678",
        "environment": "Windows 11 / Edge 131",
        "subject": "Cannot upload the notification file",
        "question": "Hello, the upload button does not respond.",
        **overrides,
    }
    return client.post("/enquiry/system", data=data, content_type="multipart/form-data")


@pytest.mark.parametrize(
    "overrides",
    [
        {"question": "Hello,\x00 the upload button does not respond."},
        {"subject": "Cannot\x00 upload"},
        {"attachments": [(io.BytesIO(b"\x89PNG\r\n\x1a\n"), "screen\x00.png")]},
    ],
    ids=["question", "subject", "filename"],
)
def test_the_public_enquiry_form_refuses_a_nul(client, desks, db_session, overrides):
    response = _enquiry(client, **overrides)
    assert response.status_code == 400
    assert REFUSED in response.get_data(as_text=True)
    assert _count(db_session, Ticket) == 0


def test_the_refusal_speaks_the_readers_language(client, desks):
    response = client.get("/search?q=%00", headers={"Accept-Language": "ja"})
    assert response.status_code == 400
    assert "NUL 文字" in response.get_data(as_text=True)


def test_sign_in_refuses_a_nul(client, desks):
    data = {
        "csrf_token": _token(client, "/auth/login"),
        "email": "a\x00@x.example",
        "password": "x",
    }
    response = client.post("/auth/login", data=data)
    assert response.status_code == 400 and REFUSED in response.get_data(as_text=True)


def test_agents_forms_and_queries_refuse_a_nul(client, desks, make, login_as, db_session):
    admin = make.user(Role.ADMIN)
    ticket = make.ticket(desks["system"])
    login_as(admin)
    token = _token(client)
    requests = [
        ("GET", "/search?q=log%00in", None),
        ("GET", "/?status=%00", None),
        ("GET", "/desks/%00", None),
        ("GET", "/enquiry/%00", None),
        ("POST", f"/tickets/{ticket.id}/note", {"note-text": "Called\x00 back."}),
        ("POST", f"/tickets/{ticket.id}/reply", {"reply-text": "Dear\x00 customer"}),
        (
            "POST",
            "/admin/canned/new",
            {"desk_id": "0", "language": "en", "title": "Hi\x00", "body": "Dear {requester_name}"},
        ),
    ]
    for method, url, data in requests:
        payload = {"csrf_token": token, **data} if data is not None else None
        response = client.open(url, method=method, data=payload)
        assert (response.status_code, url) == (400, url)
        assert REFUSED in response.get_data(as_text=True), url
    assert _count(db_session, Message, Message.direction != Direction.INBOUND) == 0
    assert _count(db_session, CannedAnswer) == 0


def _url(rule):
    url = re.sub(r"<int:[^>]+>", "1", rule.rule)
    return re.sub(r"<[^>]+>", "x", url)


def test_no_route_takes_a_nul(app, client, desks, make, login_as):
    """Every route and method, signed in as an admin with a valid CSRF token: a NUL in the query
    string or the form is a 400 with the message, never a 500 nor a stored NUL."""
    make.ticket(desks["system"])
    login_as(make.user(Role.ADMIN))
    token = _token(client)
    answered = {}
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods & {"GET", "POST"}):
            url = _url(rule)
            if method == "GET":
                response = client.get(url, query_string={"q": "a\x00b"})
            else:
                response = client.post(url, data={"csrf_token": token, "text": "a\x00b"})
            refused = response.status_code == 400 and REFUSED in response.get_data(as_text=True)
            if not refused:
                answered[f"{method} {url}"] = response.status_code
    assert len(list(app.url_map.iter_rules())) > 50
    assert answered == {}
