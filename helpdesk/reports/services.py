"""The managers' reports: response times, SLA compliance, volume, backlog and intake quality.

Every service returns data (tables and chart series); views, the CLI and the exporters only
format it. Periods are desk-local dates (``date_from`` to ``date_to`` inclusive); a ticket
belongs to the period it was created in, so its response times and SLA outcome are counted once.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from flask import current_app, render_template
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy import select
from sqlalchemy import text as sql_text

from helpdesk import clock, i18n
from helpdesk.extensions import db
from helpdesk.models import Desk, User
from helpdesk.reports import queries
from helpdesk.reports.queries import DIMENSIONS, Scope
from mail_ingest.policy import AttachmentReason

log = logging.getLogger(__name__)

LANGUAGES = ("en", "ja")
# Backlog age buckets in business days: (the age that starts the next bucket, this bucket).
AGE_BUCKETS: tuple[tuple[int, str], ...] = ((1, "0"), (2, "1"), (5, "2-4"), (10, "5-9"))
OLDEST_BUCKET = "10+"
PAGE_BREACH_LIMIT = 200
# How far back to look for open days (a desk closed for longer puts everything in "10+").
AGE_SEARCH_DAYS = 120

# The report's titles, column and chart labels by key; a report is labelled in the language it
# is asked in (see text()).
LABELS: dict[str, LazyString] = {
    "sla_by_desk": _l("SLA by desk"),
    "sla_by_agent": _l("SLA by agent"),
    "sla_by_week": _l("SLA by week"),
    "sla_by_month": _l("SLA by month"),
    "sla_by_channel": _l("SLA by channel"),
    "sla_by_language": _l("SLA by language"),
    "breaches": _l("Breaches"),
    "volume_daily": _l("Volume and backlog per day"),
    "volume_weekly": _l("Volume per week"),
    "backlog_age": _l("Backlog age (business days)"),
    "awaiting_information": _l("Enquiries without the required fields"),
    "refused_attachments": _l("Refused attachments"),
    "environments": _l("Reported environments"),
    "group": _l("Group"),
    "tickets": _l("Tickets"),
    "fr_n": _l("First responses"),
    "fr_median_h": _l("First response median (h)"),
    "fr_p90_h": _l("First response p90 (h)"),
    "fr_mean_h": _l("First response mean (h)"),
    "fr_met_pct": _l("First response SLA met (%)"),
    "res_n": _l("Resolutions"),
    "res_median_h": _l("Resolution median (h)"),
    "res_p90_h": _l("Resolution p90 (h)"),
    "res_mean_h": _l("Resolution mean (h)"),
    "res_met_pct": _l("Resolution SLA met (%)"),
    "breach_count": _l("Breaches"),
    "number": _l("Ticket"),
    "desk": _l("Desk"),
    "agent": _l("Agent"),
    "subject": _l("Subject"),
    "created": _l("Created"),
    "breached": _l("Breached target"),
    "fr_due": _l("First response due"),
    "fr_at": _l("First response at"),
    "res_due": _l("Resolution due"),
    "res_at": _l("Resolved at"),
    "day": _l("Day"),
    "week": _l("Week"),
    "opened": _l("Opened"),
    "resolved": _l("Resolved"),
    "backlog": _l("Backlog"),
    "age": _l("Age (business days)"),
    "waited": _l("Waited for fields"),
    "waited_pct": _l("Share waiting (%)"),
    "wait_mean_h": _l("Mean wait (h)"),
    "wait_median_h": _l("Median wait (h)"),
    "wait_p90_h": _l("Wait p90 (h)"),
    "detected_type": _l("Detected type"),
    "reason": _l("Reason"),
    "files": _l("Files"),
    "os": _l("OS family"),
    "browser": _l("Browser family"),
    "unassigned": _l("Unassigned"),
    "unknown": _l("Unknown"),
    "first_response": _l("First response"),
    "resolution": _l("Resolution"),
    "both": _l("First response and resolution"),
    "median_fr_h": _l("Median first response (h)"),
    "median_res_h": _l("Median resolution (h)"),
    "trend": _l("Median business hours per week"),
    "volume": _l("Opened, resolved and backlog per day"),
    "compliance": _l("SLA met and breached by desk"),
    "fr_met": _l("First response met"),
    "fr_breached": _l("First response breached"),
    "res_met": _l("Resolution met"),
    "res_breached": _l("Resolution breached"),
    "email": _l("Email"),
    "web": _l("Web"),
    "phone": _l("Phone"),
    "all_desks": _l("All desks"),
    "weekly_subject": _l("Helpdesk weekly report"),
    "period": _l("Period"),
    "desks": _l("Desks"),
    "generated": _l("Generated"),
    "dimension": _l("Dimension"),
    "reports": _l("Reports"),
    "date_from": _l("From"),
    "date_to": _l("To"),
    "language": _l("Language"),
    "show": _l("Show"),
    "download_csv": _l("CSV"),
    "download_xlsx": _l("Download the whole report (XLSX)"),
    "download_json": _l("JSON"),
    "no_rows": _l("No data for this period."),
    "charts": _l("Charts"),
}

# Why the attachment policy refused a file, or why it was not kept, in a word (the mail to
# the sender explains it).
REFUSAL_LABELS: dict[AttachmentReason, LazyString] = {
    AttachmentReason.FORBIDDEN_EXTENSION: _l("Forbidden extension"),
    AttachmentReason.EXECUTABLE_CONTENT: _l("Program"),
    AttachmentReason.ARCHIVE: _l("ZIP or LZH archive"),
    AttachmentReason.ENCRYPTED_ARCHIVE: _l("Password-protected ZIP"),
    AttachmentReason.MACRO_DOCUMENT: _l("Document with macros"),
    AttachmentReason.SCRIPT_CONTENT: _l("Script"),
    AttachmentReason.SHORTCUT: _l("Windows shortcut"),
    AttachmentReason.HELP_FILE: _l("Compiled HTML help"),
    AttachmentReason.FLASH: _l("Flash file"),
    AttachmentReason.SVG: _l("SVG image"),
    AttachmentReason.MALFORMED_DOCUMENT: _l("Damaged Office document"),
    AttachmentReason.TOO_LARGE: _l("Too large"),
    AttachmentReason.MESSAGE_TOO_LARGE: _l("Mail too large"),
    AttachmentReason.TOO_MANY_PARTS: _l("Too many files in one mail"),
    AttachmentReason.TOO_DEEP: _l("Nested too deeply"),
}

SLA_COLUMNS = (
    "group",
    "tickets",
    "fr_n",
    "fr_median_h",
    "fr_p90_h",
    "fr_mean_h",
    "fr_met_pct",
    "res_n",
    "res_median_h",
    "res_p90_h",
    "res_mean_h",
    "res_met_pct",
    "breach_count",
)


@dataclass(frozen=True)
class ReportRequest:
    """What a manager asked for: desk-local dates (inclusive), desks (None: all), language."""

    date_from: date
    date_to: date
    desk_ids: tuple[int, ...] | None = None
    lang: str = "en"


@dataclass
class Row:
    """One table row; ``link`` is where its first cell points (a ticket), if anywhere."""

    cells: list[Any]
    link: str | None = None


@dataclass
class Table:
    """A titled table with stable column keys and labels in the report's language."""

    name: str
    title: str
    columns: list[str]
    labels: list[str]
    rows: list[Row] = field(default_factory=list)

    def records(self) -> list[dict[str, Any]]:
        """The rows as dicts keyed by column key (for JSON)."""
        return [dict(zip(self.columns, row.cells, strict=True)) for row in self.rows]


