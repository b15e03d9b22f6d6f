"""/healthz and /readyz: what a load balancer and a monitor ask."""

from datetime import timedelta

import pytest
from sqlalchemy import text

from helpdesk.extensions import db
from helpdesk.models import Mailbox, OutboxMessage, OutboxStatus, SchedulerLease
from helpdesk.scheduler import LEADER_NAME, lead, leadership_for
from tests.conftest import NOW, database_kind, make_app

UNREACHABLE = "postgresql+psycopg://nobody@127.0.0.1:1/nothing"


@pytest.fixture
def mailbox(make):
    """An enabled mailbox, last polled successfully 30 s ago."""

    def build(name="ops-box", **values):
        values.setdefault("last_success_at", NOW - timedelta(seconds=30))
        box = Mailbox(
            name=name,
            address=f"{name}@support.example.test",
            host="imap.secret-host.example.jp",
            username="desk-login@example.jp",
            secret_env="HELPDESK_MAILBOX_OPS_PASSWORD",
            default_desk=make.desk(),
            poll_interval=60,
            **values,
        )
        db.session.add(box)
        db.session.flush()
        return box

    return build


def leader_seen(seconds_ago, lease=30):
    db.session.add(
        SchedulerLease(
            name=LEADER_NAME,
            holder="web-1:4242",
            expires_at=NOW - timedelta(seconds=seconds_ago) + timedelta(seconds=lease),
        )
    )
    db.session.flush()


def outbox_item(created_at, **values):
    n = created_at.timestamp()
    item = OutboxMessage(
        kind="reply",
        sender="desk@support.example.test",
        recipient="someone@example.org",
        message_id=f"<ops-{n}@support.example.test>",
        created_at=created_at,
        next_attempt_at=created_at,
        **values,
    )
    db.session.add(item)
    db.session.flush()
    return item


def test_healthz_answers_without_the_database(tmp_path):
    app = make_app(UNREACHABLE, tmp_path / "instance")
    client = app.test_client()
    health = client.get("/healthz")
    assert health.status_code == 200 and health.json == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json["checks"]["database"] == {"state": "fail"}
    assert ready.json["checks"]["migrations"] == {"state": "unknown"}
    assert "nobody" not in ready.get_data(as_text=True)


def test_readyz_is_ready_when_everything_is_fresh(client, frozen_now, mailbox):
    leader_seen(10)
    mailbox()
    outbox_item(NOW - timedelta(seconds=60))
    response = client.get("/readyz")
    assert response.status_code == 200, response.json
    checks = response.json["checks"]
    assert response.json["status"] == "ok"
    assert {name: c["state"] for name, c in checks.items()} == {
        "database": "ok",
        "migrations": "ok",
        "scheduler": "ok",
        "outbox": "ok",
        "mailboxes": "ok",
    }
    assert checks["scheduler"]["seen_seconds_ago"] == 10
    assert checks["outbox"]["oldest_unsent_seconds"] == 60
    assert checks["mailboxes"]["mailboxes"]["ops-box"] == {
        "state": "ok",
        "last_success_seconds": 30,
    }
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers
    assert "Set-Cookie" not in client.get("/healthz").headers


def test_readyz_names_what_is_late_and_nothing_secret(client, frozen_now, mailbox):
    leader_seen(61)
    mailbox(
        last_success_at=NOW - timedelta(seconds=60 + 901),
        last_error="LOGIN failed for desk-login@example.jp at imap.secret-host.example.jp",
        consecutive_failures=12,
    )
    mailbox("ops-off", enabled=False, last_success_at=None)
    outbox_item(NOW - timedelta(seconds=901))
    outbox_item(NOW - timedelta(days=3), status=OutboxStatus.SENT)
    response = client.get("/readyz")
    assert response.status_code == 503
    checks = response.json["checks"]
    assert checks["scheduler"] == {"state": "fail", "seen_seconds_ago": 61}
    assert checks["outbox"] == {"state": "fail", "oldest_unsent_seconds": 901}
    assert checks["mailboxes"]["state"] == "fail"
    assert checks["mailboxes"]["mailboxes"]["ops-box"]["state"] == "fail"
    assert "ops-off" not in checks["mailboxes"]["mailboxes"]
    body = response.get_data(as_text=True)
    for secret in ("secret-host", "desk-login", "HELPDESK_MAILBOX", "LOGIN failed"):
        assert secret not in body


def test_readyz_fails_when_the_schema_is_not_the_codes(client, frozen_now, db_session):
    leader_seen(1)
    db_session.execute(text("UPDATE alembic_version SET version_num = 'b884a4c42952'"))
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"]["migrations"]["state"] == "fail"
    assert response.json["checks"]["migrations"]["database"] == ["b884a4c42952"]


def test_thresholds_are_settings_and_zero_turns_a_check_off(app, client, frozen_now, monkeypatch):
    monkeypatch.setitem(app.config, "READY_LEADER_MAX_AGE", 0)
    response = client.get("/readyz")  # no leader was ever seen
    assert response.json["checks"]["scheduler"]["state"] == "off"
    assert response.status_code == 200
    monkeypatch.setitem(app.config, "READY_LEADER_MAX_AGE", 3600)
    leader_seen(3000)
    assert client.get("/readyz").json["checks"]["scheduler"]["state"] == "ok"


def test_the_scheduler_heartbeat_is_what_readyz_sees(committed_app, frozen_now):
    """The leader's heartbeat leaves its row on either database (on PostgreSQL the lock is an
    advisory lock, so the row is written for this); a monitor in another process reads it."""
    with committed_app.app_context():
        leadership = leadership_for(db.engine, 30)
    client = committed_app.test_client()
    try:
        assert client.get("/readyz").json["checks"]["scheduler"]["state"] == "fail"
        assert lead(leadership, NOW)
        frozen_now(NOW + timedelta(seconds=5))
        scheduler = client.get("/readyz").json["checks"]["scheduler"]
        assert scheduler == {"state": "ok", "seen_seconds_ago": 5}
        frozen_now(NOW + timedelta(seconds=61))
        assert client.get("/readyz").json["checks"]["scheduler"]["state"] == "fail"
        assert lead(leadership, NOW + timedelta(seconds=61))
        assert client.get("/readyz").json["checks"]["scheduler"]["state"] == "ok"
    finally:
        leadership.release()


@pytest.mark.skipif(database_kind() != "sqlite", reason="SQLite's single write lock")
def test_probes_read_past_a_writer_holding_the_lock(committed_app):
    """Mail ingest holds SQLite's write lock for a whole batch: a probe or a scrape must not
    queue behind it (and time out into a false alarm)."""
    with committed_app.app_context():
        engine = db.engine
    client = committed_app.test_client()
    with engine.begin() as writer:  # BEGIN IMMEDIATE: the write lock, held until the end
        writer.execute(text("UPDATE desk SET name = name"))
        ready = client.get("/readyz")
        scrape = client.get("/metrics")
    assert ready.json["checks"]["database"] == {"state": "ok"}
    assert b"helpdesk_database_up 1.0" in scrape.data
