"""message unique without a mailbox: two imports at once no longer store a message twice

Revision ID: d8e1f4a6c205
Revises: b6d2e9a4c713
Create Date: 2026-12-05 09:00:00

``flask mail import`` without --mailbox stores messages with mailbox_id NULL, and NULLs are
distinct in the unique (mailbox_id, message_id, content_sha256): two imports of one folder at
the same moment could both store a message and open two tickets. A partial unique index on
(message_id, content_sha256) WHERE mailbox_id IS NULL holds those messages to the same rule.
A message without a Message-ID has one made from its bytes, so only the same bytes collide;
rows without a digest (outbound, notes, stored before digests) never do.

A database that already holds such twins cannot take the index: the upgrade stops and says
which Message-IDs; merge or delete the later copies, then upgrade again.
"""

from alembic import op
import sqlalchemy as sa


revision = "d8e1f4a6c205"
down_revision = "b6d2e9a4c713"
branch_labels = None
depends_on = None

NAME = "uq_message_no_mailbox_message_id_content_sha256"
WHERE = "mailbox_id IS NULL"


def upgrade():
    twins = op.get_bind().scalars(
        sa.text(
            "SELECT message_id FROM message WHERE mailbox_id IS NULL "
            "AND message_id IS NOT NULL AND content_sha256 IS NOT NULL "
            "GROUP BY message_id, content_sha256 HAVING count(*) > 1 ORDER BY message_id"
        )
    ).all()
    if twins:
        raise RuntimeError(
            f"{len(twins)} message(s) imported without a mailbox are stored more than once "
            f"(the same Message-ID and content), for example {twins[:5]}: keep one of each "
            "(message.mailbox_id IS NULL), then upgrade again"
        )
    op.create_index(
        NAME,
        "message",
        ["message_id", "content_sha256"],
        unique=True,
        postgresql_where=sa.text(WHERE),
        sqlite_where=sa.text(WHERE),
    )


def downgrade():
    op.drop_index(NAME, table_name="message")
