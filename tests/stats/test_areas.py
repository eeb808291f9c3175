"""Areas (every space, a jurisdiction with those below it): their sums of the facts are kept
with every change, follow a space that moves to another district, and a dashboard about an area
reads them — with the days already closed read from `stats_area_events` — giving exactly the
figures counted from the bookings themselves."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

import pytest
from sqlalchemy import literal, select, text

from app.bookings import services
from app.extensions import db
from app.stats import areas, events, facts
from app.stats.models import (
    AREA_ALL,
    AreaBookedHour,
    AreaEvents,
    AreaOpenDay,
    AreaPeople,
    BookedHour,
    OpenDay,
)
from app.stats.queries import Filters, Scope, dashboard
from tests.factories import VERIFIED
from tests.stats.test_queries import THEN, World, at

pytestmark = pytest.mark.usefixtures("english")

FEB = Filters(date(2031, 2, 1), date(2031, 2, 28))


@pytest.fixture
def w(factories):
    world = World(factories)
    db.session.commit()
    return world


def sums_from_spaces() -> tuple[dict, dict]:
    """The areas' sums computed here from the per-space facts."""
    from app.spaces.models import Space

    member = areas.areas_of(db.session.scalars(select(Space.id)))
    booked: dict = defaultdict(lambda: [0, 0])
    for sid, day, hour, m, n in db.session.execute(select(
            BookedHour.space_id, BookedHour.day, BookedHour.hour, BookedHour.minutes,
            BookedHour.starts)):
        for a in member[sid]:
            booked[(a, day, hour)][0] += m
            booked[(a, day, hour)][1] += n
    opened: dict = defaultdict(lambda: [0, 0])
    for sid, day, o, c in db.session.execute(select(
            OpenDay.space_id, OpenDay.day, OpenDay.open_minutes, OpenDay.closed_minutes)):
        for a in member[sid]:
            opened[(a, day)][0] += o
            opened[(a, day)][1] += c
    return ({k: tuple(v) for k, v in booked.items() if v != [0, 0]},
            {k: tuple(v) for k, v in opened.items() if v != [0, 0]})


def stored() -> tuple[dict, dict]:
    booked = {(a, d, h): (m, n) for a, d, h, m, n in db.session.execute(select(
        AreaBookedHour.area_id, AreaBookedHour.day, AreaBookedHour.hour,
        AreaBookedHour.minutes, AreaBookedHour.starts)) if m or n}
    opened = {(a, d): (o, c) for a, d, o, c in db.session.execute(select(
        AreaOpenDay.area_id, AreaOpenDay.day, AreaOpenDay.open_minutes,
        AreaOpenDay.closed_minutes)) if o or c}
    return booked, opened


def test_the_areas_sums_follow_every_change(w, factories):
    facts.rebuild_open(date(2031, 3, 1), date(2031, 3, 10), space_ids=[w.s1.id, w.s2.id])
    b1 = w.approved(w.s1, at(2031, 3, 4, 20), 2)
    w.approved(w.s2, at(2031, 3, 4, 23), 3)  # across midnight
    closure = factories.closure(w.s1, at(2031, 3, 5, 12), at(2031, 3, 5, 14))
    db.session.commit()
    booked, opened = stored()
    assert (booked, opened) == sums_from_spaces()
    # The city holds both districts: 2 + 3 hours, and the closure's two hours are gone.
    city = {k[1:]: v for k, v in booked.items() if k[0] == w.city.id}
    assert sum(m for m, _n in city.values()) == 300
    assert opened[(w.city.id, date(2031, 3, 5))] == (13 * 60 - 120 + 24 * 60, 120)
    assert opened[(AREA_ALL, date(2031, 3, 5))] == opened[(w.city.id, date(2031, 3, 5))]
    services.cancel(b1, w.mx, reason="공사", now=THEN)
    db.session.delete(closure)
    db.session.commit()
    booked, opened = stored()
    assert (booked, opened) == sums_from_spaces()
    assert sum(m for (a, _d, _h), (m, _n) in booked.items() if a == w.a.id) == 0
    assert opened[(w.a.id, date(2031, 3, 5))] == (13 * 60, 0)


