"""drop ix_ticket_desk_id: ix_ticket_queue (desk_id, status, ...) serves every use of it

Revision ID: e8c4b1d7a925
Revises: d2f6a8c1e9b3
Create Date: 2026-11-26 06:50:00

A desk's tickets (the queue, the foreign key check when a desk is deleted) are found through
ix_ticket_queue, whose first column is desk_id; the single-column index only cost every
ticket insert and update of desk_id one more index write.
"""

from alembic import op


revision = "e8c4b1d7a925"
down_revision = "d2f6a8c1e9b3"
branch_labels = None
depends_on = None


def upgrade():
    op.drop_index("ix_ticket_desk_id", table_name="ticket")


def downgrade():
    op.create_index("ix_ticket_desk_id", "ticket", ["desk_id"], unique=False)
