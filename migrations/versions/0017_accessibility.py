"""Accessibility features of spaces (step-free entrance, lift, accessible toilet, hearing loop,
accessible parking), stored beside the amenities in space_amenities: no new table, only the
old "wheelchair_access" amenity becomes the "step_free_entrance" feature.

Downgrading turns "step_free_entrance" back into "wheelchair_access" and forgets the other
features (the older code has no place for them).

Revision ID: 0017
Revises: 0015
Create Date: 2026-12-05 19:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0015'
branch_labels = None
depends_on = None

amenities = sa.table('space_amenities', sa.column('space_id', sa.Integer),
                     sa.column('code', sa.String))


def upgrade():
    op.execute(amenities.update().where(amenities.c.code == 'wheelchair_access')
               .values(code='step_free_entrance'))


def downgrade():
    op.execute(amenities.delete().where(amenities.c.code.in_(
        ['lift', 'accessible_toilet', 'hearing_loop', 'accessible_parking'])))
    op.execute(amenities.update().where(amenities.c.code == 'step_free_entrance')
               .values(code='wheelchair_access'))
