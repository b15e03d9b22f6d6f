"""message content digest: a reused Message-ID no longer drops a different message

Revision ID: a4c7e2f9b1d3
Revises: e8c4b1d7a925
Create Date: 2026-11-27 09:00:00

A message was taken for a duplicate when its mailbox held one with the same Message-ID, and the
unique (mailbox_id, message_id) made sure of it. Senders reuse Message-IDs (form mailers, old
mobile carriers), so a different enquiry was dropped. Now it takes the same content too:
message.content_sha256 (mail_ingest.parse.content_digest) joins the unique constraint, a kept
message that reuses an ID is flagged, and other copies of a stored message (same ID and
content, other bytes) are recorded in message_repeat. Existing rows get their digest when a
message with the same Message-ID comes in (it is worked out from their raw bytes then).

On SQLite the constraint change copies the message table (batch mode); migrations/env.py turns
foreign keys off meanwhile, or dropping the old copy would delete every attachment.
"""

from alembic import op
import sqlalchemy as sa


# Names for what SQLite reflects unnamed (message.desk_id's inline REFERENCES), as the models'.
NAMING = {"fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s"}

revision = "a4c7e2f9b1d3"
down_revision = "e8c4b1d7a925"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("message", naming_convention=NAMING) as batch:
        batch.add_column(sa.Column("content_sha256", sa.String(length=64), nullable=True))
        batch.add_column(
            sa.Column(
                "message_id_reused", sa.Boolean(), server_default=sa.false(), nullable=False
            )
        )
        batch.drop_constraint("uq_message_mailbox_id_message_id", type_="unique")
        batch.create_unique_constraint(
            "uq_message_mailbox_id_message_id_content_sha256",
            ["mailbox_id", "message_id", "content_sha256"],
        )
    op.create_table(
        "message_repeat",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("raw_sha256", sa.String(length=64), nullable=False),
        sa.Column("mailbox_id", sa.Integer(), nullable=True),
        sa.Column("imap_uid", sa.BigInteger(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["mailbox_id"],
            ["mailbox.id"],
            name=op.f("fk_message_repeat_mailbox_id_mailbox"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["message.id"],
            name=op.f("fk_message_repeat_message_id_message"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_repeat")),
        sa.UniqueConstraint(
            "message_id", "raw_sha256", name=op.f("uq_message_repeat_message_id_raw_sha256")
        ),
    )
    op.create_index(
        op.f("ix_message_repeat_raw_sha256"), "message_repeat", ["raw_sha256"], unique=False
    )


def downgrade():
    # The old constraint cannot hold while a mailbox keeps two messages with one Message-ID:
    # delete the flagged ones (message_id_reused) before downgrading.
    op.drop_index(op.f("ix_message_repeat_raw_sha256"), table_name="message_repeat")
    op.drop_table("message_repeat")
    with op.batch_alter_table("message", naming_convention=NAMING) as batch:
        batch.drop_constraint("uq_message_mailbox_id_message_id_content_sha256", type_="unique")
        batch.create_unique_constraint(
            "uq_message_mailbox_id_message_id", ["mailbox_id", "message_id"]
        )
        batch.drop_column("message_id_reused")
        batch.drop_column("content_sha256")
