"""Payments against real Stripe: the installation's id (prefixes every idempotency key), a key
round on payments and refunds (a new key after Stripe stored an error against the old one),
one payment row per booking attempt, and the owner organisation's country (Stripe Connect).

Existing organisations are Korean ("KR").

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 18:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('installation',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('installation_id', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('id = 1', name=op.f('ck_installation_single_row')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_installation')),
    sa.UniqueConstraint('installation_id', name=op.f('uq_installation_installation_id'))
    )
    # Columns and indexes added in place (no batch rebuild): on SQLite, rebuilding `payments`
    # or `organisations` would drop them under the foreign keys pointing at them.
    op.add_column('payments', sa.Column('key_round', sa.Integer(), server_default='0', nullable=False))
    op.add_column('refunds', sa.Column('key_round', sa.Integer(), server_default='0', nullable=False))
    op.create_index('ux_payments_booking_attempt', 'payments', ['booking_id', 'attempt'], unique=True)
    op.add_column('organisations', sa.Column('country', sa.String(length=2), server_default='KR', nullable=False))


def downgrade():
    op.drop_column('organisations', 'country')
    op.drop_index('ux_payments_booking_attempt', table_name='payments')
    op.drop_column('refunds', 'key_round')
    op.drop_column('payments', 'key_round')
    op.drop_table('installation')
