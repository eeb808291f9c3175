"""Month views of a space (free/busy for residents, every booking for managers) and a
resident's own calendar by month or week."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.calendars.models import ExternalCalendar
from app.spaces.models import Closure
from app.web.calendars.views import month_weeks, next_month, parse_month, parse_week, prev_month
from tests.factories import ALWAYS_OPEN

SEOUL = ZoneInfo("Asia/Seoul")
BERLIN = ZoneInfo("Europe/Berlin")


def at(day: date, hour: int, minute: int = 0, zone: ZoneInfo = SEOUL) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone).astimezone(UTC)


def book(factories, space, user, start, end, **kw):
    # Made "a day before", so advance-booking rules never depend on today's date.
    return factories.booking(space, user, start=start, end=end, now=start - timedelta(days=1),
                             **kw)


def cell(page: str, day: date) -> str:
    """The HTML of one day's cell (month grid) or row (week list)."""
    match = re.search(rf'data-day="{day.isoformat()}"(.*?)</(td|tr)>', page, re.S)
    assert match, f"no cell for {day}"
    return match.group(1)


@pytest.fixture(autouse=True)
def _english(client):
    """Pages in English: visitors by the language switch, users by their setting."""
    client.post("/language", data={"lang": "en", "next": "/"})


# --- pure helpers ---


def test_month_and_week_parameters_fall_back_to_today():
    today = date(2026, 11, 23)
    assert parse_month("2027-02", today) == date(2027, 2, 1)
    for bad in (None, "", "2027-13", "2027-00", "27-02", "9999-01", "2027-02-01", "x" * 50):
        assert parse_month(bad, today) == date(2026, 11, 1)
    assert parse_week("2027-02-10", today) == date(2027, 2, 8)
    for bad in (None, "", "2027-02-30", "0001-01-01", "nope"):
        assert parse_week(bad, today) == date(2026, 11, 23)
    assert next_month(date(2026, 12, 1)) == date(2027, 1, 1)
    assert prev_month(date(2027, 1, 1)) == date(2026, 12, 1)
    weeks = month_weeks(date(2027, 2, 1))  # starts on a Monday, 28 days: exactly four weeks
    assert len(weeks) == 4 and weeks[0][0] == date(2027, 2, 1)
    weeks = month_weeks(date(2026, 11, 1))  # a Sunday: the grid starts on Monday 26 October
    assert weeks[0][0] == date(2026, 10, 26) and weeks[-1][-1] == date(2026, 12, 6)


# --- the space's month ---


def test_residents_see_free_and_busy_time_but_no_one_s_booking(factories, db, client, login):
    space = factories.space()  # 09:00–22:00 every day, Seoul
    booker = factories.user(locale="en", name="김비밀")
    day = date(2027, 2, 10)
    book(factories, space, booker, at(day, 10), at(day, 12), purpose="비밀 모임")
    factories.closure(space, at(date(2027, 2, 12), 0), at(date(2027, 2, 13), 0), reason="방역")
    db.session.commit()

    for viewer in (None, factories.user(locale="en")):
        if viewer:
            db.session.commit()
            login(viewer)
        response = client.get(f"/spaces/{space.id}/month?month=2027-02")
        assert response.status_code == 200
        page = response.get_data(as_text=True)
        assert "김비밀" not in page and "비밀 모임" not in page
        assert not re.search(r"/bookings/\d", page)  # no link to anyone's booking
        assert "<caption>" in page and 'scope="col"' in page
        busy_day = cell(page, day)
        assert "Busy 10:00–12:00" in busy_day and "09:00–22:00" in busy_day
        assert "Free: 11 h" in busy_day  # 13 open hours, 2 taken
        closed_day = cell(page, date(2027, 2, 12))
        assert "Closed 00:00–24:00: 방역" in closed_day and "No free time" in closed_day
        assert "Free: 13 h" in cell(page, date(2027, 2, 11))
        assert 'month=2027-01' in page and 'month=2027-03' in page  # previous and next month


