"""The statistics' facts against hand-computed figures: booked minutes by local day and hour
(crossing midnight, a month boundary, daylight saving, another zone), open minutes (opening
hours minus closures), kept by every change in its own transaction, equal to a rebuild."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from app.bookings import services
from app.extensions import db
from app.spaces.availability import WeeklyHours
from app.stats import facts
from app.stats.models import BookedHour, OpenDay

SEOUL = ZoneInfo("Asia/Seoul")
BERLIN = ZoneInfo("Europe/Berlin")
THEN = datetime(2031, 1, 10, tzinfo=UTC)  # "now" for bookings in 2031


def at(zone, *args) -> datetime:
    return datetime(*args, tzinfo=zone).astimezone(UTC)


def booked(space) -> dict[tuple[date, int], tuple[int, int]]:
    rows = db.session.execute(
        select(BookedHour.day, BookedHour.hour, BookedHour.minutes, BookedHour.starts)
        .where(BookedHour.space_id == space.id)
    )
    return {(d, h): (m, n) for d, h, m, n in rows if m or n}


# --------------------------------------------------------------------------- pure
def test_a_booking_across_midnight_and_a_month_boundary_is_split_by_local_hour():
    got = facts.pieces(at(SEOUL, 2031, 1, 31, 22, 30), at(SEOUL, 2031, 2, 1, 1, 15), SEOUL)
    assert got == {
        (date(2031, 1, 31), 22): 30,
        (date(2031, 1, 31), 23): 60,
        (date(2031, 2, 1), 0): 60,
        (date(2031, 2, 1), 1): 15,
    }


def test_local_days_are_the_space_s_not_utc():
    # 08:00–10:00 in Seoul is 23:00–01:00 UTC the day before: still one local morning.
    got = facts.pieces(at(SEOUL, 2031, 3, 5, 8), at(SEOUL, 2031, 3, 5, 10), SEOUL)
    assert got == {(date(2031, 3, 5), 8): 60, (date(2031, 3, 5), 9): 60}


def test_daylight_saving_counts_the_minutes_that_pass():
    # Berlin, 30 March 2031: 02:00 becomes 03:00. 01:00–04:00 local is two real hours.
    spring = facts.pieces(at(BERLIN, 2031, 3, 30, 1), at(BERLIN, 2031, 3, 30, 4), BERLIN)
    assert spring == {(date(2031, 3, 30), 1): 60, (date(2031, 3, 30), 3): 60}
    # 26 October 2031: 03:00 becomes 02:00 again; local hour 2 lasts two real hours.
    start = datetime(2031, 10, 26, 0, 0, tzinfo=UTC)  # 02:00 CEST
    autumn = facts.pieces(start, start + timedelta(hours=2), BERLIN)
    assert autumn == {(date(2031, 10, 26), 2): 120}


def test_open_minutes_are_opening_hours_minus_closures():
    hours = [WeeklyHours(2, 9 * 60, 22 * 60)]  # Wednesdays 09:00–22:00
    day = date(2031, 3, 5)  # a Wednesday
    assert facts.open_minutes(hours, [], SEOUL, day) == (780, 0)
    closure = (at(SEOUL, 2031, 3, 5, 12), at(SEOUL, 2031, 3, 5, 14))
    night = (at(SEOUL, 2031, 3, 5, 21), at(SEOUL, 2031, 3, 6, 9))  # only 21–22 was open
    assert facts.open_minutes(hours, [closure, night], SEOUL, day) == (600, 180)
    assert facts.open_minutes(hours, [], SEOUL, day + timedelta(days=1)) == (0, 0)


# --------------------------------------------------------------------------- kept by changes
@pytest.fixture
def space(factories):
    return factories.space(hours={d: [(0, 24 * 60)] for d in range(7)})


def test_approval_adds_the_booking_and_cancellation_takes_it_away(factories, space, now):
    manager = factories.manager(space.owner)
    start = at(SEOUL, 2031, 1, 31, 23)
    booking = factories.booking(space, start=start, end=start + timedelta(hours=2), now=THEN)
    db.session.commit()
    assert booked(space) == {}  # a request holds its slot but is not booked time yet
    services.approve(booking, manager, now=THEN)
    db.session.commit()
    assert booked(space) == {(date(2031, 1, 31), 23): (60, 1), (date(2031, 2, 1), 0): (60, 0)}
    services.cancel(booking, manager, reason="공사", now=THEN)
    db.session.commit()
    assert booked(space) == {}


def test_a_rolled_back_change_leaves_the_facts_as_they_were(factories, space, now):
    manager = factories.manager(space.owner)
    start = at(SEOUL, 2031, 2, 3, 10)
    booking = factories.booking(space, start=start, end=start + timedelta(hours=1), now=THEN)
    db.session.commit()
    services.approve(booking, manager, now=THEN)
    db.session.flush()
    assert booked(space) == {(date(2031, 2, 3), 10): (60, 1)}
    db.session.rollback()
    assert booked(space) == {}


def test_completion_and_no_show_stay_booked_time(factories, space, now):
    start = at(SEOUL, 2031, 2, 3, 10)
    a = factories.booking(space, start=start, end=start + timedelta(hours=1), now=THEN,
                          status="approved")
    db.session.commit()
    services.transition(a, "no_show", None, now=start + timedelta(hours=2))
    db.session.commit()
    assert booked(space) == {(date(2031, 2, 3), 10): (60, 1)}


def test_closures_change_the_open_time_of_their_days(factories, now):
    space = factories.space(hours={d: [(9 * 60, 22 * 60)] for d in range(7)})
    day = date(2031, 3, 5)
    db.session.commit()
    facts.rebuild_open(day, day, space_ids=[space.id])
    db.session.commit()
    assert db.session.get(OpenDay, (space.id, day)).open_minutes == 780
    closure = factories.closure(space, at(SEOUL, 2031, 3, 5, 12), at(SEOUL, 2031, 3, 5, 14))
    db.session.commit()
    row = db.session.get(OpenDay, (space.id, day), populate_existing=True)
    assert (row.open_minutes, row.closed_minutes) == (660, 120)
    db.session.delete(closure)
    db.session.commit()
    row = db.session.get(OpenDay, (space.id, day), populate_existing=True)
    assert (row.open_minutes, row.closed_minutes) == (780, 0)


def test_the_rebuild_gives_what_the_changes_kept(factories, space, now):
    manager = factories.manager(space.owner)
    berlin = factories.space(name="Berlin room", timezone="Europe/Berlin",
                             hours={d: [(0, 24 * 60)] for d in range(7)})
    for i, (where, start) in enumerate([
        (space, at(SEOUL, 2031, 1, 31, 22, 30)),
        (space, at(SEOUL, 2031, 2, 2, 9)),
        (berlin, at(BERLIN, 2031, 3, 30, 1)),
    ]):
        b = factories.booking(where, start=start, end=start + timedelta(hours=2 + i % 2),
                              now=THEN)
        services.approve(b, manager if where is space else factories.manager(berlin.owner),
                         now=THEN)
    db.session.commit()
    kept = {**{("s",) + k: v for k, v in booked(space).items()},
            **{("b",) + k: v for k, v in booked(berlin).items()}}
    assert facts.rebuild_booked() == 3
    db.session.commit()
    rebuilt = {**{("s",) + k: v for k, v in booked(space).items()},
               **{("b",) + k: v for k, v in booked(berlin).items()}}
    assert kept == rebuilt
    assert sum(m for m, _n in rebuilt.values()) == 120 + 180 + 120
    assert booked(berlin) == {(date(2031, 3, 30), 1): (60, 1), (date(2031, 3, 30), 3): (60, 0)}


def test_new_opening_hours_rewrite_the_coming_days_only(factories, space):
    today = datetime.now(UTC).date()
    past = today - timedelta(days=10)
    facts.rebuild_open(past, today + timedelta(days=3), space_ids=[space.id])
    db.session.commit()
    from app.spaces.services import set_opening_hours

    set_opening_hours(space, factories.manager(space.owner),
                      [(d, 10 * 60, 12 * 60) for d in range(7)])
    db.session.commit()
    minutes = dict(db.session.execute(
        select(OpenDay.day, OpenDay.open_minutes).where(OpenDay.space_id == space.id)
    ).all())
    assert minutes[past] == 24 * 60
    assert minutes[today + timedelta(days=3)] == 120
    assert db.session.scalar(select(func.max(OpenDay.day)).where(
        OpenDay.space_id == space.id)) == today + timedelta(days=facts.OPEN_AHEAD_DAYS)


def test_extend_open_writes_each_coming_day_once(factories, space):
    today = date(2031, 5, 1)
    written = facts.extend_open(today)
    assert written == facts.OPEN_AHEAD_DAYS + 1
    assert facts.extend_open(today) == 0
    assert facts.extend_open(today + timedelta(days=1)) == 1
