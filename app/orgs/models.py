"""Jurisdictions (관할), owner organisations and who belongs to them."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    CheckConstraint,
    Column,
    Float,
    ForeignKey,
    String,
    Table,
    Text,
    UniqueConstraint,
    select,
)
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import utcnow
from app.extensions import Model, db
from app.orgs.states import APPROVED, UNDER_REVIEW, OrgStatus

if TYPE_CHECKING:
    from app.accounts.models import User

JURISDICTION_KINDS = {
    "metropolitan": _l("Metropolitan city"),
    "district": _l("District"),
    "education_office": _l("Education office"),
}

ORG_KINDS = {
    "school": _l("School"),
    "community_center": _l("Community center"),
    "district_office": _l("District office"),
    "company": _l("Company"),
    "nonprofit": _l("Nonprofit"),
    "public_body": _l("Public body"),
    "individual": _l("Individual"),
    "other": _l("Other"),
}
# What an applicant may choose (the others are older kinds of the demo and earlier rows).
APPLICATION_KINDS = ("school", "public_body", "company", "nonprofit", "individual")
APPLICATION_KIND_LABELS = {
    "school": _l("School"),
    "public_body": _l("Public body"),
    "company": _l("Company"),
    "nonprofit": _l("Nonprofit or association"),
    "individual": _l("Individual"),
}

ORG_ROLES = {
    "manager": _l("Facility manager"),
    "principal": _l("Head of organisation"),
    "staff": _l("Staff"),
}


class Jurisdiction(Model):
    __tablename__ = "jurisdictions"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('metropolitan', 'district', 'education_office')", name="kind"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str | None] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(20))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("jurisdictions.id"), index=True)

    parent: Mapped[Jurisdiction | None] = relationship(remote_side=[id])

    @property
    def display_name(self) -> str:
        if self.name_en and str(get_locale() or "ko") == "en":
            return self.name_en
        return self.name

    def __repr__(self) -> str:
        return f"<Jurisdiction {self.slug}>"


def jurisdiction_tree() -> dict[int, int | None]:
    """Map of every jurisdiction id to its parent id, loaded in one query.

    Jurisdictions number in the dozens to hundreds, so the whole tree is cheap to hold.
    """
    rows = db.session.execute(select(Jurisdiction.id, Jurisdiction.parent_id)).all()
    return {row.id: row.parent_id for row in rows}


def with_descendants(roots: set[int], tree: dict[int, int | None]) -> set[int]:
    """The given jurisdictions and every jurisdiction nested below them."""
    result = set(roots)
    children: dict[int | None, list[int]] = {}
    for jid, parent in tree.items():
        children.setdefault(parent, []).append(jid)
    stack = list(roots)
    while stack:
        for child in children.get(stack.pop(), []):
            if child not in result:
                result.add(child)
                stack.append(child)
    return result


# The jurisdictions an organisation falls under: whose officers review its application.
org_jurisdictions = Table(
    "org_jurisdictions",
    Model.metadata,
    Column("organisation_id", ForeignKey("organisations.id", ondelete="CASCADE"),
           primary_key=True),
    Column("jurisdiction_id", ForeignKey("jurisdictions.id", ondelete="CASCADE"),
           primary_key=True),
)


class Organisation(Model):
    """An owner organisation: a school, community center, company, district office..."""

    __tablename__ = "organisations"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('school', 'community_center', 'district_office', 'company', "
            "'nonprofit', 'public_body', 'individual', 'other')",
            name="kind",
        ),
        CheckConstraint(
            "status IN ('pending', 'info_requested', 'rejected', 'active', 'suspended')",
            name="status",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(160))
    kind: Mapped[str] = mapped_column(String(20))
    contact_email: Mapped[str | None] = mapped_column(String(254))
    contact_phone: Mapped[str | None] = mapped_column(String(40))
    # Payments: authorise the card at request and capture at approval (when the booking is
    # close enough for a hold to last); the platform's fee in basis points (None: the default
    # from the configuration; 0 for public bodies that pay none).
    card_holds: Mapped[bool] = mapped_column(default=False, server_default=sa_false())
    platform_fee_bps: Mapped[int | None]
    # Where the owner is established (ISO 3166-1 alpha-2): decides whether Stripe Connect can
    # pay it out (app.payments.connect.CONNECT_COUNTRIES).
    country: Mapped[str] = mapped_column(String(2), default="KR", server_default="KR")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Where it stands (app.orgs.states): an application until approved, then active or
    # suspended. Rows made before applications existed (and the demo's) are active.
    status: Mapped[str] = mapped_column(
        String(20), default=OrgStatus.ACTIVE, server_default=OrgStatus.ACTIVE, index=True
    )
    # --- The application (app.orgs.applications); empty on rows made without one.
    legal_name: Mapped[str | None] = mapped_column(String(160))
    representative: Mapped[str | None] = mapped_column(String(80))
    # 사업자등록번호 or 고유번호, ten digits without dashes.
    registration_number: Mapped[str | None] = mapped_column(String(10))
    address: Mapped[str | None] = mapped_column(String(300))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    # The evidence document in private storage (never under /media/): key, type, file name.
    evidence_key: Mapped[str | None] = mapped_column(String(200))
    evidence_type: Mapped[str | None] = mapped_column(String(40))
    evidence_name: Mapped[str | None] = mapped_column(String(200))
    applicant_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    submitted_at: Mapped[datetime | None]
    reviewed_at: Mapped[datetime | None]
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # The reviewer's words to the applicant: why it was rejected, or what to add.
    review_note: Mapped[str | None] = mapped_column(Text)
    suspended_at: Mapped[datetime | None]

    memberships: Mapped[list[OrgMembership]] = relationship(
        back_populates="organisation", cascade="all, delete-orphan"
    )
    jurisdictions: Mapped[list[Jurisdiction]] = relationship(
        secondary=org_jurisdictions, order_by=Jurisdiction.id
    )
    applicant: Mapped[User | None] = relationship(foreign_keys=[applicant_id])

    def __repr__(self) -> str:
        return f"<Organisation {self.slug}>"

    @property
    def is_active_owner(self) -> bool:
        return self.status == OrgStatus.ACTIVE

    @property
    def under_review(self) -> bool:
        return self.status in UNDER_REVIEW

    @property
    def approved(self) -> bool:
        return self.status in APPROVED

    # --- Access (app.access) ------------------------------------------------------------------
    def role_of(self, user) -> str | None:
        if not getattr(user, "is_authenticated", False):
            return None
        return user.org_roles.get(self.id)

    def can_review(self, user) -> bool:
        """Administrators, and the officers of a jurisdiction it falls under."""
        if not getattr(user, "is_authenticated", False):
            return False
        if user.is_admin:
            return True
        return any(j.id in user.officer_jurisdiction_ids for j in self.jurisdictions)

    def can_view(self, user) -> bool:
        """The applicant, its members and its reviewers."""
        if not getattr(user, "is_authenticated", False):
            return False
        return (self.applicant_id == user.id or self.role_of(user) is not None
                or self.can_review(user))

    def can_edit_application(self, user) -> bool:
        return (getattr(user, "is_authenticated", False) and self.applicant_id == user.id
                and self.status == OrgStatus.INFO_REQUESTED)

    def can_see_team(self, user) -> bool:
        return self.approved and (self.role_of(user) is not None
                                  or bool(getattr(user, "is_admin", False)))

    def can_manage_team(self, user) -> bool:
        """Its managers (and heads of schools) change the team, while it is approved."""
        return self.approved and self.role_of(user) in TEAM_MANAGERS


# Who may invite, change roles and remove members.
TEAM_MANAGERS = ("manager", "principal")

class OrgInvitation(Model):
    """An invitation to join an organisation's team, emailed as a single-use link. Only the
    SHA-256 of the link's token is kept."""

    __tablename__ = "org_invitations"
    __table_args__ = (
        CheckConstraint("role IN ('manager', 'principal', 'staff')", name="role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(String(254))
    role: Mapped[str] = mapped_column(String(20))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]
    accepted_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    cancelled_at: Mapped[datetime | None]

    organisation: Mapped[Organisation] = relationship()

    def is_open(self, now: datetime) -> bool:
        return self.accepted_at is None and self.cancelled_at is None and self.expires_at > now


class OrgMembership(Model):
    __tablename__ = "org_memberships"
    __table_args__ = (
        UniqueConstraint("user_id", "organisation_id", name="user_org"),
        CheckConstraint("role IN ('manager', 'principal', 'staff')", name="role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(20), default="manager")

    organisation: Mapped[Organisation] = relationship(back_populates="memberships")
    user: Mapped[User] = relationship(back_populates="org_memberships")


class JurisdictionMembership(Model):
    """An officer (구청·교육청 담당자) of a jurisdiction."""

    __tablename__ = "jurisdiction_memberships"
    __table_args__ = (UniqueConstraint("user_id", "jurisdiction_id", name="user_jurisdiction"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    jurisdiction_id: Mapped[int] = mapped_column(
        ForeignKey("jurisdictions.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(20), default="officer")

    jurisdiction: Mapped[Jurisdiction] = relationship()
    user: Mapped[User] = relationship(back_populates="jurisdiction_memberships")
