"""Prometheus metrics: gauges read from the database at scrape time, and request latency.

Gunicorn runs several workers and one of them leads the scheduled jobs, so a counter kept
where a poll happens would count only in the process that polled, and a scrape reaches any
worker. What the database knows (outbox backlog, SLA states, each mailbox's last poll,
messages ingested, failures) is therefore read from it when scraped, identical in every
process. Request latency is a histogram kept per process; with ``PROMETHEUS_MULTIPROC_DIR``
set (prometheus-client's multiprocess mode) every worker writes it to files in that folder and
a scrape of any worker sums them all.

Access: a request with the bearer token ``METRICS_TOKEN``, or one made straight (through no
proxy) from an address in ``METRICS_ALLOW`` (loopback by default).
"""

from __future__ import annotations

import hmac
import logging
import math
import os
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from ipaddress import IPv4Network, IPv6Network, ip_address

from prometheus_client import CollectorRegistry, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from helpdesk import clock
from helpdesk.models import (
    Desk,
    IngestFailure,
    Mailbox,
    Message,
    OutboxMessage,
    OutboxStatus,
    SchedulerLease,
    Ticket,
)
from helpdesk.ops.health import AnySession
from helpdesk.scheduler import LEADER_NAME
from helpdesk.sla import SlaState
from helpdesk.tickets.workflow import FINISHED

log = logging.getLogger(__name__)

# A proxy in front of the app makes every request come from its own (often loopback) address;
# these headers mark a request that came through one.
FORWARDING_HEADERS = ("Forwarded", "X-Forwarded-For", "X-Real-IP")
SLA_STATES = (SlaState.NEAR, SlaState.BREACHED)

# Labelled by endpoint name, never by path: a path would make a series per ticket.
REQUEST_SECONDS = Histogram(
    "helpdesk_http_request_duration_seconds",
    "Time to answer an HTTP request, by method, endpoint and status code.",
    ["method", "endpoint", "status"],
    registry=None,
)


def allowed(
    remote_addr: str | None,
    authorization: str | None,
    proxied: bool,
    token: str,
    networks: Sequence[IPv4Network | IPv6Network],
) -> bool:
    """Whether a scrape may read the metrics: it bears the token, or it comes straight from an
    allowed network."""
    if token and authorization is not None:
        return hmac.compare_digest(authorization.encode(), f"Bearer {token}".encode())
    if proxied or not remote_addr:
        return False
    try:
        address = ip_address(remote_addr)
    except ValueError:
        return False
    if address.version == 6 and address.ipv4_mapped is not None:  # ::ffff:127.0.0.1
        address = address.ipv4_mapped
    return any(address in network for network in networks)


def registry(session: AnySession, lease_seconds: int) -> CollectorRegistry:
    """What one scrape exports: the database gauges and the request histogram."""
    scrape = CollectorRegistry()
    scrape.register(DatabaseCollector(session, lease_seconds))
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(scrape)  # type: ignore[no-untyped-call]  # every worker's, from files
    else:
        scrape.register(REQUEST_SECONDS)
    return scrape


