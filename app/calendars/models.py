"""Secret calendar-feed addresses: a person's own bookings, or an organisation's for its
managers. The token in the address is the only credential (calendar apps send no login), so
it can be revoked and regenerated."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import User
from app.db import utcnow
from app.extensions import db


class CalendarFeed(db.Model):
    __tablename__ = "calendar_feeds"
    __table_args__ = (
        CheckConstraint("kind IN ('personal', 'organisation')", name="kind"),
        CheckConstraint(
            "(kind = 'personal') = (organisation_id IS NULL)", name="organisation_for_kind"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(12))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE")
    )
    token: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()
    organisation = relationship("Organisation")

    @staticmethod
    def new_token() -> str:
        return secrets.token_urlsafe(32)
