"""Managers' report pages and downloads (managers and admins only)."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, Response, abort, render_template, request, url_for
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from helpdesk import clock, i18n
from helpdesk.access import role_required, visible_desks
from helpdesk.extensions import db, mark_read_only
from helpdesk.models import Role
from helpdesk.reports import export, services
from helpdesk.reports.forms import ReportForm, report_request, show_period
from helpdesk.reports.queries import DIMENSIONS

bp = Blueprint("reports", __name__, url_prefix="/reports")


@bp.before_request
def _reads_only() -> None:
    # Before the sign-in check loads the user: the request's first transaction is read-only.
    mark_read_only()


def _form() -> ReportForm:
    """The filter form filled from the query string, its desk choices set; the labels in the
    reader's language unless the query string asks for the other."""
    form = ReportForm(formdata=request.args, lang=i18n.current_language())
    desks: list[Any] = list(db.session.scalars(visible_desks(current_user)))
    lang = i18n.current_language()
    form.desk.choices = [SelectChoice(desk.id, desk.name_in(lang)) for desk in desks]
    return form


def _today() -> date:
    """Today in the desks' timezone."""
    local = clock.to_desk_time(clock.now(), services.report_timezone())
    assert local is not None  # now() always has a value
    return local.date()


def _request_or_400() -> services.ReportRequest:
    form = _form()
    if not form.validate():
        abort(400)
    return report_request(form, _today())


def _download(body: bytes | str, mimetype: str, filename: str) -> Response:
    return Response(
        body,
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _stem(req: services.ReportRequest) -> str:
    return f"report-{req.date_from.isoformat()}-{req.date_to.isoformat()}"


def _tabs(group: str, args: dict[str, Any], lang: str) -> list[dict[str, Any]]:
    """One tab per SLA grouping: its label, its URL and whether it is shown."""
    labels = services.text(lang)
    return [
        {
            "label": labels[f"sla_by_{dimension}"],
            "url": url_for("reports.index", **{**args, "group": dimension}),
            "active": dimension == group,
        }
        for dimension in DIMENSIONS
    ]


def _empty_charts(charts: dict[str, dict[str, Any]]) -> set[str]:
    """The charts with nothing to draw in the period (every value zero or missing): the page
    says so in words instead of showing empty axes."""
    return {
        name
        for name, chart in charts.items()
        if not any(value for dataset in chart["datasets"] for value in dataset["data"])
    }


@bp.route("/")
@role_required(Role.MANAGER)
def index() -> Any:
    """The report page: filters, charts, the SLA table of one grouping (a tab) and every other
    table, each with its CSV download."""
    form = _form()
    if not form.validate():
        labels = services.text(i18n.current_language())
        return render_template("reports/index.html", form=form, report=None, labels=labels), 400
    req = report_request(form, _today())
    show_period(form, req)
    group = form.group.data or DIMENSIONS[0]
    report = services.build_report(
        req, breach_limit=services.PAGE_BREACH_LIMIT, dimensions=(group,)
    )
    args: dict[str, Any] = request.args.to_dict(flat=False)
    downloads = {name: url_for("reports.table_csv", name=name, **args) for name in report.tables}
    return render_template(
        "reports/index.html",
        form=form,
        report=report,
        labels=services.text(req.lang),
        tabs=_tabs(group, args, req.lang),
        empty_charts=_empty_charts(report.charts),
        downloads=downloads,
        xlsx_url=url_for("reports.whole_xlsx", **args),
        json_url=url_for("reports.whole_json", **args),
    )


@bp.route("/<name>.csv")
@role_required(Role.MANAGER)
def table_csv(name: str) -> Response:
    """One table of the report as CSV (an SLA table computes only its own grouping)."""
    req = _request_or_400()
    dimension = name.removeprefix("sla_by_")
    if name.startswith("sla_by_") and dimension not in DIMENSIONS:
        abort(404)
    report = services.build_report(req, dimensions=(dimension,) if dimension != name else ())
    if name not in report.tables:
        abort(404)
    return _download(export.table_csv(report.tables[name]), export.CSV_MIMETYPE, f"{name}.csv")


@bp.route("/report.xlsx")
@role_required(Role.MANAGER)
def whole_xlsx() -> Response:
    """The whole report as an Excel workbook."""
    req = _request_or_400()
    body = export.report_xlsx(services.build_report(req))
    return _download(body, export.XLSX_MIMETYPE, f"{_stem(req)}.xlsx")


@bp.route("/report.json")
@role_required(Role.MANAGER)
def whole_json() -> Response:
    """The whole report as JSON."""
    req = _request_or_400()
    body = export.report_json(services.build_report(req))
    return Response(body, mimetype="application/json")
