"""Free and busy time of a space: a pure function of plain data.

No request, session or model in here, so it can be tested exhaustively and benchmarked.
All instants are timezone-aware; opening hours are wall-clock minutes in the space's zone,
so a day that gains or loses an hour to daylight saving gets the right UTC instants.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import portion as P


@dataclass(frozen=True, order=True)
class Span:
    start: datetime
    end: datetime


@dataclass(frozen=True)
class WeeklyHours:
    weekday: int  # Monday = 0
    open_minute: int
    close_minute: int  # up to 1440 (midnight at the end of the day)


@dataclass(frozen=True)
class Availability:
    open: list[Span]
    busy: list[Span]
    free: list[Span]

    def is_free(self, start: datetime, end: datetime) -> bool:
        return _contains(self.free, start, end)

    def is_open(self, start: datetime, end: datetime) -> bool:
        return _contains(self.open, start, end)


def _contains(spans: list[Span], start: datetime, end: datetime) -> bool:
    return any(s.start <= start and end <= s.end for s in spans)


def _to_spans(interval: P.Interval) -> list[Span]:
    return [Span(atom.lower, atom.upper) for atom in interval if not atom.empty]


def local_instant(day: date, minute: int, zone: ZoneInfo) -> datetime:
    """The instant at `minute` minutes of wall-clock time after local midnight of `day`.

    A wall time the clocks skip (spring forward) maps to the moment the clocks jump: the first
    instant whose wall clock is at or past it, so "open until 02:30" on that night closes when
    02:00 becomes 03:00, and "open from 02:30" opens then.
    """
    wall = datetime.combine(day, time()) + timedelta(minutes=minute)
    # Normalise to UTC: Python compares and subtracts datetimes that share a tzinfo by wall
    # clock, which is wrong across a daylight-saving change.
    instant = wall.replace(tzinfo=zone).astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) == wall:
        return instant
    # In a gap: the jump lies between the two readings of the wall time; find it by minutes.
    lo = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    hi = instant
    while hi - lo > timedelta(minutes=1):
        mid = lo + (hi - lo) // 2
        if mid.astimezone(zone).replace(tzinfo=None) >= wall:
            hi = mid
        else:
            lo = mid
    return hi


def opening_intervals(
    hours: Iterable[WeeklyHours], zone: ZoneInfo, first_day: date, last_day: date
) -> P.Interval:
    """Union of the opening ranges on every local day from `first_day` to `last_day` inclusive."""
    by_weekday: dict[int, list[WeeklyHours]] = {}
    for h in hours:
        by_weekday.setdefault(h.weekday, []).append(h)
    result = P.empty()
    day = first_day
    while day <= last_day:
        for h in by_weekday.get(day.weekday(), ()):
            result |= P.closedopen(
                local_instant(day, h.open_minute, zone), local_instant(day, h.close_minute, zone)
            )
        day += timedelta(days=1)
    return result


def is_slot_free(
    *,
    hours: Iterable[WeeklyHours],
    zone: ZoneInfo,
    start: datetime,
    end: datetime,
    bookings: Iterable[tuple[datetime, datetime]] = (),
    buffer_minutes: int = 0,
) -> bool:
    """Whether [start, end) lies inside opening hours and clear of every booking and its buffer.

    The same answer as `compute_availability(...).is_free(start, end)` without closures (search
    excludes those in SQL), but it only looks at the days the slot touches and builds no interval
    sets, so a search can ask it for thousands of spaces.
    """
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    if not start < end:
        return False
    pad = timedelta(minutes=buffer_minutes)
    for b_start, b_end in bookings:
        if b_start < b_end and b_start - pad < end and start < b_end + pad:
            return False
    by_weekday: dict[int, list[WeeklyHours]] = {}
    for h in hours:
        by_weekday.setdefault(h.weekday, []).append(h)
    ranges = []
    day = start.astimezone(zone).date() - timedelta(days=1)
    last_day = end.astimezone(zone).date()
    while day <= last_day:
        for h in by_weekday.get(day.weekday(), ()):
            opens, closes = local_instant(day, h.open_minute, zone), local_instant(
                day, h.close_minute, zone
            )
            if opens < closes:
                ranges.append((opens, closes))
        day += timedelta(days=1)
    # Walk the ranges in order of opening, extending the covered stretch from `start`; a range
    # that opens after the stretch ends leaves a gap no later range can fill.
    covered_to = start
    for opens, closes in sorted(ranges):
        if opens > covered_to:
            break
        if closes > covered_to:
            covered_to = closes
            if covered_to >= end:
                return True
    return False


def compute_availability(
    *,
    hours: Iterable[WeeklyHours],
    zone: ZoneInfo,
    window_start: datetime,
    window_end: datetime,
    closures: Iterable[tuple[datetime, datetime]] = (),
    bookings: Iterable[tuple[datetime, datetime]] = (),
    buffer_minutes: int = 0,
    not_before: datetime | None = None,
) -> Availability:
    """Open, busy and free spans of a space inside [window_start, window_end).

    - open: opening hours, minus closures.
    - busy: closures and the bookings that hold the slot, each widened by the buffer
      (nobody may start within `buffer_minutes` after a booking ends, or end within it before
      one starts).
    - free: open time that is not busy and not before `not_before` (typically now).
    Free spans are within open spans and never overlap busy ones.
    """
    window_start, window_end = window_start.astimezone(UTC), window_end.astimezone(UTC)
    window = P.closedopen(window_start, window_end)
    if window.empty:
        return Availability([], [], [])
    # Look one day beyond each side so ranges that cross local midnight are whole.
    first_day = window_start.astimezone(zone).date() - timedelta(days=1)
    last_day = window_end.astimezone(zone).date() + timedelta(days=1)
    opening = opening_intervals(hours, zone, first_day, last_day) & window

    closed = P.empty()
    for start, end in closures:
        if start < end:
            closed |= P.closedopen(start.astimezone(UTC), end.astimezone(UTC))
    pad = timedelta(minutes=buffer_minutes)
    taken = P.empty()
    for start, end in bookings:
        if start < end:
            taken |= P.closedopen(start.astimezone(UTC) - pad, end.astimezone(UTC) + pad)

    busy = (closed | taken) & window
    open_ = opening - closed
    free = open_ - busy
    if not_before is not None:
        free -= P.open(-P.inf, not_before.astimezone(UTC))
    return Availability(open=_to_spans(open_), busy=_to_spans(busy), free=_to_spans(free))


def week_window(day: date, zone: ZoneInfo) -> tuple[date, datetime, datetime]:
    """Monday of the week containing `day`, and that week's bounds as instants in `zone`."""
    monday = day - timedelta(days=day.weekday())
    start = local_instant(monday, 0, zone)
    end = local_instant(monday + timedelta(days=7), 0, zone)
    return monday, start, end
