"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-30
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import core.models


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('company',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('trade_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('street', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('postcode', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('city', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('country', sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
    sa.Column('kvk', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('vat_id', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('iban', sqlmodel.sql.sqltypes.AutoString(length=34), nullable=False),
    sa.Column('bic', sqlmodel.sql.sqltypes.AutoString(length=11), nullable=False),
    sa.Column('iban_verified_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('email', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
    sa.Column('phone', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('website', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('kor', sa.Boolean(), nullable=False),
    sa.Column('logo', sa.LargeBinary(), nullable=True),
    sa.Column('logo_mime', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('color', sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
    sa.Column('payment_term_days', sa.Integer(), nullable=False),
    sa.Column('quote_valid_days', sa.Integer(), nullable=False),
    sa.Column('pattern_invoice', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('pattern_quote', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('pattern_credit_note', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('invoice_intro', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('invoice_outro', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('quote_intro', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('quote_outro', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('terms_pdf', sa.LargeBinary(), nullable=True),
    sa.Column('terms_filename', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('language', sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
    sa.Column('accountant_email', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('person',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('email', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
    sa.Column('telegram_user_id', sa.BigInteger(), nullable=True),
    sa.Column('language', sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_person_telegram_user_id'), ['telegram_user_id'], unique=True)

    op.create_table('contact',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('is_business', sa.Boolean(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('contact_person', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('street', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('postcode', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('city', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('country', sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
    sa.Column('email', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
    sa.Column('extra_emails', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('phone', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('kvk', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('vat_id', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('iban', sqlmodel.sql.sqltypes.AutoString(length=34), nullable=False),
    sa.Column('payment_term_days', sa.Integer(), nullable=True),
    sa.Column('vat_treatment', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('send_format', sa.String(length=10), nullable=False),
    sa.Column('language', sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
    sa.Column('categories', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('notes', sqlmodel.sql.sqltypes.AutoString(length=5000), nullable=False),
    sa.Column('archived', sa.Boolean(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['company_id'], ['company.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('contact', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contact_company_id'), ['company_id'], unique=False)

    op.create_table('item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('unit', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('unit_price', core.models.ExactDecimal(scale=4), nullable=False),
    sa.Column('vat_rate', core.models.ExactDecimal(scale=2), nullable=False),
    sa.Column('archived', sa.Boolean(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['company_id'], ['company.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_item_company_id'), ['company_id'], unique=False)

    op.create_table('membership',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['company_id'], ['company.id'], ),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('company_id', 'person_id')
    )
    with op.batch_alter_table('membership', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_membership_company_id'), ['company_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_membership_person_id'), ['person_id'], unique=False)

    op.create_table('numbercounter',
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('series', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('last_seq', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['company_id'], ['company.id'], ),
    sa.PrimaryKeyConstraint('company_id', 'series', 'year')
    )
    op.create_table('document',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('number', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('issue_date', sa.Date(), nullable=True),
    sa.Column('delivery_date', sa.Date(), nullable=True),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('valid_until', sa.Date(), nullable=True),
    sa.Column('term_days', sa.Integer(), nullable=False),
    sa.Column('currency', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
    sa.Column('language', sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
    sa.Column('vat_treatment', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('discount_percent', core.models.ExactDecimal(scale=4), nullable=False),
    sa.Column('intro', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('outro', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('buyer_reference', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('payment_reference', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('payment_link', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('original_id', sa.Integer(), nullable=True),
    sa.Column('quote_id', sa.Integer(), nullable=True),
    sa.Column('seller_snapshot', sa.JSON(), nullable=True),
    sa.Column('buyer_snapshot', sa.JSON(), nullable=True),
    sa.Column('total_excl', core.models.ExactDecimal(scale=2), nullable=False),
    sa.Column('total_vat', core.models.ExactDecimal(scale=2), nullable=False),
    sa.Column('total_incl', core.models.ExactDecimal(scale=2), nullable=False),
    sa.Column('amount_paid', core.models.ExactDecimal(scale=2), nullable=False),
    sa.Column('sent_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['company_id'], ['company.id'], ),
    sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], ),
    sa.ForeignKeyConstraint(['original_id'], ['document.id'], ),
    sa.ForeignKeyConstraint(['quote_id'], ['document.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('company_id', 'kind', 'number', name='uq_document_number')
    )
    with op.batch_alter_table('document', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_document_company_id'), ['company_id'], unique=False)
        batch_op.create_index('ix_document_company_kind_status', ['company_id', 'kind', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_document_contact_id'), ['contact_id'], unique=False)

    op.create_table('documentline',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=True),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('quantity', core.models.ExactDecimal(scale=4), nullable=False),
    sa.Column('unit', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('unit_price', core.models.ExactDecimal(scale=4), nullable=False),
    sa.Column('vat_rate', core.models.ExactDecimal(scale=2), nullable=False),
    sa.Column('discount_percent', core.models.ExactDecimal(scale=4), nullable=False),
    sa.ForeignKeyConstraint(['company_id'], ['company.id'], ),
    sa.ForeignKeyConstraint(['document_id'], ['document.id'], ),
    sa.ForeignKeyConstraint(['item_id'], ['item.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('documentline', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_documentline_company_id'), ['company_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_documentline_document_id'), ['document_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('documentline', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_documentline_document_id'))
        batch_op.drop_index(batch_op.f('ix_documentline_company_id'))

    op.drop_table('documentline')
    with op.batch_alter_table('document', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_document_contact_id'))
        batch_op.drop_index('ix_document_company_kind_status')
        batch_op.drop_index(batch_op.f('ix_document_company_id'))

    op.drop_table('document')
    op.drop_table('numbercounter')
    with op.batch_alter_table('membership', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_membership_person_id'))
        batch_op.drop_index(batch_op.f('ix_membership_company_id'))

    op.drop_table('membership')
    with op.batch_alter_table('item', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_item_company_id'))

    op.drop_table('item')
    with op.batch_alter_table('contact', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contact_company_id'))

    op.drop_table('contact')
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_person_telegram_user_id'))

    op.drop_table('person')
    op.drop_table('company')
