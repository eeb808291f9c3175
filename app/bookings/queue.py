"""The approval queue: every request whose current stage a person decides — a facility
manager's, a principal's or a jurisdiction officer's — with its filters. Shared by the queue
page and the API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import aliased, contains_eager, selectinload

from app.bookings import approvals
from app.bookings.models import Booking, BookingStage
from app.bookings.states import BookingStatus, StageState
from app.db import db_int, utcnow
from app.rules.schema import APPROVERS, PURPOSES
from app.spaces.availability import local_instant
from app.spaces.models import Space

SORTS = ("requested", "start", "due")


QUEUE_ZONE = ZoneInfo("Asia/Seoul")  # date filters span spaces; they are read in Korean time


@dataclass
class QueueFilters:
    space_id: int | None = None
    approver: str | None = None
    purpose: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    overdue: bool = False
    sort: str = "requested"

    @classmethod
    def from_args(cls, args) -> QueueFilters:
        """Filters from the query string; anything unreadable is ignored, never an error."""

        def day(name: str) -> date | None:
            try:
                value = date.fromisoformat(args.get(name, ""))
            except ValueError:
                return None
            return value if 2000 <= value.year <= 2200 else None

        approver = args.get("approver")
        purpose = args.get("purpose")
        sort = args.get("sort")
        return cls(
            space_id=args.get("space", type=db_int),
            approver=approver if approver in APPROVERS else None,
            purpose=purpose if purpose in PURPOSES else None,
            date_from=day("from"),
            date_to=day("to"),
            overdue=args.get("overdue") == "1",
            sort=sort if sort in SORTS else "requested",
        )

    def apply(self, query, current):
        if self.space_id:
            query = query.where(Booking.space_id == self.space_id)
        if self.approver:
            query = query.where(current.approver == self.approver)
        if self.purpose:
            query = query.where(Booking.purpose_category == self.purpose)
        if self.date_from:
            query = query.where(Booking.start_at >= local_instant(self.date_from, 0, QUEUE_ZONE))
        if self.date_to:
            query = query.where(
                Booking.start_at < local_instant(self.date_to + timedelta(days=1), 0, QUEUE_ZONE)
            )
        if self.overdue:
            query = query.where(current.due_at <= utcnow() + timedelta(days=1))
        self._current = current
        return query

    def order(self, query):
        current = self._current
        if self.sort == "start":
            return query.order_by(Booking.start_at, Booking.id)
        if self.sort == "due":
            return query.order_by(current.due_at.is_(None), current.due_at, Booking.id)
        return query.order_by(Booking.created_at, Booking.id)

    def is_active(self) -> bool:
        return self != QueueFilters(sort=self.sort)


def queue_query(user, filters: QueueFilters):
    """Requests whose current stage `user` decides, across everything in their scope, with the
    filters applied (order them with `filters.order`). Shared by this page and the API.

    Requests made before approval chains existed (no stages) go to the space's managers.
    """
    current = aliased(BookingStage)
    legacy = and_(Booking.stage_position.is_(None), Booking.status == BookingStatus.REQUESTED)
    if not user.is_admin:
        legacy = and_(legacy, Space.owner_id.in_(user.managed_org_ids))
    query = (
        select(Booking)
        .join(Booking.space)
        .outerjoin(
            current,
            and_(current.booking_id == Booking.id, current.position == Booking.stage_position),
        )
        .where(
            Booking.status == BookingStatus.REQUESTED,
            or_(
                and_(current.state == StageState.PENDING, approvals.decidable_by(user, current)),
                legacy,
            ),
        )
        .options(
            contains_eager(Booking.space),
            selectinload(Booking.user),
            selectinload(Booking.stages).selectinload(BookingStage.jurisdiction),
            selectinload(Booking.group),
        )
    )
    return filters.apply(query, current)
