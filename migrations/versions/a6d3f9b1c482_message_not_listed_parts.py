"""message.not_listed: the parts of a mail not kept and not listed by name, counted

Revision ID: a6d3f9b1c482
Revises: a4c7e2f9b1d3
Create Date: 2026-12-04 15:00:00

A mail past the parser's limits (more than MAX_PARTS parts, nesting past MAX_DEPTH, bytes past
MAX_MESSAGE_BYTES) has its first parts not kept listed as attachment rows; the rest are counted
here by reason, so the ticket and the acknowledgement can say how many were not kept.
"""

import sqlalchemy as sa
from alembic import op

revision = "a6d3f9b1c482"
down_revision = "a4c7e2f9b1d3"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("message") as batch:
        batch.add_column(sa.Column("not_listed", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("message") as batch:
        batch.drop_column("not_listed")
