"""Anti-macro booking: when a space asks for a proof of work before a request (off, always, or
automatic while requests surge, with the instant the surge's check ends), the solutions already
accepted (refused when sent again), and an index to count a space's recent requests.

Existing spaces get "auto": the check stays off until a surge.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 09:14:58.885421

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

MODES_CHECK = "challenge_mode IN ('auto', 'always', 'off')"


def upgrade():
    op.create_table('spent_challenges',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_spent_challenges'))
    )
    with op.batch_alter_table('spent_challenges', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_spent_challenges_expires_at'), ['expires_at'], unique=False)

    with op.batch_alter_table('security_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_security_events_space_id'))
        batch_op.create_index('ix_security_events_space_id_at', ['space_id', 'at'], unique=False)

    # Columns added in place: on SQLite, rebuilding `spaces` (what a batch operation does for a
    # new CHECK) would drop the table under its foreign keys, which SQLite refuses while rows
    # point at it, and would cascade to opening hours and closures.
    if op.get_bind().dialect.name == 'sqlite':
        op.execute(
            "ALTER TABLE spaces ADD COLUMN challenge_mode VARCHAR(10) DEFAULT 'auto' NOT NULL "
            f"CONSTRAINT ck_spaces_challenge_mode CHECK ({MODES_CHECK})"
        )
    else:
        op.add_column('spaces', sa.Column('challenge_mode', sa.String(length=10), server_default='auto', nullable=False))
        op.create_check_constraint('challenge_mode', 'spaces', MODES_CHECK)
    op.add_column('spaces', sa.Column('challenge_until', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    # In place for the same reason as above (SQLite drops a column with its own CHECK).
    if op.get_bind().dialect.name != 'sqlite':
        op.drop_constraint(op.f('ck_spaces_challenge_mode'), 'spaces', type_='check')
    op.drop_column('spaces', 'challenge_until')
    op.drop_column('spaces', 'challenge_mode')

    with op.batch_alter_table('security_events', schema=None) as batch_op:
        batch_op.drop_index('ix_security_events_space_id_at')
        batch_op.create_index(batch_op.f('ix_security_events_space_id'), ['space_id'], unique=False)

    with op.batch_alter_table('spent_challenges', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_spent_challenges_expires_at'))

    op.drop_table('spent_challenges')