def test_cancelled_bookings_do_not_make_residents_busy(factories, db, client):
    space = factories.space()
    day = date(2027, 2, 10)
    book(factories, space, factories.user(locale="en"), at(day, 10), at(day, 12),
         status="cancelled")
    db.session.commit()
    page = client.get(f"/spaces/{space.id}/month?month=2027-02").get_data(as_text=True)
    assert "Busy" not in cell(page, day) and "Free: 13 h" in cell(page, day)


def test_managers_see_every_booking_with_its_state_and_imported_closures(
    factories, db, client, login
):
    space = factories.space(price_per_hour=5000)
    manager = factories.manager(space.owner, locale="en")
    day = date(2027, 2, 10)
    kim = factories.user(locale="en", name="김주민")
    lee = factories.user(locale="en", name="이주민")
    waiting = book(factories, space, kim, at(day, 10), at(day, 12))
    gone = book(factories, space, lee, at(day, 14), at(day, 15), status="cancelled")
    factories.closure(space, at(date(2027, 2, 12), 9), at(date(2027, 2, 12), 12),
                      reason="보일러 점검")
    school = ExternalCalendar(space_id=space.id, name="학사일정", url="https://example.org/s.ics")
    db.session.add(school)
    db.session.flush()
    db.session.add(Closure(space=space, start_at=at(date(2027, 2, 15), 0),
                           end_at=at(date(2027, 2, 16), 0), reason="졸업식",
                           external_calendar_id=school.id, external_uid="grad@school"))
    db.session.commit()
    login(manager)

    page = client.get(f"/spaces/{space.id}/month?month=2027-02").get_data(as_text=True)
    today = cell(page, day)
    assert "김주민" in today and "이주민" in today
    assert f'href="/bookings/{waiting.id}"' in today and f'href="/bookings/{gone.id}"' in today
    assert f"status-{waiting.status}" in today and waiting.status_label in today
    assert "status-cancelled" in today and "Cancelled" in today
    assert waiting.payment_label in today
    assert "10:00–12:00" in today and "14:00–15:00" in today
    normal = cell(page, date(2027, 2, 12))
    assert "보일러 점검" in normal and "Imported" not in normal
    imported = cell(page, date(2027, 2, 15))
    assert "졸업식" in imported and "Imported" in imported and "학사일정" in imported
    assert f"/manage/spaces/{space.id}/calendar" in page  # the manager's week view

    # A resident sees the closure marked imported, but no bookings or people.
    login(factories.user(locale="en"))
    db.session.commit()
    page = client.get(f"/spaces/{space.id}/month?month=2027-02").get_data(as_text=True)
    assert "김주민" not in page and "Imported" in cell(page, date(2027, 2, 15))
    assert "/manage/" not in page


def test_a_booking_across_midnight_shows_on_both_days(factories, db, client, login):
    space = factories.space(hours=ALWAYS_OPEN)
    manager = factories.manager(space.owner, locale="en")
    day = date(2027, 2, 10)
    b = book(factories, space, factories.user(locale="en", name="밤샘"), at(day, 22),
             at(day + timedelta(days=1), 2))
    db.session.commit()

    page = client.get(f"/spaces/{space.id}/month?month=2027-02").get_data(as_text=True)
    assert "Busy 22:00–24:00" in cell(page, day) and "Free: 22 h" in cell(page, day)
    assert "Busy 00:00–02:00" in cell(page, day + timedelta(days=1))

    login(manager)
    page = client.get(f"/spaces/{space.id}/month?month=2027-02").get_data(as_text=True)
    first, second = cell(page, day), cell(page, day + timedelta(days=1))
    assert f'/bookings/{b.id}' in first and "22:00–24:00" in first and "(continues)" in first
    assert f'/bookings/{b.id}' in second and "00:00–02:00" in second
    assert "(from the day before)" in second


