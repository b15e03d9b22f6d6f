"""Fixtures for the admin pages: an admin signed in, and posting forms with their CSRF token."""

import re

import pytest

from helpdesk.models import Role

TOKEN = re.compile(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"')


def csrf_token(client, page="/auth/account"):
    """A CSRF token of this client's session, read from a page that has a form."""
    page = client.get(page, follow_redirects=True).get_data(as_text=True)
    return TOKEN.search(page).group(1)


@pytest.fixture
def admin(make, login_as):
    """An admin, signed in on the test client."""
    user = make.user(Role.ADMIN, name="Ada Admin")
    login_as(user)
    return user


@pytest.fixture
def post(client):
    """POST a form with a valid CSRF token."""

    def send(path, data=None, **kwargs):
        payload = {"csrf_token": csrf_token(client), **(data or {})}
        return client.post(path, data=payload, **kwargs)

    return send


@pytest.fixture(autouse=True)
def _fresh_limits(app):
    from helpdesk.extensions import limiter

    limiter.reset()
