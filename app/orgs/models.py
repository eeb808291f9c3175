"""Jurisdictions (관할), owner organisations and who belongs to them."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint, select
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import utcnow
from app.extensions import Model, db

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
    "other": _l("Other"),
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


class Organisation(Model):
    """An owner organisation: a school, community center, company, district office..."""

    __tablename__ = "organisations"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('school', 'community_center', 'district_office', 'company', "
            "'nonprofit', 'other')",
            name="kind",
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

    memberships: Mapped[list[OrgMembership]] = relationship(
        back_populates="organisation", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Organisation {self.slug}>"


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
