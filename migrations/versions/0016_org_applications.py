"""Organisation applications, suspension and team invitations: organisations get a status
(pending, info_requested, rejected, active, suspended; existing rows are active), the details
of their application (legal name, representative, registration number, address, the private
evidence file, who applied and who reviewed), the jurisdictions they fall under, and two new
kinds (public_body, individual). Team invitations are stored with the SHA-256 of their token.

Downgrading drops all of it; organisations of the new kinds become "other".

Revision ID: 0016
Revises: 0018
Create Date: 2026-12-06 02:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0018'
branch_labels = None
depends_on = None

OLD_KINDS = "'school', 'community_center', 'district_office', 'company', 'nonprofit', 'other'"
NEW_KINDS = ("'school', 'community_center', 'district_office', 'company', 'nonprofit', "
             "'public_body', 'individual', 'other'")


def upgrade():
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', sa.String(length=20), nullable=False,
                                      server_default='active'))
        batch_op.add_column(sa.Column('legal_name', sa.String(length=160), nullable=True))
        batch_op.add_column(sa.Column('representative', sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column('registration_number', sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column('address', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('latitude', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('longitude', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('evidence_key', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('evidence_type', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('evidence_name', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('applicant_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('reviewed_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('review_note', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('suspended_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_organisations_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_organisations_applicant_id'), ['applicant_id'],
                              unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_organisations_applicant_id_users'), 'users',
                                    ['applicant_id'], ['id'], ondelete='SET NULL')
        batch_op.create_foreign_key(batch_op.f('fk_organisations_reviewed_by_id_users'), 'users',
                                    ['reviewed_by_id'], ['id'], ondelete='SET NULL')
        batch_op.drop_constraint(op.f('ck_organisations_kind'), type_='check')
        batch_op.create_check_constraint('kind', f"kind IN ({NEW_KINDS})")
        batch_op.create_check_constraint(
            'status', "status IN ('pending', 'info_requested', 'rejected', 'active', 'suspended')")

    op.create_table('org_jurisdictions',
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('jurisdiction_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['jurisdiction_id'], ['jurisdictions.id'], name=op.f('fk_org_jurisdictions_jurisdiction_id_jurisdictions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_org_jurisdictions_organisation_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('organisation_id', 'jurisdiction_id', name=op.f('pk_org_jurisdictions'))
    )
    op.create_table('org_invitations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('invited_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('accepted_by_id', sa.Integer(), nullable=True),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("role IN ('manager', 'principal', 'staff')", name=op.f('ck_org_invitations_role')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_org_invitations_organisation_id_organisations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['invited_by_id'], ['users.id'], name=op.f('fk_org_invitations_invited_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['accepted_by_id'], ['users.id'], name=op.f('fk_org_invitations_accepted_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_org_invitations')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_org_invitations_token_hash'))
    )
    with op.batch_alter_table('org_invitations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_org_invitations_organisation_id'), ['organisation_id'], unique=False)


def downgrade():
    with op.batch_alter_table('org_invitations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_org_invitations_organisation_id'))
    op.drop_table('org_invitations')
    op.drop_table('org_jurisdictions')
    organisations = sa.table('organisations', sa.column('kind', sa.String))
    op.execute(organisations.update().where(organisations.c.kind.in_(['public_body', 'individual']))
               .values(kind='other'))
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_organisations_status'), type_='check')
        batch_op.drop_constraint(op.f('ck_organisations_kind'), type_='check')
        batch_op.create_check_constraint('kind', f"kind IN ({OLD_KINDS})")
        batch_op.drop_constraint(batch_op.f('fk_organisations_reviewed_by_id_users'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_organisations_applicant_id_users'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_organisations_applicant_id'))
        batch_op.drop_index(batch_op.f('ix_organisations_status'))
        for column in ('suspended_at', 'review_note', 'reviewed_by_id', 'reviewed_at',
                       'submitted_at', 'applicant_id', 'evidence_name', 'evidence_type',
                       'evidence_key', 'longitude', 'latitude', 'address',
                       'registration_number', 'representative', 'legal_name', 'status'):
            batch_op.drop_column(column)
