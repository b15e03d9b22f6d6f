"""Two-step sign-in with TOTP: set up with a confirming code, then asked for at every sign-in."""

import html
import re
from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree

import pyotp
import pytest

from helpdesk import clock
from helpdesk.auth.services import totp_qr_svg
from tests.support.factories import PASSWORD

from .conftest import csrf_token


def _secret(page):
    return re.search(r'<code class="secret-once">([A-Z2-7]+)</code>', page).group(1)


def _wrong(code):
    return f"{(int(code) + 500000) % 1000000:06d}"


@pytest.fixture
def user(make, login_as):
    account = make.user()
    login_as(account)
    return account


@pytest.fixture
def enrolled(make):
    """A user with two-step sign-in on, and their authenticator."""
    secret = pyotp.random_base32()
    return make.user(totp_secret=secret), pyotp.TOTP(secret)


def test_enable_shows_the_secret_and_uri_and_needs_a_code(client, user, post):
    page = client.get("/auth/totp")
    assert page.headers["Cache-Control"] == "no-store"
    text = page.get_data(as_text=True)
    secret = _secret(text)
    assert "otpauth://totp/" in text and f"secret={secret}" in text
    assert client.get("/auth/totp").get_data(as_text=True).count(secret) >= 1  # same secret kept

    code = pyotp.TOTP(secret).now()
    response = post("/auth/totp", {"code": _wrong(code)})
    assert "The code does not match" in response.get_data(as_text=True)
    assert user.totp_secret is None

    response = post("/auth/totp", {"code": code})
    assert response.status_code == 302
    assert user.totp_secret == secret
    assert "Two-step sign-in is on" in client.get("/auth/totp").get_data(as_text=True)


def test_setup_page_shows_the_key_as_a_qr_code_until_it_is_in_use(client, user, post):
    text = client.get("/auth/totp").get_data(as_text=True)
    assert '<img src="/auth/totp/qr.svg"' in text
    uri = html.unescape(re.search(r'<a href="(otpauth://[^"]+)"', text).group(1))
    qr = client.get("/auth/totp/qr.svg")
    assert qr.status_code == 200 and qr.headers["Cache-Control"] == "no-store"
    assert qr.mimetype == "image/svg+xml"
    assert ElementTree.fromstring(qr.data).tag.endswith("svg")
    assert qr.data == totp_qr_svg(uri)  # the URI of the secret on the page, not another
    assert qr.data != totp_qr_svg(uri.replace(_secret(text), pyotp.random_base32()))

    post("/auth/totp", {"code": pyotp.TOTP(_secret(text)).now()})
    assert user.totp_secret is not None
    assert client.get("/auth/totp/qr.svg").status_code == 404  # a key in use is never shown


def test_sign_in_asks_for_the_code_before_signing_in(client, enrolled, post, sign_in):
    account, authenticator = enrolled
    response = sign_in(account.email, PASSWORD)
    assert response.status_code == 302 and response.headers["Location"] == "/auth/login/code"
    assert client.get("/").status_code == 302  # not signed in yet

    response = post("/auth/login/code", {"code": _wrong(authenticator.now())})
    assert response.status_code == 200
    assert "The code is wrong or has expired" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302

    response = post("/auth/login/code", {"code": authenticator.now()})
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    assert account.last_login_at is not None


def test_wrong_password_never_reaches_the_code_step(client, enrolled, sign_in):
    account, _ = enrolled
    assert sign_in(account.email, "wrong password").status_code == 200
    response = client.get("/auth/login/code")
    assert response.status_code == 302 and response.headers["Location"] == "/auth/login"


def test_code_step_expires(client, enrolled, sign_in):
    account, authenticator = enrolled
    sign_in(account.email, PASSWORD)
    later = datetime.now(UTC) + timedelta(minutes=6)
    clock.set_now_source(lambda: later)
    try:
        response = client.get("/auth/login/code")
        assert response.status_code == 302 and response.headers["Location"] == "/auth/login"
        token = csrf_token(client, "/auth/login")
        response = client.post(
            "/auth/login/code", data={"code": authenticator.at(later), "csrf_token": token}
        )
        assert response.headers["Location"] == "/auth/login"
    finally:
        clock.set_now_source(None)
    assert client.get("/").status_code == 302


def test_next_is_kept_through_the_code_step(client, enrolled, post):
    account, authenticator = enrolled
    response = post(
        "/auth/login?next=/admin/",
        {"email": account.email, "password": PASSWORD},
        page="/auth/login",
    )
    assert response.headers["Location"] == "/auth/login/code"
    response = post("/auth/login/code", {"code": authenticator.now()})
    assert response.headers["Location"] == "/admin/"


def test_disable_needs_the_password(client, enrolled, login_as, post):
    account, _ = enrolled
    login_as(account)
    response = post("/auth/totp/disable", {"password": "wrong"}, page="/auth/totp")
    assert "The password is wrong." in response.get_data(as_text=True)
    assert account.totp_secret is not None
    response = post("/auth/totp/disable", {"password": PASSWORD}, page="/auth/totp")
    assert response.status_code == 302 and account.totp_secret is None


def test_code_step_needs_the_csrf_token(client, enrolled, sign_in):
    account, authenticator = enrolled
    sign_in(account.email, PASSWORD)
    response = client.post("/auth/login/code", data={"code": authenticator.now()})
    assert response.status_code == 400
    assert client.get("/").status_code == 302


def test_a_code_is_never_accepted_twice(client, enrolled, post, sign_in):
    from helpdesk.auth.services import accept_totp_code

    account, authenticator = enrolled
    code = authenticator.now()
    sign_in(account.email, PASSWORD)
    assert post("/auth/login/code", {"code": code}).status_code == 302
    assert account.totp_last_counter == authenticator.timecode(clock.now())
    # Someone who watched the code being typed cannot use it again within its window.
    assert not accept_totp_code(account, code)
