"""Group invitations: nobody joins a resident group without accepting. A table of invitations
sent to email addresses (the link's token kept only as its SHA-256); existing members stay.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 09:17:33.864035

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('group_invitations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('invited_by_id', sa.Integer(), nullable=True),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('token_seed', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('declined_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('accepted_at IS NULL OR (declined_at IS NULL AND cancelled_at IS NULL)', name=op.f('ck_group_invitations_accepted_alone')),
    sa.ForeignKeyConstraint(['group_id'], ['resident_groups.id'], name=op.f('fk_group_invitations_group_id_resident_groups'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['invited_by_id'], ['users.id'], name=op.f('fk_group_invitations_invited_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_group_invitations')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_group_invitations_token_hash'))
    )
    with op.batch_alter_table('group_invitations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_group_invitations_email'), ['email'], unique=False)
        batch_op.create_index(batch_op.f('ix_group_invitations_group_id'), ['group_id'], unique=False)
        batch_op.create_index('uq_group_invitations_open', ['group_id', 'email'], unique=True, postgresql_where=sa.text('accepted_at IS NULL AND cancelled_at IS NULL'), sqlite_where=sa.text('accepted_at IS NULL AND cancelled_at IS NULL'))



def downgrade():
    with op.batch_alter_table('group_invitations', schema=None) as batch_op:
        batch_op.drop_index('uq_group_invitations_open', postgresql_where=sa.text('accepted_at IS NULL AND cancelled_at IS NULL'), sqlite_where=sa.text('accepted_at IS NULL AND cancelled_at IS NULL'))
        batch_op.drop_index(batch_op.f('ix_group_invitations_group_id'))
        batch_op.drop_index(batch_op.f('ix_group_invitations_email'))

    op.drop_table('group_invitations')
