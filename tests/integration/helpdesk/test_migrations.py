"""Alembic: the migrations from empty give exactly the schema the models describe."""

import contextlib

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from helpdesk.extensions import db
from tests.conftest import empty_database, make_app


@contextlib.contextmanager
def _migrated_to(tmp_path, revision):
    """An empty database upgraded to ``revision``, its app's context entered; the engine is
    disposed of afterwards."""
    with empty_database(tmp_path) as url:
        app = make_app(url, tmp_path / "instance")
        with app.app_context():
            upgrade(revision=revision)
            try:
                yield
            finally:
                db.engine.dispose()


def test_upgraded_schema_matches_the_models(app):
    with app.app_context(), db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, db.metadata)
    assert diff == []


def test_flask_db_check_finds_nothing_to_generate(app):
    result = app.test_cli_runner().invoke(args=["db", "check"])
    assert result.exit_code == 0, result.output


def test_message_desk_migration_keeps_attachments_and_finds_refused_desks(tmp_path):
    """c5e0d3b8a7f2 adds message.desk_id in place (SQLite batch mode would drop and copy the
    table, cascading to every attachment) and takes refused messages' desks from the audit."""
    with _migrated_to(tmp_path, "a9d3e7c41b20"):
        with db.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO desk (id, slug, name, name_ja, timezone, opening_hours, "
                    "national_holidays, year_end_closure, sla_targets, requires_fields, "
                    "applies_attachment_policy, attachment_action, reply_from, languages, "
                    "channels, accepts_email, active, created_at) VALUES (7, 'ssw', 'S', '', "
                    "'Asia/Tokyo', '{}', true, true, '{}', true, true, 'reject', '', '[]', "
                    "'[]', true, true, '2025-01-01')"
                )
            )
            for number, refused in ((1, True), (2, False)):
                conn.execute(
                    text(
                        'INSERT INTO message (id, direction, "references", "to", cc, subject, '
                        "text, auto_generated, refused, oversized, received_at, created_at, "
                        "message_id) VALUES (:id, 'inbound', '[]', '[]', '[]', 's', 't', "
                        "false, :refused, false, '2025-01-01', '2025-01-01', :mid)"
                    ),
                    {"id": number, "refused": refused, "mid": f"<{number}@example.test>"},
                )
            conn.execute(
                text(
                    "INSERT INTO attachment (id, message_id, filename, declared_type, "
                    "detected_type, size, sha256, allowed, reason, detail, inline, origin) "
                    "VALUES (1, 1, 'a.exe', 'x', 'y', 1, 'z', false, 'r', 'd', false, 'o')"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO audit_event (action, detail, created_at) VALUES "
                    "('mail.refused', :detail, '2025-01-01')"
                ),
                {"detail": '{"message_id": "<1@example.test>", "desk": "ssw"}'},
            )
        upgrade(revision="c5e0d3b8a7f2")
        with db.engine.connect() as conn:
            assert conn.scalar(text("SELECT count(*) FROM attachment")) == 1
            rows = conn.execute(text("SELECT id, desk_id FROM message ORDER BY id")).all()
            assert [tuple(r) for r in rows] == [(1, 7), (2, None)]
        downgrade(revision="a9d3e7c41b20")
        with db.engine.connect() as conn:
            assert conn.scalar(text("SELECT count(*) FROM attachment")) == 1


def test_outbox_raw_migration_keeps_every_row_and_its_bytes(tmp_path):
    """d2f6a8c1e9b3 lets outbox_message.raw be empty; on SQLite batch mode copies the table."""
    with _migrated_to(tmp_path, "c5e0d3b8a7f2"):
        with db.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO outbox_message (id, kind, sender, recipient, message_id, "
                    "raw, automatic, status, attempts, next_attempt_at, created_at) VALUES "
                    "(3, 'ack', 'd@example.test', 'c@example.test', 'm3@example.test', "
                    ":raw, true, 'pending', 0, '2025-01-01', '2025-01-01')"
                ),
                {"raw": b"Subject: kept\r\n\r\nbody\r\n"},
            )
        upgrade(revision="d2f6a8c1e9b3")
        with db.engine.begin() as conn:
            raws = conn.execute(text("SELECT id, raw FROM outbox_message")).all()
            assert [tuple(r) for r in raws] == [(3, b"Subject: kept\r\n\r\nbody\r\n")]
            conn.execute(text("UPDATE outbox_message SET raw = NULL WHERE id = 3"))
            conn.execute(text("UPDATE outbox_message SET raw = :raw"), {"raw": b"x"})
        downgrade(revision="c5e0d3b8a7f2")
        with db.engine.connect() as conn:
            assert conn.scalar(text("SELECT raw FROM outbox_message WHERE id = 3")) == b"x"


def test_redundant_ticket_desk_index_is_dropped_and_restored(tmp_path):
    """e8c4b1d7a925 drops ix_ticket_desk_id; a desk's tickets still have an index to use."""

    def ticket_indexes():
        return {ix["name"]: ix["column_names"] for ix in inspect(db.engine).get_indexes("ticket")}

    with _migrated_to(tmp_path, "e8c4b1d7a925"):
        indexes = ticket_indexes()
        assert "ix_ticket_desk_id" not in indexes
        assert indexes["ix_ticket_queue"][0] == "desk_id"
        downgrade(revision="d2f6a8c1e9b3")
        assert ticket_indexes()["ix_ticket_desk_id"] == ["desk_id"]


