"""The availability function: exhaustive properties (hypothesis) and worked examples."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from app.spaces.availability import (
    Span,
    WeeklyHours,
    compute_availability,
    is_slot_free,
    local_instant,
    week_window,
)

SEOUL = ZoneInfo("Asia/Seoul")
BERLIN = ZoneInfo("Europe/Berlin")


def _overlaps(a: Span, b: Span) -> bool:
    return a.start < b.end and b.start < a.end


def _inside_any(span: Span, spans: list[Span]) -> bool:
    return any(s.start <= span.start and span.end <= s.end for s in spans)


def _local(zone, y, m, d, hh=0, mm=0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=zone)


weekly_hours = st.lists(
    st.tuples(st.integers(0, 6), st.integers(0, 47), st.integers(1, 48))
    .filter(lambda t: t[1] < t[2])
    .map(lambda t: WeeklyHours(t[0], t[1] * 30, t[2] * 30)),
    max_size=12,
)
BASE = datetime(2026, 3, 23, tzinfo=UTC)  # spans the last Sunday of March: Berlin DST starts


def _span_strategy():
    return st.tuples(st.integers(0, 14 * 24 * 4), st.integers(1, 24 * 4)).map(
        lambda t: (
            BASE + timedelta(minutes=15 * t[0]),
            BASE + timedelta(minutes=15 * (t[0] + t[1])),
        )
    )


@settings(max_examples=300, deadline=None)
@given(
    hours=weekly_hours,
    closures=st.lists(_span_strategy(), max_size=6),
    bookings=st.lists(_span_strategy(), max_size=10),
    buffer=st.sampled_from([0, 10, 15, 30, 60]),
    zone=st.sampled_from([SEOUL, BERLIN, ZoneInfo("America/New_York")]),
    not_before_offset=st.one_of(st.none(), st.integers(0, 14 * 24 * 60)),
)
def test_free_never_overlaps_busy_and_stays_inside_opening_hours(
    hours, closures, bookings, buffer, zone, not_before_offset
):
    window_start, window_end = BASE, BASE + timedelta(days=14)
    not_before = None if not_before_offset is None else BASE + timedelta(minutes=not_before_offset)
    result = compute_availability(
        hours=hours,
        zone=zone,
        window_start=window_start,
        window_end=window_end,
        closures=closures,
        bookings=bookings,
        buffer_minutes=buffer,
        not_before=not_before,
    )
    pad = timedelta(minutes=buffer)
    for free in result.free:
        assert free.start < free.end
        assert window_start <= free.start and free.end <= window_end
        # Never overlaps anything busy, a closure, or a booking widened by its buffer.
        assert not any(_overlaps(free, busy) for busy in result.busy)
        assert not any(free.start < e and s < free.end for s, e in closures)
        assert not any(free.start < e + pad and s - pad < free.end for s, e in bookings)
        # Everything free is inside opening hours (checked against wall-clock hours directly).
        assert _inside_any(free, result.open)
        assert _within_wall_clock_hours(free, hours, zone)
        if not_before is not None:
            assert free.start >= not_before
    # Free spans are sorted, disjoint and merged.
    for a, b in zip(result.free, result.free[1:], strict=False):
        assert a.end < b.start
    # Everything open and not busy (and not past) is free: nothing bookable is hidden.
    if not_before is None:
        for span in result.open:
            for busy in result.busy:
                if _overlaps(span, busy):
                    break
            else:
                assert _inside_any(span, result.free)


def _within_wall_clock_hours(span: Span, hours: list[WeeklyHours], zone) -> bool:
    """Walk the span minute by quarter hour and check each instant's local wall clock."""
    t = span.start
    while t < span.end:
        local = t.astimezone(zone)
        minute = local.hour * 60 + local.minute
        if not any(
            h.weekday == local.weekday() and h.open_minute <= minute < h.close_minute for h in hours
        ):
            return False
        t += timedelta(minutes=15)
    return True


def test_worked_example_in_seoul():
    day = date(2026, 12, 7)  # a Monday
    hours = [WeeklyHours(0, 9 * 60, 12 * 60), WeeklyHours(0, 13 * 60, 18 * 60)]
    booking = (_local(SEOUL, 2026, 12, 7, 10), _local(SEOUL, 2026, 12, 7, 11))
    closure = (_local(SEOUL, 2026, 12, 7, 16), _local(SEOUL, 2026, 12, 7, 20))
    result = compute_availability(
        hours=hours,
        zone=SEOUL,
        window_start=_local(SEOUL, 2026, 12, 7),
        window_end=_local(SEOUL, 2026, 12, 8),
        closures=[closure],
        bookings=[booking],
        buffer_minutes=30,
    )
    as_local = [
        (s.start.astimezone(SEOUL).strftime("%H:%M"), s.end.astimezone(SEOUL).strftime("%H:%M"))
        for s in result.free
    ]
    assert as_local == [("09:00", "09:30"), ("11:30", "12:00"), ("13:00", "16:00")]
    assert result.is_free(_local(SEOUL, 2026, 12, 7, 13), _local(SEOUL, 2026, 12, 7, 16))
    assert not result.is_free(_local(SEOUL, 2026, 12, 7, 11), _local(SEOUL, 2026, 12, 7, 12))
    assert day.weekday() == 0


