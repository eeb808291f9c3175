"""What to capture of a card hold whose price went down before capture
(payments.capture_amount): a fee waiver confirmed between the authorisation and the capture
captures only the new price; Stripe releases the rest of the hold.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06 03:15:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('capture_amount', sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_column('capture_amount')
