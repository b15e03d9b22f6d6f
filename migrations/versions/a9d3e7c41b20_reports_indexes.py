"""Reports: narrow indexes the managers' report reads instead of the ticket rows.

Revision ID: a9d3e7c41b20
Revises: b4f8c2d9e613
Create Date: 2026-11-26 00:50:00

Per desk and reported environment: the SLA summary, the waits and the environments in one
ordered pass; per desk, each measure ordered by its value, so that a percentile is the row at
its rank (LIMIT/OFFSET on the index) instead of a sort of every ticket. By time: tickets created
(breaches in order, opened per day); resolved, or closed unresolved (finished per day, the
backlog).
The same plain B-tree indexes on SQLite and PostgreSQL.
"""

from alembic import op

revision = "a9d3e7c41b20"
down_revision = "b4f8c2d9e613"
branch_labels = None
depends_on = None

INDEXES = (
    (
        "ix_ticket_report_desk",
        [
            "desk_id",
            "env_os_family",
            "env_browser_family",
            "created_at",
            "first_response_minutes",
            "resolution_minutes",
            "awaiting_information_minutes",
            "first_response_breached",
            "resolution_breached",
        ],
    ),
    ("ix_ticket_desk_first_response", ["desk_id", "first_response_minutes", "created_at"]),
    ("ix_ticket_desk_resolution", ["desk_id", "resolution_minutes", "created_at"]),
    ("ix_ticket_desk_awaiting", ["desk_id", "awaiting_information_minutes", "created_at"]),
    ("ix_ticket_created", ["created_at", "id", "desk_id"]),
    ("ix_ticket_finished", ["resolved_at", "closed_at", "created_at", "desk_id"]),
)


def upgrade():
    for name, columns in INDEXES:
        op.create_index(name, "ticket", columns, unique=False)


def downgrade():
    for name, _columns in reversed(INDEXES):
        op.drop_index(name, table_name="ticket")
