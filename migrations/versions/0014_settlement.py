"""Settlement by bank transfer for owners Stripe Connect cannot pay: owners' bank accounts
(number sealed, last four digits in clear, verification), monthly statements with their lines
(each payment and refund on one statement at most) and the settlement audit log.

Revision ID: 0014
Revises: 0013 (re-point to 0013 when merged after it)
Create Date: 2026-12-05 18:11:58.166843

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('bank_accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('bank_code', sa.String(length=3), nullable=False),
    sa.Column('number_sealed', sa.Text(), nullable=False),
    sa.Column('number_last4', sa.String(length=4), nullable=False),
    sa.Column('holder', sa.String(length=60), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('verified_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('verified_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_bank_accounts_organisation_id_organisations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_bank_accounts_updated_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['verified_by_id'], ['users.id'], name=op.f('fk_bank_accounts_verified_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bank_accounts')),
    sa.UniqueConstraint('organisation_id', name=op.f('uq_bank_accounts_organisation_id'))
    )
    op.create_table('settlement_statements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('gross', sa.BigInteger(), nullable=False),
    sa.Column('platform_fee', sa.BigInteger(), nullable=False),
    sa.Column('processing_fee', sa.BigInteger(), nullable=False),
    sa.Column('refunded', sa.BigInteger(), nullable=False),
    sa.Column('fee_returned', sa.BigInteger(), nullable=False),
    sa.Column('carried_in', sa.BigInteger(), nullable=False),
    sa.Column('net', sa.BigInteger(), nullable=False),
    sa.Column('line_count', sa.Integer(), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('issued_by_id', sa.Integer(), nullable=True),
    sa.Column('transfer_reference', sa.String(length=120), nullable=True),
    sa.Column('paid_on', sa.Date(), nullable=True),
    sa.Column('paid_recorded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('paid_by_id', sa.Integer(), nullable=True),
    sa.Column('paid_to', sa.String(length=60), nullable=True),
    sa.CheckConstraint("status != 'issued' OR net > 0", name=op.f('ck_settlement_statements_issued_positive')),
    sa.CheckConstraint("status != 'paid' OR (transfer_reference IS NOT NULL AND paid_on IS NOT NULL)", name=op.f('ck_settlement_statements_paid_reference')),
    sa.CheckConstraint("status IN ('issued', 'paid', 'carried')", name=op.f('ck_settlement_statements_status')),
    sa.ForeignKeyConstraint(['issued_by_id'], ['users.id'], name=op.f('fk_settlement_statements_issued_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_settlement_statements_organisation_id_organisations'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['paid_by_id'], ['users.id'], name=op.f('fk_settlement_statements_paid_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_settlement_statements')),
    sa.UniqueConstraint('organisation_id', 'month', name='uq_settlement_statements_org_month')
    )
    with op.batch_alter_table('settlement_statements', schema=None) as batch_op:
        batch_op.create_index('ix_settlement_statements_month_status', ['month', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_settlement_statements_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('settlement_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('statement_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=30), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_settlement_log_actor_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_settlement_log_organisation_id_organisations'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['statement_id'], ['settlement_statements.id'], name=op.f('fk_settlement_log_statement_id_settlement_statements'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_settlement_log'))
    )
    with op.batch_alter_table('settlement_log', schema=None) as batch_op:
        batch_op.create_index('ix_settlement_log_org_at', ['organisation_id', 'at'], unique=False)

    op.create_table('settlement_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('statement_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('payment_id', sa.Integer(), nullable=True),
    sa.Column('refund_id', sa.Integer(), nullable=True),
    sa.Column('booking_id', sa.Integer(), nullable=False),
    sa.Column('space_name', sa.String(length=160), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('amount', sa.Integer(), nullable=False),
    sa.Column('platform_fee', sa.Integer(), nullable=False),
    sa.Column('processing_fee', sa.Integer(), nullable=False),
    sa.Column('net', sa.Integer(), nullable=False),
    sa.CheckConstraint("(kind = 'payment' AND payment_id IS NOT NULL AND refund_id IS NULL) OR (kind = 'refund' AND refund_id IS NOT NULL)", name=op.f('ck_settlement_lines_source')),
    sa.CheckConstraint("kind IN ('payment', 'refund')", name=op.f('ck_settlement_lines_kind')),
    sa.ForeignKeyConstraint(['payment_id'], ['payments.id'], name=op.f('fk_settlement_lines_payment_id_payments'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['refund_id'], ['refunds.id'], name=op.f('fk_settlement_lines_refund_id_refunds'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['statement_id'], ['settlement_statements.id'], name=op.f('fk_settlement_lines_statement_id_settlement_statements'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_settlement_lines')),
    sa.UniqueConstraint('payment_id', name=op.f('uq_settlement_lines_payment_id')),
    sa.UniqueConstraint('refund_id', name=op.f('uq_settlement_lines_refund_id'))
    )
    with op.batch_alter_table('settlement_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_settlement_lines_statement_id'), ['statement_id'], unique=False)



def downgrade():
    with op.batch_alter_table('settlement_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_settlement_lines_statement_id'))

    op.drop_table('settlement_lines')
    with op.batch_alter_table('settlement_log', schema=None) as batch_op:
        batch_op.drop_index('ix_settlement_log_org_at')

    op.drop_table('settlement_log')
    with op.batch_alter_table('settlement_statements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_settlement_statements_organisation_id'))
        batch_op.drop_index('ix_settlement_statements_month_status')

    op.drop_table('settlement_statements')
    op.drop_table('bank_accounts')
