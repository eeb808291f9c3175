"""The approval queue: every request whose current stage a person decides — a facility
manager's, a principal's or a jurisdiction officer's — with its filters. Shared by the queue
page and the API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from flask import has_request_context, request
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import aliased, contains_eager, selectinload

from app.bookings import approvals
from app.bookings.models import Booking, BookingStage
from app.bookings.states import ACTIVE, BookingStatus, PaymentState, StageState
from app.db import db_int, utcnow
from app.extensions import db
from app.rules.schema import APPROVERS, PURPOSES
from app.spaces.availability import local_instant
from app.spaces.models import Closure, Space

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


def unpaid_query(user):
    """Approved bookings still to be paid on the spaces `user` manages, the nearest pay-by
    deadline first (officers manage no spaces: nothing)."""
    query = (
        select(Booking)
        .join(Booking.space)
        .where(Booking.status == BookingStatus.APPROVED,
               Booking.payment_status == PaymentState.DUE)
        .options(contains_eager(Booking.space), selectinload(Booking.user),
                 selectinload(Booking.group))
        .order_by(Booking.payment_due_at.is_(None), Booking.payment_due_at, Booking.id)
    )
    if not user.is_admin:
        query = query.where(Space.owner_id.in_(sorted(user.managed_org_ids)))
    return query


COUNTS_KEY = "gonggan.workspace_counts"  # in the WSGI environ: lives as long as the request


def counts(user) -> tuple[int, int]:
    """(requests waiting for `user`'s decision, approved bookings of their spaces not paid yet)
    in one query, remembered for the rest of the request (the navigation asks on every page)."""
    holder = request.environ if has_request_context() else {}
    cached = holder.get(COUNTS_KEY)
    if cached is not None and cached[0] == user.id:
        return cached[1]
    pending = queue_query(user, QueueFilters()).with_only_columns(Booking.id).order_by(None)
    pending_count = select(func.count()).select_from(pending.subquery()).scalar_subquery()
    if user.is_admin or user.managed_org_ids:
        unpaid = unpaid_query(user).with_only_columns(Booking.id).order_by(None)
        unpaid_count = select(func.count()).select_from(unpaid.subquery()).scalar_subquery()
        row = db.session.execute(select(pending_count, unpaid_count)).one()
        result = (int(row[0]), int(row[1]))
    else:
        result = (int(db.session.execute(select(pending_count)).scalar_one()), 0)
    holder[COUNTS_KEY] = (user.id, result)
    return result


# The states of another booking that compete with a request for the same time: it holds the
# slot (or waits for a decision), or it is a lottery entry for that time.
COMPETING = (*ACTIVE, BookingStatus.ENTERED)


def conflicts_for(bookings) -> dict[int, list[Booking]]:
    """For each of `bookings`, the other bookings of the same space whose time (with the
    space's buffer, as held) overlaps its own and that still compete for it (one query)."""
    result: dict[int, list[Booking]] = {b.id: [] for b in bookings}
    if not result:
        return result
    this = aliased(Booking)
    rows = db.session.execute(
        select(this.id, Booking)
        .join(Booking, and_(
            Booking.space_id == this.space_id,
            Booking.id != this.id,
            Booking.hold_start < this.hold_end,
            Booking.hold_end > this.hold_start,
        ))
        .where(this.id.in_(list(result)), Booking.status.in_(COMPETING))
        .options(selectinload(Booking.user))
        .order_by(Booking.start_at, Booking.id)
    ).all()
    for booking_id, other in rows:
        result[booking_id].append(other)
    return result


def closures_for(bookings) -> dict[int, list[Closure]]:
    """For each of `bookings`, the closures of its space that overlap its time (one query)."""
    result: dict[int, list[Closure]] = {b.id: [] for b in bookings}
    if not result:
        return result
    rows = db.session.execute(
        select(Booking.id, Closure)
        .join(Closure, and_(
            Closure.space_id == Booking.space_id,
            Closure.start_at < Booking.end_at,
            Closure.end_at > Booking.start_at,
        ))
        .where(Booking.id.in_(list(result)))
        .order_by(Closure.start_at, Closure.id)
    ).all()
    for booking_id, closure in rows:
        result[booking_id].append(closure)
    return result


HISTORY_SHOWN = 10


@dataclass
class History:
    """A person's bookings at one organisation's spaces: what an approver weighs (how often
    they came, did not show up, cancelled) and their latest bookings there. Nothing about
    their bookings elsewhere."""

    counts: dict[str, int]
    recent: list[Booking]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def count(self, *statuses: str) -> int:
        return sum(self.counts.get(s, 0) for s in statuses)


def history_at(user_id: int, owner_id: int, *, exclude: int | None = None) -> History:
    """The bookings of person `user_id` at the spaces of organisation `owner_id` (two
    queries), leaving out booking `exclude`."""
    scope = [Booking.user_id == user_id, Space.owner_id == owner_id]
    if exclude is not None:
        scope.append(Booking.id != exclude)
    rows = db.session.execute(
        select(Booking.status, func.count()).join(Booking.space).where(*scope)
        .group_by(Booking.status)
    ).all()
    recent = db.session.scalars(
        select(Booking).join(Booking.space).where(*scope)
        .options(contains_eager(Booking.space))
        .order_by(Booking.start_at.desc(), Booking.id.desc())
        .limit(HISTORY_SHOWN)
    ).all()
    return History(counts={str(status): int(n) for status, n in rows}, recent=list(recent))
