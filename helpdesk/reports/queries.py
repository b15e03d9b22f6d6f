"""Select builders for the managers' reports: every figure is aggregated in the database.

Business minutes are read as the SLA engine stored them; nothing here recomputes a calendar.
Percentiles are continuous (linear interpolation, PostgreSQL's ``percentile_cont``). SQLite has
no percentile function, so there the same figure comes from window functions over a histogram of
the minutes (one row per distinct value and group): the ranks below and above the percentile's
position are found from running counts and interpolated in SQL.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Select,
    String,
    and_,
    case,
    cast,
    func,
    literal,
    literal_column,
    not_,
    or_,
    select,
    tuple_,
    union_all,
)

from helpdesk.models import Attachment, Mailbox, Message, Ticket

# Percentiles as exact fractions (numerator, denominator), so SQLite's integer arithmetic finds
# the same ranks as PostgreSQL's floating point.
# A SELECT of any columns (SQLAlchemy 2.1 types a Select by each of its columns).
Rows = Select[*tuple[Any, ...]]

MEDIAN = (1, 2)
P90 = (9, 10)

METRICS: dict[str, Any] = {
    "first_response": Ticket.first_response_minutes,
    "resolution": Ticket.resolution_minutes,
    "awaiting_information": Ticket.awaiting_information_minutes,
}
DIMENSIONS = ("desk", "agent", "week", "month", "channel", "language")


@dataclass(frozen=True)
class Scope:
    """What a report covers: tickets created in [start, end) on some desks (None: all)."""

    start: datetime
    end: datetime
    desk_ids: tuple[int, ...] | None
    timezone: str
    dialect: str

    @property
    def postgresql(self) -> bool:
        """Whether the database is PostgreSQL (else SQLite)."""
        return self.dialect == "postgresql"


def offset_seconds(scope: Scope) -> int:
    """The zone's UTC offset over the period; local dates are computed with this fixed offset
    (Asia/Tokyo has none), so a period spanning an offset change is refused."""
    zone = ZoneInfo(scope.timezone)
    offsets = {scope.start.astimezone(zone).utcoffset(), scope.end.astimezone(zone).utcoffset()}
    if len(offsets) != 1:
        raise ValueError(f"a report cannot span a UTC offset change of {scope.timezone}")
    return int(offsets.pop().total_seconds())  # type: ignore[union-attr]


def _sqlite_offset(scope: Scope) -> str:
    """The zone's UTC offset as a SQLite date modifier."""
    return f"{offset_seconds(scope) // 60:+d} minutes"


