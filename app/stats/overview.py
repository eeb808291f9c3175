"""The statistics overview (the landing of /stats): this month so far, next month's demand and
what needs attention, for a scope and the dashboard's place filters (district, owner, type,
space; the period is fixed by the calendar).

A fixed number of queries whatever the number of spaces: the per-space facts of this month and
of next month (one statement each, `months.per_space`), the month's counted events, and one
count per attention item.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from app.accounts.verification_models import Verification, VerificationState
from app.bookings.models import Booking, BookingStage
from app.bookings.states import STAGE_OPEN, UNDECIDED, BookingStatus
from app.extensions import db
from app.orgs.models import jurisdiction_tree, with_descendants
from app.stats import areas, events, months, queries
from app.stats.events import in_spaces

# A month's utilisation below LOW or from HIGH on: a space to look at (promote it, or add
# hours / another space). Only spaces with at least MIN_OPEN_MINUTES open count.
LOW, HIGH = 0.05, 0.9
MIN_OPEN_MINUTES = 10 * 60
PENDING = (*UNDECIDED, BookingStatus.ENTERED)


@dataclass
class Period:
    first: date
    last: date
    spaces: int = 0
    bookings: int = 0
    booked_hours: float = 0.0
    open_hours: float = 0.0
    utilisation: float | None = None
    requested: int = 0  # requests waiting for a decision, starting in the period
    requested_hours: float = 0.0


@dataclass
class Overview:
    today: date
    month: Period
    next_month: Period
    summary: dict = field(default_factory=dict)  # this month's counted events and money
    low: list[dict] = field(default_factory=list)  # spaces, this month
    high: list[dict] = field(default_factory=list)
    overdue: int = 0  # approval stages past their deadline
    refunds_pending: tuple[int, int] = (0, 0)  # count, amount (all, whatever the period)
    claims_pending: int | None = None  # None: not an officer's scope


def month_bounds(day: date) -> tuple[date, date]:
    first = day.replace(day=1)
    return first, months.next_month(first) - timedelta(days=1)


def _period(spaces, first: date, last: date) -> tuple[Period, list[dict]]:
    """Booked and open time of the spaces over the days first … last; per space too."""
    period = Period(first, last)
    rows = []
    booked = opened = 0
    for sid, minutes, starts, open_minutes, _closed in db.session.execute(
            months.per_space(spaces, first, last)):
        minutes, open_minutes = int(minutes or 0), int(open_minutes or 0)
        booked += minutes
        opened += open_minutes
        period.bookings += int(starts or 0)
        rows.append({"id": sid, "booked": minutes, "open": open_minutes,
                     "utilisation": queries._rate(minutes, open_minutes)})
    period.spaces = len(rows)
    period.booked_hours = queries._hours(booked)
    period.open_hours = queries._hours(opened)
    period.utilisation = queries._rate(booked, opened)
    return period, rows


def _requested(spaces, period: Period) -> None:
    """Requests not yet decided (or waiting for a lottery) that start in the period."""
    start = events.day_start(period.first)
    end = events.day_start(period.last + timedelta(days=1))
    n, seconds = db.session.execute(
        select(func.count(Booking.id),
               func.coalesce(func.sum(events._seconds(Booking.end_at, Booking.start_at)), 0))
        .where(in_spaces(Booking.space_id, spaces), Booking.status.in_(PENDING),
               Booking.start_at >= start, Booking.start_at < end)
    ).one()
    period.requested = int(n or 0)
    period.requested_hours = round(float(seconds or 0) / 3600, 1)


def overview(scope: queries.Scope, f: queries.Filters, today: date,
             now: datetime) -> Overview:
    """The overview for the place filters of `f` (its dates are not used)."""
    queries._no_jit()
    first, _end = month_bounds(today)
    this = queries.Filters(first, today, f.district_id, f.owner_id, f.type, f.space_id)
    spaces = scope.space_ids(this)
    month, rows = _period(spaces, first, today)
    nfirst, nlast = month_bounds(months.next_month(first))
    next_month, _rows = _period(spaces, nfirst, nlast)
    _requested(spaces, next_month)

    area = areas.area_for(scope, this)
    counted = (events.area_counts(area, first, today) if area is not None
               else events.counts(spaces, first, today))
    paid = counted.get(("money", "paid"), 0)
    refunded = counted.get(("money", "refunded"), 0)
    summary = {"requests": counted.get(("requests", ""), 0), "revenue": paid,
               "refunds": refunded, "net": paid - refunded}
    out = Overview(today=today, month=month, next_month=next_month, summary=summary)

    measured = [r for r in rows if r["open"] >= MIN_OPEN_MINUTES]
    out.low = sorted((r for r in measured if (r["utilisation"] or 0) < LOW),
                     key=lambda r: (r["utilisation"] or 0, r["id"]))
    out.high = sorted((r for r in measured if (r["utilisation"] or 0) >= HIGH),
                      key=lambda r: (-(r["utilisation"] or 0), r["id"]))

    out.overdue = int(db.session.scalar(
        select(func.count(BookingStage.id))
        .join(Booking, Booking.id == BookingStage.booking_id)
        .where(BookingStage.state.in_(STAGE_OPEN), BookingStage.due_at.isnot(None),
               BookingStage.due_at < now, Booking.status.in_(UNDECIDED),
               in_spaces(Booking.space_id, spaces))) or 0)
    out.refunds_pending = queries.pending_refunds(spaces)
    if scope.everything or scope.jurisdiction_ids:
        claims = select(func.count(Verification.id)).where(
            Verification.state == VerificationState.PENDING)
        if not scope.everything:
            mine = with_descendants(set(scope.jurisdiction_ids), jurisdiction_tree())
            claims = claims.where(Verification.jurisdiction_id.in_(sorted(mine)))
        out.claims_pending = int(db.session.scalar(claims) or 0)
    return out
