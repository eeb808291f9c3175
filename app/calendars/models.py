"""Secret calendar-feed addresses: a person's own bookings, or an organisation's for its
managers. The token in the address is the only credential (calendar apps send no login), so
it can be revoked and regenerated. Like API tokens, only its SHA-256 is stored: the address
is shown once, when it is made."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import User
from app.db import utcnow
from app.extensions import Model, db


class CalendarFeed(Model):
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
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The token's first characters, so its owner can tell which address a calendar app uses.
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()
    organisation = relationship("Organisation")

    PREFIX_LENGTH = 8

    @staticmethod
    def hash(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    @classmethod
    def issue(cls, user: User, organisation_id: int | None = None) -> tuple[CalendarFeed, str]:
        """A new feed of `user` (an organisation's with `organisation_id`); returns the row and
        the plain token, which is shown once and never stored."""
        plain = secrets.token_urlsafe(32)
        row = cls(kind="personal" if organisation_id is None else "organisation", user=user,
                  organisation_id=organisation_id, token_hash=cls.hash(plain),
                  prefix=plain[: cls.PREFIX_LENGTH])
        db.session.add(row)
        return row, plain


class ExternalCalendar(Model):
    """A calendar a manager attached to a space or to every space of an organisation (a
    school's academic calendar, exam weeks, holidays): its events become closures. Either a
    URL that `flask calendars sync` refreshes, or an uploaded file."""

    __tablename__ = "external_calendars"
    __table_args__ = (
        CheckConstraint("(space_id IS NULL) <> (organisation_id IS NULL)", name="one_scope"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    space_id: Mapped[int | None] = mapped_column(
        ForeignKey("spaces.id", ondelete="CASCADE"), index=True
    )
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(160))
    url: Mapped[str | None] = mapped_column(String(2000))
    filename: Mapped[str | None] = mapped_column(String(255))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_synced_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(500))
    # What the last import did: {"added": n, "updated": n, "removed": n, "events": n}
    last_result: Mapped[dict | None] = mapped_column(JSON)

    space = relationship("Space")
    organisation = relationship("Organisation")
    created_by: Mapped[User | None] = relationship()


