"""The public enquiry form: required fields, attachment policy, abuse limits, same tickets."""

import io
import re
from email import message_from_bytes, policy

import pytest
from sqlalchemy import func, select

from helpdesk import outbox
from helpdesk.extensions import limiter
from helpdesk.models import Attachment, Channel, Direction, Message, OutboxMessage, Ticket
from helpdesk.seed import seed_demo
from helpdesk.tickets.workflow import TicketStatus
from tests.support import samplefiles

CHROME_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0"
)


@pytest.fixture(autouse=True)
def desks(db_session):
    limiter.reset()
    seed_demo()


def _token(client, url):
    page = client.get(url).get_data(as_text=True)
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def _post(client, url="/enquiry/system", files=(), **overrides):
    data = {
        "csrf_token": _token(client, url),
        "name": "Nguyen Van A",
        "email": "nguyen@example.org",
        "organisation": "Sample Support Organisation",
        "contact": "03-1234-5678",
        "environment": "Windows 11 / Edge 131",
        "subject": "Cannot upload the notification file",
        "question": "Hello, the upload button does not respond. Please help me with this.",
        **overrides,
    }
    if files:
        data["attachments"] = [(io.BytesIO(content), name) for name, content in files]
    return client.post(url, data=data, content_type="multipart/form-data")


def test_form_proposes_the_environment_from_the_user_agent(client):
    page = client.get("/enquiry/system", headers={"User-Agent": CHROME_WINDOWS}).get_data(
        as_text=True
    )
    assert 'value="Windows 10/11 / Edge 131"' in page
    assert "機関名" in page and "Organisation name" in page


def test_complete_enquiry_opens_a_ticket_like_an_email_would(client, db_session):
    response = _post(client, files=[("screen.png", samplefiles.png())])
    assert response.status_code == 302
    ticket = db_session.scalars(select(Ticket)).one()
    assert response.headers["Location"].endswith(f"/enquiry/system/received/{ticket.number}")
    assert ticket.channel is Channel.WEB and ticket.status is TicketStatus.NEW
    assert ticket.organisation == "Sample Support Organisation"
    assert ticket.env_os_family == "Windows" and ticket.env_browser_family == "Edge"
    assert ticket.sla_started_at is not None and ticket.first_response_due_at is not None
    assert ticket.language == "en"
    message = db_session.scalars(
        select(Message).where(
            Message.ticket_id == ticket.id, Message.direction == Direction.INBOUND
        )
    ).one()
    (attachment,) = db_session.scalars(
        select(Attachment).where(Attachment.message_id == message.id)
    )
    assert attachment.allowed and attachment.filename == "screen.png"
    (ack,) = db_session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "ack")).all()
    mail = message_from_bytes(outbox.rendered(ack), policy=policy.default)
    assert ticket.number in mail["Subject"] and mail["To"] == "nguyen@example.org"
    receipt = client.get(response.headers["Location"]).get_data(as_text=True)
    assert ticket.number in receipt


@pytest.mark.parametrize("missing", ["organisation", "contact", "environment", "question", "email"])
def test_each_required_field_is_required_and_the_form_says_which(client, db_session, missing):
    response = _post(client, **{missing: ""})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert page.count("This field is required.") == 1
    assert db_session.scalar(select(func.count()).select_from(Ticket)) == 0


def test_forbidden_file_is_refused_by_name_and_content_and_nothing_is_kept(client, db_session):
    response = _post(
        client, files=[("manual.pdf", samplefiles.pe_executable()), ("a.png", samplefiles.png())]
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "manual.pdf" in page and "program" in page
    assert db_session.scalar(select(func.count()).select_from(Ticket)) == 0
    response = _post(client, files=[("data.zip", samplefiles.zip_archive())])
    assert "ZIP" in response.get_data(as_text=True)


def test_form_without_csrf_token_is_refused(client, db_session):
    response = client.post("/enquiry/system", data={"name": "x"})
    assert response.status_code == 400
    assert db_session.scalar(select(func.count()).select_from(Ticket)) == 0


def test_submissions_are_rate_limited_per_address(client, db_session):
    codes = [
        _post(client, question=f"Question {i} about the upload button and form.").status_code
        for i in range(6)
    ]
    assert codes[:5] == [302] * 5 and codes[5] == 429


def test_phone_only_desk_has_no_form(client):
    assert client.get("/enquiry/info").status_code == 404
    assert client.get("/enquiry/nope").status_code == 404


def test_oversized_request_is_refused(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1000)
    response = _post(client, files=[("big.png", samplefiles.png() + b"\0" * 5000)])
    assert response.status_code == 413
    assert "The limit is 1000 B." in response.get_data(as_text=True)


def test_behind_a_trusted_proxy_each_client_has_its_own_limit(app, database_url, tmp_path):
    from tests.conftest import make_app

    proxied = make_app(database_url, tmp_path / "instance", PROXY_HOPS=1)
    client = proxied.test_client()

    def enquiry(address, n):
        client.environ_base["HTTP_X_FORWARDED_FOR"] = address
        return _post(client, question=f"Question {n} about the upload button and form.")

    codes = [enquiry("198.51.100.7", i).status_code for i in range(6)]
    assert codes[:5] == [302] * 5 and codes[5] == 429
    assert enquiry("203.0.113.9", 6).status_code == 302  # another client is not locked out


def test_without_a_trusted_proxy_a_forwarded_for_header_evades_no_limit(client):
    codes = []
    for i in range(6):
        client.environ_base["HTTP_X_FORWARDED_FOR"] = f"198.51.100.{i}"
        codes.append(_post(client, question=f"Question {i} about the upload form.").status_code)
    assert codes[:5] == [302] * 5 and codes[5] == 429