def test_a_month_with_a_daylight_saving_change_in_berlin(factories, db, client, login):
    space = factories.space(hours=ALWAYS_OPEN, timezone="Europe/Berlin")
    manager = factories.manager(space.owner, locale="en")
    change = date(2027, 3, 28)  # clocks go from 02:00 to 03:00: a 23-hour day
    over_gap = book(factories, space, factories.user(locale="en", name="A"),
                    at(change, 1, zone=BERLIN), at(change, 4, zone=BERLIN))  # two real hours
    # 00:30 Berlin on 29 March is still 28 March in UTC: it belongs to the 29th here.
    late = book(factories, space, factories.user(locale="en", name="B"),
                at(change + timedelta(days=1), 0, 30, zone=BERLIN),
                at(change + timedelta(days=1), 1, 30, zone=BERLIN))
    assert late.start_at.date() == change
    db.session.commit()

    page = client.get(f"/spaces/{space.id}/month?month=2027-03").get_data(as_text=True)
    assert "Europe/Berlin" in page
    assert "Busy 01:00–04:00" in cell(page, change)
    assert "Free: 21 h" in cell(page, change)  # 23 hours that day, 2 booked
    assert "Busy" not in cell(page, change - timedelta(days=1))
    assert "Free: 24 h" in cell(page, change - timedelta(days=1))
    assert "Busy 00:30–01:30" in cell(page, change + timedelta(days=1))
    # Autumn: 31 October 2027 has 25 hours.
    page = client.get(f"/spaces/{space.id}/month?month=2027-10").get_data(as_text=True)
    assert "Free: 25 h" in cell(page, date(2027, 10, 31))

    login(manager)
    page = client.get(f"/spaces/{space.id}/month?month=2027-03").get_data(as_text=True)
    assert f"/bookings/{over_gap.id}" in cell(page, change)
    assert f"/bookings/{late.id}" in cell(page, change + timedelta(days=1))
    assert f"/bookings/{late.id}" not in cell(page, change)


def test_the_month_runs_a_fixed_number_of_queries(factories, db, login, queries_of_get):
    space = factories.space(hours=ALWAYS_OPEN)
    manager = factories.manager(space.owner, locale="en")
    resident = factories.user(locale="en")
    db.session.commit()

    def add(n, first_day):
        for i in range(n):
            day = date(2027, 2, first_day + i)
            b = book(factories, space, factories.user(locale="en"), at(day, 10), at(day, 11))
            factories.closure(space, at(day, 12), at(day, 13), reason=f"점검 {i}")
            book(factories, space, resident, at(day, 14), at(day, 15))
            assert b.id
        db.session.commit()

    url = f"/spaces/{space.id}/month?month=2027-02"
    mine = "/bookings/calendar?month=2027-02"
    counts = {}
    for viewer in (manager, resident):
        login(viewer)
        add(1, 1) if viewer is manager else None
        counts[viewer.id] = (queries_of_get(url), queries_of_get(mine))
    add(15, 2)
    for viewer in (manager, resident):
        login(viewer)
        assert (queries_of_get(url), queries_of_get(mine)) == counts[viewer.id]
    # A manager's pages also count what waits for them in the navigation (one query).
    assert counts[manager.id][0] <= 9 and counts[resident.id][0] <= 8


def test_bad_parameters_show_the_current_month(factories, db, client, now):
    space = factories.space()
    db.session.commit()
    this_month = now.astimezone(SEOUL).strftime("%Y-%m")
    for month in ("", "garbage", "2027-13", "2027-00", "99999-01", "1900-01", "2027-1",
                  "%00", "2027-02'--"):
        response = client.get(f"/spaces/{space.id}/month", query_string={"month": month})
        assert response.status_code == 200, month
        assert f'<h2 id="month-title">{this_month}</h2>' in response.get_data(as_text=True)
    assert client.get("/spaces/999999/month").status_code == 404