def test_a_rolled_back_change_leaves_the_areas_as_they_were(w):
    booking = w.f.booking(w.s1, w.resident, start=at(2031, 3, 4, 10), end=at(2031, 3, 4, 11),
                          now=THEN)
    db.session.commit()
    services.approve(booking, w.mx, now=THEN)
    db.session.flush()
    assert stored()[0]
    db.session.rollback()
    assert stored()[0] == {}


def test_a_full_rebuild_gives_what_the_changes_kept(w):
    facts.rebuild_open(date(2031, 3, 1), date(2031, 3, 10), space_ids=[w.s1.id, w.s2.id])
    w.approved(w.s1, at(2031, 3, 4, 20), 2)
    w.approved(w.s2, at(2031, 3, 6, 8), 1)
    db.session.commit()
    kept = stored()
    db.session.execute(text("DELETE FROM stats_area_booked"))
    db.session.execute(text("DELETE FROM stats_area_open"))
    areas.rebuild()
    db.session.commit()
    assert stored() == kept == sums_from_spaces()


def test_a_space_that_moves_to_another_district_takes_its_figures_along(w):
    facts.rebuild_open(date(2031, 2, 1), date(2031, 3, 10), space_ids=[w.s1.id, w.s2.id])
    w.approved(w.s1, at(2031, 3, 4, 19), 2)
    db.session.commit()
    events.close_days(through=date(2031, 2, 28))
    db.session.commit()
    scope = Scope(everything=True)
    before = dashboard(scope, Filters(date(2031, 2, 1), date(2031, 3, 9), district_id=w.b.id))
    assert (before.summary["booked_hours"], before.summary["requests"]) == (0, 0)
    w.s1.jurisdictions = [w.b]
    db.session.commit()
    assert stored() == sums_from_spaces()
    after = dashboard(scope, Filters(date(2031, 2, 1), date(2031, 3, 9), district_id=w.b.id))
    assert (after.summary["booked_hours"], after.summary["requests"]) == (2.0, 1)
    old = dashboard(scope, Filters(date(2031, 2, 1), date(2031, 3, 9), district_id=w.a.id))
    assert (old.summary["booked_hours"], old.summary["requests"]) == (0, 0)
    # The person who asked lives in the old district: not a resident of the new one.
    assert {r["id"]: r["count"] for r in after.tables["residency"].rows} == {
        "resident": 0, "non_resident": 1}


# --------------------------------------------------------------------------- closed days
def february(w):
    """Requests, decisions, a rejection with its reason, a payment and a refund on several
    days of February 2031, some minutes either side of midnight in Seoul."""
    from app.payments import services as payments
    from tests.approvals import add_rules

    add_rules(organisation_id=w.x.id, body={"fees": {"rates": {"resident": 10000,
                                                               "non_resident": 20000}}})
    stamps = [at(2031, 2, 3, 23, 50), at(2031, 2, 4, 0, 10), at(2031, 2, 10, 12),
              at(2031, 2, 27, 23, 59), at(2031, 2, 28, 0, 1)]
    for i, made in enumerate(stamps):
        user = w.resident if i % 2 else w.outsider
        space = w.s1 if i % 3 else w.s2
        b = w.f.booking(space, user, start=at(2031, 3, 2 + i, 10), end=at(2031, 3, 2 + i, 12),
                        now=made)
        b.created_at = made
        b.purpose_category = "sports" if i % 2 else "culture"
        manager = w.mx if space is w.s1 else w.my
        if i == 2:
            services.reject(b, manager, reason="학교 행사", now=made + timedelta(hours=30))
        else:
            services.approve(b, manager, now=made + timedelta(minutes=20 + 90 * i))
        if i == 1:
            payments.record_offline(b, manager, method="cash", amount=b.price_amount,
                                    reference="영수증", now=made + timedelta(hours=2))
            payments.refund(b, manager, amount=2000, reason="조명", reference="현금",
                            now=made + timedelta(hours=3))
    db.session.commit()