def test_content_digest_migration_keeps_every_message_s_rows(tmp_path):
    """a4c7e2f9b1d3 changes message's unique constraint; on SQLite batch mode copies the table,
    and the copy's swap must not cascade to the attachments and outbox rows pointing at it."""
    with _migrated_to(tmp_path, "e8c4b1d7a925"):
        with db.engine.begin() as conn:
            for statement in _ROWS_POINTING_AT_A_MESSAGE:
                conn.execute(text(statement))
        upgrade(revision="a4c7e2f9b1d3")
        with db.engine.begin() as conn:
            assert conn.scalar(text("SELECT count(*) FROM attachment")) == 1
            assert conn.scalar(text("SELECT message_row_id FROM outbox_message")) == 1
            rows = conn.execute(text("SELECT id, content_sha256, message_id_reused FROM message"))
            assert [tuple(r) for r in rows] == [(1, None, False)]
            if _sqlite():  # env.py turned them off for the copy, and on again
                assert conn.scalar(text("PRAGMA foreign_keys")) == 1
            # Another message under that Message-ID in that mailbox now fits beside it.
            conn.execute(text(_MESSAGE.format(id=2, columns=", content_sha256", values=", 'b'")))
            conn.execute(text("DELETE FROM message WHERE id = 2"))  # or downgrading fails
        downgrade(revision="e8c4b1d7a925")
        with db.engine.connect() as conn:
            assert conn.scalar(text("SELECT count(*) FROM attachment")) == 1
            assert conn.scalar(text("SELECT message_row_id FROM outbox_message")) == 1


def test_unique_without_mailbox_migration_stops_at_twins_and_lets_undigested_rows_be(
    tmp_path, capfd
):
    """d8e1f4a6c205 adds a partial unique index for messages without a mailbox: twins an
    import stored before it stop the upgrade with a message; rows without a digest (outbound,
    notes, stored before digests) may share a Message-ID."""
    twin = _MESSAGE.replace("VALUES ({id}, 1,", "VALUES ({id}, NULL,")
    with _migrated_to(tmp_path, "b6d2e9a4c713"):
        with db.engine.begin() as conn:
            for row in (1, 2):
                conn.execute(text(twin.format(id=row, columns="", values="")))
            for row in (3, 4):
                conn.execute(text(twin.format(id=row, columns=", content_sha256", values=", 'c'")))
        with pytest.raises(SystemExit):  # flask_migrate logs the migration's RuntimeError
            upgrade(revision="d8e1f4a6c205")
        assert "stored more than once" in capfd.readouterr().err
        with db.engine.begin() as conn:
            conn.execute(text("DELETE FROM message WHERE id = 4"))
        upgrade(revision="d8e1f4a6c205")
        with pytest.raises(IntegrityError), db.engine.begin() as conn:
            conn.execute(text(twin.format(id=5, columns=", content_sha256", values=", 'c'")))
        downgrade(revision="b6d2e9a4c713")
        with db.engine.begin() as conn:
            conn.execute(text(twin.format(id=5, columns=", content_sha256", values=", 'c'")))


def _sqlite():
    return db.engine.dialect.name == "sqlite"


_MESSAGE = (
    'INSERT INTO message (id, mailbox_id, direction, message_id, "references", "to", cc, '
    "subject, text, auto_generated, refused, oversized, received_at, created_at{columns}) "
    "VALUES ({id}, 1, 'inbound', 'same@example.test', '[]', '[]', '[]', 's', 't', false, "
    "false, false, '2025-01-01', '2025-01-01'{values})"
)
_ROWS_POINTING_AT_A_MESSAGE = (
    "INSERT INTO desk (id, slug, name, name_ja, timezone, opening_hours, national_holidays, "
    "year_end_closure, sla_targets, requires_fields, applies_attachment_policy, "
    "attachment_action, reply_from, languages, channels, accepts_email, active, created_at) "
    "VALUES (1, 'system', 'S', '', 'Asia/Tokyo', '{}', true, true, '{}', true, true, "
    "'reject', '', '[]', '[]', true, true, '2025-01-01')",
    "INSERT INTO mailbox (id, name, address, host, port, security, username, secret_env, "
    "folder, processed_flag, poll_interval, enabled, default_desk_id, last_uid, state, "
    "consecutive_failures) VALUES (1, 'system', 'a@example.test', 'h', 993, 'ssl', 'u', "
    "'V', 'INBOX', '$F', 60, true, 1, 0, 'idle', 0)",
    _MESSAGE.format(id=1, columns="", values=""),
    "INSERT INTO attachment (id, message_id, filename, declared_type, detected_type, size, "
    "sha256, allowed, reason, detail, inline, origin) "
    "VALUES (1, 1, 'a.pdf', 'x', 'y', 1, 'z', true, 'ok', '', false, 'message')",
    "INSERT INTO outbox_message (id, kind, sender, recipient, message_id, raw, automatic, "
    "status, attempts, next_attempt_at, created_at, message_row_id) VALUES (1, 'ack', "
    "'d@example.test', 'c@example.test', 'm1@example.test', NULL, true, 'pending', 0, "
    "'2025-01-01', '2025-01-01', 1)",
)
