"""Payments: Stripe Checkout, card holds, refunds, offline payments, payout accounts.

Bookings gain what they owe (payment_status, payment_due_at) and the state awaiting_payment
(the slot is held while the resident pays or has the card authorised); status columns widen to
20 characters. On PostgreSQL the exclusion constraint is rebuilt so awaiting_payment holds its
slot. Organisations gain card holds and their own platform fee.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""
from alembic import op
import sqlalchemy as sa


STATUSES_0002 = (
    "'requested', 'approved', 'confirmed', 'rejected', 'cancelled', 'expired', 'completed', "
    "'no_show', 'returned', 'entered', 'lost'"
)
STATUSES = STATUSES_0002 + ", 'awaiting_payment'"
PAYMENT_STATES = (
    "'none', 'after_approval', 'hold_pending', 'authorized', 'due', 'paid', "
    "'partially_refunded', 'refunded', 'void'"
)


def _exclusion(active: str | None) -> None:
    op.execute("ALTER TABLE bookings DROP CONSTRAINT IF EXISTS ex_bookings_no_overlap")
    if active:
        op.execute(
            "ALTER TABLE bookings ADD CONSTRAINT ex_bookings_no_overlap "
            "EXCLUDE USING gist (space_id WITH =, tstzrange(hold_start, hold_end, '[)') WITH &&) "
            f"WHERE (status IN ({active}))"
        )


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        _exclusion(None)
    op.create_table('stripe_events',
    sa.Column('id', sa.String(length=255), nullable=False),
    sa.Column('type', sa.String(length=80), nullable=False),
    sa.Column('object_id', sa.String(length=255), nullable=True),
    sa.Column('account', sa.String(length=64), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('processed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stripe_events'))
    )
    op.create_table('payout_accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('stripe_account_id', sa.String(length=64), nullable=False),
    sa.Column('charges_enabled', sa.Boolean(), nullable=False),
    sa.Column('payouts_enabled', sa.Boolean(), nullable=False),
    sa.Column('details_submitted', sa.Boolean(), nullable=False),
    sa.Column('requirements', sa.JSON(), nullable=False),
    sa.Column('disabled_reason', sa.String(length=120), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_payout_accounts_organisation_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payout_accounts')),
    sa.UniqueConstraint('organisation_id', name=op.f('uq_payout_accounts_organisation_id')),
    sa.UniqueConstraint('stripe_account_id', name=op.f('uq_payout_accounts_stripe_account_id'))
    )
    op.create_table('payments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=False),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('method', sa.String(length=20), nullable=False),
    sa.Column('capture', sa.String(length=10), nullable=False),
    sa.Column('amount', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('refunded_amount', sa.Integer(), nullable=False),
    sa.Column('application_fee_amount', sa.Integer(), nullable=False),
    sa.Column('destination_account', sa.String(length=64), nullable=True),
    sa.Column('stripe_session_id', sa.String(length=255), nullable=True),
    sa.Column('stripe_intent_id', sa.String(length=255), nullable=True),
    sa.Column('stripe_charge_id', sa.String(length=255), nullable=True),
    sa.Column('checkout_url', sa.Text(), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('capture_before', sa.DateTime(timezone=True), nullable=True),
    sa.Column('card_last4', sa.String(length=4), nullable=True),
    sa.Column('pending_action', sa.String(length=10), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('test_mode', sa.Boolean(), nullable=False),
    sa.Column('reference', sa.String(length=120), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('dispute_id', sa.String(length=255), nullable=True),
    sa.Column('dispute_status', sa.String(length=30), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('paid_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("method IN ('card', 'cash', 'bank_transfer', 'voucher')", name=op.f('ck_payments_method')),
    sa.CheckConstraint("status IN ('open', 'authorized', 'succeeded', 'canceled', 'expired', 'failed')", name=op.f('ck_payments_status')),
    sa.CheckConstraint('amount > 0', name=op.f('ck_payments_amount_positive')),
    sa.CheckConstraint('refunded_amount >= 0 AND refunded_amount <= amount', name=op.f('ck_payments_refunded')),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_payments_booking_id_bookings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_payments_recorded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payments')),
    sa.UniqueConstraint('stripe_intent_id', name=op.f('uq_payments_stripe_intent_id')),
    sa.UniqueConstraint('stripe_session_id', name=op.f('uq_payments_stripe_session_id'))
    )
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.create_index('ix_payments_action', ['pending_action'], unique=False)
        batch_op.create_index('ix_payments_booking', ['booking_id', 'id'], unique=False)
        batch_op.create_index('ix_payments_paid_at', ['paid_at'], unique=False)

    op.create_table('refunds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('payment_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('stripe_refund_id', sa.String(length=255), nullable=True),
    sa.Column('fee_refunded', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=120), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('pending', 'succeeded', 'failed')", name=op.f('ck_refunds_status')),
    sa.CheckConstraint('amount > 0', name=op.f('ck_refunds_amount_positive')),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_refunds_actor_id_users')),
    sa.ForeignKeyConstraint(['payment_id'], ['payments.id'], name=op.f('fk_refunds_payment_id_payments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_refunds')),
    sa.UniqueConstraint('stripe_refund_id', name=op.f('uq_refunds_stripe_refund_id'))
    )
    with op.batch_alter_table('refunds', schema=None) as batch_op:
        batch_op.create_index('ix_refunds_created', ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_refunds_payment_id'), ['payment_id'], unique=False)
        batch_op.create_index('ix_refunds_status', ['status'], unique=False)

    op.create_table('payment_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=False),
    sa.Column('payment_id', sa.Integer(), nullable=True),
    sa.Column('refund_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=30), nullable=False),
    sa.Column('amount', sa.Integer(), nullable=True),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_payment_log_actor_id_users')),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_payment_log_booking_id_bookings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['payment_id'], ['payments.id'], name=op.f('fk_payment_log_payment_id_payments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['refund_id'], ['refunds.id'], name=op.f('fk_payment_log_refund_id_refunds'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_log'))
    )
    with op.batch_alter_table('payment_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payment_log_booking_id'), ['booking_id'], unique=False)

    with op.batch_alter_table('booking_transitions', schema=None) as batch_op:
        batch_op.alter_column('from_status',
               existing_type=sa.VARCHAR(length=12),
               type_=sa.String(length=20),
               existing_nullable=True)
        batch_op.alter_column('to_status',
               existing_type=sa.VARCHAR(length=12),
               type_=sa.String(length=20),
               existing_nullable=False)

    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('payment_status', sa.String(length=20), server_default='none', nullable=False))
        batch_op.add_column(sa.Column('payment_due_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.alter_column('status',
               existing_type=sa.VARCHAR(length=12),
               type_=sa.String(length=20),
               existing_nullable=False)
        batch_op.create_index('ix_bookings_payment_due', ['payment_status', 'payment_due_at'], unique=False)
        batch_op.drop_constraint(op.f('ck_bookings_status'), type_='check')
        batch_op.create_check_constraint('status', f"status IN ({STATUSES})")
        batch_op.create_check_constraint('payment_status', f"payment_status IN ({PAYMENT_STATES})")

    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('card_holds', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('platform_fee_bps', sa.Integer(), nullable=True))

    # Bookings made before payments existed: paid spaces were settled outside the system.
    op.execute("UPDATE bookings SET payment_status = 'after_approval' "
               "WHERE price_amount > 0 AND status IN ('requested', 'returned', 'entered')")
    if postgres:
        _exclusion("'requested', 'approved', 'confirmed', 'returned', 'awaiting_payment'")


def downgrade():
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        _exclusion(None)
    op.execute("UPDATE bookings SET status = 'expired' WHERE status = 'awaiting_payment'")
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.drop_column('platform_fee_bps')
        batch_op.drop_column('card_holds')

    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_bookings_payment_status'), type_='check')
        batch_op.drop_constraint(op.f('ck_bookings_status'), type_='check')
        batch_op.create_check_constraint('status', f"status IN ({STATUSES_0002})")
        batch_op.drop_index('ix_bookings_payment_due')
        batch_op.alter_column('status',
               existing_type=sa.String(length=20),
               type_=sa.VARCHAR(length=12),
               existing_nullable=False)
        batch_op.drop_column('payment_due_at')
        batch_op.drop_column('payment_status')

    with op.batch_alter_table('booking_transitions', schema=None) as batch_op:
        batch_op.alter_column('to_status',
               existing_type=sa.String(length=20),
               type_=sa.VARCHAR(length=12),
               existing_nullable=False)
        batch_op.alter_column('from_status',
               existing_type=sa.String(length=20),
               type_=sa.VARCHAR(length=12),
               existing_nullable=True)

    with op.batch_alter_table('payment_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payment_log_booking_id'))

    op.drop_table('payment_log')
    with op.batch_alter_table('refunds', schema=None) as batch_op:
        batch_op.drop_index('ix_refunds_status')
        batch_op.drop_index(batch_op.f('ix_refunds_payment_id'))
        batch_op.drop_index('ix_refunds_created')

    op.drop_table('refunds')
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_index('ix_payments_paid_at')
        batch_op.drop_index('ix_payments_booking')
        batch_op.drop_index('ix_payments_action')

    op.drop_table('payments')
    op.drop_table('payout_accounts')
    op.drop_table('stripe_events')
    # ### end Alembic commands ###
    if postgres:
        _exclusion("'requested', 'approved', 'confirmed', 'returned'")