def figures(d) -> dict:
    return {"summary": d.summary, **{name: t.rows for name, t in d.tables.items()}}


@pytest.mark.parametrize("through", [date(2031, 2, 3), date(2031, 2, 10), date(2031, 2, 27),
                                     date(2031, 3, 31)])
def test_closed_days_and_live_days_add_up_to_the_live_count(w, through):
    february(w)
    scope = Scope(everything=True)
    officer = Scope.for_user(w.f.officer(w.city))
    live = figures(dashboard(scope, FEB))
    live_city = figures(dashboard(officer, FEB))
    assert live["summary"]["requests"] == 5 and live["summary"]["rejected"] == 1
    assert (live["summary"]["revenue"], live["summary"]["refunds"]) == (20000, 2000)
    assert live["reasons"] == [{"reason": "학교 행사", "count": 1}]
    assert events.close_days(through=through) > 0
    db.session.commit()
    assert events.closed_through() == through
    assert figures(dashboard(scope, FEB)) == live
    assert figures(dashboard(officer, FEB)) == live_city == live
    # A week that starts on a closed day and ends on a live one.
    week = Filters(date(2031, 2, 1), date(2031, 2, 7))
    assert figures(dashboard(scope, week))["demand"][0]["count"] == 2


def test_a_dashboard_about_an_area_reads_the_closed_days_not_the_bookings(w):
    february(w)
    events.close_days(through=date(2031, 2, 28))
    db.session.commit()
    # Change the bookings behind the statistics' back: the closed days keep what they stored.
    db.session.execute(text("UPDATE bookings SET purpose_category = 'education'"))
    purposes = dashboard(Scope(everything=True), FEB).tables["purposes"].rows
    assert {r["id"] for r in purposes} == {"sports", "culture"}
    # A dashboard about an owner is not an area: it counts from the bookings.
    mine = dashboard(Scope(everything=True), Filters(FEB.first, FEB.last, owner_id=w.x.id))
    assert {r["id"] for r in mine.tables["purposes"].rows} == {"education"}


def test_each_day_is_closed_once_and_the_job_catches_up_a_month_at_a_time(w):
    february(w)
    assert events.close_days(through=date(2031, 2, 10), max_days=5) > 0
    assert events.closed_through() == date(2031, 2, 7)  # from the first request on 3 Feb
    events.close_days(through=date(2031, 2, 10))
    assert events.closed_through() == date(2031, 2, 10)
    rows = db.session.scalar(select(text("count(*)")).select_from(AreaEvents))
    assert events.close_days(through=date(2031, 2, 10)) == 0
    assert db.session.scalar(select(text("count(*)")).select_from(AreaEvents)) == rows
    days = {d for d, in db.session.execute(select(AreaEvents.day).where(
        AreaEvents.area_id == AREA_ALL, AreaEvents.measure == "requests"))}
    assert days == {date(2031, 2, 3), date(2031, 2, 4), date(2031, 2, 10)}


def test_the_closing_job_is_on_the_schedule(app):
    from app.jobs import PERIODIC

    assert "stats.close_days" in {p.job for p in PERIODIC}


# --------------------------------------------------------------------------- lead times
@pytest.mark.parametrize("seconds", [0, 179, 180, 3599, 3600, 35_999, 36_000, 36_180, 37_799,
                                     359_999, 360_000, 3_600_000, 3_779_999, 40_000_000, -5])
def test_lead_time_buckets_are_the_same_in_sql_and_in_python(app, seconds):
    value = db.session.scalar(select(events._bucket_sql(literal(float(seconds)))))
    assert int(value) == events.bucket_of(seconds)


def test_bucket_precision():
    assert events.bucket_of(2 * 3600) == 20  # 2.0 h
    assert events.bucket_of(26 * 3600 + 20 * 60) == 260  # 26.3 h → 26 h
    assert events.bucket_of(150 * 3600) == 1500  # 150 h
    assert events.bucket_of(1234 * 3600) == 12000  # 1,234 h → 1,200 h


