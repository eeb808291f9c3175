"""Bookings a manager's change would touch, shown before the change is saved: new opening hours
(bookings outside them), a closure (bookings inside it) and the rules' earliest and latest hours
that opening hours must respect. A rule-set draft has its own preview (app.bookings.rule_preview).

Only upcoming bookings that hold the space (requested, returned, awaiting payment, approved,
confirmed) from the change's effective day on are listed; earlier ones are left as they are.
What becomes of them (kept and told, or cancelled by the owner with a full refund) is the page's
choice: `cancel_all` cancels through the ordinary owner cancellation.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.bookings import services as booking_services
from app.bookings.models import Booking
from app.bookings.states import ACTIVE
from app.extensions import db
from app.rules import services as rule_services
from app.spaces.availability import local_instant
from app.spaces.models import WEEKDAYS, OpeningHours, Space

AFFECTED_LIMIT = 500  # a preview lists at most this many; the page says when there are more


def _hhmm(minute: int) -> str:
    return OpeningHours.fmt(minute)


def _merged(ranges: Iterable[tuple[int, int, int]]) -> dict[int, list[tuple[int, int]]]:
    """Per weekday, the ranges with touching or overlapping ones joined (09–12 + 12–18 = 09–18)."""
    by_day: dict[int, list[tuple[int, int]]] = {}
    for weekday, lo, hi in sorted(ranges):
        day = by_day.setdefault(weekday, [])
        if day and lo <= day[-1][1]:
            day[-1] = (day[-1][0], max(day[-1][1], hi))
        else:
            day.append((lo, hi))
    return by_day


def upcoming(space: Space, since: datetime) -> list[Booking]:
    """The space's bookings that hold it and start at or after `since` (one query)."""
    return list(
        db.session.scalars(
            select(Booking)
            .where(
                Booking.space_id == space.id,
                Booking.status.in_(ACTIVE),
                Booking.start_at >= since,
            )
            .options(selectinload(Booking.user))
            .order_by(Booking.start_at, Booking.id)
            .limit(AFFECTED_LIMIT)
        )
    )


def effective_instant(space: Space, day: date, now: datetime) -> datetime:
    """Local midnight of `day`, or now when that is in the past."""
    return max(local_instant(day, 0, space.zone), now)


def fits_hours(booking: Booking, by_day: dict[int, list[tuple[int, int]]], space: Space) -> bool:
    start = booking.start_at.astimezone(space.zone)
    end = booking.end_at.astimezone(space.zone)
    lo = start.hour * 60 + start.minute
    if end.date() == start.date():
        hi = end.hour * 60 + end.minute
    elif end.date() == start.date() + timedelta(days=1) and end.hour == 0 and end.minute == 0:
        hi = 1440
    else:
        return False
    return any(a <= lo and hi <= b for a, b in by_day.get(start.weekday(), []))


def outside_hours(
    space: Space, ranges: Iterable[tuple[int, int, int]], since: datetime
) -> list[Booking]:
    """Upcoming bookings from `since` that the new weekly `ranges` would not contain."""
    by_day = _merged(ranges)
    return [b for b in upcoming(space, since) if not fits_hours(b, by_day, space)]


@dataclass(frozen=True)
class HourLimit:
    """The earliest and latest minute a rule set allows bookings on any day, and whose it is."""

    source: str
    earliest: int
    latest: int


def hour_limits(space: Space, at: datetime) -> list[HourLimit]:
    """Every rule set in force at `at` that limits the bookable hours, as earliest/latest."""
    limits = []
    for source, rules, _rs in rule_services.rule_sets_in_force(space, at):
        if rules.allowed_hours is None:
            continue
        spans = [r for day in rules.allowed_hours for r in day]
        if spans:
            limits.append(
                HourLimit(source.name, min(lo for lo, _hi in spans), max(hi for _lo, hi in spans))
            )
    return limits


def hours_against_limits(
    ranges: Iterable[tuple[int, int, int]], limits: list[HourLimit]
) -> dict[int, list[str]]:
    """Messages per weekday for ranges that open before or close after a rule's limit."""
    errors: dict[int, list[str]] = {}
    for weekday, lo, hi in ranges:
        day = str(WEEKDAYS[weekday])
        for limit in limits:
            if lo < limit.earliest:
                errors.setdefault(weekday, []).append(
                    _(
                        "%(day)s: opening at %(time)s is not allowed. The rules of %(rule)s "
                        "allow no bookings before %(limit)s.",
                        day=day, time=_hhmm(lo), rule=limit.source, limit=_hhmm(limit.earliest),
                    )
                )
            if hi > limit.latest:
                errors.setdefault(weekday, []).append(
                    _(
                        "%(day)s: closing at %(time)s is not allowed. The rules of %(rule)s "
                        "allow no bookings after %(limit)s.",
                        day=day, time=_hhmm(hi), rule=limit.source, limit=_hhmm(limit.latest),
                    )
                )
    return errors


def cancel_all(bookings: Iterable[Booking], actor, reason: str, now: datetime) -> int:
    """Cancel each booking as its owner (a full refund where one was paid); the caller commits
    or rolls back the whole change with them."""
    n = 0
    for booking in bookings:
        booking_services.cancel(booking, actor, reason=reason, now=now)
        n += 1
    return n
