"""``flask --app helpdesk report sla``: the SLA report as CSV, XLSX or JSON."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import select

from helpdesk.extensions import db, mark_read_only
from helpdesk.models import Desk
from helpdesk.reports import export, services

report = AppGroup("report", help="Managers' reports.")


def _desk_ids(slugs: tuple[str, ...]) -> tuple[int, ...] | None:
    """Desk ids for slugs (None: every desk); unknown slugs are an error."""
    if not slugs:
        return None
    desks = db.session.execute(select(Desk.slug, Desk.id).where(Desk.slug.in_(slugs))).all()
    found = dict(desks)
    unknown = sorted(set(slugs) - set(found))
    if unknown:
        raise click.BadParameter(f"unknown desk(s): {', '.join(unknown)}", param_hint="--desk")
    return tuple(sorted(found.values()))


@report.command("sla")
@click.option("--desk", "desk_slugs", multiple=True, help="Desk slug; repeat for several.")
@click.option("--from", "date_from", type=click.DateTime(["%Y-%m-%d"]), required=True)
@click.option("--to", "date_to", type=click.DateTime(["%Y-%m-%d"]), required=True)
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx", "json"]), default="csv")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.option("--lang", type=click.Choice(services.LANGUAGES), default="en", show_default=True)
def sla_command(
    desk_slugs: tuple[str, ...],
    date_from: datetime,
    date_to: datetime,
    fmt: str,
    output: Path | None,
    lang: str,
) -> None:
    """SLA report for desk-local dates FROM..TO: CSV by every dimension, or the whole report."""
    if date_to < date_from:
        raise click.BadParameter("the period ends before it starts", param_hint="--to")
    if fmt == "xlsx" and output is None:
        raise click.UsageError("--format xlsx needs --output FILE")
    mark_read_only()
    req = services.ReportRequest(date_from.date(), date_to.date(), _desk_ids(desk_slugs), lang)
    result = services.build_report(req)
    if fmt == "csv":
        body: bytes = export.table_csv(export.sla_table(result))
    elif fmt == "xlsx":
        body = export.report_xlsx(result)
    else:
        body = export.report_json(result).encode("utf-8")
    if output is None:
        click.echo(body.decode("utf-8").removeprefix(export.BOM), nl=False)
    else:
        output.write_bytes(body)
        click.echo(f"wrote {output}", err=True)


def register(app: Flask) -> None:
    """Attach the ``report`` command group to ``flask --app helpdesk``."""
    app.cli.add_command(report)