def test_percentiles_by_nearest_rank_from_a_histogram():
    # 1, 2, 4, 10 hours: the 2nd of 4 is the median, the 4th the 90th percentile.
    assert events.percentiles({10: 1, 20: 1, 40: 1, 100: 1}) == (4, [2.0, 10.0])
    assert events.percentiles({30: 10}) == (10, [3.0, 3.0])
    assert events.percentiles({}) == (0, [None, None])


# --------------------------------------------------------------------------- which area
def test_which_dashboards_are_about_an_area(w, factories):
    admin = Scope(everything=True)
    assert areas.area_for(admin, FEB) == AREA_ALL
    assert areas.area_for(admin, Filters(FEB.first, FEB.last, district_id=w.a.id)) == w.a.id
    assert areas.area_for(admin, Filters(FEB.first, FEB.last, owner_id=w.x.id)) is None
    assert areas.area_for(admin, Filters(FEB.first, FEB.last, type="gym")) is None
    assert areas.area_for(Scope.for_user(w.officer), FEB) == w.a.id
    assert areas.area_for(Scope.for_user(factories.officer(w.city)), FEB) == w.city.id
    assert areas.area_for(Scope.for_user(w.mx), FEB) is None
    edu = factories.jurisdiction(name="교육청", kind="education_office")
    both = Scope(jurisdiction_ids=frozenset({w.a.id, edu.id}))
    assert areas.area_for(both, FEB) is None


# --------------------------------------------------------------------------- months
def direct(space_ids, first, last) -> dict:
    out: dict = {}
    for sid in space_ids:
        b = [(m, n) for d, m, n in db.session.execute(
            select(BookedHour.day, BookedHour.minutes, BookedHour.starts)
            .where(BookedHour.space_id == sid)) if first <= d <= last]
        o = [(x, c) for d, x, c in db.session.execute(
            select(OpenDay.day, OpenDay.open_minutes, OpenDay.closed_minutes)
            .where(OpenDay.space_id == sid)) if first <= d <= last]
        out[sid] = (sum(m for m, _ in b), sum(n for _, n in b), sum(x for x, _ in o),
                    sum(c for _, c in o))
    return out


@pytest.mark.parametrize(("first", "last"), [
    (date(2031, 3, 15), date(2031, 6, 10)),  # part, two whole months, part
    (date(2031, 4, 1), date(2031, 5, 31)),  # whole months only
    (date(2031, 4, 10), date(2031, 4, 20)),  # inside one month
    (date(2031, 5, 1), date(2031, 5, 1)),
    (date(2031, 3, 31), date(2031, 5, 1)),  # a day either side of a whole month
    (date(2031, 4, 2), date(2031, 5, 29)),  # most of two months: months minus days
    (date(2031, 4, 3), date(2031, 4, 29)),  # most of one month, both ends cut
])
def test_periods_read_whole_months_and_the_days_left_over(w, factories, first, last):
    from app.stats import months

    facts.rebuild_open(date(2031, 3, 1), date(2031, 6, 30), space_ids=[w.s1.id, w.s2.id])
    for start, hours in ((at(2031, 3, 31, 20), 2), (at(2031, 4, 15, 10), 3),
                         (at(2031, 5, 1, 9), 1), (at(2031, 5, 31, 19), 2),
                         (at(2031, 6, 2, 12), 4)):
        w.approved(w.s1, start, hours)
    w.approved(w.s2, at(2031, 4, 30, 23), 2)  # an hour in each month
    factories.closure(w.s1, at(2031, 5, 1, 12), at(2031, 5, 2, 12))
    db.session.commit()
    got = {sid: tuple(int(v or 0) for v in rest)
           for sid, *rest in db.session.execute(months.per_space(None, first, last))}
    want = direct([w.s1.id, w.s2.id], first, last)
    assert {k: v for k, v in got.items() if any(v)} == {k: v for k, v in want.items() if any(v)}
    months.rebuild()
    again = {sid: tuple(int(v or 0) for v in rest)
             for sid, *rest in db.session.execute(months.per_space(None, first, last))}
    assert again == got


