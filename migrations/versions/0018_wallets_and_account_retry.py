"""Wallet payments and retried Connect account creation.

`payments.wallet`: the Korean wallet a Checkout payment was made with (`kakao_pay`,
`naver_pay`; NULL for a card). `payout_accounts` rows are written before Stripe is asked for
the account (its id NULL until Stripe answers), so the sweep can retry a creation that failed,
with the same idempotency key (a new key round after Stripe stored a 5xx against it).

Revision ID: 0018
Revises: 0020
Create Date: 2026-12-06 02:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0018'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade():
    # In place: rebuilding `payments` on SQLite would drop it under the foreign keys pointing
    # at it (see 0013). `payout_accounts` has none pointing at it: a batch rebuild is safe.
    op.add_column('payments', sa.Column('wallet', sa.String(length=20), nullable=True))
    with op.batch_alter_table('payout_accounts', schema=None) as batch_op:
        batch_op.alter_column('stripe_account_id', existing_type=sa.String(length=64),
                              nullable=True)
        batch_op.add_column(sa.Column('key_round', sa.Integer(), server_default='0',
                                      nullable=False))
        batch_op.add_column(sa.Column('last_error', sa.Text(), nullable=True))


def downgrade():
    op.execute("DELETE FROM payout_accounts WHERE stripe_account_id IS NULL")
    with op.batch_alter_table('payout_accounts', schema=None) as batch_op:
        batch_op.drop_column('last_error')
        batch_op.drop_column('key_round')
        batch_op.alter_column('stripe_account_id', existing_type=sa.String(length=64),
                              nullable=False)
    op.drop_column('payments', 'wallet')