@dataclass
class Report:
    """The whole report: its tables in page order and the chart series."""

    request: ReportRequest
    title: str
    desk_names: list[str]
    generated_at: datetime
    tables: dict[str, Table]
    charts: dict[str, dict[str, Any]]


@dataclass(frozen=True)
class WeeklyReport:
    """A rendered weekly report for managers: mail subject, text body and the XLSX workbook."""

    subject: str
    text: str
    xlsx: bytes
    report: Report


def text(lang: str) -> dict[str, str]:
    """The labels in ``lang`` (English for a language the helpdesk does not speak)."""
    with i18n.language(lang):
        return {key: str(label) for key, label in LABELS.items()}


def report_timezone() -> str:
    """The desks' business timezone (Asia/Tokyo)."""
    return str(current_app.config.get("TIMEZONE", "Asia/Tokyo"))


def scope_for(request: ReportRequest) -> Scope:
    """The UTC instants and desks a request covers."""
    if request.date_to < request.date_from:
        raise ValueError("the period ends before it starts")
    zone = ZoneInfo(report_timezone())
    start = datetime.combine(request.date_from, time(), zone)
    end = datetime.combine(request.date_to + timedelta(days=1), time(), zone)
    return Scope(start, end, request.desk_ids, zone.key, db.engine.dialect.name)


