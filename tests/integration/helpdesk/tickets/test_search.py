"""Search: numbers, subjects, bodies, requesters, organisations; Japanese; short queries."""

from __future__ import annotations

import re

import pytest

from helpdesk.models import Direction, Message


def _found(client, query: str) -> list[str]:
    page = client.get("/search", query_string={"q": query}).get_data(as_text=True)
    return re.findall(r'<td><a href="/tickets/\d+">([A-Z]+-\d{4}-\d+)</a></td>', page)


@pytest.fixture
def tickets(staff, enquiry, db_session):
    login = enquiry(
        staff.desk, subject="ログインできません", text="電子届出システムにログインできません。"
    )
    school = enquiry(
        staff.desk,
        subject="Report question",
        text="告示基準の報告について教えてください。",
        organisation="さくら日本語学校",
        requester_name="Jane Doe",
        requester_email="jane@school.example",
    )
    elsewhere = enquiry(staff.other_desk, subject="ログインの件", text="別の窓口")
    return login, school, elsewhere


def test_search_by_subject_body_organisation_requester_and_number(tickets, staff, login_as, client):
    login, school, _elsewhere = tickets
    login_as(staff.agent)
    assert _found(client, "ログイン") == [login.number]
    assert _found(client, "電子届出") == [login.number]
    assert _found(client, "告示基準") == [school.number]
    assert _found(client, "日本語学校") == [school.number]
    assert _found(client, "jane@school") == [school.number]
    assert _found(client, "JANE doe") == [school.number]
    assert _found(client, school.number) == [school.number]
    assert _found(client, "見つからない言葉") == []


def test_one_or_two_characters_fall_back_to_a_scan(tickets, staff, login_as, client):
    login, school, _elsewhere = tickets
    login_as(staff.agent)
    assert _found(client, "届出") == [login.number]
    assert _found(client, "基準") == [school.number]
    assert _found(client, "ませ") == [login.number]


def test_wildcards_are_literal(tickets, staff, login_as, client):
    login_as(staff.agent)
    assert _found(client, "%") == [] and _found(client, "_") == []


def test_results_are_scoped_to_the_desks_the_user_reads(tickets, staff, sign_in, client):
    login, _school, elsewhere = tickets
    sign_in(staff.other_agent)
    assert _found(client, "ログイン") == [elsewhere.number]
    sign_in(staff.agent)
    assert elsewhere.number not in _found(client, "ログイン")


def test_new_messages_and_changed_fields_are_found(tickets, staff, login_as, client, db_session):
    login, _school, _elsewhere = tickets
    db_session.add(Message(ticket_id=login.id, direction=Direction.NOTE, text="再発防止メモ"))
    login.organisation = "みどり商事"
    db_session.flush()
    login_as(staff.agent)
    assert _found(client, "再発防止") == [login.number]
    assert _found(client, "みどり商事") == [login.number]


@pytest.fixture
def many(staff, enquiry):
    """Tickets on two desks, the word in subjects, bodies and organisations, others without it."""
    specs = [
        (staff.desk, {"subject": "ログインできません", "text": "本文"}),
        (staff.other_desk, {"subject": "ログインの件", "text": "別の窓口"}),
        (staff.desk, {"subject": "名称変更", "text": "報告の方法"}),
        (staff.desk, {"subject": "質問", "text": "昨日からログインできない"}),
        (staff.desk, {"subject": "質問", "text": "本文", "organisation": "ログイン商事"}),
        (staff.other_desk, {"subject": "質問", "text": "ログインの件"}),
        (staff.desk, {"subject": "所在地変更", "text": "届出の方法"}),
        (staff.desk, {"subject": "ログイン", "text": "本文"}),
        (staff.desk, {"subject": "質問", "text": "本文"}),
    ]
    return [enquiry(desk, **values) for desk, values in specs]


def test_the_recent_window_and_the_indexes_give_the_newest_matches(many, staff, db_session):
    """Whatever the window, the answer is the one-statement search's (the indexes alone)."""
    from helpdesk.tickets.search import find_tickets, search_tickets

    dialect = db_session.get_bind().dialect.name
    for window in (1, 2, 3, 5, 50):
        for limit in (1, 2, 3, 50):
            for user in (staff.agent, staff.other_agent, staff.manager):
                expected = db_session.scalars(search_tickets("ログイン", user, dialect, limit))
                found = find_tickets("ログイン", user, limit=limit, window=window)
                assert [t.id for t in found] == [t.id for t in expected], (window, limit, user)
        mine = [t.number for t in find_tickets("ログイン", staff.agent, window=window)]
        assert mine == [many[i].number for i in (7, 4, 3, 0)]


def test_no_query_runs_once_per_result(many, staff, login_as, client, statements_of):
    login_as(staff.agent)
    assert len(_found(client, "ログイン")) == 4
    run = statements_of("/search?q=ログイン")
    assert len(run) == len(set(run)), run
