"""Error pages speak the reader's language, keep their status and headers, show the app's own
reasons and never Werkzeug's English; the probes, /metrics and the heartbeat get no page."""

import logging
import re

import pytest
from flask import flash
from werkzeug.exceptions import BadRequest, SecurityError

from helpdesk import errors
from helpdesk.extensions import limiter
from helpdesk.models import Role
from tests.conftest import make_app
from tests.support.factories import PASSWORD

JA = {"Accept-Language": "ja,en;q=0.5", "Accept": "text/html,*/*;q=0.8"}
EN = {"Accept-Language": "en-GB,en;q=0.9", "Accept": "text/html,*/*;q=0.8"}
TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
# What Werkzeug and the extensions would have said, in English.
WERKZEUG_WORDS = (
    "Bad Request",
    "CSRF token",
    "Forbidden",
    "Not Found",
    "Method Not Allowed",
    "Too Many Requests",
    "per 1 minute",
    "Internal Server Error",
    "Request Entity Too Large",
    "The requested URL",
    "The server",
)


@pytest.fixture(autouse=True)
def _fresh_limits(app):
    limiter.reset()


def _text(response):
    return response.get_data(as_text=True)


def _no_werkzeug_english(page):
    assert not [words for words in WERKZEUG_WORDS if words in page], page


def _japanese_page(response, status, title):
    assert response.status_code == status
    assert response.mimetype == "text/html"
    page = _text(response)
    assert '<html lang="ja">' in page
    assert f"<h1>{title}</h1>" in page
    assert "ヘルプデスク" in page  # the site's layout, not the minimal page
    _no_werkzeug_english(page)
    return page


def test_a_missing_page_is_japanese_in_the_layout(client):
    page = _japanese_page(client.get("/no/such/page", headers=JA), 404, "ページが見つかりません")
    assert "アドレスを確認" in page and "404" in page


def test_another_desks_ticket_is_a_japanese_404_with_the_navigation(client, make, login_as):
    agent = make.user(Role.AGENT, desks=[make.desk()])
    ticket = make.ticket(desk=make.desk(name="Other desk"))
    login_as(agent)
    page = _japanese_page(
        client.get(f"/tickets/{ticket.id}", headers=JA), 404, "ページが見つかりません"
    )
    assert agent.name in page and "ログアウト" in page  # signed in: the navigation is there


def test_a_forbidden_page_is_japanese(client, make, login_as):
    login_as(make.user(Role.AGENT))
    page = _japanese_page(client.get("/admin/", headers=JA), 403, "許可されていません")
    assert "管理者" in page


def test_a_form_posted_without_its_csrf_token_says_it_expired(client, make, app):
    assert app.config["WTF_CSRF_ENABLED"]
    user = make.user()
    response = client.post(
        "/auth/login", data={"email": user.email, "password": PASSWORD}, headers=JA
    )
    page = _japanese_page(response, 400, "フォームの有効期限が切れていました")
    assert "再読み込み" in page


def test_a_wrong_method_is_japanese_and_keeps_allow(client):
    response = client.delete("/auth/login", headers=JA)
    _japanese_page(response, 405, "この方法では操作できません")
    assert set(response.headers["Allow"].split(", ")) >= {"GET", "POST"}


def test_too_many_sign_ins_is_japanese_and_keeps_retry_after(client, make, app):
    user = make.user()
    limit = int(app.config["LOGIN_RATE_LIMIT"].split()[0])
    for _ in range(limit + 1):
        token = TOKEN.search(_text(client.get("/auth/login"))).group(1)
        form = {"email": user.email, "password": "wrong", "csrf_token": token}
        response = client.post("/auth/login", data=form, headers=JA)
    page = _japanese_page(response, 429, "試行回数が多すぎます")
    retry_after = int(response.headers["Retry-After"])
    assert 0 < retry_after <= 60
    assert f"{retry_after} 秒後にもう一度お試しいただけます" in page


def test_too_large_a_form_gives_the_limit(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 2 * 1024 * 1024)
    body = {"question": "x" * (2 * 1024 * 1024 + 1)}
    response = client.post("/enquiry/system", data=body, headers=JA)
    page = _japanese_page(response, 413, "サイズ超過")
    assert "上限は 2.0 MB です。" in page


def test_the_apps_own_reason_is_shown(client):
    response = client.get("/auth/login?q=a%00b", headers=JA)
    page = _japanese_page(response, 400, "リクエストを受け付けられませんでした")
    assert "NUL" in page and "U+0000" in page


