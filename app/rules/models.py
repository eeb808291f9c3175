"""Rule sets: versioned, append-only, per jurisdiction, owner organisation or space."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import User
from app.db import utcnow
from app.extensions import Model
from app.orgs.models import Jurisdiction, Organisation
from app.spaces.models import Space


class RuleSet(Model):
    """One version of the rules of a jurisdiction, an owner organisation or a single space.

    Versions are never edited: a change adds a version with the date it takes effect, and
    records who made it and which version it replaces (the audit trail). The version in force at
    a moment is the one with the latest `effective_from` not after it (the newest on a tie).
    """

    __tablename__ = "rule_sets"
    __table_args__ = (
        CheckConstraint(
            "(CASE WHEN jurisdiction_id IS NULL THEN 0 ELSE 1 END"
            " + CASE WHEN organisation_id IS NULL THEN 0 ELSE 1 END"
            " + CASE WHEN space_id IS NULL THEN 0 ELSE 1 END) = 1",
            name="one_scope",
        ),
        Index("ix_rule_sets_scope", "jurisdiction_id", "organisation_id", "space_id"),
        # Version numbers are unique per scope, also when two editors save at once.
        *(
            Index(
                f"uq_rule_sets_{column}_version",
                column,
                "version",
                unique=True,
                postgresql_where=text(f"{column} IS NOT NULL"),
                sqlite_where=text(f"{column} IS NOT NULL"),
            )
            for column in ("jurisdiction_id", "organisation_id", "space_id")
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    jurisdiction_id: Mapped[int | None] = mapped_column(
        ForeignKey("jurisdictions.id", ondelete="CASCADE")
    )
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE")
    )
    space_id: Mapped[int | None] = mapped_column(
        ForeignKey("spaces.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[int] = mapped_column(Integer)
    effective_from: Mapped[datetime]
    body: Mapped[dict] = mapped_column(JSON)
    note: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("rule_sets.id"))

    jurisdiction: Mapped[Jurisdiction | None] = relationship()
    organisation: Mapped[Organisation | None] = relationship()
    space: Mapped[Space | None] = relationship()
    created_by: Mapped[User | None] = relationship()
    replaces: Mapped[RuleSet | None] = relationship(remote_side=[id])

    @property
    def level(self) -> str:
        if self.jurisdiction_id is not None:
            return "jurisdiction"
        return "owner" if self.organisation_id is not None else "space"

    @property
    def scope_key(self) -> str:
        if self.jurisdiction_id is not None:
            return f"j:{self.jurisdiction_id}"
        if self.organisation_id is not None:
            return f"o:{self.organisation_id}"
        return f"s:{self.space_id}"


