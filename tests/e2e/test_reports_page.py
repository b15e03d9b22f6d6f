"""The report page in a real browser: charts drawn under the CSP, no console errors."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from helpdesk.extensions import db
from helpdesk.models import Role
from tests.conftest import make_app
from tests.integration.helpdesk.reports.test_figures import build_known_data
from tests.support.browser import screenshot
from tests.support.factories import PASSWORD, Factories

QUERY = "date_from=2025-12-01&date_to=2026-01-31"
MANAGER = "manager@support.example.test"


@pytest.fixture
def report_app(tmp_path: Path) -> Iterator[Flask]:
    """An app on its own SQLite file (the server thread needs committed data), seeded."""
    from flask_migrate import upgrade

    app = make_app(f"sqlite:///{tmp_path / 'reports.sqlite3'}", tmp_path / "instance")
    with app.app_context():
        upgrade()
        make = Factories(db.session)
        build_known_data(make)
        make.user(Role.MANAGER, email=MANAGER, name="Manager Suzuki")
        db.session.commit()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _sign_in(page: Any, base: str) -> None:
    page.goto(f"{base}/auth/login")
    page.fill("input[name=email]", MANAGER)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def test_count_axes_tick_whole_numbers_and_an_empty_chart_says_so(
    page: Any, serve_wsgi: Callable[[Any], str], report_app: Flask
) -> None:
    base = serve_wsgi(report_app)
    _sign_in(page, base)
    page.goto(f"{base}/reports/?{QUERY}")
    # The count axes' tick labels as Chart.js drew them: whole numbers only (a backlog of a
    # few tickets used to get 0, 0.5, 1, 1.5 ...).
    for name in ("volume", "backlog_age"):
        labels = page.evaluate(
            "name => window.Chart.getChart(document.querySelector(`canvas[data-chart=${name}]`))"
            ".scales.y.ticks.map(tick => tick.label)",
            name,
        )
        assert len(labels) >= 2, name
        assert all(re.fullmatch(r"\d[\d,]*", str(label)) for label in labels), (name, labels)

    # A period without tickets: each chart says so in words rather than drawing empty axes.
    page.goto(f"{base}/reports/?date_from=2024-01-01&date_to=2024-01-31")
    empty = page.locator("figure.chart.empty .no-data")
    assert empty.count() == 3
    assert all(empty.nth(i).is_visible() for i in range(3))
    assert set(empty.all_inner_texts()) == {"No data for this period."}
    assert page.locator("figure.chart canvas").count() == 0
    screenshot(page, "reports-empty")


def test_report_page_draws_its_charts(
    page: Any, serve_wsgi: Callable[[Any], str], report_app: Flask
) -> None:
    problems: list[str] = []

    def on_console(message: Any) -> None:
        # Chromium asks for /favicon.ico on its own; the app has none (not a page error).
        if message.type == "error" and not message.location.get("url", "").endswith(".ico"):
            problems.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(str(error)))
    base = serve_wsgi(report_app)

    _sign_in(page, base)
    page.goto(f"{base}/reports/?{QUERY}&lang=ja")

    assert page.locator("h1").inner_text().startswith("レポート")
    # The page shows one SLA grouping at a time: by desk first, with its compliance chart.
    assert page.locator("#sla_by_desk").count() == 1
    assert page.locator("#sla_by_agent").count() == 0
    _assert_drawn(page, ("volume", "compliance", "backlog_age"))
    page.click(".report-tabs a:has-text('週別SLA')")
    page.wait_for_load_state()
    assert page.locator("#sla_by_week").count() == 1
    assert page.locator("#sla_by_desk").count() == 0
    _assert_drawn(page, ("trend", "volume", "backlog_age"))
    assert page.locator("#breaches a[href^='/tickets/']").count() == 4
    path = screenshot(page, "reports")
    assert path.stat().st_size > 10_000
    assert problems == []


def _assert_drawn(page: Any, names: tuple[str, ...]) -> None:
    """Each named chart has a sizeable canvas that Chart.js drew on."""
    for name in names:
        canvas = page.locator(f"canvas[data-chart={name}]")
        box = canvas.bounding_box()
        assert box is not None and box["width"] > 100 and box["height"] > 100, name
        drawn = page.evaluate(
            "name => Boolean(window.Chart && window.Chart.getChart("
            "document.querySelector(`canvas[data-chart=${name}]`)))",
            name,
        )
        assert drawn, name
