"""Calendar pages: a space's month (free/busy for residents, every booking for its managers)
and a resident's own bookings by month or week.

Days are local days: in the space's zone for a space, in Seoul for a resident's own calendar.
A booking or closure that crosses local midnight appears on every day it touches. Each page
runs a fixed number of queries however many bookings the month holds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import abort, render_template, request
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.bookings.models import Booking
from app.bookings.states import ACTIVE
from app.calendars.models import ExternalCalendar
from app.db import utcnow
from app.extensions import db
from app.spaces.availability import WeeklyHours, compute_availability, local_instant
from app.spaces.models import WEEKDAYS, Closure, Space
from app.web.calendars import bp

# The zone of a resident's own calendar (users have no zone of their own yet).
RESIDENT_ZONE = ZoneInfo("Asia/Seoul")
# How far from today a month or week may be asked for; anything else means "now".
MAX_YEARS = 10

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


# --- Pure helpers ---------------------------------------------------------------------------


def parse_month(value: str | None, today: date) -> date:
    """The first day of the month `YYYY-MM`, or of today's month if it is missing or odd."""
    match = _MONTH.match(value or "")
    if match:
        year, month = int(match.group(1)), int(match.group(2))
        if 1 <= month <= 12 and abs(year - today.year) <= MAX_YEARS:
            return date(year, month, 1)
    return today.replace(day=1)


def parse_week(value: str | None, today: date) -> date:
    """The Monday of the week containing the day `YYYY-MM-DD`, or of today's week."""
    try:
        day = date.fromisoformat(value or "")
    except ValueError:
        day = today
    if abs(day.year - today.year) > MAX_YEARS:
        day = today
    return day - timedelta(days=day.weekday())


