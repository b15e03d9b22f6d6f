"""user TOTP recovery codes

Revision ID: f3a1c9d27b54
Revises: e5b2c81f0a37
Create Date: 2026-11-26 01:30:00

One-time codes (stored as SHA-256) that stand in for the authenticator app when it is lost.
"""
from alembic import op
import sqlalchemy as sa


revision = 'f3a1c9d27b54'
down_revision = 'e5b2c81f0a37'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('totp_recovery_hashes', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('totp_recovery_hashes')
