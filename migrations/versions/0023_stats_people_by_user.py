"""Statistics consent: an index on stats_area_people.user_id, so withdrawing consent to the
statistics deletes the person's rows without reading the whole table.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06 03:20:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('stats_area_people', schema=None) as batch_op:
        batch_op.create_index('ix_stats_area_people_user', ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('stats_area_people', schema=None) as batch_op:
        batch_op.drop_index('ix_stats_area_people_user')