def test_open_until_midnight_joins_next_morning():
    hours = [WeeklyHours(d, 20 * 60, 1440) for d in range(7)] + [
        WeeklyHours(d, 0, 2 * 60) for d in range(7)
    ]
    result = compute_availability(
        hours=hours,
        zone=SEOUL,
        window_start=_local(SEOUL, 2026, 12, 7),
        window_end=_local(SEOUL, 2026, 12, 9),
    )
    assert result.is_open(_local(SEOUL, 2026, 12, 7, 23), _local(SEOUL, 2026, 12, 8, 1))


def test_daylight_saving_day_has_23_hours_of_opening_in_berlin():
    hours = [WeeklyHours(6, 0, 1440)]  # Sundays all day
    result = compute_availability(
        hours=hours,
        zone=BERLIN,
        window_start=_local(BERLIN, 2026, 3, 29),
        window_end=_local(BERLIN, 2026, 3, 30),
    )
    total = sum((s.end - s.start for s in result.open), timedelta())
    assert total == timedelta(hours=23)
    # 09:00 local is 07:00 UTC after the change (CEST, UTC+2).
    nine = _local(BERLIN, 2026, 3, 29, 9)
    assert nine.astimezone(UTC).hour == 7
    assert result.is_free(nine, nine + timedelta(hours=1))


def test_not_before_hides_the_past():
    hours = [WeeklyHours(d, 9 * 60, 18 * 60) for d in range(7)]
    now = _local(SEOUL, 2026, 12, 7, 12, 10)
    result = compute_availability(
        hours=hours,
        zone=SEOUL,
        window_start=_local(SEOUL, 2026, 12, 7),
        window_end=_local(SEOUL, 2026, 12, 8),
        not_before=now,
    )
    assert result.free == [Span(now, _local(SEOUL, 2026, 12, 7, 18))]


def test_week_window_is_monday_to_monday_in_the_zone():
    monday, start, end = week_window(date(2026, 12, 10), SEOUL)
    assert monday == date(2026, 12, 7)
    assert start == _local(SEOUL, 2026, 12, 7)
    assert end == _local(SEOUL, 2026, 12, 14)
    assert start.astimezone(UTC).hour == 15  # the Sunday before, 15:00 UTC


@settings(max_examples=400, deadline=None)
@given(
    hours=weekly_hours,
    bookings=st.lists(_span_strategy(), max_size=8),
    buffer=st.sampled_from([0, 15, 30, 60]),
    zone=st.sampled_from([SEOUL, BERLIN, ZoneInfo("America/New_York")]),
    slot=_span_strategy(),
)
def test_the_search_shortcut_agrees_with_the_full_computation(hours, bookings, buffer, zone, slot):
    """Search asks `is_slot_free` for thousands of spaces; it must answer as the calendar does."""
    start, end = slot
    full = compute_availability(
        hours=hours,
        zone=zone,
        window_start=start - timedelta(days=1),
        window_end=end + timedelta(days=1),
        bookings=bookings,
        buffer_minutes=buffer,
    )
    quick = is_slot_free(
        hours=hours, zone=zone, start=start, end=end, bookings=bookings, buffer_minutes=buffer
    )
    assert quick == full.is_free(start, end)


def test_the_search_shortcut_spans_midnight_and_refuses_gaps():
    late = [WeeklyHours(d, 18 * 60, 24 * 60) for d in range(7)]
    early = [WeeklyHours(d, 0, 2 * 60) for d in range(7)]
    start = _local(SEOUL, 2026, 12, 4, 23)
    end = _local(SEOUL, 2026, 12, 5, 1)
    assert is_slot_free(hours=late + early, zone=SEOUL, start=start, end=end)
    assert not is_slot_free(hours=late, zone=SEOUL, start=start, end=end)
    booked = [(_local(SEOUL, 2026, 12, 5, 1, 20), _local(SEOUL, 2026, 12, 5, 2))]
    assert is_slot_free(
        hours=late + early, zone=SEOUL, start=start, end=end, bookings=booked, buffer_minutes=15
    )
    assert not is_slot_free(
        hours=late + early, zone=SEOUL, start=start, end=end, bookings=booked, buffer_minutes=30
    )


def test_hours_that_end_in_the_skipped_hour_close_when_the_clocks_jump():
    """Berlin, 2026-03-29: 02:00 becomes 03:00. "Open 00:00–02:30" must not stay open until
    03:30 summer time (what reading 02:30 as winter time gives); it closes at the jump."""
    result = compute_availability(
        hours=[WeeklyHours(6, 0, 150)],
        zone=BERLIN,
        window_start=datetime(2026, 3, 28, 12, tzinfo=UTC),
        window_end=datetime(2026, 3, 29, 12, tzinfo=UTC),
        closures=[],
        bookings=[],
        buffer_minutes=0,
    )
    assert [(s.start, s.end) for s in result.free] == [
        (datetime(2026, 3, 28, 23, tzinfo=UTC), datetime(2026, 3, 29, 1, tzinfo=UTC))
    ]
    assert local_instant(date(2026, 3, 29), 150, BERLIN) == datetime(2026, 3, 29, 1, tzinfo=UTC)
