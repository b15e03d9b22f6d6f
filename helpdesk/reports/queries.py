"""Select builders for the managers' reports: every figure is aggregated in the database.

Business minutes are read as the SLA engine stored them; nothing here recomputes a calendar.
Percentiles are continuous (linear interpolation, as PostgreSQL's ``percentile_cont``) and are
computed the same way on both databases. Per desk, each is the value at its rank, read from an
index ordered by (desk, measure) with LIMIT/OFFSET (:func:`ranked_percentiles`). By any other
grouping, from a histogram of the minutes (one row per distinct value and group): the ranks
below and above the percentile's position are found from running counts and interpolated in SQL
(:func:`metric_percentiles`). Sorting every group's tickets (``percentile_cont``) cost seconds
per grouping at a million tickets.

Desk-local days and weeks are integer arithmetic on the epoch plus the zone's UTC offset (a CASE
over the period's offset changes, found once in Python); months and the daily volume compare
instants with boundaries computed once from the zone's rules. No time-zone conversion per row.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    CompoundSelect,
    Select,
    String,
    and_,
    case,
    cast,
    column,
    func,
    literal,
    literal_column,
    not_,
    or_,
    select,
    union_all,
    values,
)
from sqlalchemy.sql.elements import UnaryExpression
from sqlalchemy.sql.operators import custom_op

from helpdesk.models import Attachment, Mailbox, Message, Ticket
from helpdesk.models.types import UTCDateTime

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
EPOCH_DAY = date(1970, 1, 1)


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


def utc_offsets(scope: Scope) -> list[tuple[datetime, int]]:
    """The zone's UTC offsets over the period: (instant it starts applying, seconds east of UTC).

    The first piece starts at ``scope.start``; a zone without daylight saving time (Asia/Tokyo)
    has one piece. Offsets are sampled daily and each change is pinned to its second by bisection.
    """
    zone = ZoneInfo(scope.timezone)

    def offset(at: datetime) -> int:
        delta = at.astimezone(zone).utcoffset()
        assert delta is not None  # a ZoneInfo always knows its offset
        return int(delta.total_seconds())

    pieces = [(scope.start, offset(scope.start))]
    last = scope.end - timedelta(seconds=1)
    at = scope.start
    while at < last:
        probe = min(at + timedelta(days=1), last)
        if offset(probe) != pieces[-1][1]:
            low, high = at, probe  # offset(low) is the current piece's, offset(high) is not
            while high - low > timedelta(seconds=1):
                middle = low + (high - low) / 2
                middle = middle.replace(microsecond=0)
                if offset(middle) == pieces[-1][1]:
                    low = middle
                else:
                    high = middle
            pieces.append((high, offset(high)))
        at = probe
    return pieces


def epoch_seconds(column: Any, scope: Scope) -> ColumnElement[Any]:
    """Whole seconds since 1970-01-01 UTC of an instant column (floored)."""
    if scope.postgresql:
        return cast(func.floor(func.date_part(_inline("epoch"), column)), BigInteger)
    return cast(func.strftime(_inline("%s"), column), BigInteger)


def local_day_number(column: Any, scope: Scope) -> ColumnElement[Any]:
    """The desk-local date of an instant as days since 1970-01-01 (an integer)."""
    pieces = utc_offsets(scope)
    offset: ColumnElement[Any] = _inline(pieces[-1][1])
    if len(pieces) > 1:
        whens = [
            (column < literal(starts, UTCDateTime), _inline(before))
            for (_, before), (starts, _) in zip(pieces, pieces[1:], strict=False)
        ]
        offset = case(*whens, else_=offset)
    return (epoch_seconds(column, scope) + offset) // _inline(86400)


def week_number(column: Any, scope: Scope) -> ColumnElement[Any]:
    """The desk-local week as an integer: its Monday is ``7 * week - 3`` days after
    1970-01-01 (a Thursday)."""
    return (local_day_number(column, scope) + _inline(3)) // _inline(7)


def _inline(value: int | str) -> ColumnElement[Any]:
    """A constant written into the SQL, so that a grouping key repeated in GROUP BY matches
    the select list textually on PostgreSQL."""
    if isinstance(value, int):
        return literal_column(str(int(value)), BigInteger)
    if not re.fullmatch(r"[A-Za-z0-9_/+:%-]+", value):
        raise ValueError(f"refusing to inline {value!r}")
    return literal_column(f"'{value}'", String)


def day_of_number(day: int) -> date:
    """The date of a day number (see :func:`local_day_number`)."""
    return EPOCH_DAY + timedelta(days=int(day))


def monday_of_week(week: int) -> date:
    """The Monday of a week number (see :func:`week_number`)."""
    return day_of_number(7 * int(week) - 3)


def _local_dates(scope: Scope) -> tuple[date, date]:
    """The first and the last desk-local date of the period."""
    zone = ZoneInfo(scope.timezone)
    last = (scope.end - timedelta(microseconds=1)).astimezone(zone).date()
    return scope.start.astimezone(zone).date(), last


def month_start(column: Any, scope: Scope) -> ColumnElement[Any]:
    """The first day (desk-local, ``YYYY-MM-01``) of the month an instant falls in.

    A CASE comparing the instant with the period's month boundaries (a year has twelve),
    computed once from the zone's rules: no conversion per row.
    """
    zone = ZoneInfo(scope.timezone)
    first, last = _local_dates(scope)
    months = [first.replace(day=1)]
    while months[-1] <= last:
        year, month = divmod(months[-1].year * 12 + months[-1].month, 12)
        months.append(date(year, month + 1, 1))
    # Always a CASE (even for one month): PostgreSQL refuses a constant as a GROUP BY key.
    whens = [
        (
            column < literal(datetime.combine(following, time(), zone), UTCDateTime),
            _inline(month.isoformat()),
        )
        for month, following in zip(months, months[1:], strict=False)
    ]
    return case(*whens, else_=_inline(months[-2].isoformat()))


def dimension_key(dimension: str, scope: Scope) -> ColumnElement[Any]:
    """The grouping key of a dimension (desk id, agent id, week number, month, channel,
    language)."""
    keys: dict[str, Any] = {
        "desk": Ticket.desk_id,
        "agent": Ticket.assignee_id,
        "channel": cast(Ticket.channel, String(32)),
        "language": Ticket.language,
    }
    if dimension == "week":
        return week_number(Ticket.created_at, scope)
    if dimension == "month":
        return month_start(Ticket.created_at, scope)
    return keys[dimension]  # type: ignore[no-any-return]


def on_desks(column: Any, scope: Scope) -> list[ColumnElement[bool]]:
    """The desk filter, if the report is limited to some desks."""
    return [] if scope.desk_ids is None else [column.in_(scope.desk_ids)]


def created_in(scope: Scope, by_index: bool = True) -> list[ColumnElement[bool]]:
    """Tickets created in the period, on the chosen desks.

    ``by_index=False`` for a grouping no index serves: SQLite would otherwise take the period
    for a selective range and fetch every ticket through the index on created (a random read
    per row) instead of reading the table once.
    """
    created = Ticket.created_at if by_index else _not_an_index_key(Ticket.created_at, scope)
    return [created >= scope.start, created < scope.end, *on_desks(Ticket.desk_id, scope)]


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    """Rows meeting a condition (an aggregate FILTER: cheaper than summing a CASE)."""
    return func.count().filter(condition)


def _first_response_measured() -> ColumnElement[bool]:
    """A first response target is decided once answered or once breached."""
    return or_(Ticket.first_response_minutes.is_not(None), Ticket.first_response_breached)


def _resolution_measured() -> ColumnElement[bool]:
    return or_(Ticket.resolution_minutes.is_not(None), Ticket.resolution_breached)


def sla_summary(dimension: str, scope: Scope) -> Rows:
    """Per group: tickets, response-time counts and means, SLA met/decided, breaches."""
    key = dimension_key(dimension, scope).label("key")
    where = created_in(scope, by_index=False)
    return select(key, *_summary_columns()).where(*where).group_by(key).order_by(key)


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


def metric_percentiles(dimension: str, metric: str, scope: Scope) -> Rows:
    """Per group: median and 90th percentile of a metric, by window functions over a histogram."""
    value = METRICS[metric]
    key = dimension_key(dimension, scope).label("key")
    histogram = (
        select(key, value.label("value"), func.count().label("c"))
        .where(*created_in(scope, by_index=False), value.is_not(None))
        .group_by(key, value)
        .cte("histogram")
    )
    # PostgreSQL sums counts as numeric: back to integers, so the rank arithmetic stays integral.
    running = select(
        histogram.c.key,
        histogram.c.value,
        cast(
            func.sum(histogram.c.c).over(
                partition_by=histogram.c.key, order_by=histogram.c.value, rows=(None, 0)
            ),
            BigInteger,
        ).label("upto"),
        cast(func.sum(histogram.c.c).over(partition_by=histogram.c.key), BigInteger).label("n"),
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


def _not_an_index_key(column: Any, scope: Scope) -> Any:
    """On SQLite, the column behind a unary plus (SQLite's documented hint): its range is
    then checked on the index in use, not used to choose one. SQLite keeps no statistics on
    ranges, so it would take a period condition for a selective one and sort a desk's tickets
    instead of walking the (desk, measure) index in order. PostgreSQL plans from statistics."""
    if scope.postgresql:
        return column
    return UnaryExpression(column, operator=custom_op("+"), type_=column.type)


def ranked_percentiles(metric: str, desk_id: int, n: int, scope: Scope) -> Rows:
    """Median and 90th percentile of a metric on one desk that has ``n`` values of it.

    Each is read at its rank from the index on (desk, metric, created): the two values from
    the lower rank on (LIMIT 2 OFFSET rank), interpolated like :func:`percentile_cont`. No
    sort and no histogram: the database steps along the index to the rank, from the nearer
    end (the p90 from the top).
    """
    value = METRICS[metric]
    created = _not_an_index_key(Ticket.created_at, scope)
    of_desk = select(value.label("v")).where(
        Ticket.desk_id == desk_id,
        value.is_not(None),
        created >= scope.start,
        created < scope.end,
    )

    def at(fraction: tuple[int, int]) -> Any:
        num, den = fraction
        lower, rest = divmod((n - 1) * num, den)  # 0-based rank of the lower value
        if 2 * lower < n:
            pair = of_desk.order_by(value).limit(2).offset(lower)
        else:  # the same two values counted from the top: the upper one is n - 2 - lower down
            pair = (
                of_desk.order_by(value.desc())
                .limit(min(2, n - lower))
                .offset(max(n - 2 - lower, 0))
            )
        ranked = pair.subquery("ranked")
        low, high = func.min(ranked.c.v), func.max(ranked.c.v)
        return select(low + (high - low) * rest * 1.0 / den).scalar_subquery()

    return select(at(MEDIAN).label("median"), at(P90).label("p90"))


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


def _open_at(at: datetime) -> list[ColumnElement[bool]]:
    """Tickets not finished at an instant, as three disjoint conditions (resolved later;
    closed later without a resolution; neither), each a range on an index."""
    return [
        Ticket.resolved_at >= at,
        and_(Ticket.resolved_at.is_(None), Ticket.closed_at >= at),
        and_(Ticket.resolved_at.is_(None), Ticket.closed_at.is_(None)),
    ]


def backlog_at_start(scope: Scope) -> Rows:
    """How many tickets were open when the period began."""
    counts = [
        select(func.count())
        .where(Ticket.created_at < scope.start, condition, *on_desks(Ticket.desk_id, scope))
        .scalar_subquery()
        for condition in _open_at(scope.start)
    ]
    return select(counts[0] + counts[1] + counts[2])


def day_bounds(scope: Scope) -> list[tuple[int, datetime, datetime]]:
    """Every desk-local day of the period: (day number, first instant, first instant of the
    next day), from the zone's rules (a day may be 23 or 25 hours long)."""
    zone = ZoneInfo(scope.timezone)
    first, last = _local_dates(scope)
    days = [first + timedelta(days=i) for i in range((last - first).days + 2)]
    starts = [datetime.combine(day, time(), zone) for day in days]
    return [
        ((day - EPOCH_DAY).days, start, following)
        for day, start, following in zip(days, starts, starts[1:], strict=False)
    ]


def flow(scope: Scope) -> CompoundSelect[Any]:
    """Opened and finished tickets per desk-local day, with the running net change (backlog
    delta), and per week: rows of (grain "day" or "week", day or week number, opened,
    finished, net; net is NULL on week rows).

    Each day's counts are index range counts between the day's first instants (computed once
    in Python), not a time-zone conversion and a grouping of every ticket.
    """
    days = (
        values(
            column("day", BigInteger),
            column("starts", UTCDateTime),
            column("ends", UTCDateTime),
            name="days",
        )
        .data(day_bounds(scope))
        .cte("days")
    )
    desks = on_desks(Ticket.desk_id, scope)

    def count(instant: Any, *where: ColumnElement[bool]) -> Any:
        within = (instant >= days.c.starts, instant < days.c.ends)
        return select(func.count()).where(*within, *where, *desks).scalar_subquery()

    finished = count(Ticket.resolved_at) + count(Ticket.closed_at, Ticket.resolved_at.is_(None))
    per_day = (
        select(
            days.c.day,
            count(Ticket.created_at).label("opened"),
            finished.label("finished"),
        )
        .cte("per_day")
        .prefix_with("MATERIALIZED")
    )
    net = per_day.c.opened - per_day.c.finished
    by_day = select(
        literal("day").label("grain"),
        per_day.c.day.label("period"),
        per_day.c.opened,
        per_day.c.finished,
        func.sum(net).over(order_by=per_day.c.day).label("net"),
    )
    week = ((per_day.c.day + _inline(3)) // _inline(7)).label("period")
    by_week = (
        select(
            literal("week").label("grain"),
            week,
            func.sum(per_day.c.opened),
            func.sum(per_day.c.finished),
            literal(None).label("net"),
        )
        .group_by(week)
        .having(func.sum(per_day.c.opened) + func.sum(per_day.c.finished) > 0)
    )
    return union_all(by_day, by_week)


def backlog_age(
    scope: Scope, edges: Mapping[int, Sequence[tuple[datetime, str]]], oldest: str
) -> Rows:
    """Tickets open at ``scope.end`` per desk and age bucket.

    ``edges[desk_id]`` lists (instant, bucket) from the most recent: a ticket created at or
    after an instant falls in that bucket, one older than every instant in ``oldest``.
    """
    branches = []
    for desk_id, desk_edges in edges.items():
        whens = [(Ticket.created_at >= instant, literal(label)) for instant, label in desk_edges]
        bucket_of_desk = case(*whens, else_=literal(oldest)) if whens else literal(oldest)
        branches.append((Ticket.desk_id == desk_id, bucket_of_desk))
    bucket = (case(*branches, else_=literal(oldest)) if branches else literal(oldest)).label(
        "bucket"
    )
    open_tickets = union_all(
        *[
            select(Ticket.desk_id, bucket).where(
                Ticket.created_at < scope.end, condition, *on_desks(Ticket.desk_id, scope)
            )
            for condition in _open_at(scope.end)
        ]
    ).subquery("open_tickets")
    return (
        select(open_tickets.c.desk_id, open_tickets.c.bucket, func.count().label("tickets"))
        .group_by(open_tickets.c.desk_id, open_tickets.c.bucket)
        .order_by(open_tickets.c.desk_id)
    )


def refused_attachments(scope: Scope) -> Rows:
    """Refused attachments received in the period, by detected type and reason."""
    # A refused message has no ticket: it counts for the desk it was meant for (older rows,
    # from before messages kept that, for their mailbox's default desk).
    desk = func.coalesce(Ticket.desk_id, Message.desk_id, Mailbox.default_desk_id)
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


def desks_and_environments(scope: Scope) -> CompoundSelect[Any]:
    """One pass over the period's tickets grouped by desk and reported environment, rolled up
    two ways: rows with ``part`` "desk" carry :func:`sla_summary`'s columns per desk (``key``);
    rows with ``part`` "environment" the tickets per OS family and browser family.

    Counts and sums add up exactly; means are the summed minutes over the summed counts.
    """
    fr, res = Ticket.first_response_minutes, Ticket.resolution_minutes
    wait = Ticket.awaiting_information_minutes
    fine = (
        select(
            Ticket.desk_id,
            Ticket.env_os_family.label("os"),
            Ticket.env_browser_family.label("browser"),
            func.count().label("tickets"),
            func.count(fr).label("fr_n"),
            func.sum(fr).label("fr_sum"),
            _count_if(_first_response_measured()).label("fr_decided"),
            _count_if(and_(_first_response_measured(), not_(Ticket.first_response_breached))).label(
                "fr_met"
            ),
            func.count(res).label("res_n"),
            func.sum(res).label("res_sum"),
            _count_if(_resolution_measured()).label("res_decided"),
            _count_if(and_(_resolution_measured(), not_(Ticket.resolution_breached))).label(
                "res_met"
            ),
            _count_if(or_(Ticket.first_response_breached, Ticket.resolution_breached)).label(
                "breaches"
            ),
            func.count(wait).label("waited"),
            func.sum(wait).label("wait_sum"),
        )
        .where(*created_in(scope))
        .group_by(Ticket.desk_id, Ticket.env_os_family, Ticket.env_browser_family)
        .cte("fine")
    )

    def total(name: str) -> ColumnElement[Any]:
        return cast(func.sum(fine.c[name]), BigInteger)

    def mean(minutes: str, count: str) -> ColumnElement[Any]:
        return func.sum(fine.c[minutes]) * 1.0 / func.nullif(func.sum(fine.c[count]), 0)

    counts = ("fr_n", "fr_decided", "fr_met", "res_n", "res_decided", "res_met", "breaches")
    by_desk = select(
        literal("desk").label("part"),
        fine.c.desk_id.label("key"),
        literal(None, String).label("os"),
        literal(None, String).label("browser"),
        total("tickets").label("tickets"),
        *[total(name).label(name) for name in counts],
        mean("fr_sum", "fr_n").label("fr_mean"),
        mean("res_sum", "res_n").label("res_mean"),
        total("waited").label("waited"),
        mean("wait_sum", "waited").label("wait_mean"),
    ).group_by(fine.c.desk_id)
    by_environment = select(
        literal("environment"),
        literal(None, BigInteger),
        fine.c.os,
        fine.c.browser,
        total("tickets"),
        *[literal(None, BigInteger) for _ in counts],
        literal(None),
        literal(None),
        literal(None, BigInteger),
        literal(None),
    ).group_by(fine.c.os, fine.c.browser)
    return union_all(by_desk, by_environment).order_by(
        literal_column("part"),
        literal_column("key"),
        literal_column("tickets").desc(),
        literal_column("os"),
        literal_column("browser"),
    )