def week_number(column: Any, scope: Scope) -> ColumnElement[Any]:
    """PostgreSQL: the desk-local week as an integer (Monday = 7 * week - 3 days after
    1970-01-01, a Thursday); integer arithmetic is much cheaper than date functions."""
    epoch = cast(func.floor(func.extract("epoch", column)), BigInteger)
    local_seconds = epoch + _inline(offset_seconds(scope))
    return (local_seconds // _inline(86400) + _inline(3)) // _inline(7)


def _inline(value: int | str) -> ColumnElement[Any]:
    """A constant written into the SQL: GROUPING SETS keys must match the select list
    textually, which separate bound parameters would not."""
    if isinstance(value, int):
        return literal_column(str(int(value)), BigInteger)
    if not re.fullmatch(r"[A-Za-z0-9_/+:-]+", value):
        raise ValueError(f"refusing to inline {value!r}")
    return literal_column(f"'{value}'", String)


def local_day(column: Any, scope: Scope) -> ColumnElement[Any]:
    """The desk-local calendar date of an instant."""
    if scope.postgresql:
        return func.to_char(func.timezone(scope.timezone, column), "YYYY-MM-DD")
    return func.date(column, _sqlite_offset(scope))


def week_start(column: Any, scope: Scope) -> ColumnElement[Any]:
    """The Monday (desk-local) of the week an instant falls in."""
    if scope.postgresql:
        local = func.date_trunc("week", func.timezone(scope.timezone, column))
        return func.to_char(local, "YYYY-MM-DD")
    return func.date(column, _sqlite_offset(scope), "weekday 0", "-6 days")


def month_start(column: Any, scope: Scope) -> ColumnElement[Any]:
    """The first day (desk-local) of the month an instant falls in."""
    if scope.postgresql:
        local = func.timezone(_inline(scope.timezone), column)
        return func.to_char(local, _inline("YYYY-MM-01"))
    return func.date(column, _sqlite_offset(scope), "start of month")


def dimension_key(dimension: str, scope: Scope) -> ColumnElement[Any]:
    """The grouping key of a dimension (desk id, agent id, week, month, channel, language)."""
    keys: dict[str, Any] = {
        "desk": Ticket.desk_id,
        "agent": Ticket.assignee_id,
        "channel": cast(Ticket.channel, String(32)),
        "language": Ticket.language,
    }
    if dimension == "week":
        return week_start(Ticket.created_at, scope)
    if dimension == "month":
        return month_start(Ticket.created_at, scope)
    return keys[dimension]  # type: ignore[no-any-return]


def on_desks(column: Any, scope: Scope) -> list[ColumnElement[bool]]:
    """The desk filter, if the report is limited to some desks."""
    return [] if scope.desk_ids is None else [column.in_(scope.desk_ids)]


def created_in(scope: Scope) -> list[ColumnElement[bool]]:
    """Tickets created in the period, on the chosen desks."""
    return [
        Ticket.created_at >= scope.start,
        Ticket.created_at < scope.end,
        *on_desks(Ticket.desk_id, scope),
    ]


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.sum(case((condition, 1), else_=0))


def _first_response_measured() -> ColumnElement[bool]:
    """A first response target is decided once answered or once breached."""
    return or_(Ticket.first_response_minutes.is_not(None), Ticket.first_response_breached)


def _resolution_measured() -> ColumnElement[bool]:
    return or_(Ticket.resolution_minutes.is_not(None), Ticket.resolution_breached)


def sla_summary(dimension: str, scope: Scope) -> Rows:
    """Per group: tickets, response-time counts and means, SLA met/decided, breaches."""
    key = dimension_key(dimension, scope).label("key")
    return select(key, *_summary_columns()).where(*created_in(scope)).group_by(key).order_by(key)


def _summary_columns() -> list[Any]:
    """Counts, means and SLA outcomes of a group of tickets."""
    fr, res = Ticket.first_response_minutes, Ticket.resolution_minutes
    return [
        func.count().label("tickets"),
        func.count(fr).label("fr_n"),
        func.avg(fr).label("fr_mean"),
        _count_if(_first_response_measured()).label("fr_decided"),
        _count_if(and_(_first_response_measured(), not_(Ticket.first_response_breached))).label(
            "fr_met"
        ),
        func.count(res).label("res_n"),
        func.avg(res).label("res_mean"),
        _count_if(_resolution_measured()).label("res_decided"),
        _count_if(and_(_resolution_measured(), not_(Ticket.resolution_breached))).label("res_met"),
        _count_if(or_(Ticket.first_response_breached, Ticket.resolution_breached)).label(
            "breaches"
        ),
    ]


def sla_summary_all(scope: Scope) -> Rows:
    """PostgreSQL: :func:`sla_summary` for every dimension in one pass (GROUPING SETS).

    ``grouping`` tells the dimension of a row: the bit of its own key is clear.
    """
    fr, res = Ticket.first_response_minutes, Ticket.resolution_minutes
    keys = [
        Ticket.desk_id,
        Ticket.assignee_id,
        week_number(Ticket.created_at, scope),
        month_start(Ticket.created_at, scope),
        cast(Ticket.channel, String(32)),
        Ticket.language,
    ]
    return (
        select(
            func.grouping(*keys).label("grouping"),
            *[k.label(f"key_{d}") for k, d in zip(keys, DIMENSIONS, strict=True)],
            *_summary_columns(),
            func.percentile_cont(0.5).within_group(fr).label("fr_median"),
            func.percentile_cont(0.9).within_group(fr).label("fr_p90"),
            func.percentile_cont(0.5).within_group(res).label("res_median"),
            func.percentile_cont(0.9).within_group(res).label("res_p90"),
        )
        .where(*created_in(scope))
        .group_by(func.grouping_sets(*[tuple_(k) for k in keys]))
    )


def grouping_mask(dimension: str) -> int:
    """The ``grouping`` value of the rows of one dimension in :func:`sla_summary_all`."""
    full = (1 << len(DIMENSIONS)) - 1
    return full ^ (1 << (len(DIMENSIONS) - 1 - DIMENSIONS.index(dimension)))


def percentile_cont(fraction: tuple[int, int], value: Any, upto: Any, n: Any) -> Any:
    """Continuous percentile from running counts over a histogram (aggregate over one group).

    The 1-based position is ``1 + f * (n - 1)``; its whole part picks the lower value, the
    fraction interpolates towards the next one, exactly as ``percentile_cont`` does.
    """
    num, den = fraction
    lower_rank = (n - 1) * num // den + 1
    lower = func.min(case((upto >= lower_rank, value)))
    upper = func.coalesce(func.min(case((upto >= lower_rank + 1, value))), lower)
    share = func.max((n - 1) * num % den) * 1.0 / den
    return lower + (upper - lower) * share


def percentiles(dimension: str, metric: str, scope: Scope) -> Rows:
    """Per group: median and 90th percentile of a metric, by window functions (for SQLite)."""
    value = METRICS[metric]
    key = dimension_key(dimension, scope).label("key")
    histogram = (
        select(key, value.label("value"), func.count().label("c"))
        .where(*created_in(scope), value.is_not(None))
        .group_by(key, value)
        .cte("histogram")
    )
    running = select(
        histogram.c.key,
        histogram.c.value,
        func.sum(histogram.c.c)
        .over(partition_by=histogram.c.key, order_by=histogram.c.value, rows=(None, 0))
        .label("upto"),
        func.sum(histogram.c.c).over(partition_by=histogram.c.key).label("n"),
    ).cte("running")
    v, upto, n = running.c.value, running.c.upto, running.c.n
    return (
        select(
            running.c.key,
            percentile_cont(MEDIAN, v, upto, n).label("median"),
            percentile_cont(P90, v, upto, n).label("p90"),
        )
        .group_by(running.c.key)
        .order_by(running.c.key)
    )


def metric_percentiles_pg(dimension: str, metric: str, scope: Scope) -> Rows:
    """Per group: median and 90th percentile of a metric with percentile_cont (PostgreSQL)."""
    value = METRICS[metric]
    key = dimension_key(dimension, scope).label("key")
    return (
        select(
            key,
            func.percentile_cont(0.5).within_group(value).label("median"),
            func.percentile_cont(0.9).within_group(value).label("p90"),
        )
        .where(*created_in(scope), value.is_not(None))
        .group_by(key)
        .order_by(key)
    )


def metric_percentiles(dimension: str, metric: str, scope: Scope) -> Rows:
    """Median and 90th percentile of a metric per group, on either database."""
    if scope.postgresql:
        return metric_percentiles_pg(dimension, metric, scope)
    return percentiles(dimension, metric, scope)


def breaches(scope: Scope, limit: int | None = None) -> Rows:
    """Tickets created in the period that breached a first-response or resolution target."""
    query = (
        select(
            Ticket.id,
            Ticket.number,
            Ticket.desk_id,
            Ticket.assignee_id,
            Ticket.subject,
            Ticket.created_at,
            Ticket.first_response_breached,
            Ticket.first_response_due_at,
            Ticket.first_response_at,
            Ticket.first_response_minutes,
            Ticket.resolution_breached,
            Ticket.resolution_due_at,
            Ticket.resolved_at,
            Ticket.resolution_minutes,
        )
        .where(*created_in(scope), or_(Ticket.first_response_breached, Ticket.resolution_breached))
        .order_by(Ticket.created_at, Ticket.id)
    )
    return query if limit is None else query.limit(limit)


def _finished_at() -> ColumnElement[Any]:
    """When a ticket left the backlog: resolved, or closed without a resolution."""
    return func.coalesce(Ticket.resolved_at, Ticket.closed_at)


def backlog_at_start(scope: Scope) -> Rows:
    """How many tickets were open when the period began."""
    finished = _finished_at()
    return select(func.count()).where(
        Ticket.created_at < scope.start,
        or_(finished.is_(None), finished >= scope.start),
        *on_desks(Ticket.desk_id, scope),
    )


def flow(scope: Scope, grain: str) -> Rows:
    """Opened and finished tickets per day or week, with the running net change (backlog delta)."""
    finished = _finished_at()
    bucket = local_day if grain == "day" else week_start
    opened = select(
        bucket(Ticket.created_at, scope).label("period"),
        literal(1).label("opened"),
        literal(0).label("finished"),
    ).where(*created_in(scope))
    closed = select(
        bucket(finished, scope).label("period"),
        literal(0).label("opened"),
        literal(1).label("finished"),
    ).where(finished >= scope.start, finished < scope.end, *on_desks(Ticket.desk_id, scope))
    events = union_all(opened, closed).subquery("events")
    per_period = (
        select(
            events.c.period,
            func.sum(events.c.opened).label("opened"),
            func.sum(events.c.finished).label("finished"),
        )
        .group_by(events.c.period)
        .subquery("per_period")
    )
    net = per_period.c.opened - per_period.c.finished
    return select(
        per_period.c.period,
        per_period.c.opened,
        per_period.c.finished,
        func.sum(net).over(order_by=per_period.c.period).label("net"),
    ).order_by(per_period.c.period)


def backlog_age(
    scope: Scope, edges: Mapping[int, Sequence[tuple[datetime, str]]], oldest: str
) -> Rows:
    """Tickets open at ``scope.end`` per desk and age bucket.

    ``edges[desk_id]`` lists (instant, bucket) from the most recent: a ticket created at or
    after an instant falls in that bucket, one older than every instant in ``oldest``.
    """
    finished = _finished_at()
    branches = []
    for desk_id, desk_edges in edges.items():
        whens = [(Ticket.created_at >= instant, literal(label)) for instant, label in desk_edges]
        bucket_of_desk = case(*whens, else_=literal(oldest)) if whens else literal(oldest)
        branches.append((Ticket.desk_id == desk_id, bucket_of_desk))
    bucket = (case(*branches, else_=literal(oldest)) if branches else literal(oldest)).label(
        "bucket"
    )
    return (
        select(Ticket.desk_id, bucket, func.count().label("tickets"))
        .where(
            Ticket.created_at < scope.end,
            or_(finished.is_(None), finished >= scope.end),
            *on_desks(Ticket.desk_id, scope),
        )
        .group_by(Ticket.desk_id, bucket)
        .order_by(Ticket.desk_id)
    )


def awaiting_information(scope: Scope) -> Rows:
    """Per desk: tickets, those that waited for required fields, and the mean wait."""
    wait = Ticket.awaiting_information_minutes
    return (
        select(
            Ticket.desk_id.label("key"),
            func.count().label("tickets"),
            func.count(wait).label("waited"),
            func.avg(wait).label("mean"),
        )
        .where(*created_in(scope))
        .group_by(Ticket.desk_id)
        .order_by(Ticket.desk_id)
    )


def refused_attachments(scope: Scope) -> Rows:
    """Refused attachments received in the period, by detected type and reason."""
    desk = func.coalesce(Ticket.desk_id, Mailbox.default_desk_id)
    return (
        select(Attachment.detected_type, Attachment.reason, func.count().label("files"))
        .join(Message, Attachment.message_id == Message.id)
        .outerjoin(Ticket, Message.ticket_id == Ticket.id)
        .outerjoin(Mailbox, Message.mailbox_id == Mailbox.id)
        .where(
            Attachment.allowed.is_(False),
            Message.received_at >= scope.start,
            Message.received_at < scope.end,
            *on_desks(desk, scope),
        )
        .group_by(Attachment.detected_type, Attachment.reason)
        .order_by(func.count().desc(), Attachment.detected_type, Attachment.reason)
    )


def environments(scope: Scope) -> Rows:
    """Tickets per reported OS family and browser family."""
    return (
        select(Ticket.env_os_family, Ticket.env_browser_family, func.count().label("tickets"))
        .where(*created_in(scope))
        .group_by(Ticket.env_os_family, Ticket.env_browser_family)
        .order_by(func.count().desc(), Ticket.env_os_family, Ticket.env_browser_family)
    )