class DatabaseCollector:
    """Gauges computed from the database when scraped (helpdesk_database_up 0 if it fails)."""

    def __init__(self, session: AnySession, lease_seconds: int) -> None:
        self.session = session
        self.lease_seconds = lease_seconds

    def collect(self) -> Iterator[Metric]:
        """The metric families, read now."""
        up = GaugeMetricFamily("helpdesk_database_up", "Whether the database answered.")
        try:
            families = list(self._read(clock.now()))
        except SQLAlchemyError:
            log.warning("metrics: the database cannot be read", exc_info=True)
            self.session.rollback()
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families

    def _read(self, now: datetime) -> Iterator[Metric]:
        yield from self._outbox(now)
        yield self._sla()
        yield from self._mailboxes(now)
        yield self._failures()
        yield self._leader(now)

    def _outbox(self, now: datetime) -> Iterator[Metric]:
        backlog = GaugeMetricFamily(
            "helpdesk_outbox_messages",
            "Outgoing mail not sent: pending (will be tried) or failed (given up).",
            labels=["status"],
        )
        counts = dict(
            self.session.execute(
                select(OutboxMessage.status, func.count())
                .where(OutboxMessage.status.in_([OutboxStatus.PENDING, OutboxStatus.FAILED]))
                .group_by(OutboxMessage.status)
            ).all()
        )
        for status in (OutboxStatus.PENDING, OutboxStatus.FAILED):
            backlog.add_metric([status.value], counts.get(status, 0))
        yield backlog
        oldest = self.session.scalar(
            select(func.min(OutboxMessage.created_at)).where(
                OutboxMessage.status == OutboxStatus.PENDING
            )
        )
        yield GaugeMetricFamily(
            "helpdesk_outbox_oldest_unsent_age_seconds",
            "Age of the oldest pending outgoing mail (0 when none waits).",
            value=_age(now, oldest, none=0.0),
        )

    def _sla(self) -> Metric:
        family = GaugeMetricFamily(
            "helpdesk_sla_tickets",
            "Unfinished tickets whose SLA is near or breached, by desk.",
            labels=["desk", "state"],
        )
        counts = {
            (slug, state): n
            for slug, state, n in self.session.execute(
                select(Desk.slug, Ticket.sla_state, func.count())
                .join(Desk, Desk.id == Ticket.desk_id)
                .where(Ticket.status.not_in(list(FINISHED)), Ticket.sla_state.in_(SLA_STATES))
                .group_by(Desk.slug, Ticket.sla_state)
            )
        }
        for slug in self.session.scalars(select(Desk.slug).order_by(Desk.slug)):
            for state in SLA_STATES:
                family.add_metric([slug, state], counts.get((slug, state), 0))
        return family

    def _mailboxes(self, now: datetime) -> Iterable[Metric]:
        success = GaugeMetricFamily(
            "helpdesk_mailbox_last_success_age_seconds",
            "Seconds since an enabled mailbox was last polled successfully (+Inf: never).",
            labels=["mailbox"],
        )
        attempt = GaugeMetricFamily(
            "helpdesk_mailbox_last_poll_age_seconds",
            "Seconds since an enabled mailbox was last polled, whatever came of it.",
            labels=["mailbox"],
        )
        failures = GaugeMetricFamily(
            "helpdesk_mailbox_consecutive_failures",
            "Polls of an enabled mailbox that failed in a row.",
            labels=["mailbox"],
        )
        rows = self.session.execute(
            select(
                Mailbox.name,
                Mailbox.last_success_at,
                Mailbox.last_poll_at,
                Mailbox.consecutive_failures,
            ).where(Mailbox.enabled.is_(True))
        )
        for name, last_success, last_poll, failed in rows:
            success.add_metric([name], _age(now, last_success))
            attempt.add_metric([name], _age(now, last_poll))
            failures.add_metric([name], failed)
        ingested = CounterMetricFamily(
            "helpdesk_mail_messages_ingested",
            "Messages stored from each mailbox (counted in the database).",
            labels=["mailbox"],
        )
        # Served by the index of the (mailbox_id, message_id) unique constraint.
        per_mailbox = (
            select(Message.mailbox_id, func.count().label("n"))
            .where(Message.mailbox_id.is_not(None))
            .group_by(Message.mailbox_id)
            .subquery()
        )
        for name, n in self.session.execute(
            select(Mailbox.name, func.coalesce(per_mailbox.c.n, 0)).outerjoin(
                per_mailbox, per_mailbox.c.mailbox_id == Mailbox.id
            )
        ):
            ingested.add_metric([name], n)
        return [success, attempt, failures, ingested]

    def _failures(self) -> Metric:
        count = self.session.scalar(
            select(func.count()).select_from(IngestFailure).where(IngestFailure.resolved.is_(False))
        )
        return GaugeMetricFamily(
            "helpdesk_mail_failed_messages",
            "Messages that could not be imported and are not resolved (see mail failures).",
            value=count or 0,
        )

    def _leader(self, now: datetime) -> Metric:
        expires_at = self.session.scalar(
            select(SchedulerLease.expires_at).where(SchedulerLease.name == LEADER_NAME)
        )
        seen = None if expires_at is None else expires_at.timestamp() - self.lease_seconds
        return GaugeMetricFamily(
            "helpdesk_scheduler_leader_seen_age_seconds",
            "Seconds since the scheduler leader's last heartbeat (+Inf: none seen).",
            value=math.inf if seen is None else max(0.0, now.timestamp() - seen),
        )


def _age(now: datetime, then: datetime | None, none: float = math.inf) -> float:
    return none if then is None else max(0.0, (now - then).total_seconds())
