"""/metrics: figures from the database at scrape time, request latency, and who may read it."""

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from helpdesk.extensions import db
from helpdesk.models import (
    Direction,
    IngestFailure,
    Mailbox,
    Message,
    OutboxMessage,
    OutboxStatus,
    SchedulerLease,
)
from helpdesk.scheduler import LEADER_NAME
from helpdesk.tickets.workflow import TicketStatus
from tests.conftest import NOW, make_app

PROJECT = Path(__file__).resolve().parents[4]
TOKEN = "metrics-token-" + "x" * 30


def samples(response):
    """{(sample name, sorted labels): value} of a scrape."""
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/plain"
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.get_data(as_text=True))
        for sample in family.samples
    }


def request_count(scrape, endpoint, status="200"):
    labels = (("endpoint", endpoint), ("method", "GET"), ("status", status))
    return scrape.get(("helpdesk_http_request_duration_seconds_count", labels), 0)


def add(row):
    db.session.add(row)
    db.session.flush()
    return row


def outbox(n, created_at, status=OutboxStatus.PENDING):
    return add(
        OutboxMessage(
            kind="reply",
            sender="desk@support.example.test",
            recipient="someone@example.org",
            message_id=f"<metrics-{n}@support.example.test>",
            status=status,
            created_at=created_at,
            next_attempt_at=created_at,
        )
    )


def test_the_database_figures(client, make, frozen_now):
    desk = make.desk(slug="metrics-desk")
    for state, status in [
        ("near", TicketStatus.NEW),
        ("breached", TicketStatus.NEW),
        ("breached", TicketStatus.OPEN),
        ("breached", TicketStatus.RESOLVED),  # finished: no longer counts
        ("ok", TicketStatus.NEW),
    ]:
        ticket = make.ticket(desk)
        ticket.sla_state, ticket.status = state, status
    box = add(
        Mailbox(
            name="metrics-box",
            address="box@support.example.test",
            host="imap.example.jp",
            username="box",
            secret_env="HELPDESK_X",
            default_desk=desk,
            last_success_at=NOW - timedelta(seconds=120),
            last_poll_at=NOW - timedelta(seconds=20),
            consecutive_failures=2,
        )
    )
    add(
        Mailbox(
            name="metrics-new",
            address="new@support.example.test",
            host="imap.example.jp",
            username="new",
            secret_env="HELPDESK_Y",
            default_desk=desk,
        )
    )
    for n in range(3):
        add(Message(mailbox_id=box.id, direction=Direction.INBOUND, message_id=f"<in-{n}@x>"))
    add(Message(direction=Direction.NOTE, text="a note counts for no mailbox"))
    add(IngestFailure(mailbox_id=box.id, raw_sha256="0" * 64, error="unreadable"))
    add(IngestFailure(mailbox_id=box.id, raw_sha256="1" * 64, error="fixed", resolved=True))
    outbox(1, NOW - timedelta(seconds=300))
    outbox(2, NOW - timedelta(seconds=10))
    outbox(3, NOW - timedelta(days=1), OutboxStatus.FAILED)
    outbox(4, NOW - timedelta(days=2), OutboxStatus.SENT)
    add(SchedulerLease(name=LEADER_NAME, holder="h:1", expires_at=NOW + timedelta(seconds=25)))

    scrape = samples(client.get("/metrics"))
    expected = {
        ("helpdesk_database_up", ()): 1,
        ("helpdesk_outbox_messages", (("status", "pending"),)): 2,
        ("helpdesk_outbox_messages", (("status", "failed"),)): 1,
        ("helpdesk_outbox_oldest_unsent_age_seconds", ()): 300,
        ("helpdesk_sla_tickets", (("desk", "metrics-desk"), ("state", "near"))): 1,
        ("helpdesk_sla_tickets", (("desk", "metrics-desk"), ("state", "breached"))): 2,
        ("helpdesk_mailbox_last_success_age_seconds", (("mailbox", "metrics-box"),)): 120,
        ("helpdesk_mailbox_last_success_age_seconds", (("mailbox", "metrics-new"),)): float("inf"),
        ("helpdesk_mailbox_last_poll_age_seconds", (("mailbox", "metrics-box"),)): 20,
        ("helpdesk_mailbox_consecutive_failures", (("mailbox", "metrics-box"),)): 2,
        ("helpdesk_mail_messages_ingested_total", (("mailbox", "metrics-box"),)): 3,
        ("helpdesk_mail_messages_ingested_total", (("mailbox", "metrics-new"),)): 0,
        ("helpdesk_mail_failed_messages", ()): 1,
        ("helpdesk_scheduler_leader_seen_age_seconds", ()): 5,
    }
    assert {key: scrape.get(key) for key in expected} == expected


