"""payments: provider accounts, payment requests (links), payments, bank transactions, reminders

Revision ID: 0004
Revises: 0002
Create Date: 2026-11-30
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import core.models


revision = '0004'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('payment_account',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('provider', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('api_key_encrypted', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('key_hint', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('webhook_token', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['company_id'], ['company.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('company_id', 'provider', name='uq_payment_account_provider'),
    sa.UniqueConstraint('webhook_token')
    )
    with op.batch_alter_table('payment_account', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payment_account_company_id'), ['company_id'], unique=False)

    op.create_table('contact_reminder_mode',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('automatic', sa.Boolean(), nullable=False),
    sa.Column('paused', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['company_id'], ['company.id'], ),
    sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('contact_id')
    )
    with op.batch_alter_table('contact_reminder_mode', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contact_reminder_mode_company_id'), ['company_id'], unique=False)

    op.create_table('bank_transaction',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('fingerprint', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('source_format', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('account', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('booking_date', sa.Date(), nullable=False),
    sa.Column('value_date', sa.Date(), nullable=True),
    sa.Column('direction', sqlmodel.sql.sqltypes.AutoString(length=6), nullable=False),
    sa.Column('amount', core.models.ExactDecimal(scale=2), nullable=False),
    sa.Column('currency', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
    sa.Column('counterparty_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('counterparty_iban', sqlmodel.sql.sqltypes.AutoString(length=34), nullable=False),
    sa.Column('remittance', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('end_to_end_id', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('bank_reference', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=True),
    sa.Column('confidence', core.models.ExactDecimal(scale=2), nullable=False),
    sa.Column('imported_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['company_id'], ['company.id'], ),
    sa.ForeignKeyConstraint(['document_id'], ['document.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('company_id', 'fingerprint', name='uq_bank_transaction_fingerprint')
    )
    with op.batch_alter_table('bank_transaction', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bank_transaction_company_id'), ['company_id'], unique=False)
        batch_op.create_index('ix_bank_transaction_status', ['company_id', 'direction', 'status'], unique=False)

    op.create_table('payment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=True),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('provider_payment_id', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('method', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
    sa.Column('currency', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
    sa.Column('amount', core.models.ExactDecimal(scale=2), nullable=False),
    sa.Column('refunded', core.models.ExactDecimal(scale=2), nullable=False),
    sa.Column('charged_back', core.models.ExactDecimal(scale=2), nullable=False),
    sa.Column('booked', core.models.ExactDecimal(scale=2), nullable=False),
    sa.Column('payer_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('payer_iban', sqlmodel.sql.sqltypes.AutoString(length=34), nullable=False),
    sa.Column('paid_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('received_on', sa.Date(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['company_id'], ['company.id'], ),
    sa.ForeignKeyConstraint(['document_id'], ['document.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('provider_payment_id')
    )
    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payment_company_id'), ['company_id'], unique=False)
        batch_op.create_index('ix_payment_company_received', ['company_id', 'received_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_payment_document_id'), ['document_id'], unique=False)

    op.create_table('payment_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=True),
    sa.Column('provider', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('purpose', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('provider_ref', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('url', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('amount', core.models.ExactDecimal(scale=2), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['company_id'], ['company.id'], ),
    sa.ForeignKeyConstraint(['document_id'], ['document.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('provider', 'provider_ref', name='uq_payment_request_ref')
    )
    with op.batch_alter_table('payment_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payment_request_company_id'), ['company_id'], unique=False)
        batch_op.create_index('ix_payment_request_document', ['company_id', 'document_id'], unique=False)

    op.create_table('reminder',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('stage', sa.Integer(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('automatic', sa.Boolean(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('outstanding', core.models.ExactDecimal(scale=2), nullable=False),
    sa.Column('collection_costs', core.models.ExactDecimal(scale=2), nullable=False),
    sa.Column('interest', core.models.ExactDecimal(scale=2), nullable=False),
    sa.Column('deadline', sa.Date(), nullable=True),
    sa.Column('error', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('decided_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('sent_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['company_id'], ['company.id'], ),
    sa.ForeignKeyConstraint(['document_id'], ['document.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('document_id', 'stage', name='uq_reminder_stage')
    )
    with op.batch_alter_table('reminder', schema=None) as batch_op:
        batch_op.create_index('ix_reminder_company_status', ['company_id', 'status'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('reminder', schema=None) as batch_op:
        batch_op.drop_index('ix_reminder_company_status')

    op.drop_table('reminder')

    with op.batch_alter_table('payment_request', schema=None) as batch_op:
        batch_op.drop_index('ix_payment_request_document')
        batch_op.drop_index(batch_op.f('ix_payment_request_company_id'))

    op.drop_table('payment_request')

    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payment_document_id'))
        batch_op.drop_index('ix_payment_company_received')
        batch_op.drop_index(batch_op.f('ix_payment_company_id'))

    op.drop_table('payment')

    with op.batch_alter_table('bank_transaction', schema=None) as batch_op:
        batch_op.drop_index('ix_bank_transaction_status')
        batch_op.drop_index(batch_op.f('ix_bank_transaction_company_id'))

    op.drop_table('bank_transaction')

    with op.batch_alter_table('contact_reminder_mode', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contact_reminder_mode_company_id'))

    op.drop_table('contact_reminder_mode')

    with op.batch_alter_table('payment_account', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payment_account_company_id'))

    op.drop_table('payment_account')
