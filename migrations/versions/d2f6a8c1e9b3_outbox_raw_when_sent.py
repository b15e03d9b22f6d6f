"""outbox raw when sent: a message's bytes are made from its row when it is sent

Revision ID: d2f6a8c1e9b3
Revises: c5e0d3b8a7f2
Create Date: 2026-11-26 04:10:00

The outbox kept every acknowledgement twice: its text on the outbound message row and again,
MIME-encoded, on the outbox row. The bytes are now rendered from the row when the message is
sent, so ``raw`` stays empty until then. Existing rows keep their bytes.
"""

from alembic import op
import sqlalchemy as sa


revision = "d2f6a8c1e9b3"
down_revision = "c5e0d3b8a7f2"
branch_labels = None
depends_on = None


def upgrade():
    # Batch mode copies the table on SQLite; nothing refers to outbox_message, so dropping the
    # old copy cascades nowhere.
    with op.batch_alter_table("outbox_message") as batch:
        batch.alter_column("raw", existing_type=sa.LargeBinary(), nullable=True)


def downgrade():
    # Rows not sent yet have no bytes: downgrading needs them sent (or deleted) first.
    with op.batch_alter_table("outbox_message") as batch:
        batch.alter_column("raw", existing_type=sa.LargeBinary(), nullable=False)
