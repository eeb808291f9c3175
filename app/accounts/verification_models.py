"""Claims an officer checks before the rules count them: a person's home district (residency)
and their fee-waiver categories (감면: disability, seniors, national merit, …).

A claim is a `Verification` row, decided by the officers of its jurisdiction: for residency the
claimed district, for a waiver the person's home district. Its evidence file (a scan of a
주민등록등본, a welfare card) is stored privately and deleted once the claim is decided.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import User
from app.db import one_of, utcnow
from app.extensions import Model
from app.orgs.models import Jurisdiction


class VerificationKind(StrEnum):
    RESIDENCY = "residency"
    WAIVER = "waiver"


class VerificationState(StrEnum):
    PENDING = "pending"  # waiting for an officer
    VERIFIED = "verified"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"  # the person moved (another district) or took the claim back


KIND_LABELS: dict[str, LazyString] = {
    VerificationKind.RESIDENCY: _l("Residency"),
    VerificationKind.WAIVER: _l("Fee waiver"),
}

STATE_LABELS: dict[str, LazyString] = {
    VerificationState.PENDING: _l("Waiting for an officer"),
    VerificationState.VERIFIED: _l("Verified"),
    VerificationState.REJECTED: _l("Rejected"),
    VerificationState.WITHDRAWN: _l("Withdrawn"),
}


class Verification(Model):
    __tablename__ = "verifications"
    __table_args__ = (
        CheckConstraint(one_of("kind", VerificationKind), name="kind"),
        CheckConstraint(one_of("state", VerificationState), name="state"),
        Index("ix_verifications_jurisdiction_state", "jurisdiction_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(12))
    # Whose officers decide: the claimed district (residency) or the home district (waiver).
    jurisdiction_id: Mapped[int] = mapped_column(
        ForeignKey("jurisdictions.id", ondelete="CASCADE")
    )
    category: Mapped[str | None] = mapped_column(String(20))  # the waiver category
    state: Mapped[str] = mapped_column(String(12), default=VerificationState.PENDING)
    # The evidence in the private storage (app.media.evidence); None once decided.
    evidence_key: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    reason: Mapped[str | None] = mapped_column(Text)  # why it was rejected

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    jurisdiction: Mapped[Jurisdiction] = relationship()

    def can_decide(self, user) -> bool:
        """Only the officers of the claim's district (or of a jurisdiction above it), and
        never about their own claim."""
        if not getattr(user, "is_authenticated", False) or user.id == self.user_id:
            return False
        return self.jurisdiction_id in user.officer_jurisdiction_ids

    can_view = can_decide

    @property
    def kind_label(self) -> str:
        return str(KIND_LABELS.get(self.kind, self.kind))

    @property
    def state_label(self) -> str:
        return str(STATE_LABELS.get(self.state, self.state))
