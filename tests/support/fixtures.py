"""Pytest fixtures for the real servers the suite talks to (load as a plugin).

Use with ``-p tests.support.fixtures`` or ``pytest_plugins = ["tests.support.fixtures"]``.
Tests using the Dovecot fixtures get the ``dovecot`` marker and tests using the browser
fixtures the ``browser`` marker automatically, so ``-m "not browser"`` deselects them.
Missing binaries fail the test with a pointer to scripts/install-test-deps.sh; nothing skips.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest

from tests.support.browser import (
    INSTALL_HINT,
    find_chromium,
    launch_chromium,
    screenshot,
    serve_app,
)
from tests.support.dovecot import DovecotServer, find_dovecot
from tests.support.faultproxy import FaultProxy
from tests.support.smtp import SmtpSink

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication
    from playwright.sync_api import Browser, Page

__all__ = [
    "MailboxAccount",
    "browser",
    "dovecot",
    "dovecot_factory",
    "fault_proxy",
    "live_server",
    "mailbox_account",
    "page",
    "pytest_collection_modifyitems",
    "pytest_runtest_makereport",
    "serve_wsgi",
    "smtp_sink",
]

DOVECOT_FIXTURES = {"dovecot", "mailbox_account", "dovecot_factory"}
BROWSER_FIXTURES = {"browser", "page"}


@dataclass(frozen=True)
class MailboxAccount:
    """A fresh IMAP account on the test Dovecot."""

    address: str
    password: str
    host: str
    port: int


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark tests by the servers their fixtures need."""
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        if names & DOVECOT_FIXTURES and item.get_closest_marker("dovecot") is None:
            item.add_marker(pytest.mark.dovecot)
        if names & BROWSER_FIXTURES and item.get_closest_marker("browser") is None:
            item.add_marker(pytest.mark.browser)


_REPORTS = pytest.StashKey[dict[str, pytest.TestReport]]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Keep each phase's report on the item so fixtures can tell whether the test failed."""
    report = yield
    item.stash.setdefault(_REPORTS, {})[report.when] = report
    return report


def _test_failed(node: pytest.Item) -> bool:
    reports = node.stash.get(_REPORTS, {})
    return any(report.failed for report in reports.values())


def _require_dovecot() -> None:
    if find_dovecot() is None:
        pytest.fail(
            f"dovecot binary not found (package dovecot-imapd); {INSTALL_HINT}", pytrace=False
        )


@pytest.fixture(scope="session")
def dovecot() -> Iterator[DovecotServer]:
    """A Dovecot IMAP server shared by the session; add users with mailbox_account."""
    _require_dovecot()
    with DovecotServer() as server:
        yield server


@pytest.fixture
def dovecot_factory() -> Iterator[Callable[[], DovecotServer]]:
    """Start private Dovecot servers (for outage tests that stop/restart them)."""
    _require_dovecot()
    servers: list[DovecotServer] = []

    def start() -> DovecotServer:
        server = DovecotServer()
        servers.append(server)
        return server.start()

    yield start
    for server in servers:
        server.close()


@pytest.fixture
def mailbox_account(dovecot: DovecotServer) -> MailboxAccount:
    """A new user with its own empty mailbox on the session Dovecot."""
    token = uuid.uuid4().hex[:12]
    address = f"desk-{token}@example.test"
    password = f"pw-{token}"
    dovecot.add_user(address, password)
    return MailboxAccount(address=address, password=password, host=dovecot.host, port=dovecot.port)


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    """An SMTP server on 127.0.0.1 keeping every message it receives."""
    with SmtpSink() as sink:
        yield sink


@pytest.fixture
def fault_proxy() -> Iterator[Callable[[str, int], FaultProxy]]:
    """Start fault-injecting TCP proxies: fault_proxy(host, port) -> FaultProxy."""
    proxies: list[FaultProxy] = []

    def start(host: str, port: int) -> FaultProxy:
        proxy = FaultProxy(host, port)
        proxies.append(proxy)
        return proxy.start()

    yield start
    for proxy in proxies:
        proxy.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's chromium under Playwright, shared by the session."""
    if find_chromium() is None:
        pytest.fail(f"chromium not found (package chromium); {INSTALL_HINT}", pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A page in a fresh browser context; a failing test leaves a FAILED-*.png screenshot."""
    context = browser.new_context(locale="en-US", timezone_id="Asia/Tokyo")
    context.set_default_timeout(10_000)
    try:
        new_page = context.new_page()
        yield new_page
        if _test_failed(request.node) and not new_page.is_closed():
            screenshot(new_page, f"FAILED-{request.node.nodeid}")
    finally:
        context.close()


@pytest.fixture
def serve_wsgi() -> Iterator[Callable[[WSGIApplication], str]]:
    """Serve WSGI apps on 127.0.0.1 for the test: serve_wsgi(app) -> base URL."""
    with contextlib.ExitStack() as stack:
        yield lambda app: stack.enter_context(serve_app(app))


@pytest.fixture
def live_server(app: WSGIApplication) -> Iterator[str]:
    """The project's `app` fixture served on 127.0.0.1; yields its base URL."""
    with serve_app(app) as base_url:
        yield base_url
