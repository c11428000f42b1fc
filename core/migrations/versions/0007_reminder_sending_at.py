"""reminder.sending_at: when its mail was about to leave (a reminder stuck there is told to the owner)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('reminder') as batch:
        batch.add_column(sa.Column('sending_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('reminder') as batch:
        batch.drop_column('sending_at')
