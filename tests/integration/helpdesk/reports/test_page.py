"""The report page as a manager reads it: the period in the date inputs, charts that say when
they have nothing to show."""

from __future__ import annotations

import json
import re

import pytest

from helpdesk.models import Role
from tests.integration.helpdesk.reports.test_figures import build_known_data


def _inputs(html: str) -> dict[str, str]:
    """The value of each date input of the filter form."""
    return {
        name: value
        for name, value in re.findall(r'<input[^>]*name="(date_\w+)"[^>]*value="([^"]*)"', html)
    }


def _heading(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html.split("<h1>", 1)[1].split("</h1>")[0]).split())


@pytest.fixture
def manager(make, login_as, frozen_now):
    """A manager signed in on Wednesday 25 November 2026, 10:00 in Tokyo."""
    return login_as(make.user(Role.MANAGER))


@pytest.mark.parametrize(
    ("query", "shown"),
    [
        ("", ("2026-10-27", "2026-11-25")),  # the last 30 days up to today, by default
        ("?date_from=&date_to=", ("2026-10-27", "2026-11-25")),  # the form sent empty
        ("?date_to=2026-01-31", ("2026-01-02", "2026-01-31")),
        ("?date_from=2025-12-01&date_to=2026-01-31", ("2025-12-01", "2026-01-31")),
    ],
)
def test_the_date_inputs_show_the_period_of_the_heading(client, manager, query, shown):
    html = client.get("/reports/" + query).get_data(as_text=True)
    assert _inputs(html) == {"date_from": shown[0], "date_to": shown[1]}
    assert _heading(html) == f"Reports: {shown[0]} – {shown[1]}"


def test_a_chart_without_data_says_so(client, manager, make):
    build_known_data(make)
    html = client.get("/reports/?date_from=2024-01-01&date_to=2024-01-31").get_data(as_text=True)
    charts = html.split('<section class="charts">', 1)[1].split("</section>", 1)[0]
    assert "<canvas" not in charts
    assert charts.count('<p class="no-data">No data for this period.</p>') == 3
    for title in ("Opened, resolved and backlog per day", "SLA met and breached by desk"):
        assert f"<figcaption>{title}</figcaption>" in charts
    japanese = client.get("/reports/?date_from=2024-01-01&date_to=2024-01-31&lang=ja")
    assert "この期間のデータはありません。" in japanese.get_data(as_text=True)

    html = client.get("/reports/?date_from=2025-12-01&date_to=2026-01-31").get_data(as_text=True)
    charts = html.split('<section class="charts">', 1)[1].split("</section>", 1)[0]
    assert charts.count("<canvas") == 3 and "no-data" not in charts


def test_count_charts_are_marked_for_whole_number_ticks(client, manager, make):
    build_known_data(make)
    html = client.get("/reports/?date_from=2025-12-01&date_to=2026-01-31").get_data(as_text=True)
    block = html.split('<script type="application/json" id="report-charts">', 1)[1]
    charts = json.loads(block.split("</script>", 1)[0])
    assert {name for name, chart in charts.items() if chart.get("counts")} == {
        "volume",
        "backlog_age",
    }
