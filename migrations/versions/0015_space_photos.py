"""Photos of spaces: each re-encoded at a few widths under content-addressed names, in an
order, with alt text, one of them the cover (at most one per space, by a partial index).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05 18:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('space_photos',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('space_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('alt', sa.String(length=300), nullable=False),
    sa.Column('is_cover', sa.Boolean(), nullable=False),
    sa.Column('digest', sa.String(length=32), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('width > 0 AND height > 0', name=op.f('ck_space_photos_size_positive')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_space_photos_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['space_id'], ['spaces.id'], name=op.f('fk_space_photos_space_id_spaces'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_space_photos'))
    )
    with op.batch_alter_table('space_photos', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_space_photos_digest'), ['digest'], unique=False)
        batch_op.create_index(batch_op.f('ix_space_photos_space_id'), ['space_id'], unique=False)
        batch_op.create_index('uq_space_photos_cover', ['space_id'], unique=True,
                              sqlite_where=sa.text('is_cover'), postgresql_where=sa.text('is_cover'))


def downgrade():
    with op.batch_alter_table('space_photos', schema=None) as batch_op:
        batch_op.drop_index('uq_space_photos_cover', sqlite_where=sa.text('is_cover'), postgresql_where=sa.text('is_cover'))
        batch_op.drop_index(batch_op.f('ix_space_photos_space_id'))
        batch_op.drop_index(batch_op.f('ix_space_photos_digest'))

    op.drop_table('space_photos')
