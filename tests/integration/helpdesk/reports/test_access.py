"""Who may see the reports: managers and admins; agents get 403, strangers the sign-in page."""

import pytest

from helpdesk.models import Role

URLS = ["/reports/", "/reports/sla_by_desk.csv", "/reports/report.xlsx", "/reports/report.json"]


@pytest.mark.parametrize("url", URLS)
def test_anonymous_is_sent_to_sign_in(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/login")


@pytest.mark.parametrize("url", URLS)
def test_an_agent_is_refused(client, make, login_as, url):
    desk = make.desk()
    login_as(make.user(Role.AGENT, desks=[desk]))
    assert client.get(url).status_code == 403


@pytest.mark.parametrize("role", [Role.MANAGER, Role.ADMIN])
def test_managers_and_admins_see_the_page(client, make, login_as, role):
    make.desk(name="System operation helpdesk")
    login_as(make.user(role))
    response = client.get("/reports/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "SLA by desk" in page
    assert "System operation helpdesk" in page
    assert "Content-Security-Policy" in response.headers


def test_the_page_speaks_japanese_on_request(client, make, login_as):
    login_as(make.user(Role.MANAGER))
    page = client.get("/reports/?lang=ja").get_data(as_text=True)
    assert "窓口別SLA" in page and "レポート全体をダウンロード" in page


def test_the_page_follows_the_readers_language_unless_asked(client, make, login_as):
    login_as(make.user(Role.MANAGER))
    japanese = client.get("/reports/", headers={"Accept-Language": "ja"}).get_data(as_text=True)
    assert "窓口別SLA" in japanese and '<option selected value="ja">' in japanese
    english = client.get("/reports/?lang=en", headers={"Accept-Language": "ja"})
    assert "SLA by desk" in english.get_data(as_text=True)
    assert "SLA by desk" in client.get("/reports/").get_data(as_text=True)  # no preference: en
