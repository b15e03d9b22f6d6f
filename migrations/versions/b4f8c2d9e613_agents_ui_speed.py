"""Agents' UI speed: each desk's tickets newest first, for search.

Revision ID: b4f8c2d9e613
Revises: f3a1c9d27b54
Create Date: 2026-11-26 00:50:00

Search first reads the newest tickets of the desks an agent reads, row by row, before it asks
the trigram indexes about older ones (helpdesk.tickets.search). For one desk this B-tree gives
those tickets in order from the index alone, instead of walking the primary key through every
desk's tickets. The same plain index on SQLite and PostgreSQL.
"""

from alembic import op

revision = "b4f8c2d9e613"
down_revision = "f3a1c9d27b54"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_ticket_desk_newest", "ticket", ["desk_id", "id"], unique=False)


def downgrade():
    op.drop_index("ix_ticket_desk_newest", table_name="ticket")
