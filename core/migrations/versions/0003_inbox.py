"""inbox

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import core.models


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('inbox_address',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('token', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('retired_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['company_id'], ['company.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token')
    )
    with op.batch_alter_table('inbox_address', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inbox_address_company_id'), ['company_id'], unique=False)

    op.create_table('inbox_imap_account',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('host', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('port', sa.Integer(), nullable=False),
    sa.Column('use_ssl', sa.Boolean(), nullable=False),
    sa.Column('username', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
    sa.Column('password_encrypted', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('folders', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('move_to', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('last_error', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('last_polled_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['company_id'], ['company.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('inbox_imap_account', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inbox_imap_account_company_id'), ['company_id'], unique=False)

    op.create_table('inbox_preference',
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('share_mode', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('reply_to_sender', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['company_id'], ['company.id'], ),
    sa.PrimaryKeyConstraint('company_id')
    )
    op.create_table('inbox_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('path', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=True),
    sa.Column('filename', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('mime', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('message_id', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('subject', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('envelope_from', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('imap_account_id', sa.Integer(), nullable=True),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('error', sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=False),
    sa.Column('reply_to', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
    sa.Column('reply_status', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('received_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('processed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['company_id'], ['company.id'], ),
    sa.ForeignKeyConstraint(['imap_account_id'], ['inbox_imap_account.id'], ),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('inbox_message', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inbox_message_company_id'), ['company_id'], unique=False)
        batch_op.create_index('ix_inbox_message_company_msgid', ['company_id', 'message_id'], unique=False)
        batch_op.create_index('ix_inbox_message_reply', ['reply_to', 'received_at'], unique=False)

    op.create_table('inbox_document',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('inbound_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('filename', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('mime', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('path', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('vendor', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('vendor_kvk', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('vendor_vat_id', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('vendor_iban', sqlmodel.sql.sqltypes.AutoString(length=34), nullable=False),
    sa.Column('invoice_number', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('doc_date', sa.Date(), nullable=True),
    sa.Column('period_date', sa.Date(), nullable=True),
    sa.Column('total', core.models.ExactDecimal(scale=2), nullable=True),
    sa.Column('net', core.models.ExactDecimal(scale=2), nullable=True),
    sa.Column('currency', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
    sa.Column('vat', sa.JSON(), nullable=False),
    sa.Column('confidence', sa.JSON(), nullable=False),
    sa.Column('paid_hint', sa.Boolean(), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('dedupe_key', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('duplicate_of', sa.Integer(), nullable=True),
    sa.Column('duplicate_reason', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('checked_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('shared_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('processed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['company_id'], ['company.id'], ),
    sa.ForeignKeyConstraint(['duplicate_of'], ['inbox_document.id'], ),
    sa.ForeignKeyConstraint(['inbound_id'], ['inbox_message.id'], ),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('inbound_id', 'position', name='uq_inbox_document_part')
    )
    with op.batch_alter_table('inbox_document', schema=None) as batch_op:
        batch_op.create_index('ix_inbox_document_company_dedupe', ['company_id', 'dedupe_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_inbox_document_company_id'), ['company_id'], unique=False)
        batch_op.create_index('ix_inbox_document_company_period', ['company_id', 'period_date'], unique=False)
        batch_op.create_index('ix_inbox_document_company_sha', ['company_id', 'sha256'], unique=False)
        batch_op.create_index('ix_inbox_document_company_status', ['company_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_inbox_document_inbound_id'), ['inbound_id'], unique=False)

    op.create_table('inbox_imap_uid',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('folder', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('uidvalidity', sa.BigInteger(), nullable=False),
    sa.Column('uid', sa.BigInteger(), nullable=False),
    sa.Column('inbound_id', sa.Integer(), nullable=True),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['inbox_imap_account.id'], ),
    sa.ForeignKeyConstraint(['inbound_id'], ['inbox_message.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('account_id', 'folder', 'uidvalidity', 'uid', name='uq_inbox_imap_uid')
    )
    with op.batch_alter_table('inbox_imap_uid', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inbox_imap_uid_account_id'), ['account_id'], unique=False)

    op.create_table('inbox_share',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('token', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('message_id', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('recipient', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('error', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('sent_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('processed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['company_id'], ['company.id'], ),
    sa.ForeignKeyConstraint(['document_id'], ['inbox_document.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('document_id'),
    sa.UniqueConstraint('token')
    )
    with op.batch_alter_table('inbox_share', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inbox_share_company_id'), ['company_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_inbox_share_message_id'), ['message_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('inbox_share', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inbox_share_message_id'))
        batch_op.drop_index(batch_op.f('ix_inbox_share_company_id'))

    op.drop_table('inbox_share')
    with op.batch_alter_table('inbox_imap_uid', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inbox_imap_uid_account_id'))

    op.drop_table('inbox_imap_uid')
    with op.batch_alter_table('inbox_document', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inbox_document_inbound_id'))
        batch_op.drop_index('ix_inbox_document_company_status')
        batch_op.drop_index('ix_inbox_document_company_sha')
        batch_op.drop_index('ix_inbox_document_company_period')
        batch_op.drop_index(batch_op.f('ix_inbox_document_company_id'))
        batch_op.drop_index('ix_inbox_document_company_dedupe')

    op.drop_table('inbox_document')
    with op.batch_alter_table('inbox_message', schema=None) as batch_op:
        batch_op.drop_index('ix_inbox_message_reply')
        batch_op.drop_index('ix_inbox_message_company_msgid')
        batch_op.drop_index(batch_op.f('ix_inbox_message_company_id'))

    op.drop_table('inbox_message')
    op.drop_table('inbox_preference')
    with op.batch_alter_table('inbox_imap_account', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inbox_imap_account_company_id'))

    op.drop_table('inbox_imap_account')
    with op.batch_alter_table('inbox_address', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inbox_address_company_id'))

    op.drop_table('inbox_address')
