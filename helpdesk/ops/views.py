"""The probes and the metrics: /healthz, /readyz, /metrics.

None of them signs anyone in, sets a cookie or is rate-limited; /readyz and /metrics only
read, and on SQLite read without taking the write lock (a probe never waits on mail ingest).
"""

from __future__ import annotations

import time

from flask import Blueprint, Response, current_app, g, jsonify, request
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from config import networks
from helpdesk import clock
from helpdesk.extensions import db, limiter, mark_read_only
from helpdesk.ops import health, metrics

bp = Blueprint("ops", __name__)

NO_STORE = {"Cache-Control": "no-store"}


@bp.get("/healthz")
@limiter.exempt
def healthz() -> tuple[Response, int, dict[str, str]]:
    """The process is up and answering; touches nothing else."""
    return jsonify(status="ok"), 200, NO_STORE


@bp.get("/readyz")
@limiter.exempt
def readyz() -> tuple[Response, int, dict[str, str]]:
    """Each check and its state; 503 when any failed."""
    mark_read_only()
    config = current_app.config
    facts = health.gather(db.session, config["SCHEDULER_LEASE_SECONDS"])
    limits = health.Limits(
        leader=config["READY_LEADER_MAX_AGE"],
        outbox=config["READY_OUTBOX_MAX_AGE"],
        poll=config["READY_POLL_MAX_AGE"],
    )
    heads = health.code_heads(current_app.extensions["migrate"].directory)
    checks = health.judge(facts, heads, clock.now(), limits)
    ok = health.ready(checks)
    return jsonify(status="ok" if ok else "fail", checks=checks), 200 if ok else 503, NO_STORE


@bp.get("/metrics")
@limiter.exempt
def prometheus_metrics() -> Response:
    """The metrics in Prometheus' text format, to allowed scrapers only."""
    config = current_app.config
    if not metrics.allowed(
        request.remote_addr,
        request.headers.get("Authorization"),
        any(name in request.headers for name in metrics.FORWARDING_HEADERS),
        config["METRICS_TOKEN"],
        networks(config["METRICS_ALLOW"]),
    ):
        return Response("forbidden\n", 403, mimetype="text/plain", headers=NO_STORE)
    mark_read_only()
    scrape = metrics.registry(db.session, config["SCHEDULER_LEASE_SECONDS"])
    return Response(generate_latest(scrape), mimetype=CONTENT_TYPE_LATEST, headers=NO_STORE)


@bp.before_app_request
def _start_timer() -> None:
    g.ops_started = time.perf_counter()


@bp.after_app_request
def _observe(response: Response) -> Response:
    started = g.pop("ops_started", None)
    if started is not None:
        metrics.REQUEST_SECONDS.labels(
            request.method, request.endpoint or "unmatched", str(response.status_code)
        ).observe(time.perf_counter() - started)
    return response
