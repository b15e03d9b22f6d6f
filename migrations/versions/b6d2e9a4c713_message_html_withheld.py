"""message html_withheld: why an inbound message's HTML part was not kept

Revision ID: b6d2e9a4c713
Revises: a6d3f9b1c482
Create Date: 2026-11-26 12:00:00

HTML too large or too deeply nested to clean in bounded time is not sanitised or stored; the
message keeps its text, and the ticket page tells the agent why its formatted version is
missing ("size", "depth" or "reopened"; mail_ingest.markup).
"""

from alembic import op
import sqlalchemy as sa


revision = "b6d2e9a4c713"
down_revision = "a6d3f9b1c482"
branch_labels = None
depends_on = None


def upgrade():
    # Not batch mode: on SQLite it copies the table, and the DROP cascades to the attachments.
    op.add_column("message", sa.Column("html_withheld", sa.String(length=16), nullable=True))


def downgrade():
    op.drop_column("message", "html_withheld")  # SQLite 3.35+ drops a column in place
