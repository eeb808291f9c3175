"""Calendar feed tokens stored as their SHA-256 with a short prefix, like API tokens; titles of
imported calendar events taken out of the closure notices residents already received.

Every existing subscription keeps working: each plain token is hashed in place (in Python, so
SQLite and PostgreSQL do the same). Downgrading cannot get the plain tokens back, so it
DELETES every calendar feed: their owners make new addresses on /account/calendars. The
scrubbed notification reasons are not restored either.

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
notifications = sa.table(
    'notifications',
    sa.column('id', sa.Integer),
    sa.column('kind', sa.String),
    sa.column('params', sa.JSON),
)
closures = sa.table(
    'closures',
    sa.column('space_id', sa.Integer),
    sa.column('reason', sa.String),
    sa.column('external_calendar_id', sa.Integer),
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

    scrub_imported_titles(conn)


def scrub_imported_titles(conn):
    """Closure notices (kind closure_conflict) carried the closure's reason, for imported
    closures the title of a staff calendar's event. A notice keeps its reason only when a
    closure typed by hand on the same space says exactly that; the notice does not say which
    closure it was about, so anything else may have been imported and is removed."""
    typed = set(conn.execute(
        sa.select(closures.c.space_id, closures.c.reason)
        .where(closures.c.external_calendar_id.is_(None), closures.c.reason != '')
    ).tuples())
    changed = []
    for note_id, params in conn.execute(
        sa.select(notifications.c.id, notifications.c.params)
        .where(notifications.c.kind == 'closure_conflict')
    ):
        closure = (params or {}).get('closure') or {}
        space_id = ((params or {}).get('booking') or {}).get('space_id')
        if closure.get('reason') and (space_id, closure['reason']) not in typed:
            changed.append({'note_id': note_id,
                            'scrubbed': dict(params, closure=dict(closure, reason=None))})
    if changed:
        conn.execute(
            notifications.update()
            .where(notifications.c.id == sa.bindparam('note_id'))
            .values(params=sa.bindparam('scrubbed', type_=sa.JSON)),
            changed,
        )


def downgrade():
    # The plain tokens are gone: every feed is deleted (see the module's docstring).
    op.execute(feeds.delete())
    with op.batch_alter_table('calendar_feeds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('token', sa.String(length=64), nullable=False))
        batch_op.drop_constraint(batch_op.f('uq_calendar_feeds_token_hash'), type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_calendar_feeds_token'), ['token'])
        batch_op.drop_column('prefix')
        batch_op.drop_column('token_hash')
