"""Two-step sign-in with TOTP: set up with a confirming code, then asked for at every sign-in."""

import html
import re
from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree

import pyotp
import pytest
from sqlalchemy import select

from helpdesk import clock
from helpdesk.auth.services import totp_qr_svg
from helpdesk.models import AuditEvent
from tests.support.factories import PASSWORD

from .conftest import csrf_token


def _secret(page):
    return re.search(r'<code class="secret-once">([A-Z2-7]+)</code>', page).group(1)


def _codes(page):
    return re.findall(r"<li><code>([A-Z2-7]{5}-[A-Z2-7]{5})</code></li>", page)


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
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert user.totp_secret == secret
    codes = _codes(response.get_data(as_text=True))
    assert len(codes) == len(set(codes)) == 10
    assert len(user.totp_recovery_hashes) == 10
    assert not set(codes) & set(user.totp_recovery_hashes)  # only hashes are kept
    on = client.get("/auth/totp").get_data(as_text=True)
    assert "Two-step sign-in is on" in on and "10 unused recovery codes left." in on
    assert codes[0] not in on  # shown once only


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
    assert response.status_code == 400
    assert "The code is wrong or has expired" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302

    response = post("/auth/login/code", {"code": authenticator.now()})
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    assert account.last_login_at is not None


def test_wrong_password_never_reaches_the_code_step(client, enrolled, sign_in):
    account, _ = enrolled
    assert sign_in(account.email, "wrong password").status_code == 400
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


@pytest.fixture
def with_codes(make, db_session):
    """A user with two-step sign-in on and ten recovery codes."""
    from helpdesk.auth.services import new_recovery_codes

    account = make.user(totp_secret=pyotp.random_base32())
    return account, new_recovery_codes(account)


def test_a_recovery_code_signs_in_once(client, with_codes, post, sign_in, db_session):
    account, codes = with_codes
    sign_in(account.email, PASSWORD)
    response = post("/auth/login/code", {"code": codes[3].lower().replace("-", "")})
    assert response.status_code == 302
    assert "You signed in with a recovery code; 9 left" in client.get("/").get_data(as_text=True)
    assert len(account.totp_recovery_hashes) == 9
    used = db_session.scalars(
        select(AuditEvent).where(AuditEvent.action == "auth.recovery_code_used")
    ).all()
    assert [e.detail["left"] for e in used] == [9]

    post("/auth/logout", page="/auth/account")
    sign_in(account.email, PASSWORD)
    again = post("/auth/login/code", {"code": codes[3]})
    assert again.status_code == 400
    assert "The code is wrong or has expired" in again.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_a_malformed_code_says_what_a_code_looks_like(client, with_codes, post, sign_in):
    account, _ = with_codes
    sign_in(account.email, PASSWORD)
    page = post("/auth/login/code", {"code": "12345"}).get_data(as_text=True)
    assert "The code is 6 digits; a recovery code is 10 letters and digits." in page


def test_renewing_codes_needs_the_password_and_retires_the_old_ones(
    client, with_codes, post, login_as, sign_in
):
    account, old = with_codes
    login_as(account)
    wrong = post("/auth/totp/recovery-codes", {"password": "not it"}, page="/auth/totp")
    assert "The password is wrong." in wrong.get_data(as_text=True)
    response = post("/auth/totp/recovery-codes", {"password": PASSWORD}, page="/auth/totp")
    assert response.headers["Cache-Control"] == "no-store"
    new = _codes(response.get_data(as_text=True))
    assert len(new) == 10 and not set(new) & set(old)

    post("/auth/logout", page="/auth/account")
    sign_in(account.email, PASSWORD)
    assert post("/auth/login/code", {"code": old[0]}).status_code == 400
    assert post("/auth/login/code", {"code": new[0]}).status_code == 302


def test_turning_two_step_off_drops_the_recovery_codes(client, with_codes, post, login_as):
    account, _ = with_codes
    login_as(account)
    assert post("/auth/totp/disable", {"password": PASSWORD}, page="/auth/totp").status_code == 302
    assert account.totp_secret is None and account.totp_recovery_hashes is None
