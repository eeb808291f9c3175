"""Recurring requests: a series of occurrences, each its own booking with its own state.

The rule is RFC 5545 RRULE semantics (dateutil): weekly on chosen weekdays every N weeks, or
monthly on the nth weekday, until a date or for a count. Occurrences keep their wall-clock time
in the space's zone across daylight-saving changes. Every occurrence goes through the same
`create_booking` as a single request — the same checks, the same database guarantee against
double booking, and quotas and fees that count the occurrences before it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import MONTHLY, WEEKLY, weekday
from flask_babel import gettext as _

from app.bookings import decisions
from app.bookings import services as booking_services
from app.bookings.models import Booking, BookingSeries
from app.bookings.states import TRANSITIONS, BookingStatus
from app.db import utcnow
from app.errors import DomainError, InvalidTransition, NotAllowed, ValidationFailed
from app.extensions import db
from app.recurrence import Budget, BudgetExceeded, CountedRule
from app.spaces.availability import local_instant

MAX_OCCURRENCES = 60
# Sixty dates of the sparsest rule allowed (every 12th month) cost about 2,500 steps: the
# budget only stops a rule this module was not written for.
MAX_STEPS = 20_000
MAX_SECONDS = 1.0
DAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


@dataclass(frozen=True)
class Repeat:
    """How a request repeats. `freq` "weekly" (on `weekdays`, Monday = 0) or "monthly" (on the
    `nth` weekday of the month of the first date; -1 = last), every `interval` weeks/months,
    `until` a date (inclusive) or `count` times."""

    freq: str
    interval: int = 1
    weekdays: tuple[int, ...] = ()
    nth: int | None = None
    until: date | None = None
    count: int | None = None

    def check(self, first: date) -> None:
        errors: dict[str | None, list[str]] = {}
        if self.freq not in ("weekly", "monthly"):
            errors["repeat"] = [_("Choose how the booking repeats.")]
        if not 1 <= self.interval <= 12:
            errors["interval"] = [_("Repeat every 1 to 12 weeks or months.")]
        if self.freq == "weekly" and not self.weekdays:
            errors["weekdays"] = [_("Choose at least one weekday.")]
        if (self.until is None) == (self.count is None):
            errors["until"] = [_("Give an end date or a number of times.")]
        if self.until is not None and self.until < first:
            errors["until"] = [_("The end date is before the first date.")]
        if self.count is not None and not 1 <= self.count <= MAX_OCCURRENCES:
            errors["count"] = [_("A series has at most %(n)d dates.", n=MAX_OCCURRENCES)]
        if errors:
            raise ValidationFailed(errors)

    def rule(self, first: date, budget: Budget) -> CountedRule:
        kw: dict = {"interval": self.interval,
                    "dtstart": datetime.combine(first, datetime.min.time())}
        if self.freq == "weekly":
            kw["byweekday"] = sorted(set(self.weekdays))
            freq = WEEKLY
        else:
            nth = self.nth if self.nth is not None else nth_of(first)
            kw["byweekday"] = weekday(first.weekday(), nth)
            freq = MONTHLY
        if self.until is not None:
            kw["until"] = datetime.combine(self.until, datetime.min.time())
        else:
            kw["count"] = self.count
        return CountedRule(freq, budget=budget, **kw)

    def rrule_text(self, first: date) -> str:
        parts = [f"FREQ={self.freq.upper()}", f"INTERVAL={self.interval}"]
        if self.freq == "weekly":
            parts.append("BYDAY=" + ",".join(DAY_CODES[d] for d in sorted(set(self.weekdays))))
        else:
            nth = self.nth if self.nth is not None else nth_of(first)
            parts.append(f"BYDAY={nth}{DAY_CODES[first.weekday()]}")
        if self.until is not None:
            parts.append(f"UNTIL={self.until:%Y%m%d}")
        else:
            parts.append(f"COUNT={self.count}")
        return ";".join(parts)


def nth_of(day: date) -> int:
    """Which weekday of its month `day` is: 1..4, or -1 for a 5th (the last)."""
    n = (day.day - 1) // 7 + 1
    return -1 if n == 5 else n


def occurrences(repeat: Repeat, first: date, start_minute: int, minutes: int,
                zone: ZoneInfo) -> list[tuple[datetime, datetime]]:
    """The occurrences as UTC (start, end), wall-clock time kept in `zone` across DST."""
    repeat.check(first)
    out: list[tuple[datetime, datetime]] = []
    try:
        for moment in repeat.rule(first, Budget(MAX_STEPS, MAX_SECONDS)):
            if len(out) > MAX_OCCURRENCES:
                break
            start = local_instant(moment.date(), start_minute, zone)
            out.append((start, start + timedelta(minutes=minutes)))
    except BudgetExceeded:
        raise ValidationFailed.single(
            _("This repeat rule takes too long to work out; choose a simpler one."),
            "until") from None
    if len(out) > MAX_OCCURRENCES:
        raise ValidationFailed.single(
            _("A series has at most %(n)d dates.", n=MAX_OCCURRENCES), "until")
    if not out:
        raise ValidationFailed.single(_("The repeat rule gives no date."), "until")
    return out


@dataclass
class Outcome:
    start: datetime
    end: datetime
    ok: bool
    message: str | None = None
    status: str | None = None
    price: int = 0


@dataclass
class Plan:
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def conflicts(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.ok]

    @property
    def total(self) -> int:
        return sum(o.price for o in self.outcomes if o.ok)


def _each(space, user, times, request: dict, now, *, series=None):
    """Try every occurrence in order, each in its own savepoint; the ones that work stay, so
    the next ones count them (quotas, fees) — exactly as separate requests would."""
    plan = Plan()
    made: list[Booking] = []
    for start, end in times:
        try:
            with db.session.begin_nested():
                booking = booking_services.create_booking(
                    space, user, start=start, end=end, now=now, **request)
                if booking.status == BookingStatus.ENTERED:
                    raise ValidationFailed.single(
                        _("This time is allocated by lottery; request it on its own."), "start")
                if series is not None:
                    booking.series_id = series.id
                    db.session.flush()
        except DomainError as exc:
            plan.outcomes.append(Outcome(start, end, False, exc.message))
            continue
        plan.outcomes.append(Outcome(start, end, True, status=booking.status,
                                     price=booking.price_amount))
        made.append(booking)
    return plan, made


def preview(space, user, times, request: dict, now: datetime | None = None) -> Plan:
    """What would happen to each date, without keeping anything."""
    now = now or utcnow()
    outer = db.session.begin_nested()
    try:
        plan, _made = _each(space, user, times, request, now)
    finally:
        outer.rollback()
    return plan


def create_series(space, user, repeat: Repeat, first: date, start_minute: int, minutes: int,
                  request: dict, *, skip_conflicts: bool, now: datetime | None = None):
    """Request every occurrence. Dates that cannot be booked are skipped when the resident said
    so; otherwise nothing is requested and the conflicts are returned."""
    now = now or utcnow()
    booking_services.require_verified(user)
    times = occurrences(repeat, first, start_minute, minutes, space.zone)
    series = BookingSeries(space=space, user=user, rrule=repeat.rrule_text(first),
                           first_start=times[0][0], minutes=minutes, timezone=space.zone.key,
                           created_at=now)
    outer = db.session.begin_nested()
    db.session.add(series)
    db.session.flush()
    plan, made = _each(space, user, times, request, now, series=series)
    if not made or (plan.conflicts and not skip_conflicts):
        outer.rollback()
        return None, plan
    outer.commit()
    return series, plan


def series_bookings(series_id: int) -> list[Booking]:
    from sqlalchemy import select

    return list(db.session.scalars(
        select(Booking).where(Booking.series_id == series_id).order_by(Booking.start_at)
    ))


def decide_series(series, actor, *, approve: bool, reason: str | None = None,
                  now: datetime | None = None) -> dict:
    """Approve (or reject) every occurrence of the series whose current stage `actor` decides.
    Each in its own savepoint: one that cannot be decided does not stop the others."""
    waiting = [b for b in series_bookings(series.id)
               if b.status == BookingStatus.REQUESTED and b.can_decide_now(actor)]
    outcomes = decisions.decide_many(waiting, actor, approve=approve, reason=reason, now=now)
    done = sum(o.ok for o in outcomes)
    failed = [(o.booking, o.error.message) for o in outcomes if o.error is not None]
    if not done and not failed:
        raise InvalidTransition(_("No date of this series is waiting for your decision."))
    return {"done": done, "failed": failed}


def cancel_from(booking: Booking, actor, *, reason: str | None = None,
                now: datetime | None = None) -> int:
    """Cancel this occurrence and every later one still going ahead."""
    now = now or utcnow()
    if booking.series_id is None:
        raise InvalidTransition(_("This booking is not part of a series."))
    if not booking.can_cancel(actor):
        raise NotAllowed(_("You are not allowed to do this."))
    count = 0
    for later in series_bookings(booking.series_id):
        if later.start_at < booking.start_at or later.start_at <= now:
            continue
        if BookingStatus.CANCELLED in TRANSITIONS.get(later.status, ()):
            booking_services.cancel(later, actor, reason=reason, now=now)
            count += 1
    if not count:
        raise InvalidTransition(_("Nothing left to cancel in this series."))
    return count
