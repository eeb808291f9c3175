"""Calendar feed tokens stored as their SHA-256 with a short prefix, like API tokens.

Every existing subscription keeps working: each plain token is hashed in place (in Python, so
SQLite and PostgreSQL do the same). Downgrading cannot get the plain tokens back, so it
DELETES every calendar feed: their owners make new addresses on /account/calendars.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 09:13:04.341676

"""
import hashlib

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

# As CalendarFeed.PREFIX_LENGTH when this was written (the migration must not import the app).
PREFIX_LENGTH = 8

feeds = sa.table(
    'calendar_feeds',
    sa.column('id', sa.Integer),
    sa.column('token', sa.String),
    sa.column('token_hash', sa.String),
    sa.column('prefix', sa.String),
)


def hashed(token):
    """(SHA-256 hex digest, prefix) of a plain feed token: what CalendarFeed.hash and
    CalendarFeed.issue store for it, so the old address finds its row."""
    return hashlib.sha256(token.encode()).hexdigest(), token[:PREFIX_LENGTH]


def upgrade():
    with op.batch_alter_table('calendar_feeds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('token_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('prefix', sa.String(length=12), nullable=True))

    conn = op.get_bind()
    rows = []
    for row_id, token in conn.execute(sa.select(feeds.c.id, feeds.c.token)).all():
        digest, prefix = hashed(token)
        rows.append({'row_id': row_id, 'digest': digest, 'start': prefix})
    if rows:
        conn.execute(
            feeds.update()
            .where(feeds.c.id == sa.bindparam('row_id'))
            .values(token_hash=sa.bindparam('digest'), prefix=sa.bindparam('start')),
            rows,
        )

    with op.batch_alter_table('calendar_feeds', schema=None) as batch_op:
        batch_op.alter_column('token_hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column('prefix', existing_type=sa.String(length=12), nullable=False)
        batch_op.drop_constraint(batch_op.f('uq_calendar_feeds_token'), type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_calendar_feeds_token_hash'),
                                          ['token_hash'])
        batch_op.drop_column('token')



def downgrade():
    # The plain tokens are gone: every feed is deleted (see the module's docstring).
    op.execute(feeds.delete())
    with op.batch_alter_table('calendar_feeds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('token', sa.String(length=64), nullable=False))
        batch_op.drop_constraint(batch_op.f('uq_calendar_feeds_token_hash'), type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_calendar_feeds_token'), ['token'])
        batch_op.drop_column('prefix')
        batch_op.drop_column('token_hash')
