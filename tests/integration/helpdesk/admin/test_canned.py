"""Canned answers per desk and language, with the documented placeholders only."""

from sqlalchemy import select

from helpdesk.models import CannedAnswer


def test_create_edit_and_delete(client, admin, make, post, db_session):
    desk = make.desk(name="Specified skilled worker desk")
    page = client.get("/admin/canned/new").get_data(as_text=True)
    assert "{ticket_number}" in page and "{requester_name}" in page and "{desk_hours}" in page
    response = post(
        "/admin/canned/new",
        {
            "desk_id": desk.id,
            "language": "ja",
            "title": "受付のお知らせ",
            "body": "{requester_name} 様\r\n受付番号 {ticket_number}\r\n受付時間: {desk_hours}",
        },
    )
    assert response.status_code == 302
    answer = db_session.scalar(select(CannedAnswer))
    assert (answer.desk_id, answer.language) == (desk.id, "ja")
    assert answer.body == "{requester_name} 様\n受付番号 {ticket_number}\n受付時間: {desk_hours}"
    listing = client.get("/admin/canned").get_data(as_text=True)
    assert "受付のお知らせ" in listing and "Specified skilled worker desk" in listing

    post(
        f"/admin/canned/{answer.id}",
        {"desk_id": "0", "language": "en", "title": "Received", "body": "Dear {requester_name}"},
    )
    assert (answer.desk_id, answer.language, answer.title) == (None, "en", "Received")
    assert "All desks" in client.get("/admin/canned").get_data(as_text=True)

    assert post(f"/admin/canned/{answer.id}/delete").status_code == 302
    assert db_session.scalar(select(CannedAnswer)) is None


def test_unknown_placeholder_is_refused(client, admin, post):
    response = post(
        "/admin/canned/new",
        {"desk_id": "0", "language": "en", "title": "T", "body": "Hello {name}, {ticket_number}"},
    )
    assert response.status_code == 400
    assert "Unknown placeholder {name}" in response.get_data(as_text=True)


def test_language_must_be_japanese_or_english(client, admin, post):
    response = post(
        "/admin/canned/new", {"desk_id": "0", "language": "fr", "title": "T", "body": "Bonjour"}
    )
    assert response.status_code == 400
    assert "Not a valid choice" in response.get_data(as_text=True)
