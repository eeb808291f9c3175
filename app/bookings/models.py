"""Bookings, their state machine and the record of every transition; the approval stages of a
request, lottery draws and recurring series (each occurrence its own booking)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.group_models import ResidentGroup
from app.accounts.models import User
from app.bookings.states import (
    ACTIVE,
    CALLED_OFF,
    PAYMENT_STATES,
    REFUND_BADGES,
    SETTLED,
    STATUS_LABELS,
    UNDECIDED,
    BookingStatus,
    PaymentState,
    StageState,
)
from app.db import one_of, utcnow
from app.extensions import Model
from app.orgs.models import Jurisdiction, Organisation
from app.spaces.models import Space

if TYPE_CHECKING:  # payments sit above bookings; the relationship is resolved by name
    from app.payments.models import Payment


class Booking(Model):
    __tablename__ = "bookings"
    __table_args__ = (
        CheckConstraint("start_at < end_at", name="range"),
        CheckConstraint("hold_start <= start_at AND hold_end >= end_at", name="hold_covers"),
        CheckConstraint("attendees > 0", name="attendees_positive"),
        CheckConstraint(one_of("status", BookingStatus), name="status"),
        Index("ix_bookings_space_hold", "space_id", "hold_start", "hold_end"),
        Index("ix_bookings_user_start", "user_id", "start_at"),
        Index("ix_bookings_status_created", "status", "created_at"),
        Index("ix_bookings_status_draw", "status", "draw_at"),
        Index("ix_bookings_payment_due", "payment_status", "payment_due_at"),
        # The statistics count by these instants (app.stats.events); on PostgreSQL the people
        # counted live are read from the index alone.
        Index("ix_bookings_created", "created_at",
              postgresql_include=["space_id", "user_id", "group_id"]),
        Index("ix_bookings_decided", "decided_at"),
        Index("ix_bookings_draw", "draw_at"),
        CheckConstraint(one_of("payment_status", PaymentState), name="payment_status"),
        # One lottery entry per person per draw, also when two requests race.
        Index(
            "uq_bookings_one_entry",
            "space_id",
            "user_id",
            "draw_at",
            unique=True,
            postgresql_where=text(f"status = '{BookingStatus.ENTERED}'"),
            sqlite_where=text(f"status = '{BookingStatus.ENTERED}'"),
        ),
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
    status: Mapped[str] = mapped_column(String(20))
    price_amount: Mapped[int] = mapped_column(Integer, default=0)
    currency: Mapped[str] = mapped_column(String(3), default="KRW")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str | None] = mapped_column(Text)
    # What the rules said when the request was made (see app.rules): the purpose category, the
    # waiver the resident claims, the group they book for, the rule-set versions in force, the
    # price breakdown, the approval stage deciding now and, for lottery entries, the draw.
    # Server defaults too: rows written by other tools (or older code) get sensible values.
    purpose_category: Mapped[str] = mapped_column(
        String(20), default="community", server_default="community"
    )
    waiver_category: Mapped[str | None] = mapped_column(String(20))
    # Where the claimed waiver stands (WaiverState): verified on the profile and priced in, or
    # claimed on this request only and priced in once an approver saw the evidence.
    waiver_state: Mapped[str | None] = mapped_column(String(12))
    group_id: Mapped[int | None] = mapped_column(
        ForeignKey("resident_groups.id", ondelete="SET NULL")
    )
    rule_version_ids: Mapped[list] = mapped_column(JSON, default=list, server_default="[]")
    price_breakdown: Mapped[dict] = mapped_column(JSON, default=dict, server_default="{}")
    stage_position: Mapped[int | None] = mapped_column(Integer)
    draw_at: Mapped[datetime | None]
    lottery_draw_id: Mapped[int | None] = mapped_column(
        ForeignKey("lottery_draws.id", ondelete="SET NULL")
    )
    # What the booking owes (see app.payments.models.PAYMENT_STATES) and until when.
    payment_status: Mapped[str] = mapped_column(
        String(20), default=PaymentState.NONE, server_default=PaymentState.NONE.value
    )
    payment_due_at: Mapped[datetime | None]
    # Grows with every change of the booking: the SEQUENCE of its iCalendar event.
    ics_sequence: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The recurring request this booking is an occurrence of, if any.
    series_id: Mapped[int | None] = mapped_column(
        ForeignKey("booking_series.id", ondelete="SET NULL"), index=True
    )

    space: Mapped[Space] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    stages: Mapped[list[BookingStage]] = relationship(
        back_populates="booking", cascade="all, delete-orphan", order_by="BookingStage.position"
    )
    group: Mapped[ResidentGroup | None] = relationship()
    series = relationship("BookingSeries")
    payments: Mapped[list[Payment]] = relationship(
        back_populates="booking", order_by="Payment.id", cascade="all, delete-orphan"
    )
    transitions: Mapped[list[BookingTransition]] = relationship(
        back_populates="booking",
        cascade="all, delete-orphan",
        order_by="(BookingTransition.at, BookingTransition.id)",
    )

    @property
    def status_label(self) -> str:
        return str(STATUS_LABELS[self.status])

    @property
    def payment_label(self) -> str:
        return str(PAYMENT_STATES[self.payment_status])

    @property
    def payment_badge(self) -> tuple[str, str] | None:
        """(CSS class, words) of the badge beside the status saying what is owed or paid, or
        None when there is nothing to say. A booking called off after it was paid says where
        its refund stands (reading its payments only then)."""
        if self.payment_status in (PaymentState.NONE, PaymentState.VOID,
                                   PaymentState.AFTER_APPROVAL):
            return None
        if self.status in CALLED_OFF and self.payment_status in SETTLED:
            if any(p.pending_refund_amount for p in self.payments):
                key = "refund-pending"
            elif self.payment_status == PaymentState.PAID:
                key = "not-refunded"
            else:
                key = "refund-done"
            return key, str(REFUND_BADGES[key])
        return f"payment-{self.payment_status}", self.payment_label

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE

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
            or self.can_decide_now(user)
        )

    def can_decide(self, user) -> bool:
        """Whether `user` manages the space (attendance, cancelling on the owner's behalf)."""
        return self.space.can_manage(user)

    @property
    def current_stage(self) -> BookingStage | None:
        """The stage deciding the request now (None once every stage has passed)."""
        if self.stage_position is None:
            return None
        return next((s for s in self.stages if s.position == self.stage_position), None)

    def can_decide_now(self, user) -> bool:
        """Whether `user` decides the request's current approval stage."""
        if self.status not in UNDECIDED:
            return self.can_decide(user)
        if not self.stages:  # requests made before approval chains existed
            return self.can_decide(user)
        stage = self.current_stage
        return stage is not None and stage.can_decide(user)

    def can_review(self, user) -> bool:
        """Whether `user` may open the approver's page of the booking: its space's managers
        and whoever decides its current stage."""
        return self.can_decide(user) or self.can_decide_now(user)

    def can_cancel(self, user) -> bool:
        if not getattr(user, "is_authenticated", False):
            return False
        return user.id == self.user_id or self.space.can_manage(user)

    def __repr__(self) -> str:
        return f"<Booking {self.id} {self.status}>"


class BookingTransition(Model):
    """Who moved a booking from which state to which, when and why. Append-only."""

    __tablename__ = "booking_transitions"
    __table_args__ = (Index("ix_booking_transitions_at", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(
        ForeignKey("bookings.id", ondelete="CASCADE"), index=True
    )
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    reason: Mapped[str | None] = mapped_column(Text)

    booking: Mapped[Booking] = relationship(back_populates="transitions")
    actor: Mapped[User | None] = relationship()


class BookingStage(Model):
    """One stage of a booking's approval chain, frozen when the request is made."""

    __tablename__ = "booking_stages"
    __table_args__ = (
        CheckConstraint(one_of("state", StageState), name="state"),
        Index("ix_booking_stages_booking_position", "booking_id", "position", unique=True),
        Index("ix_booking_stages_decided", "decided_at"),
        Index("ix_booking_stages_state_due", "state", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    approver: Mapped[str] = mapped_column(String(20))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    jurisdiction_id: Mapped[int | None] = mapped_column(ForeignKey("jurisdictions.id"))
    mode: Mapped[str] = mapped_column(String(10), default="decide")
    deadline_days: Mapped[int | None] = mapped_column(Integer)
    on_deadline: Mapped[str] = mapped_column(String(10), default="expire")
    label: Mapped[str] = mapped_column(String(80), default="")
    source_name: Mapped[str] = mapped_column(String(160), default="")
    state: Mapped[str] = mapped_column(String(14), default=StageState.WAITING)
    started_at: Mapped[datetime | None]
    due_at: Mapped[datetime | None]
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str | None] = mapped_column(Text)

    booking: Mapped[Booking] = relationship(back_populates="stages")
    organisation: Mapped[Organisation | None] = relationship()
    jurisdiction: Mapped[Jurisdiction | None] = relationship()
    decided_by: Mapped[User | None] = relationship()

    def can_decide(self, user) -> bool:
        """Whether `user` decides this stage: the owner's facility managers and staff, its head,
        or the officers of the jurisdiction (including officers of the jurisdictions above)."""
        if not getattr(user, "is_authenticated", False):
            return False
        if user.is_admin:
            return True
        if self.approver == "jurisdiction":
            return self.jurisdiction_id in user.officer_jurisdiction_ids
        role = user.org_roles.get(self.organisation_id)
        if self.approver == "owner_principal":
            return role == "principal"
        return role in ("manager", "staff")


class LotteryDraw(Model):
    """A lottery draw for one space and draw time: its published seed and full result."""

    __tablename__ = "lottery_draws"
    __table_args__ = (Index("ix_lottery_draws_space_draw", "space_id", "draw_at", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    space_id: Mapped[int] = mapped_column(ForeignKey("spaces.id", ondelete="CASCADE"))
    draw_at: Mapped[datetime]
    drawn_at: Mapped[datetime] = mapped_column(default=utcnow)
    seed: Mapped[str] = mapped_column(String(64))
    algorithm: Mapped[str] = mapped_column(String(20), default="gonggan-1")
    # [{"booking": id, "tier": 0|1, "rank": n, "outcome": DrawOutcome, "why": code}, ...]
    result: Mapped[list] = mapped_column(JSON)

    space: Mapped[Space] = relationship()


class BookingSeries(Model):
    """A recurring request: the rule it was made with (RFC 5545 RRULE, in the space's zone),
    the first occurrence's local start and the length. Each occurrence is its own booking."""

    __tablename__ = "booking_series"

    id: Mapped[int] = mapped_column(primary_key=True)
    space_id: Mapped[int] = mapped_column(ForeignKey("spaces.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    rrule: Mapped[str] = mapped_column(String(500))
    first_start: Mapped[datetime]  # the first occurrence asked for (UTC)
    minutes: Mapped[int]
    timezone: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    space = relationship("Space")
    user: Mapped[User] = relationship()
