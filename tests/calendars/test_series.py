"""Recurring requests: generation (RRULE semantics, DST), conflicts per occurrence, quotas and
fees counting every occurrence, deciding and cancelling parts of a series."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.bookings import series as series_services
from app.bookings import services as booking_services
from app.bookings.series import Repeat, nth_of, occurrences
from app.errors import ValidationFailed
from tests.approvals import add_rules

SEOUL = ZoneInfo("Asia/Seoul")
BERLIN = ZoneInfo("Europe/Berlin")
REQUEST = {"purpose": "주민 합창단 연습", "attendees": 10}


def _local(times, zone):
    return [(s.astimezone(zone).strftime("%Y-%m-%d %H:%M"), e.astimezone(zone).strftime("%H:%M"))
            for s, e in times]


def test_weekly_on_two_weekdays_every_other_week_until_a_date():
    repeat = Repeat("weekly", interval=2, weekdays=(1, 3), until=date(2027, 3, 25))
    times = occurrences(repeat, date(2027, 3, 2), 19 * 60, 120, SEOUL)
    assert _local(times, SEOUL) == [
        ("2027-03-02 19:00", "21:00"), ("2027-03-04 19:00", "21:00"),
        ("2027-03-16 19:00", "21:00"), ("2027-03-18 19:00", "21:00"),
    ]
    assert repeat.rrule_text(date(2027, 3, 2)) == (
        "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH;UNTIL=20270325")


def test_the_wall_clock_time_holds_across_a_dst_change():
    repeat = Repeat("weekly", weekdays=(5,), count=3)
    times = occurrences(repeat, date(2027, 3, 20), 10 * 60, 60, BERLIN)  # DST starts 28 March
    assert _local(times, BERLIN) == [("2027-03-20 10:00", "11:00"),
                                    ("2027-03-27 10:00", "11:00"),
                                    ("2027-04-03 10:00", "11:00")]
    assert [s.astimezone(UTC).hour for s, _ in times] == [9, 9, 8]


def test_a_time_the_clocks_skip_starts_when_they_jump():
    times = occurrences(Repeat("weekly", weekdays=(6,), count=2), date(2027, 3, 21), 150, 60,
                        BERLIN)
    assert _local(times, BERLIN)[1] == ("2027-03-28 03:00", "04:00")


def test_monthly_on_the_nth_weekday_and_the_last_one():
    second_tuesday = occurrences(Repeat("monthly", count=3), date(2027, 1, 12), 600, 60, SEOUL)
    assert [s.astimezone(SEOUL).date().isoformat() for s, _ in second_tuesday] == [
        "2027-01-12", "2027-02-09", "2027-03-09"]
    assert nth_of(date(2027, 1, 29)) == -1  # the 5th Friday is "the last Friday"
    last_friday = occurrences(Repeat("monthly", count=3), date(2027, 1, 29), 600, 60, SEOUL)
    assert [s.astimezone(SEOUL).date().isoformat() for s, _ in last_friday] == [
        "2027-01-29", "2027-02-26", "2027-03-26"]
    assert Repeat("monthly", count=3).rrule_text(date(2027, 1, 29)).endswith("BYDAY=-1FR;COUNT=3")


@pytest.mark.parametrize("repeat", [
    Repeat("daily", count=2), Repeat("weekly", count=2), Repeat("weekly", weekdays=(1,)),
    Repeat("weekly", weekdays=(1,), count=500), Repeat("weekly", weekdays=(1,), interval=0,
                                                       count=2),
    Repeat("weekly", weekdays=(1,), until=date(2020, 1, 1)),
])
def test_bad_repeat_rules_are_refused_with_a_message(repeat, english):
    with pytest.raises(ValidationFailed):
        occurrences(repeat, date(2027, 3, 2), 600, 60, SEOUL)


def test_expanding_a_series_has_a_budget(english, monkeypatch):
    """Sixty yearly-spaced dates fit; with the budget cut to a tenth they are refused with a
    message (the budget stops rules the form was not written for, not these)."""
    repeat = Repeat("monthly", interval=12, count=60)
    assert len(occurrences(repeat, date(2027, 1, 12), 600, 60, SEOUL)) == 60
    monkeypatch.setattr(series_services, "MAX_STEPS", 250)
    with pytest.raises(ValidationFailed, match="takes too long to work out") as caught:
        occurrences(repeat, date(2027, 1, 12), 600, 60, SEOUL)
    assert caught.value.errors == {"until": [caught.value.message]}


def _first_weekday(now, weekday: int) -> date:
    day = (now + timedelta(days=7)).astimezone(SEOUL).date()
    return day + timedelta(days=(weekday - day.weekday()) % 7)


def test_conflicting_dates_are_shown_and_skipped_only_when_asked(factories, db, now, english):
    space = factories.space(price_per_hour=5000)
    resident = factories.user()
    first = _first_weekday(now, 1)  # a Tuesday at least a week away
    times = occurrences(Repeat("weekly", weekdays=(1,), count=4), first, 19 * 60, 120,
                        space.zone)
    other = factories.booking(space, factories.user(), start=times[1][0], end=times[1][1])
    factories.closure(space, times[2][0] - timedelta(hours=1), times[2][1], reason="학교 행사")
    db.session.commit()

    plan = series_services.preview(space, resident, times, REQUEST)
    assert [o.ok for o in plan.outcomes] == [True, False, False, True]
    assert "just taken" in plan.conflicts[0].message
    assert "학교 행사" in plan.conflicts[1].message
    assert plan.total == 2 * 10_000
    assert db.session.query(booking_services.Booking).count() == 1  # nothing kept

    repeat = Repeat("weekly", weekdays=(1,), count=4)
    series, plan = series_services.create_series(space, resident, repeat, first, 19 * 60, 120,
                                                 REQUEST, skip_conflicts=False)
    assert series is None and len(plan.conflicts) == 2
    series, plan = series_services.create_series(space, resident, repeat, first, 19 * 60, 120,
                                                 REQUEST, skip_conflicts=True)
    db.session.commit()
    made = series_services.series_bookings(series.id)
    assert [b.start_at for b in made] == [times[0][0], times[3][0]]
    assert all(b.status == "requested" and b.user_id == resident.id for b in made)
    assert other.status == "requested"


def test_quotas_and_fees_count_every_occurrence(factories, db, now, english):
    space = factories.space(price_per_hour=5000)
    add_rules(space_id=space.id, body={"quotas": [
        {"per": "user", "period": "week", "max_bookings": 2}]})
    resident = factories.user()
    monday = _first_weekday(now, 0)
    # Monday, Tuesday, Wednesday of one week, then Monday of the next.
    times = occurrences(Repeat("weekly", weekdays=(0, 1, 2), count=4), monday, 600, 60,
                        space.zone)
    plan = series_services.preview(space, resident, times, REQUEST)
    assert [o.ok for o in plan.outcomes] == [True, True, False, True]
    assert "2" in plan.conflicts[0].message
    assert plan.total == 3 * 5000


def test_approving_the_whole_series_or_one_date_and_cancelling_from_a_date(
    factories, db, now, english
):
    space = factories.space()
    manager = factories.manager(space.owner)
    resident = factories.user()
    first = _first_weekday(now, 3)
    series, _plan = series_services.create_series(
        space, resident, Repeat("weekly", weekdays=(3,), count=4), first, 18 * 60, 60,
        REQUEST, skip_conflicts=False)
    made = series_services.series_bookings(series.id)
    booking_services.reject(made[0], manager, reason="그날은 행사가 있습니다")
    result = series_services.decide_series(series, manager, approve=True)
    assert result["done"] == 3
    assert [b.status for b in made] == ["rejected", "approved", "approved", "approved"]

    booking_services.cancel(made[1], resident)  # one date
    assert series_services.cancel_from(made[2], resident) == 2  # this and all later ones
    assert [b.status for b in made] == ["rejected", "cancelled", "cancelled", "cancelled"]
    with pytest.raises(booking_services.InvalidTransition):
        series_services.cancel_from(made[3], resident)


def test_occurrences_keep_the_no_double_booking_guarantee(factories, db, now):
    space = factories.space()
    first = _first_weekday(now, 4)
    repeat = Repeat("weekly", weekdays=(4,), count=3)
    one, _ = series_services.create_series(space, factories.user(), repeat, first, 600, 60,
                                           REQUEST, skip_conflicts=False)
    two, plan = series_services.create_series(space, factories.user(), repeat, first, 600, 60,
                                              REQUEST, skip_conflicts=True)
    assert one is not None and two is None and len(plan.conflicts) == 3


def test_dates_in_seoul_are_those_asked_for(now):
    start = datetime(2027, 5, 4, 0, 30, tzinfo=SEOUL)
    times = occurrences(Repeat("weekly", weekdays=(1,), count=2), start.date(), 30, 60, SEOUL)
    assert times[0][0] == start.astimezone(UTC)