def test_request_latency_by_endpoint(client):
    before = samples(client.get("/metrics"))
    client.get("/healthz")
    client.get("/healthz")
    client.get("/no/such/page")
    after = samples(client.get("/metrics"))
    assert request_count(after, "ops.healthz") - request_count(before, "ops.healthz") == 2
    grown = request_count(after, "unmatched", "404") - request_count(before, "unmatched", "404")
    assert grown == 1
    assert not any("no/such" in str(labels) for _name, labels in after)


def test_only_loopback_by_default(client):
    assert client.get("/metrics").status_code == 200
    outside = client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert outside.status_code == 403 and b"helpdesk_" not in outside.data
    # A reverse proxy on the same host: the request comes from loopback but is forwarded.
    proxied = client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
    assert proxied.status_code == 403
    assert "Set-Cookie" not in outside.headers


def test_a_token_lets_a_remote_scraper_in(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "METRICS_TOKEN", TOKEN)
    remote = {"REMOTE_ADDR": "10.9.8.7"}
    good = client.get("/metrics", environ_base=remote, headers={"Authorization": f"Bearer {TOKEN}"})
    assert good.status_code == 200 and b"helpdesk_database_up 1.0" in good.data
    wrong = client.get("/metrics", environ_base=remote, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 403
    assert client.get("/metrics", environ_base=remote).status_code == 403


def test_an_admin_network_setting(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "METRICS_ALLOW", "10.20.0.0/16")
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.20.1.2"}).status_code == 200
    assert client.get("/metrics").status_code == 403  # loopback is no longer listed


def test_the_database_being_down_is_a_figure_not_an_error(tmp_path):
    app = make_app("postgresql+psycopg://nobody@127.0.0.1:1/nothing", tmp_path / "instance")
    scrape = samples(app.test_client().get("/metrics"))
    assert scrape[("helpdesk_database_up", ())] == 0
    assert ("helpdesk_outbox_messages", (("status", "pending"),)) not in scrape


WORKER = """
import sys
from helpdesk import create_app
app = create_app("testing", overrides={"INSTANCE_PATH": sys.argv[1]})
client = app.test_client()
for _ in range(3):
    assert client.get("/healthz").status_code == 200
"""


def test_multiprocess_mode_sums_every_worker(client, tmp_path, monkeypatch):
    """With PROMETHEUS_MULTIPROC_DIR (gunicorn workers), a scrape of any process counts the
    requests every process answered."""
    folder = tmp_path / "prometheus"
    folder.mkdir()
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(folder)}
    for n in range(2):
        subprocess.run(
            [sys.executable, "-c", WORKER, str(tmp_path / f"worker-{n}")],
            env=env,
            cwd=PROJECT,
            check=True,
            timeout=120,
        )
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(folder))
    scrape = samples(client.get("/metrics"))
    assert request_count(scrape, "ops.healthz") == 6
    assert scrape[("helpdesk_database_up", ())] == 1


@pytest.fixture(autouse=True)
def _no_multiprocess_folder(monkeypatch):
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
