"""Agents' UI: ticket presence, queue indexes, search indexes.

Revision ID: c7a91e5d2f10
Revises: b884a4c42952
Create Date: 2026-01-20 10:00:00.000000

PostgreSQL gets pg_trgm GIN indexes for search. SQLite gets the same index names as empty
partial indexes (WHERE 0) and an FTS5 trigram table in the attached ``search`` schema
(attached to every connection by helpdesk.tickets.search.init_app).
"""

import sqlalchemy as sa
from alembic import op

import helpdesk.models.types

revision = "c7a91e5d2f10"
down_revision = "b884a4c42952"
branch_labels = None
depends_on = None

UNFINISHED = "status NOT IN ('resolved', 'closed')"
TRIGRAM = [
    ("ix_ticket_number_trgm", "ticket", "number"),
    ("ix_ticket_subject_trgm", "ticket", "subject"),
    ("ix_ticket_requester_email_trgm", "ticket", "requester_email"),
    ("ix_ticket_requester_name_trgm", "ticket", "requester_name"),
    ("ix_ticket_organisation_trgm", "ticket", "organisation"),
    ("ix_message_text_trgm", "message", "text"),
]
FTS_TABLE = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS search.ticket_fts "
    "USING fts5(number, subject, people, body, tokenize='trigram')"
)
FTS_FILL = """
INSERT INTO search.ticket_fts (rowid, number, subject, people, body)
SELECT t.id, t.number, t.subject,
       coalesce(t.requester_name, '') || ' ' || coalesce(t.requester_email, '') || ' '
           || coalesce(t.organisation, ''),
       coalesce((SELECT group_concat(m.text, char(10)) FROM message AS m
                 WHERE m.ticket_id = t.id), '')
FROM ticket AS t
"""


def upgrade():
    op.create_table(
        "ticket_presence",
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("activity", sa.String(length=16), nullable=False),
        sa.Column("seen_at", helpdesk.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["ticket.id"],
            name=op.f("fk_ticket_presence_ticket_id_ticket"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user.id"],
            name=op.f("fk_ticket_presence_user_id_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("ticket_id", "user_id", name=op.f("pk_ticket_presence")),
    )
    where = {"postgresql_where": sa.text(UNFINISHED), "sqlite_where": sa.text(UNFINISHED)}
    op.create_index(
        "ix_ticket_open_desk_due", "ticket", ["desk_id", "sla_due_at", "id"], unique=False, **where
    )
    op.create_index("ix_ticket_open_due", "ticket", ["sla_due_at", "id"], unique=False, **where)
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for name, table, column in TRIGRAM:
            op.create_index(
                name,
                table,
                [column],
                postgresql_using="gin",
                postgresql_ops={column: "gin_trgm_ops"},
            )
    else:
        for name, table, column in TRIGRAM:
            op.create_index(name, table, [column], sqlite_where=sa.text("0"))
        schemas = {row[1] for row in bind.exec_driver_sql("PRAGMA database_list")}
        if "search" not in schemas:
            raise RuntimeError(
                "the search schema is not attached; run migrations through the helpdesk app"
            )
        op.execute(FTS_TABLE)
        op.execute("DELETE FROM search.ticket_fts")
        op.execute(FTS_FILL)


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS search.ticket_fts")
    for name, table, _column in reversed(TRIGRAM):
        op.drop_index(name, table_name=table)
    op.drop_index("ix_ticket_open_due", table_name="ticket")
    op.drop_index("ix_ticket_open_desk_due", table_name="ticket")
    op.drop_table("ticket_presence")
