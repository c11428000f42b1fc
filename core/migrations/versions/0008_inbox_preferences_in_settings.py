"""inbox_preference moves into company_setting (receipt_sharing, receipt_replies): one home for settings

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

_setting = sa.table('company_setting', sa.column('company_id', sa.Integer()), sa.column('key', sa.String()),
                    sa.column('value', sa.String()),
                    sa.column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime()))


def upgrade() -> None:
    rows = op.get_bind().execute(sa.text(
        "SELECT company_id, share_mode, reply_to_sender FROM inbox_preference ORDER BY company_id")).fetchall()
    now = datetime.now(timezone.utc)
    values = []
    for company_id, share_mode, reply_to_sender in rows:
        if share_mode and share_mode != 'confirmed':       # "confirmed" is the standard: no row
            values.append({'company_id': company_id, 'key': 'receipt_sharing', 'value': share_mode, 'updated_at': now})
        if not reply_to_sender:
            values.append({'company_id': company_id, 'key': 'receipt_replies', 'value': 'off', 'updated_at': now})
    if values:
        op.bulk_insert(_setting, values)
    op.drop_table('inbox_preference')


def downgrade() -> None:
    op.create_table('inbox_preference',
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('share_mode', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('reply_to_sender', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['company_id'], ['company.id'], ),
    sa.PrimaryKeyConstraint('company_id')
    )
    bind = op.get_bind()
    stored = bind.execute(sa.text(
        "SELECT company_id, key, value FROM company_setting WHERE key IN ('receipt_sharing', 'receipt_replies')")).fetchall()
    preferences: dict[int, dict[str, object]] = {}
    for company_id, key, value in stored:
        row = preferences.setdefault(company_id, {'company_id': company_id, 'share_mode': 'confirmed',
                                                  'reply_to_sender': True})
        if key == 'receipt_sharing':
            row['share_mode'] = value
        else:
            row['reply_to_sender'] = value != 'off'
    if preferences:
        op.bulk_insert(sa.table('inbox_preference', sa.column('company_id', sa.Integer()),
                                sa.column('share_mode', sa.String()), sa.column('reply_to_sender', sa.Boolean())),
                       list(preferences.values()))
    bind.execute(sa.text("DELETE FROM company_setting WHERE key IN ('receipt_sharing', 'receipt_replies')"))
