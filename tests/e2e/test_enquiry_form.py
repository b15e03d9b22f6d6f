"""The public enquiry form in a real browser (Debian's Chromium driven by Playwright)."""

import re

from playwright.sync_api import expect
from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.models import Channel, Ticket
from helpdesk.seed import seed_demo
from tests.support.browser import screenshot


def test_a_resident_sends_an_enquiry_from_the_web_form(committed_app, serve_wsgi, page):
    with committed_app.app_context():
        seed_demo()
        db.session.commit()
    base = serve_wsgi(committed_app)
    page.goto(f"{base}/enquiry/ssw")
    proposed = page.input_value("#environment")
    assert "Linux" in proposed  # proposed from Chromium's own User-Agent

    page.fill("#name", "グエン・ヴァン・アン")
    page.fill("#email", "nguyen@example.org")
    page.fill("#organisation", "株式会社サンプル登録支援")
    page.fill("#subject", "特定技能の届出について")
    page.fill("#question", "電子届出システムで届出を送信できません。どうすればよいですか。")
    page.click("button[type=submit]")
    expect(page.locator(".field.invalid")).to_have_count(1)  # contact was left empty
    expect(page.locator(".field.invalid #contact")).to_have_count(1)
    expect(page.locator("text=This field is required.")).to_have_count(1)
    screenshot(page, "enquiry-form-error")

    page.fill("#contact", "090-1234-5678")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/enquiry/ssw/received/HD-\d{4}-\d{6}$"))
    number = page.locator(".ticket-number strong").inner_text()
    screenshot(page, "enquiry-received")

    with committed_app.app_context():
        ticket = db.session.scalar(select(Ticket).where(Ticket.number == number))
        assert ticket.channel is Channel.WEB and ticket.desk.slug == "ssw"
        assert ticket.language == "ja" and ticket.contact == "090-1234-5678"
        assert ticket.env_os_family == "Linux"
        db.session.remove()