def _table(name: str, columns: Sequence[str], lang: str) -> Table:
    labels = text(lang)
    return Table(name, labels[name], list(columns), [labels[c] for c in columns])


def _hours(minutes: float | None) -> float | None:
    """Business minutes as business hours, two decimals."""
    return None if minutes is None else round(float(minutes) / 60, 2)


def _percent(part: int | None, whole: int | None) -> float | None:
    """A share in percent, one decimal; None when nothing was decided."""
    return None if not whole else round(100 * (part or 0) / whole, 1)


def _desk_names(lang: str) -> dict[int, str]:
    rows = db.session.execute(select(Desk.id, Desk.name, Desk.name_ja)).all()
    return {i: (name_ja if lang == "ja" and name_ja else name) for i, name, name_ja in rows}


def _user_names(ids: Iterable[Any]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return dict(db.session.execute(select(User.id, User.name).where(User.id.in_(wanted))).all())


def _group_labels(dimension: str, keys: list[Any], lang: str) -> dict[Any, str]:
    """Human labels of grouping keys (desk and agent names, localised channels)."""
    labels = text(lang)
    if dimension == "desk":
        names = _desk_names(lang)
        return {k: names.get(k, str(k)) for k in keys}
    if dimension == "agent":
        users = _user_names(keys)
        return {k: users.get(k, str(k)) if k is not None else labels["unassigned"] for k in keys}
    if dimension == "month":
        return {k: str(k)[:7] for k in keys}
    if dimension == "channel":
        return {k: labels.get(str(k), str(k)) for k in keys}
    if dimension == "language":
        return {k: _language_name(k, lang) if k else labels["unknown"] for k in keys}
    return {k: str(k) if k is not None else labels["unknown"] for k in keys}


def _language_name(code: str, lang: str) -> str:
    """A ticket's language ("vi") named in the report's language ("Vietnamese", "ベトナム語")."""
    try:
        return str(Locale.parse(code).get_display_name(lang))
    except (UnknownLocaleError, ValueError, TypeError):
        return code


def _percentile_map(dimension: str, metric: str, scope: Scope) -> dict[Any, tuple[Any, Any]]:
    rows = db.session.execute(queries.metric_percentiles(dimension, metric, scope)).all()
    return {key: (median, p90) for key, median, p90 in rows}


def tune_session(scope: Scope) -> None:
    """PostgreSQL settings for the report's transaction: no JIT compilation (it took longer
    than the queries it compiled), and memory enough that grouping by a computed week or month
    hashes instead of sorting every ticket (the planner cannot tell such a key has few values).
    """
    if scope.postgresql:
        db.session.execute(sql_text("SET LOCAL jit = off"))
        db.session.execute(sql_text("SET LOCAL work_mem = '256MB'"))


def summary_rows(dimension: str, scope: Scope) -> list[dict[str, Any]]:
    """Per group of a dimension: counts, means and SLA outcomes (no percentiles)."""
    if dimension == "desk":
        return desks_and_environments(scope)[0]
    return [dict(r) for r in db.session.execute(queries.sla_summary(dimension, scope)).mappings()]


def desks_and_environments(scope: Scope) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The desk summary (with the waits) and the tickets per reported environment, from one
    pass over the period's tickets."""
    desks: list[dict[str, Any]] = []
    environments: list[dict[str, Any]] = []
    for row in db.session.execute(queries.desks_and_environments(scope)).mappings():
        (desks if row["part"] == "desk" else environments).append(dict(row))
    return desks, environments


def _ranked_map(
    metric: str, by_desk: list[dict[str, Any]], count: str, scope: Scope
) -> dict[Any, tuple[Any, Any]]:
    """Median and p90 of a metric per desk, each read at its rank (the count is known)."""
    result: dict[Any, tuple[Any, Any]] = {}
    for row in by_desk:
        n = int(row[count] or 0)
        if n:
            query = queries.ranked_percentiles(metric, row["key"], n, scope)
            median, p90 = db.session.execute(query).one()
            result[row["key"]] = (median, p90)
    return result


def sla_summaries(
    scope: Scope,
    dimensions: Sequence[str] = DIMENSIONS,
    by_desk: list[dict[str, Any]] | None = None,
) -> dict[str, list[dict[str, Any]]]:
    """Summary rows with medians and p90s for some dimensions, keyed by dimension.

    By desk, percentiles are read at their ranks from per-desk indexes; by any other
    dimension they come from histograms. ``by_desk`` is the desk summary if already read.
    """
    tune_session(scope)
    result: dict[str, list[dict[str, Any]]] = {}
    for dimension in dimensions:
        if dimension == "desk":
            rows = by_desk if by_desk is not None else summary_rows("desk", scope)
            fr = _ranked_map("first_response", rows, "fr_n", scope)
            res = _ranked_map("resolution", rows, "res_n", scope)
        else:
            fr = _percentile_map(dimension, "first_response", scope)
            res = _percentile_map(dimension, "resolution", scope)
            rows = summary_rows(dimension, scope)
        result[dimension] = [
            {
                **row,
                "key": queries.monday_of_week(row["key"]).isoformat()
                if dimension == "week"
                else row["key"],
                "fr_median": fr.get(row["key"], (None, None))[0],
                "fr_p90": fr.get(row["key"], (None, None))[1],
                "res_median": res.get(row["key"], (None, None))[0],
                "res_p90": res.get(row["key"], (None, None))[1],
            }
            for row in rows
        ]
    return result


def sla_table(dimension: str, summary: list[dict[str, Any]], lang: str) -> Table:
    """Response times (median, p90, mean in business hours) and SLA compliance per group."""
    names = _group_labels(dimension, [r["key"] for r in summary], lang)
    table = _table(f"sla_by_{dimension}", SLA_COLUMNS, lang)
    for r in summary:
        table.rows.append(
            Row(
                [
                    names[r["key"]],
                    r["tickets"],
                    r["fr_n"],
                    _hours(r["fr_median"]),
                    _hours(r["fr_p90"]),
                    _hours(r["fr_mean"]),
                    _percent(r["fr_met"], r["fr_decided"]),
                    r["res_n"],
                    _hours(r["res_median"]),
                    _hours(r["res_p90"]),
                    _hours(r["res_mean"]),
                    _percent(r["res_met"], r["res_decided"]),
                    r["breaches"] or 0,
                ]
            )
        )
    return table


def _local(value: datetime | None, scope: Scope) -> str | None:
    """An instant as desk-local ``YYYY-MM-DD HH:MM``."""
    local = clock.to_desk_time(value, scope.timezone)
    return None if local is None else local.strftime("%Y-%m-%d %H:%M")


def breach_table(scope: Scope, lang: str, limit: int | None = None) -> Table:
    """Tickets that breached a target, with links to them."""
    labels = text(lang)
    columns = (
        "number",
        "desk",
        "agent",
        "subject",
        "created",
        "breached",
        "fr_due",
        "fr_at",
        "res_due",
        "res_at",
    )
    rows = db.session.execute(queries.breaches(scope, limit)).mappings().all()
    desks = _desk_names(lang)
    users = _user_names(r["assignee_id"] for r in rows)
    table = _table("breaches", columns, lang)
    for r in rows:
        both = r["first_response_breached"] and r["resolution_breached"]
        which = (
            "both" if both else "first_response" if r["first_response_breached"] else "resolution"
        )
        agent = users.get(r["assignee_id"]) if r["assignee_id"] else labels["unassigned"]
        cells = [
            r["number"],
            desks.get(r["desk_id"], str(r["desk_id"])),
            agent,
            r["subject"],
            _local(r["created_at"], scope),
            labels[which],
            _local(r["first_response_due_at"], scope),
            _local(r["first_response_at"], scope),
            _local(r["resolution_due_at"], scope),
            _local(r["resolved_at"], scope),
        ]
        table.rows.append(Row(cells, link=f"/tickets/{r['id']}"))
    return table


def sla_report(
    request: ReportRequest,
    breach_limit: int | None = None,
    dimensions: Sequence[str] = DIMENSIONS,
    by_desk: list[dict[str, Any]] | None = None,
) -> dict[str, Table]:
    """The SLA tables: response times and compliance by some dimensions (all by default), and
    the breaches."""
    scope = scope_for(request)
    summaries = sla_summaries(scope, dimensions, by_desk)
    tables = {f"sla_by_{d}": sla_table(d, summaries[d], request.lang) for d in dimensions}
    tables["breaches"] = breach_table(scope, request.lang, breach_limit)
    return tables


def _days(scope: Scope) -> list[date]:
    zone = ZoneInfo(scope.timezone)
    first, last = scope.start.astimezone(zone).date(), scope.end.astimezone(zone).date()
    return [first + timedelta(days=i) for i in range((last - first).days)]


def volume_tables(scope: Scope, lang: str) -> tuple[Table, Table]:
    """Opened, resolved and backlog per day (every day of the period), and per week."""
    base = db.session.scalar(queries.backlog_at_start(scope)) or 0
    flow = db.session.execute(queries.flow(scope)).all()
    per_day = {queries.day_of_number(r.period): r for r in flow if r.grain == "day"}
    per_week = sorted((r for r in flow if r.grain == "week"), key=lambda r: int(r.period))
    daily = _table("volume_daily", ("day", "opened", "resolved", "backlog"), lang)
    net = 0
    for day in _days(scope):
        row = per_day.get(day)
        if row is not None:
            net = int(row.net)
        opened, finished = (int(row.opened), int(row.finished)) if row is not None else (0, 0)
        daily.rows.append(Row([day.isoformat(), opened, finished, base + net]))
    weekly = _table("volume_weekly", ("week", "opened", "resolved"), lang)
    for r in per_week:
        monday = queries.monday_of_week(r.period).isoformat()
        weekly.rows.append(Row([monday, int(r.opened), int(r.finished)]))
    return daily, weekly


def age_edges(desk: Desk, at: datetime) -> list[tuple[datetime, str]]:
    """Bucket edges (instants) of a desk's backlog age at ``at``, from its business calendar.

    A ticket's age is the number of the desk's open days after the day it arrived, up to and
    including the day of ``at``. It is at least ``k`` when it arrived before the k-th most
    recent open day, so that day's midnight is the edge. Only these few instants use the
    calendar; the tickets are counted in SQL.
    """
    from helpdesk.sla.calendar import BusinessCalendar

    calendar = BusinessCalendar.for_desk(desk)
    zone = ZoneInfo(desk.timezone)
    # An instant at midnight closes the day before (a period ends at 00:00 of the next day).
    day = (at - timedelta(microseconds=1)).astimezone(zone).date()
    wanted = dict(AGE_BUCKETS)
    edges: list[tuple[datetime, str]] = []
    open_days = 0
    for _ in range(AGE_SEARCH_DAYS):
        if len(edges) == len(AGE_BUCKETS):
            break
        if calendar.day_info(day).is_open:
            open_days += 1
            if open_days in wanted:
                edges.append((datetime.combine(day, time(), zone), wanted[open_days]))
        day -= timedelta(days=1)
    return edges


def backlog_age_table(scope: Scope, lang: str, now: datetime) -> Table:
    """Tickets open at the end of the period (or now), per desk and business-day age bucket."""
    at = min(now, scope.end)
    desk_query = select(Desk).order_by(Desk.id)
    if scope.desk_ids is not None:
        desk_query = desk_query.where(Desk.id.in_(scope.desk_ids))
    desks = db.session.scalars(desk_query).all()
    edges = {desk.id: age_edges(desk, at) for desk in desks}
    at_scope = Scope(scope.start, at, scope.desk_ids, scope.timezone, scope.dialect)
    counts = {
        (r.desk_id, r.bucket): int(r.tickets)
        for r in db.session.execute(queries.backlog_age(at_scope, edges, OLDEST_BUCKET))
    }
    names = _desk_names(lang)
    buckets = [label for _, label in AGE_BUCKETS] + [OLDEST_BUCKET]
    table = _table("backlog_age", ("desk", "age", "tickets"), lang)
    for desk in desks:
        for bucket in buckets:
            table.rows.append(Row([names[desk.id], bucket, counts.get((desk.id, bucket), 0)]))
    return table


def intake_tables(
    scope: Scope,
    lang: str,
    read: tuple[list[dict[str, Any]], list[dict[str, Any]]] | None = None,
) -> list[Table]:
    """Enquiries missing required fields, refused attachments and reported environments.

    ``read`` is :func:`desks_and_environments` if already read (the desk summary counts the
    waits).
    """
    labels = text(lang)
    names = _desk_names(lang)
    tune_session(scope)
    rows, environments = read if read is not None else desks_and_environments(scope)
    waits = _ranked_map("awaiting_information", rows, "waited", scope)
    awaiting = _table(
        "awaiting_information",
        ("desk", "tickets", "waited", "waited_pct", "wait_mean_h", "wait_median_h", "wait_p90_h"),
        lang,
    )
    for r in rows:
        median, p90 = waits.get(r["key"], (None, None))
        awaiting.rows.append(
            Row(
                [
                    names.get(r["key"], str(r["key"])),
                    r["tickets"],
                    r["waited"],
                    _percent(r["waited"], r["tickets"]),
                    _hours(r["wait_mean"]),
                    _hours(median),
                    _hours(p90),
                ]
            )
        )
    refused = _table("refused_attachments", ("detected_type", "reason", "files"), lang)
    with i18n.language(lang):
        reasons = {code: str(label) for code, label in REFUSAL_LABELS.items()}
    for row in db.session.execute(queries.refused_attachments(scope)):
        reason = reasons.get(row.reason, row.reason)
        refused.rows.append(Row([row.detected_type or labels["unknown"], reason, row.files]))
    envs = _table("environments", ("os", "browser", "tickets"), lang)
    for r in environments:
        cells = [r["os"] or labels["unknown"], r["browser"] or labels["unknown"], r["tickets"]]
        envs.rows.append(Row(cells))
    return [awaiting, refused, envs]


def _column(table: Table, key: str) -> list[Any]:
    index = table.columns.index(key)
    return [row.cells[index] for row in table.rows]


def charts(tables: dict[str, Table], lang: str) -> dict[str, dict[str, Any]]:
    """Chart.js-ready series: weekly trend, daily volume, compliance by desk, backlog age.

    The trend needs the weekly SLA table and the compliance chart the table by desk; a page
    showing another grouping goes without them.
    """
    labels = text(lang)
    daily, age = tables["volume_daily"], tables["backlog_age"]
    result: dict[str, dict[str, Any]] = {}
    if "sla_by_week" in tables:
        week = tables["sla_by_week"]
        result["trend"] = {
            "type": "line",
            "title": labels["trend"],
            "labels": _column(week, "group"),
            "datasets": [
                {"label": labels["median_fr_h"], "data": _column(week, "fr_median_h")},
                {"label": labels["median_res_h"], "data": _column(week, "res_median_h")},
            ],
        }
    # "counts": the values are numbers of tickets, drawn on an axis of whole numbers.
    result["volume"] = {
        "type": "bar",
        "counts": True,
        "title": labels["volume"],
        "labels": _column(daily, "day"),
        "datasets": [
            {"label": labels["opened"], "data": _column(daily, "opened")},
            {"label": labels["resolved"], "data": _column(daily, "resolved")},
            {"label": labels["backlog"], "data": _column(daily, "backlog"), "type": "line"},
        ],
    }
    if "sla_by_desk" in tables:
        by_desk = tables["sla_by_desk"]
        fr_met = _column(by_desk, "fr_met_pct")
        res_met = _column(by_desk, "res_met_pct")
        result["compliance"] = {
            "type": "bar",
            "stacked": True,
            "title": labels["compliance"],
            "labels": _column(by_desk, "group"),
            "datasets": [
                {"label": labels["fr_met"], "data": fr_met, "stack": "fr"},
                {"label": labels["fr_breached"], "data": _rest(fr_met), "stack": "fr"},
                {"label": labels["res_met"], "data": res_met, "stack": "res"},
                {"label": labels["res_breached"], "data": _rest(res_met), "stack": "res"},
            ],
        }
    age_desks = list(dict.fromkeys(_column(age, "desk")))
    age_buckets = list(dict.fromkeys(_column(age, "age")))
    counts = {(row.cells[0], row.cells[1]): row.cells[2] for row in age.rows}
    result["backlog_age"] = {
        "type": "bar",
        "stacked": True,
        "counts": True,
        "title": labels["backlog_age"],
        "labels": age_buckets,
        "datasets": [
            {"label": desk, "data": [counts.get((desk, b), 0) for b in age_buckets]}
            for desk in age_desks
        ],
    }
    return result


def _rest(shares: list[float | None]) -> list[float | None]:
    """The breached share beside each met share (percent)."""
    return [None if share is None else round(100 - share, 1) for share in shares]


def build_report(
    request: ReportRequest,
    now: datetime | None = None,
    breach_limit: int | None = None,
    dimensions: Sequence[str] = DIMENSIONS,
) -> Report:
    """The report: SLA tables by some dimensions (all by default: the exports), volume and
    backlog, intake quality, and chart series."""
    now = now or clock.now()
    scope = scope_for(request)
    lang = request.lang
    tune_session(scope)
    read = desks_and_environments(scope)
    tables = sla_report(request, breach_limit, dimensions, read[0])
    daily, weekly = volume_tables(scope, lang)
    tables[daily.name], tables[weekly.name] = daily, weekly
    age = backlog_age_table(scope, lang, now)
    tables[age.name] = age
    for table in intake_tables(scope, lang, read):
        tables[table.name] = table
    names = _desk_names(lang)
    desk_names = (
        [text(lang)["all_desks"]]
        if request.desk_ids is None
        else [names.get(i, str(i)) for i in request.desk_ids]
    )
    period = f"{request.date_from.isoformat()} – {request.date_to.isoformat()}"
    return Report(request, period, desk_names, now, tables, charts(tables, lang))


def previous_week(now: datetime) -> tuple[date, date]:
    """Monday to Sunday (desk-local) of the last full week before ``now``."""
    local = clock.to_desk_time(now, report_timezone())
    assert local is not None
    today = local.date()
    monday = today - timedelta(days=today.weekday() + 7)
    return monday, monday + timedelta(days=6)


def weekly_report(now: datetime, lang: str = "ja") -> WeeklyReport:
    """Last week's report over all desks, rendered for the managers' mail (subject, text, XLSX)."""
    from helpdesk.reports.export import report_xlsx

    date_from, date_to = previous_week(now)
    request = ReportRequest(date_from, date_to, None, lang)
    report = build_report(request, now=now, breach_limit=PAGE_BREACH_LIMIT)
    body = render_template("reports/weekly.txt", report=report, labels=text(lang))
    subject = f"{text(lang)['weekly_subject']} {report.title}"
    return WeeklyReport(subject, body, report_xlsx(report), report)