def test_a_period_reads_whole_months_and_at_most_half_a_month_of_days_at_each_end():
    from app.stats.months import plan

    assert plan(date(2031, 1, 15), date(2031, 4, 10)) == (
        [date(2031, 1, 1), date(2031, 2, 1), date(2031, 3, 1)],
        [(date(2031, 4, 1), date(2031, 4, 10))],  # 10 of 30 days: read them
        [(date(2031, 1, 1), date(2031, 1, 14))])  # 17 of 31: the month minus 14 days
    assert plan(date(2031, 2, 1), date(2031, 2, 28)) == ([date(2031, 2, 1)], [], [])
    assert plan(date(2031, 2, 10), date(2031, 2, 20)) == ([], [(date(2031, 2, 10),
                                                                date(2031, 2, 20))], [])
    assert plan(date(2031, 2, 2), date(2031, 2, 27)) == (
        [date(2031, 2, 1)], [], [(date(2031, 2, 1), date(2031, 2, 1)),
                                 (date(2031, 2, 28), date(2031, 2, 28))])


def test_people_over_closed_months_are_read_from_their_monthly_rows(w, factories):
    """Distinct people and repeat users do not add up over days; for an area, closed months
    hold who asked, and the figures equal those counted from the bookings."""
    from datetime import UTC, datetime

    stamps = [(w.resident, at(2031, 2, 3, 10)), (w.resident, at(2031, 3, 5, 10)),
              (w.outsider, at(2031, 3, 31, 23, 30)), (w.outsider, at(2031, 4, 1, 0, 30)),
              (w.f.user(home_district_id=w.a.id, home_district_verified_at=VERIFIED),
               at(2031, 4, 20, 9))]
    for i, (user, made) in enumerate(stamps):
        b = w.f.booking(w.s1, user, start=at(2031, 5, 2 + i, 10), end=at(2031, 5, 2 + i, 11),
                        now=datetime(2031, 1, 1, tzinfo=UTC))
        b.created_at = made
    db.session.commit()
    periods = [(date(2031, 2, 1), date(2031, 4, 30)), (date(2031, 3, 1), date(2031, 3, 31)),
               (date(2031, 2, 15), date(2031, 4, 10)), (date(2031, 4, 1), date(2031, 4, 30))]
    live = [events.people(None, a, b) for a, b in periods]
    assert live[0] == (3, 2, 0)  # three people; the resident and the outsider asked twice
    assert live[2] == (2, 1, 0)  # only the outsider asked twice from 15 Feb to 10 Apr
    events.close_days(through=date(2031, 4, 15))  # February and March closed, April in part
    db.session.commit()
    months = {m for m, in db.session.execute(select(AreaPeople.day).where(
        AreaPeople.area_id == AREA_ALL, AreaPeople.span == "m"))}
    assert months == {date(2031, 2, 1), date(2031, 3, 1)}
    days = {d for d, in db.session.execute(select(AreaPeople.day).where(
        AreaPeople.area_id == AREA_ALL, AreaPeople.span == "d"))}
    assert days == {date(2031, 2, 3), date(2031, 3, 5), date(2031, 3, 31), date(2031, 4, 1)}
    assert [events.people(None, a, b, AREA_ALL) for a, b in periods] == live
    assert [events.people(areas.spaces_of(w.a.id), a, b, w.a.id)
            for a, b in periods] == live
    # Behind the statistics' back: the closed months keep who asked then.
    db.session.execute(text("UPDATE bookings SET user_id = :u"), {"u": w.resident.id})
    assert events.people(None, date(2031, 3, 1), date(2031, 3, 31), AREA_ALL) == live[1]
    assert events.people(None, date(2031, 3, 15), date(2031, 4, 14), AREA_ALL) == (1, 1, 0)