def next_month(first: date) -> date:
    return date(first.year + first.month // 12, first.month % 12 + 1, 1)


def prev_month(first: date) -> date:
    return date(first.year - (first.month == 1), (first.month - 2) % 12 + 1, 1)


def month_weeks(first: date) -> list[list[date]]:
    """Weeks (Monday first) covering the month that starts on `first`."""
    start = first - timedelta(days=first.weekday())
    end = next_month(first)
    weeks = []
    while start < end:
        weeks.append([start + timedelta(days=i) for i in range(7)])
        start += timedelta(days=7)
    return weeks


def _clock(instant: datetime, zone: ZoneInfo) -> str:
    return f"{instant.astimezone(zone):%H:%M}"


@dataclass
class Piece:
    """The part of a range that falls on one local day, with its wall-clock label."""

    start: datetime
    end: datetime
    label: str  # "22:00–24:00"
    from_before: bool  # began on an earlier day
    continues: bool  # goes on to a later day
    item: Any = None


@dataclass
class Day:
    day: date
    start: datetime
    end: datetime
    in_month: bool = True
    is_today: bool = False
    open: list[str] = field(default_factory=list)  # opening-hours labels
    busy: list[Piece] = field(default_factory=list)  # merged booked time (residents)
    closures: list[Piece] = field(default_factory=list)
    bookings: list[Piece] = field(default_factory=list)  # managers, or the resident's own
    free_minutes: int = 0


def piece(start: datetime, end: datetime, day_start: datetime, day_end: datetime,
          zone: ZoneInfo, item: Any = None) -> Piece | None:
    """The part of [start, end) within [day_start, day_end), or None if they do not meet."""
    s, e = max(start, day_start), min(end, day_end)
    if not s < e:
        return None
    end_label = "24:00" if e >= day_end else _clock(e, zone)
    return Piece(s, e, f"{_clock(s, zone)}–{end_label}", start < day_start, end > day_end, item)


def merge(ranges: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    merged: list[list[datetime]] = []
    for s, e in sorted(ranges):
        if merged and s <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    return [(s, e) for s, e in merged]


def _hours_label(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def duration_label(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    if rest == 0:
        return _("%(h)d h", h=hours)
    if hours == 0:
        return _("%(m)d min", m=rest)
    return _("%(h)d h %(m)d min", h=hours, m=rest)


def _utc(value: datetime) -> datetime:
    # SQLite hands back naive datetimes in some set-ups; they are UTC.
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def build_days(weeks: list[list[date]], first: date, zone: ZoneInfo,
               today: date) -> list[list[Day]]:
    rows = []
    for week in weeks:
        row = []
        for d in week:
            row.append(Day(
                day=d, in_month=d.month == first.month, is_today=d == today,
                start=local_instant(d, 0, zone), end=local_instant(d + timedelta(days=1), 0, zone),
            ))
        rows.append(row)
    return rows


# --- Space month ----------------------------------------------------------------------------


@bp.get("/spaces/<int:space_id>/month")
def space_month(space_id: int):
    space = db.session.scalars(
        select(Space).where(Space.id == space_id).options(
            selectinload(Space.opening_hours), selectinload(Space.jurisdictions))
    ).first()
    if space is None or not space.can_view(current_user):
        abort(404)
    manages = space.can_manage(current_user)
    zone = space.zone
    now = utcnow()
    today = now.astimezone(zone).date()
    first = parse_month(request.args.get("month"), today)
    weeks = build_days(month_weeks(first), first, zone, today)
    window_start = local_instant(first, 0, zone)
    window_end = local_instant(next_month(first), 0, zone)

    booking_query = select(Booking).where(
        Booking.space_id == space.id, Booking.start_at < window_end, Booking.end_at > window_start,
    ).order_by(Booking.start_at, Booking.id)
    if manages:
        bookings = db.session.scalars(booking_query.options(selectinload(Booking.user))).all()
    else:
        bookings = db.session.scalars(
            booking_query.where(Booking.status.in_(ACTIVE))).all()
    closures = db.session.execute(
        select(Closure, ExternalCalendar.name)
        .outerjoin(ExternalCalendar, ExternalCalendar.id == Closure.external_calendar_id)
        .where(Closure.space_id == space.id, Closure.start_at < window_end,
               Closure.end_at > window_start)
        .order_by(Closure.start_at, Closure.id)
    ).all()
    hours = [WeeklyHours(h.weekday, h.open_minute, h.close_minute) for h in space.opening_hours]
    active = [b for b in bookings if b.status in ACTIVE]
    availability = compute_availability(
        hours=hours, zone=zone, window_start=window_start, window_end=window_end,
        closures=[(_utc(c.start_at), _utc(c.end_at)) for c, _name in closures],
        bookings=[(_utc(b.start_at), _utc(b.end_at)) for b in active],
        buffer_minutes=space.buffer_minutes, not_before=now,
    )
    by_weekday: dict[int, list[WeeklyHours]] = {}
    for h in sorted(hours, key=lambda h: h.open_minute):
        by_weekday.setdefault(h.weekday, []).append(h)
    busy = merge([(_utc(b.start_at), _utc(b.end_at)) for b in active])

    for row in weeks:
        for d in row:
            if not d.in_month:
                continue
            d.open = [f"{_hours_label(h.open_minute)}–{_hours_label(h.close_minute)}"
                      for h in by_weekday.get(d.day.weekday(), ())]
            for closure, calendar_name in closures:
                p = piece(_utc(closure.start_at), _utc(closure.end_at), d.start, d.end, zone,
                          (closure, calendar_name))
                if p:
                    d.closures.append(p)
            if manages:
                for b in bookings:
                    p = piece(_utc(b.start_at), _utc(b.end_at), d.start, d.end, zone, b)
                    if p:
                        d.bookings.append(p)
            else:
                for s, e in busy:
                    p = piece(s, e, d.start, d.end, zone)
                    if p:
                        d.busy.append(p)
            seconds = 0.0
            for span in availability.free:
                s, e = max(span.start, d.start), min(span.end, d.end)
                if s < e:
                    seconds += (e - s).total_seconds()
            d.free_minutes = int(seconds // 60)

    return render_template(
        "calendars/month_space.html",
        space=space,
        manages=manages,
        weeks=weeks,
        first=first,
        prev=prev_month(first),
        next=next_month(first),
        this_month=first == today.replace(day=1),
        week_of=today if first == today.replace(day=1) else first,
        weekday_names=[str(name) for name in WEEKDAYS],
        duration_label=duration_label,
    )


# --- A resident's own calendar --------------------------------------------------------------


@bp.get("/bookings/calendar")
@login_required
def my_calendar():
    zone = RESIDENT_ZONE
    today = utcnow().astimezone(zone).date()
    view = "week" if request.args.get("view") == "week" else "month"
    if view == "week":
        monday = parse_week(request.args.get("week"), today)
        first = monday.replace(day=1)
        weeks = [[monday + timedelta(days=i) for i in range(7)]]
        rows = build_days(weeks, first, zone, today)
        for d in rows[0]:
            d.in_month = True
        window_start = local_instant(monday, 0, zone)
        window_end = local_instant(monday + timedelta(days=7), 0, zone)
    else:
        monday = None
        first = parse_month(request.args.get("month"), today)
        rows = build_days(month_weeks(first), first, zone, today)
        window_start = local_instant(first, 0, zone)
        window_end = local_instant(next_month(first), 0, zone)
    bookings = db.session.scalars(
        select(Booking)
        .where(Booking.user_id == current_user.id, Booking.start_at < window_end,
               Booking.end_at > window_start)
        .options(selectinload(Booking.space))
        .order_by(Booking.start_at, Booking.id)
    ).all()
    for row in rows:
        for d in row:
            if not d.in_month:
                continue
            for b in bookings:
                p = piece(_utc(b.start_at), _utc(b.end_at), d.start, d.end, zone, b)
                if p:
                    d.bookings.append(p)
    return render_template(
        "calendars/my_calendar.html",
        view=view,
        weeks=rows,
        first=first,
        monday=monday,
        prev=prev_month(first),
        next=next_month(first),
        today=today,
        zone=zone,
        count=len(bookings),
        weekday_names=[str(name) for name in WEEKDAYS],
        timedelta=timedelta,
    )