@pytest.mark.parametrize(
    ("error", "shown"),
    [
        (BadRequest("Gründe der App"), True),
        (BadRequest(), False),
        (SecurityError("Host 'evil.example' is not trusted."), False),
    ],
)
def test_only_the_apps_own_reason_is_shown(app, error, shown):
    with app.test_request_context(headers=JA):
        _title, explanation = errors.explain(error)
    assert (explanation == error.description) is shown


def test_an_english_browser_gets_english(client, make, login_as):
    page = _text(client.get("/no/such/page", headers=EN))
    assert '<html lang="en">' in page and "<h1>Page not found</h1>" in page
    user = make.user()
    response = client.post("/auth/login", data={"email": user.email}, headers=EN)
    assert response.status_code == 400
    page = _text(response)
    assert "<h1>The form had expired</h1>" in page and "reload the page" in page
    assert "CSRF" not in page


def test_a_signed_in_users_saved_language_wins(client, make, login_as):
    login_as(make.user(Role.AGENT, locale="ja"))
    page = _text(client.get("/no/such/page", headers=EN))
    assert "<h1>ページが見つかりません</h1>" in page


@pytest.fixture
def failing_app(app, tmp_path):
    """An app with a route that raises, which lets Flask answer the exception with a 500 as
    in production (the session's app lets exceptions reach the tests)."""
    application = make_app(
        app.config["SQLALCHEMY_DATABASE_URI"], tmp_path / "instance", PROPAGATE_EXCEPTIONS=False
    )

    @application.get("/test/boom")
    def boom():
        flash("Saved.")
        raise RuntimeError("secret detail of the failure")

    return application


def test_an_unexpected_exception_is_a_logged_japanese_500_without_the_traceback(
    failing_app, caplog
):
    caplog.set_level(logging.ERROR)
    response = failing_app.test_client().get("/test/boom", headers=JA)
    page = _japanese_page(response, 500, "エラーが発生しました")
    assert "記録されています" in page
    assert "secret detail" not in page and "Traceback" not in page
    assert "Saved." not in page  # what the view flashed was not kept
    logged = [r for r in caplog.records if r.exc_info and "secret detail" in str(r.exc_info[1])]
    assert logged, "the exception was not logged with its traceback"


def test_when_the_layout_fails_a_minimal_page_still_speaks_japanese(failing_app, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("the layout is broken")

    monkeypatch.setattr(errors, "render_template", broken)
    response = failing_app.test_client().get("/test/boom", headers=JA)
    assert response.status_code == 500
    page = _text(response)
    assert '<html lang="ja">' in page and "<h1>エラーが発生しました</h1>" in page
    _no_werkzeug_english(page)


def test_when_the_user_cannot_be_loaded_the_browsers_language_is_used(failing_app, monkeypatch):
    from helpdesk.extensions import login_manager

    def database_down(session_id):
        raise RuntimeError("the database is down")

    monkeypatch.setattr(login_manager, "_user_callback", database_down)
    client = failing_app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = "1:0"
    response = client.get("/test/boom", headers=JA)
    assert response.status_code == 500
    page = _text(response)
    assert '<html lang="ja">' in page and "<h1>エラーが発生しました</h1>" in page


@pytest.mark.parametrize(
    ("method", "url", "status"),
    [("post", "/healthz", 405), ("post", "/readyz", 405), ("post", "/metrics", 405)],
)
def test_the_probes_and_metrics_get_no_page(client, method, url, status):
    response = getattr(client, method)(url, headers=JA)
    assert response.status_code == status
    assert response.mimetype == "application/json"
    assert response.json["status"] == "error" and response.json["code"] == status
    assert "Allow" in response.headers


def test_the_heartbeat_gets_json_not_a_page(client, make, login_as):
    agent = make.user(Role.AGENT, desks=[make.desk()])
    ticket = make.ticket(desk=make.desk(name="Other desk"))
    login_as(agent)
    token = re.search(r'name="csrf-token" content="([^"]+)"', _text(client.get("/"))).group(1)
    response = client.post(f"/tickets/{ticket.id}/presence", data={"csrf_token": token}, headers=JA)
    assert response.status_code == 404
    assert response.json["message"] == "ページが見つかりません"
    assert response.json["status"] == "error" and response.json["code"] == 404
    missing_token = client.post(f"/tickets/{ticket.id}/presence", headers=JA)
    assert missing_token.status_code == 400 and missing_token.mimetype == "application/json"


def test_a_client_that_prefers_json_gets_json(client):
    response = client.get("/no/such/page", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert response.json["message"] == "Page not found"
    assert "Check the address" in response.json["detail"]


def test_security_headers_stay_on_error_pages(client):
    response = client.get("/no/such/page", headers=JA)
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
