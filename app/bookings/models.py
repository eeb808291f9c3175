"""Bookings, their state machine and the record of every transition."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import User
from app.db import utcnow
from app.extensions import db
from app.spaces.models import Space

STATUS_LABELS = {
    "requested": _l("Requested"),
    "approved": _l("Approved"),
    "confirmed": _l("Confirmed"),
    "rejected": _l("Rejected"),
    "cancelled": _l("Cancelled"),
    "expired": _l("Expired"),
    "completed": _l("Completed"),
    "no_show": _l("No-show"),
}

# The one table of allowed transitions. `None` is the state before the booking exists.
TRANSITIONS: dict[str | None, frozenset[str]] = {
    None: frozenset({"requested", "confirmed"}),
    "requested": frozenset({"approved", "rejected", "cancelled", "expired"}),
    "approved": frozenset({"completed", "no_show", "cancelled"}),
    "confirmed": frozenset({"completed", "no_show", "cancelled"}),
    "rejected": frozenset(),
    "cancelled": frozenset(),
    "expired": frozenset(),
    "completed": frozenset(),
    "no_show": frozenset(),
}

# States in which a booking holds its slot; the database exclusion constraint covers exactly these.
ACTIVE_STATUSES = ("requested", "approved", "confirmed")
STATUS_SQL_LIST = ", ".join(f"'{s}'" for s in STATUS_LABELS)
ACTIVE_SQL_LIST = ", ".join(f"'{s}'" for s in ACTIVE_STATUSES)


class Booking(db.Model):
    __tablename__ = "bookings"
    __table_args__ = (
        CheckConstraint("start_at < end_at", name="range"),
        CheckConstraint("hold_start <= start_at AND hold_end >= end_at", name="hold_covers"),
        CheckConstraint("attendees > 0", name="attendees_positive"),
        CheckConstraint(f"status IN ({STATUS_SQL_LIST})", name="status"),
        Index("ix_bookings_space_hold", "space_id", "hold_start", "hold_end"),
        Index("ix_bookings_user_start", "user_id", "start_at"),
        Index("ix_bookings_status_created", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    space_id: Mapped[int] = mapped_column(ForeignKey("spaces.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    start_at: Mapped[datetime]
    end_at: Mapped[datetime]
    # The range the booking keeps from others: its time widened by half the space's buffer on
    # each side, so two holds that do not overlap are at least one full buffer apart. The
    # PostgreSQL exclusion constraint works on this range.
    hold_start: Mapped[datetime]
    hold_end: Mapped[datetime]
    purpose: Mapped[str] = mapped_column(Text)
    attendees: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(12))
    price_amount: Mapped[int] = mapped_column(Integer, default=0)
    currency: Mapped[str] = mapped_column(String(3), default="KRW")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str | None] = mapped_column(Text)

    space: Mapped[Space] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    transitions: Mapped[list[BookingTransition]] = relationship(
        back_populates="booking",
        cascade="all, delete-orphan",
        order_by="(BookingTransition.at, BookingTransition.id)",
    )

    @property
    def status_label(self) -> str:
        return str(STATUS_LABELS[self.status])

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def local_start(self) -> datetime:
        return self.start_at.astimezone(self.space.zone)

    @property
    def local_end(self) -> datetime:
        return self.end_at.astimezone(self.space.zone)

    # --- Access ---
    def can_view(self, user) -> bool:
        if not getattr(user, "is_authenticated", False):
            return False
        return (
            user.id == self.user_id
            or self.space.can_manage(user)
            or self.space.can_oversee(user)
        )

    def can_decide(self, user) -> bool:
        return self.space.can_manage(user)

    def can_cancel(self, user) -> bool:
        if not getattr(user, "is_authenticated", False):
            return False
        return user.id == self.user_id or self.space.can_manage(user)

    def __repr__(self) -> str:
        return f"<Booking {self.id} {self.status}>"


class BookingTransition(db.Model):
    """Who moved a booking from which state to which, when and why. Append-only."""

    __tablename__ = "booking_transitions"

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(
        ForeignKey("bookings.id", ondelete="CASCADE"), index=True
    )
    from_status: Mapped[str | None] = mapped_column(String(12))
    to_status: Mapped[str] = mapped_column(String(12))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    reason: Mapped[str | None] = mapped_column(Text)

    booking: Mapped[Booking] = relationship(back_populates="transitions")
    actor: Mapped[User | None] = relationship()
