"""message desk: the desk a refused message was meant for

Revision ID: c5e0d3b8a7f2
Revises: a9d3e7c41b20
Create Date: 2026-11-26 02:30:00

A refused message opens no ticket, so it had no desk of its own: the quarantine page read it
back from the refusal's audit event and the reports counted it for the mailbox's default desk.
Existing refused messages get their desk from those audit events.
"""

import json

from alembic import op
import sqlalchemy as sa


revision = "c5e0d3b8a7f2"
down_revision = "a9d3e7c41b20"
branch_labels = None
depends_on = None


def upgrade():
    # Never batch mode here: on SQLite it copies the table and drops the old one, and with
    # foreign keys on, that DROP cascades to every attachment. SQLite adds a column with its
    # REFERENCES clause in place; Alembic's add_column will not render one for SQLite. No ON
    # DELETE: desks are deactivated, never deleted (as for ticket.desk_id), and SQLite does not
    # report a column constraint's actions back, so the models could not be checked against it.
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "ALTER TABLE message ADD COLUMN desk_id INTEGER "
            "CONSTRAINT fk_message_desk_id_desk REFERENCES desk (id)"
        )
    else:
        op.add_column("message", sa.Column("desk_id", sa.Integer(), nullable=True))
        op.create_foreign_key(
            op.f("fk_message_desk_id_desk"),
            "message",
            "desk",
            ["desk_id"],
            ["id"],
        )
    _backfill(op.get_bind())


def _backfill(connection):
    audit = sa.table(
        "audit_event", sa.column("id", sa.Integer), sa.column("action"), sa.column("detail")
    )
    desk = sa.table("desk", sa.column("id", sa.Integer), sa.column("slug"))
    message = sa.table(
        "message",
        sa.column("message_id"),
        sa.column("refused"),
        sa.column("ticket_id"),
        sa.column("desk_id", sa.Integer),
    )
    desks = dict(connection.execute(sa.select(desk.c.slug, desk.c.id)).all())
    events = connection.execute(
        sa.select(audit.c.detail).where(audit.c.action == "mail.refused").order_by(audit.c.id)
    )
    for (detail,) in events:
        if isinstance(detail, str):
            detail = json.loads(detail)
        desk_id = desks.get((detail or {}).get("desk"))
        message_id = (detail or {}).get("message_id")
        if desk_id is None or not message_id:
            continue
        connection.execute(
            sa.update(message)
            .where(
                message.c.message_id == message_id,
                message.c.refused == sa.true(),
                message.c.ticket_id.is_(None),
                message.c.desk_id.is_(None),
            )
            .values(desk_id=desk_id)
        )


def downgrade():
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint(op.f("fk_message_desk_id_desk"), "message", type_="foreignkey")
    op.drop_column("message", "desk_id")  # SQLite 3.35+ drops a column in place
