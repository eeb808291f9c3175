"""Privacy (개인정보 보호법): consents to named purposes, and on users the last activity, the
retention warning and the erasure of the account.

`last_active_at` starts as the latest log-in of each account (or its creation), so the
retention job measures inactivity from what is known. Accounts made before consents were
recorded have none: they are asked at their next log-in (docs/privacy.md).

Revision ID: 0020
Revises: 0017
Create Date: 2026-12-06 02:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0020'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'consents',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('purpose', sa.String(length=20), nullable=False),
        sa.Column('version', sa.String(length=20), nullable=False),
        sa.Column('given_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_consents_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_consents')),
    )
    op.create_index('ix_consents_user_purpose', 'consents', ['user_id', 'purpose'])
    # Plain ALTER TABLE, not batch mode: on SQLite batch mode copies and drops `users`, and
    # dropping it (foreign keys on) would delete every row that cascades from it.
    op.add_column('users', sa.Column('last_active_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('users', sa.Column('retention_warned_at', sa.DateTime(timezone=True),
                                     nullable=True))
    op.add_column('users', sa.Column('anonymised_at', sa.DateTime(timezone=True), nullable=True))
    op.create_index(op.f('ix_users_last_active_at'), 'users', ['last_active_at'])
    op.execute(
        "UPDATE users SET last_active_at = COALESCE("
        "(SELECT MAX(login_sessions.created_at) FROM login_sessions"
        " WHERE login_sessions.user_id = users.id), users.created_at)"
    )


def downgrade():
    # ALTER TABLE DROP COLUMN (SQLite 3.35+), for the reason given in upgrade.
    op.drop_index(op.f('ix_users_last_active_at'), table_name='users')
    op.drop_column('users', 'anonymised_at')
    op.drop_column('users', 'retention_warned_at')
    op.drop_column('users', 'last_active_at')
    op.drop_index('ix_consents_user_purpose', table_name='consents')
    op.drop_table('consents')