def test_unpublished_spaces_are_only_for_their_managers(factories, db, client, login):
    space = factories.space(published=False)
    manager = factories.manager(space.owner, locale="en")
    other_manager = factories.manager(locale="en")
    resident = factories.user(locale="en")
    db.session.commit()
    url = f"/spaces/{space.id}/month"
    assert client.get(url).status_code == 404
    login(resident)
    assert client.get(url).status_code == 404
    login(other_manager)
    assert client.get(url).status_code == 404
    login(manager)
    assert client.get(url).status_code == 200


def test_week_and_month_views_link_to_each_other(factories, db, client, login):
    space = factories.space()
    manager = factories.manager(space.owner, locale="en")
    db.session.commit()
    detail = client.get(f"/spaces/{space.id}?week=2027-02-10").get_data(as_text=True)
    assert f"/spaces/{space.id}/month?month=2027-02" in detail
    month = client.get(f"/spaces/{space.id}/month?month=2027-02").get_data(as_text=True)
    assert f"/spaces/{space.id}?week=2027-02-01#calendar" in month
    login(manager)
    week = client.get(f"/manage/spaces/{space.id}/calendar?week=2027-02-10")
    assert f"/spaces/{space.id}/month?month=2027-02" in week.get_data(as_text=True)


# --- the resident's own calendar ---


def test_a_resident_s_calendar_by_month_and_week(factories, db, client, login):
    seoul_space = factories.space(name="서울 강당", hours=ALWAYS_OPEN)
    berlin_space = factories.space(name="Berlin Saal", hours=ALWAYS_OPEN,
                                   timezone="Europe/Berlin")
    resident, someone = factories.user(locale="en"), factories.user(locale="en", name="다른 사람")
    day = date(2027, 2, 10)
    night = book(factories, seoul_space, resident, at(day, 22), at(day + timedelta(days=1), 1))
    # 18:00 in Berlin is 02:00 the next day in Seoul.
    evening = book(factories, berlin_space, resident, at(day, 18, zone=BERLIN),
                   at(day, 19, zone=BERLIN))
    cancelled = book(factories, seoul_space, resident, at(day, 10), at(day, 11),
                     status="cancelled")
    theirs = book(factories, seoul_space, someone, at(day, 12), at(day, 13))
    db.session.commit()

    assert "/login" in client.get("/bookings/calendar").headers["Location"]
    login(resident)
    mine = client.get("/bookings/").get_data(as_text=True)
    assert "/bookings/calendar" in mine and "/account/calendars" in mine

    page = client.get("/bookings/calendar?month=2027-02").get_data(as_text=True)
    assert "/account/calendars" in page and "<caption>" in page
    first, second = cell(page, day), cell(page, day + timedelta(days=1))
    assert f'/bookings/{night.id}"' in first and "22:00–24:00" in first
    assert f'/bookings/{night.id}"' in second and "00:00–01:00" in second
    assert f'/bookings/{evening.id}"' in second and f'/bookings/{evening.id}"' not in first
    assert "02:00–03:00" in second and "18:00–19:00 Europe/Berlin" in second
    assert f'/bookings/{cancelled.id}"' in first and "status-cancelled" in first
    assert f'/bookings/{theirs.id}"' not in page and "다른 사람" not in page
    assert "month=2027-01" in page and "month=2027-03" in page

    week = client.get("/bookings/calendar?view=week&week=2027-02-11").get_data(as_text=True)
    assert "Week of 2027-02-08" in week
    assert f'/bookings/{night.id}"' in cell(week, day)
    assert f'/bookings/{evening.id}"' in cell(week, day + timedelta(days=1))
    assert "week=2027-02-01" in week and "week=2027-02-15" in week
    assert "No bookings" in cell(week, date(2027, 2, 14))

    for bad in ("view=week&week=nonsense", "view=odd&month=x", "week=2027-99-99&view=week"):
        assert client.get(f"/bookings/calendar?{bad}").status_code == 200
