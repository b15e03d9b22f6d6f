"""Files on the ticket page: downloads, refused files, agents' uploads, cid: images."""

from __future__ import annotations

import io
from email import message_from_bytes, policy

import pytest
from sqlalchemy import select

from helpdesk import outbox
from helpdesk.models import Attachment, Direction, Message, OutboxMessage
from helpdesk.stores import stores
from mail_ingest.markup import sanitize_html


@pytest.fixture
def files(staff, enquiry, db_session):
    ticket = enquiry(staff.desk)
    message = Message(
        ticket_id=ticket.id,
        direction=Direction.INBOUND,
        text="Screenshot attached",
        html=sanitize_html('<p>Look:</p><img src="cid:shot@example.jp" alt="screen">'),
    )
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 32
    key = stores().attachments.put(png)
    quarantined = stores().quarantine.put(b"MZ\x90\0 not for you")
    message.attachments = [
        Attachment(
            filename="画面.png",
            size=len(png),
            sha256=key,
            storage_key=key,
            detected_type="image/png",
            inline=True,
            content_id="<shot@example.jp>",
        ),
        Attachment(
            filename="tool.exe",
            size=17,
            sha256=quarantined,
            storage_key=None,
            allowed=False,
            reason="executable_content",
            detected_type="application/x-dosexec",
        ),
    ]
    db_session.add(message)
    db_session.flush()
    allowed, refused = message.attachments
    return ticket, message, allowed, refused


def test_accepted_file_downloads_as_an_attachment(files, staff, login_as, client):
    ticket, _message, allowed, _refused = files
    login_as(staff.agent)
    with client.get(f"/attachments/{allowed.id}") as response:
        assert response.status_code == 200
        assert response.data.startswith(b"\x89PNG")
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''%E7%94%BB%E9%9D%A2.png" in disposition
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Type"] == "image/png"


def test_refused_file_is_described_but_never_served(files, staff, login_as, client):
    ticket, _message, _allowed, refused = files
    login_as(staff.agent)
    assert client.get(f"/attachments/{refused.id}").status_code == 404
    page = client.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    assert "tool.exe" in page and f"/attachments/{refused.id}" not in page
    assert "The file is a program (executable). Programs cannot be received." in page
    assert "17 B" in page and "application/x-dosexec" in page


def test_cid_images_point_at_the_attachment(files, staff, login_as, client):
    _ticket, message, allowed, _refused = files
    login_as(staff.agent)
    response = client.get(f"/messages/{message.id}/html")
    assert f'src="/attachments/{allowed.id}"' in response.get_data(as_text=True)
    assert "sandbox" in response.headers["Content-Security-Policy"]


def test_agent_upload_of_a_forbidden_file_is_refused_with_the_reason(
    files, staff, login_as, client, csrf, db_session
):
    ticket = files[0]
    login_as(staff.agent)
    response = client.post(
        f"/tickets/{ticket.id}/reply",
        data={
            "csrf_token": csrf(),
            "reply-text": "Please see the files.",
            "reply-files": [
                (io.BytesIO(b"%PDF-1.4 fine"), "manual.pdf"),
                (io.BytesIO(b"MZ\x90\x00\x03" + b"\0" * 60), "setup.exe"),
            ],
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "setup.exe: The file is a program" in page
    assert "Please see the files." in page  # the typed answer is kept
    assert db_session.scalars(select(OutboxMessage)).all() == []


def test_agent_upload_allowed_is_kept_on_the_outbound_message(
    files, staff, login_as, client, csrf, db_session
):
    ticket = files[0]
    login_as(staff.agent)
    response = client.post(
        f"/tickets/{ticket.id}/reply",
        data={
            "csrf_token": csrf(),
            "reply-text": "Manual attached.",
            "reply-files": [(io.BytesIO(b"%PDF-1.4 fine"), "manual.pdf")],
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    (item,) = db_session.scalars(select(OutboxMessage)).all()
    outbound = db_session.get(Message, item.message_row_id)
    (kept,) = outbound.attachments
    assert kept.filename == "manual.pdf" and kept.allowed and kept.origin == "agent"
    mail = message_from_bytes(outbox.rendered(item), policy=policy.default)
    (sent,) = list(mail.iter_attachments())
    assert sent.get_filename() == "manual.pdf" and sent.get_content() == b"%PDF-1.4 fine"
    assert "Manual attached." in mail.get_body(("plain",)).get_content()
