"""Ids past the database's integer range are unknown ids: 404, never a 500."""

import pytest
from werkzeug.routing import IntegerConverter

from helpdesk.models import Role

# The first id PostgreSQL's INTEGER cannot hold, one BIGINT cannot hold, and one SQLite
# cannot hold either (its integers are 64-bit).
TOO_BIG = ["2147483648", "9223372036854775808", "99999999999999999999"]


def _get_rules(app):
    for rule in app.url_map.iter_rules():
        ints = [
            name for name, conv in rule._converters.items() if isinstance(conv, IntegerConverter)
        ]
        if ints and "GET" in rule.methods:
            yield rule, ints


def test_every_page_with_an_id_in_its_path_is_covered(app):
    assert len(list(_get_rules(app))) >= 10  # the routes below are really enumerated


@pytest.mark.parametrize("value", TOO_BIG)
def test_an_id_past_the_integer_range_is_not_found(app, client, make, login_as, value):
    login_as(make.user(Role.ADMIN))
    for rule, ints in _get_rules(app):
        path = rule.rule
        for name in ints:
            path = path.replace(f"<int:{name}>", value)
        path = path.replace("<", "").replace(">", "")  # other parts: any word
        assert client.get(path).status_code == 404, path


@pytest.mark.parametrize("value", TOO_BIG)
def test_ids_past_the_range_in_query_strings_are_harmless(client, make, login_as, value):
    login_as(make.user(Role.ADMIN))
    for path in (
        f"/?assignee={value}",
        f"/?after=n.{value}",
        f"/?after=1764032400000000.{value}",
        f"/admin/quarantine?before={value}",
    ):
        assert client.get(path).status_code in (200, 400), path


def test_a_bulk_change_naming_an_id_past_the_range_changes_only_real_tickets(
    client, make, login_as
):
    import re

    desk = make.desk()
    ticket = make.ticket(desk)
    login_as(make.user(Role.AGENT, desks=[desk]))
    token = re.search(r'name="csrf-token" content="([^"]+)"', client.get("/").get_data(True))
    response = client.post(
        "/tickets/bulk",
        data={
            "csrf_token": token.group(1),
            "ticket_ids": [str(ticket.id), TOO_BIG[0], TOO_BIG[2]],
            "assignee": "",
            "status": "open",
            "next": "/",
        },
    )
    assert response.status_code == 302
    assert ticket.status.value == "open"
