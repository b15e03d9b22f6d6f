"""user session version and last TOTP step

Revision ID: e5b2c81f0a37
Revises: c7a91e5d2f10
Create Date: 2026-11-25 22:45:00

A password change or reset raises the session version, which signs the user out of every
other session; the last accepted TOTP step stops a code from being used twice.
"""
from alembic import op
import sqlalchemy as sa


revision = 'e5b2c81f0a37'
down_revision = 'c7a91e5d2f10'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('totp_last_counter', sa.BigInteger(), nullable=True))
        batch_op.add_column(
            sa.Column('session_version', sa.Integer(), server_default='0', nullable=False)
        )


def downgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('session_version')
        batch_op.drop_column('totp_last_counter')
