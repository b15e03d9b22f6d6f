"""Benchmark the report downloads: a breaches table of many rows as CSV and as XLSX.

Run from the repository root:  .venv/bin/python bench/exports.py [--rows 1000 5000 20000]

Times are CPU seconds of this process (the best of three), which on a shared machine say what
one core does; rows per second shows whether the cost grows with the rows alone.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from helpdesk.reports import export  # noqa: E402
from helpdesk.reports.services import Report, ReportRequest, Row, Table  # noqa: E402

COLUMNS = ["number", "desk", "agent", "subject", "created", "breached", "fr_due", "fr_at"]


def breaches(rows: int) -> Report:
    """A report whose one table has ``rows`` breaches, each linked to its ticket; one in ten
    subjects looks like a formula."""
    table = Table("breaches", "Breaches", COLUMNS, COLUMNS)
    for i in range(rows):
        subject = f'=HYPERLINK("http://evil.example/?{i}","x")' if i % 10 == 0 else f"Login {i}"
        cells = [f"HD-2026-{i:06d}", "System desk", "Agent Aoki", subject]
        cells += ["2026-01-05 10:00", "first_response", "2026-01-06 10:00", None]
        table.rows.append(Row(cells, link=f"/tickets/{i}"))
    request = ReportRequest(date(2026, 1, 1), date(2026, 1, 31))
    return Report(
        request,
        "January",
        ["System desk"],
        datetime(2026, 2, 1, tzinfo=UTC),
        {"breaches": table},
        {},
    )


def best_cpu(call, report: Report) -> float:  # type: ignore[no-untyped-def]
    """The least CPU time of three runs."""
    times = []
    for _ in range(3):
        start = time.process_time()
        call(report)
        times.append(time.process_time() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1000, 5000, 20000])
    args = parser.parse_args()
    for rows in args.rows:
        report = breaches(rows)
        csv_s = best_cpu(lambda r: export.table_csv(r.tables["breaches"]), report)
        xlsx_s = best_cpu(export.report_xlsx, report)
        print(
            f"{rows:>6} rows: CSV {csv_s * 1000:7.0f} ms ({rows / csv_s:8.0f} rows/s); "
            f"XLSX {xlsx_s * 1000:7.0f} ms ({rows / xlsx_s:6.0f} rows/s)"
        )


if __name__ == "__main__":
    main()
