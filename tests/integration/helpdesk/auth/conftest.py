"""Fixtures for account security: forms posted with their CSRF token, fresh rate limits."""

import re

import pytest

TOKEN = re.compile(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"')


def csrf_token(client, page):
    """A CSRF token of this client's session, read from ``page``."""
    return TOKEN.search(client.get(page, follow_redirects=True).get_data(as_text=True)).group(1)


@pytest.fixture
def post(client):
    """POST a form with a CSRF token read from ``page`` (default: the form's own page)."""

    def send(path, data=None, page=None, **kwargs):
        payload = {"csrf_token": csrf_token(client, page or path), **(data or {})}
        return client.post(path, data=payload, **kwargs)

    return send


@pytest.fixture
def sign_in(client, post):
    """The first sign-in step through the real form."""

    def step_one(email, password):
        return post("/auth/login", {"email": email, "password": password})

    return step_one


@pytest.fixture(autouse=True)
def _fresh_limits(app):
    from helpdesk.extensions import limiter

    limiter.reset()
