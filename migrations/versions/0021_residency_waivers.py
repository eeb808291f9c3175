"""Verified residency and fee waivers: claims officers check (verifications), when a person's
home district was verified (users.home_district_verified_at) and where a booking's claimed
waiver stands (bookings.waiver_state).

Home districts claimed before this migration stay unverified: the residency-based rules count
them once an officer of the district verifies them. Bookings made before keep their prices
(waiver_state stays NULL).

Revision ID: 0021
Revises: 0019 (the lead re-chains it after the other branches' migrations at merge)
Create Date: 2026-12-06 02:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0021'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('verifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('jurisdiction_id', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=20), nullable=True),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('evidence_key', sa.String(length=80), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.CheckConstraint("kind IN ('residency', 'waiver')", name=op.f('ck_verifications_kind')),
    sa.CheckConstraint("state IN ('pending', 'verified', 'rejected', 'withdrawn')",
                       name=op.f('ck_verifications_state')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_verifications_decided_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['jurisdiction_id'], ['jurisdictions.id'], name=op.f('fk_verifications_jurisdiction_id_jurisdictions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_verifications_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_verifications'))
    )
    with op.batch_alter_table('verifications', schema=None) as batch_op:
        batch_op.create_index('ix_verifications_jurisdiction_state', ['jurisdiction_id', 'state'], unique=False)
        batch_op.create_index(batch_op.f('ix_verifications_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('home_district_verified_at', sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('waiver_state', sa.String(length=12), nullable=True))


def downgrade():
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.drop_column('waiver_state')

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('home_district_verified_at')

    with op.batch_alter_table('verifications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_verifications_user_id'))
        batch_op.drop_index('ix_verifications_jurisdiction_state')

    op.drop_table('verifications')
