"""The space page (facts and week calendar) and the booking request form."""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime, timedelta
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.bookings.models import Booking
from tests.conftest import next_weekday

SEOUL = ZoneInfo("Asia/Seoul")
SKIPPED = "This time does not exist that day: the clocks change."


@pytest.fixture(autouse=True)
def _english(app, monkeypatch):
    """Assertions read the English messages; the pages default to Korean once translated."""
    monkeypatch.setattr(app.extensions["babel"], "locale_selector", lambda: "en")


BERLIN = ZoneInfo("Europe/Berlin")


def cells(page: str) -> dict[str, str]:
    """Calendar cells of a page: local ISO start -> state (free, busy, closed, past)."""
    return {
        start: state for state, start in re.findall(r'<td class="(\w+)" data-start="([^"]+)"', page)
    }


def calendar_rows(page: str) -> list[list[str]]:
    """[time label, state of Monday's cell, ..., state of Sunday's cell] per calendar row."""
    body = page.split('<table class="calendar"')[1].split("<tbody>")[1].split("</tbody>")[0]
    rows = []
    for row in re.findall(r"<tr>(.*?)</tr>", body, re.S):
        label = re.search(r'<th scope="row" class="time">([^<]+)</th>', row).group(1)
        states = re.findall(r'<td class="(\w+(?: skipped)?)"', row)
        rows.append([label] + [s.replace("closed skipped", "skipped") for s in states])
    return rows


def iso(instant: datetime, zone: ZoneInfo) -> str:
    return instant.astimezone(zone).isoformat()


def local(day: date, hour: int, minute: int, zone: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone).astimezone(UTC)


def last_sunday(year: int, month: int) -> date:
    day = date(year, month + 1, 1) - timedelta(days=1)
    return day - timedelta(days=(day.weekday() + 1) % 7)


def next_dst_sunday(month: int) -> date:
    """The next last Sunday of March or October (Europe's clock changes), a week away or more."""
    soon = datetime.now(UTC).date() + timedelta(days=7)
    day = last_sunday(soon.year, month)
    return day if day >= soon else last_sunday(soon.year + 1, month)


# --- The space page ---------------------------------------------------------------------------


def test_space_page_shows_the_facts(client, db, factories, now):
    gangbuk = factories.jurisdiction(name="강북구")
    space = factories.space(
        name="번동 체육관",
        type="gym",
        capacity=80,
        price_per_hour=12000,
        min_minutes=60,
        max_minutes=180,
        buffer_minutes=30,
        booking_mode="instant",
        address="서울 강북구 번동 1",
        latitude=37.637,
        longitude=127.025,
        jurisdictions=[gangbuk],
        hours={0: [(9 * 60, 12 * 60), (13 * 60, 18 * 60)], 5: [(10 * 60, 16 * 60)]},
    )
    space.amenities = ["wifi", "showers"]
    factories.closure(space, now + timedelta(days=3), now + timedelta(days=4), reason="학교 행사")
    factories.closure(space, now - timedelta(days=4), now - timedelta(days=3), reason="지난 점검")
    db.session.commit()

    page = client.get(f"/spaces/{space.id}").get_data(as_text=True)

    for text in (
        "번동 체육관",
        "Gym",
        "번동초등학교",
        "Up to 80 people",
        "₩12,000",
        "From 60 to 180 minutes",
        "30 minutes kept free between bookings",
        "Instant booking",
        "서울 강북구 번동 1",
        "Wi-Fi",
        "Showers",
        "강북구",
        "09:00–12:00, 13:00–18:00",
        "10:00–16:00",
        "학교 행사",
        "Times are shown in Korea time.",
    ):
        assert text in page, text
    assert "지난 점검" not in page  # past closures are not listed
    assert 'data-map-for="space-map"' in page
    assert "/static/vendor/leaflet/leaflet.js" in page


@pytest.mark.parametrize("published", [False, None])
def test_unknown_or_unpublished_space_is_404(client, db, factories, published):
    space_id = 999999
    if published is False:
        space_id = factories.space(published=False).id
        db.session.commit()
    assert client.get(f"/spaces/{space_id}").status_code == 404
    assert client.get(f"/spaces/{space_id}/book").status_code in (302, 404)


def test_manager_sees_an_unpublished_space(client, db, factories, login):
    org = factories.org()
    space = factories.space(owner=org, published=False)
    manager = factories.manager(org)
    db.session.commit()
    login(manager)
    page = client.get(f"/spaces/{space.id}")
    assert page.status_code == 200
    assert "This space is not published" in page.get_data(as_text=True)


def test_calendar_shows_bookings_closures_and_closed_days_in_seoul(client, db, factories):
    wednesday = next_weekday(2, 10)  # 10:00 Seoul, next week
    day = wednesday.astimezone(SEOUL).date()
    hours = {d: [(9 * 60, 22 * 60)] for d in range(1, 7)}  # closed on Mondays
    space = factories.space(hours=hours, buffer_minutes=30)
    factories.booking(space, start=wednesday, end=wednesday + timedelta(hours=2))
    thursday = day + timedelta(days=1)
    factories.closure(space, local(thursday, 14, 0, SEOUL), local(thursday, 16, 0, SEOUL))
    db.session.commit()

    page = client.get(f"/spaces/{space.id}?week={day.isoformat()}").get_data(as_text=True)
    grid = cells(page)

    def at(d, h, m=0):
        return grid[iso(local(d, h, m, SEOUL), SEOUL)]

    assert [at(day, 9), at(day, 9, 30)] == ["free", "busy"]  # 30-minute buffer before
    assert {at(day, h, m) for h in (10, 11) for m in (0, 30)} == {"busy"}
    assert [at(day, 12), at(day, 12, 30)] == ["busy", "free"]  # and after
    assert [at(thursday, 13, 30), at(thursday, 14), at(thursday, 15, 30)] == [
        "free",
        "closure",  # a closure says so, apart from bookings
        "closure",
    ]
    assert at(thursday, 16) == "free"
    monday = day - timedelta(days=2)
    assert {at(monday, h) for h in range(9, 22)} == {"closed"}
    assert "Times are shown in Korea time." in page


def test_free_cell_links_to_the_prefilled_form(client, db, factories):
    tuesday = next_weekday(1, 15)
    space = factories.space(min_minutes=90)
    db.session.commit()
    page = client.get(f"/spaces/{space.id}?week={tuesday.date().isoformat()}")
    start_iso = iso(tuesday, SEOUL)
    match = re.search(
        rf'<td class="free" data-start="{re.escape(start_iso)}"[^>]*>\s*<a href="([^"]+)"',
        page.get_data(as_text=True),
    )
    link = html.unescape(match.group(1))
    query = parse_qs(urlsplit(link).query)
    assert urlsplit(link).path == f"/spaces/{space.id}/book"
    assert query["start"] == [start_iso]
    assert query["end"] == [iso(tuesday + timedelta(minutes=90), SEOUL)]  # the minimum length


def test_past_cells_are_not_offered(client, db, factories):
    space = factories.space()
    db.session.commit()
    last_week = datetime.now(SEOUL).date() - timedelta(days=7)
    grid = cells(client.get(f"/spaces/{space.id}?week={last_week}").get_data(as_text=True))
    assert grid and set(grid.values()) == {"past"}


def test_week_navigation(client, db, factories):
    space = factories.space()
    db.session.commit()
    page = client.get(f"/spaces/{space.id}?week=2027-01-06").get_data(as_text=True)  # a Wednesday
    assert "Week of 2027-01-04" in page
    assert f"/spaces/{space.id}?week=2026-12-28#calendar" in page
    assert f"/spaces/{space.id}?week=2027-01-11#calendar" in page
    assert "2027-01-10T" in page and "2027-01-11T" not in page.split('rel="next"')[1]


@pytest.mark.parametrize(
    "week", ["garbage", "2026-02-30", "9999-12-31", "0001-01-01", "", "2026-1-1", "%00", "1e9"]
)
def test_bad_week_shows_this_week(client, db, factories, week):
    space = factories.space()
    db.session.commit()
    response = client.get(f"/spaces/{space.id}", query_string={"week": week})
    assert response.status_code == 200
    today = datetime.now(SEOUL).date()
    opens = today + timedelta(days=1) if today.weekday() == 6 else today  # Sunday: next week
    monday = opens - timedelta(days=opens.weekday())
    assert f"Week of {monday.isoformat()}" in response.get_data(as_text=True)


@pytest.mark.parametrize(("now", "monday"), [
    ("2027-03-07T20:00:00+09:00", "2027-03-08"),  # a Sunday evening: the coming week
    ("2027-03-06T20:00:00+09:00", "2027-03-01"),  # a Saturday evening: this week still
    ("2027-03-08T09:00:00+09:00", "2027-03-08"),  # a Monday: this week
])
def test_the_calendar_opens_on_a_week_with_time_left_to_book(client, db, factories, time_machine,
                                                           now, monday):
    space = factories.space()
    db.session.commit()
    time_machine.move_to(datetime.fromisoformat(now), tick=False)
    page = client.get(f"/spaces/{space.id}").get_data(as_text=True)
    assert f"Week of {monday}" in page


@pytest.mark.parametrize("month", [3, 10])
def test_calendar_across_a_daylight_saving_change(client, db, factories, month):
    """A Berlin space in the week the clocks change: each local time is its own instant."""
    sunday = next_dst_sunday(month)
    saturday = sunday - timedelta(days=1)
    space = factories.space(timezone="Europe/Berlin", hours={d: [(0, 24 * 60)] for d in range(7)})
    for day in (saturday, sunday):
        factories.booking(space, start=local(day, 10, 0, BERLIN), end=local(day, 12, 0, BERLIN))
    db.session.commit()

    page = client.get(f"/spaces/{space.id}?week={sunday.isoformat()}").get_data(as_text=True)
    grid = cells(page)
    winter, summer = "+01:00", "+02:00"
    before, after = (winter, summer) if month == 3 else (summer, winter)

    assert grid[f"{saturday}T10:00:00{before}"] == "busy"
    assert grid[f"{saturday}T09:30:00{before}"] == "free"
    assert grid[f"{sunday}T10:00:00{after}"] == "busy"
    assert grid[f"{sunday}T11:30:00{after}"] == "busy"
    assert grid[f"{sunday}T12:00:00{after}"] == "free"
    assert grid[f"{sunday}T09:30:00{after}"] == "free"
    if month == 3:
        # 02:00-03:00 does not exist that night: nothing to book there.
        assert not any(k.startswith(f"{sunday}T02:") for k in grid)
        rows = calendar_rows(page)
        assert [row[7] for row in rows if row[0] in ("02:00", "02:30")] == ["skipped"] * 2
        assert [row[6] for row in rows if row[0] in ("02:00", "02:30")] == ["free"] * 2
        assert grid[f"{sunday}T03:00:00{summer}"] == "free"
    assert "Europe/Berlin" in page


# --- The request form -------------------------------------------------------------------------


def form_data(start: datetime, end: datetime, zone=SEOUL, **overrides) -> dict:
    local_start, local_end = start.astimezone(zone), end.astimezone(zone)
    data = {
        "date": local_start.date().isoformat(),
        "start_time": f"{local_start:%H:%M}",
        "end_time": f"{local_end:%H:%M}",
        "purpose": "주민 합창 연습",
        "attendees": "12",
    }
    data.update(overrides)
    return data


def test_request_form_needs_login(client, db, factories):
    space = factories.space()
    db.session.commit()
    response = client.get(f"/spaces/{space.id}/book")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_request_form_is_prefilled_with_a_quote_and_the_rules(client, db, factories, login):
    start = next_weekday(3, 18)
    space = factories.space(price_per_hour=10000, capacity=30, booking_mode="request")
    login(factories.user())
    db.session.commit()
    response = client.get(
        f"/spaces/{space.id}/book",
        query_string={"start": iso(start, SEOUL), "end": iso(start + timedelta(minutes=90), SEOUL)},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    local_start = start.astimezone(SEOUL)
    assert f'value="{local_start.date().isoformat()}"' in page
    assert 'value="18:00"' in page and 'value="19:30"' in page
    assert "₩15,000" in page  # 90 minutes at ₩10,000 an hour
    assert "Up to 30 people" in page
    assert "Request and approval" in page
    assert "09:00–22:00" in page


def test_a_request_is_sent(client, db, factories, login):
    start = next_weekday(3, 18)
    space = factories.space(price_per_hour=10000)
    user = factories.user()
    db.session.commit()
    login(user)
    response = client.post(
        f"/spaces/{space.id}/book", data=form_data(start, start + timedelta(hours=2))
    )
    booking = db.session.scalars(select(Booking)).one()
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/bookings/{booking.id}")
    assert (booking.status, booking.user_id, booking.attendees) == ("requested", user.id, 12)
    assert (booking.start_at, booking.end_at) == (start, start + timedelta(hours=2))
    assert booking.price_amount == 20000
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Your request was sent; it goes through the approval stages shown below." in page


def test_an_instant_space_is_booked_and_confirmed(client, db, factories, login):
    start = next_weekday(4, 10)
    space = factories.space(booking_mode="instant")
    db.session.commit()
    login(factories.user())
    response = client.post(
        f"/spaces/{space.id}/book",
        data=form_data(start, start + timedelta(hours=1)),
        follow_redirects=True,
    )
    assert "Booked and confirmed." in response.get_data(as_text=True)
    assert db.session.scalars(select(Booking)).one().status == "confirmed"


@pytest.mark.parametrize("end_time", ["00:00", "24:00"])
def test_an_end_at_midnight_means_the_end_of_the_day(client, db, factories, login, end_time):
    start = next_weekday(5, 22)
    space = factories.space(hours={d: [(9 * 60, 24 * 60)] for d in range(7)})
    db.session.commit()
    login(factories.user())
    data = form_data(start, start, end_time=end_time)
    response = client.post(f"/spaces/{space.id}/book", data=data)
    assert response.status_code == 302
    assert db.session.scalars(select(Booking)).one().end_at == start + timedelta(hours=2)


def test_a_wall_clock_time_that_does_not_exist(client, db, factories, login):
    sunday = next_dst_sunday(3)
    space = factories.space(timezone="Europe/Berlin", hours={d: [(0, 24 * 60)] for d in range(7)})
    db.session.commit()
    login(factories.user())
    data = {
        "date": sunday.isoformat(),
        "start_time": "02:30",
        "end_time": "04:00",
        "purpose": "야간 촬영",
        "attendees": "2",
    }
    response = client.post(f"/spaces/{space.id}/book", data=data)
    assert response.status_code == 422
    assert "02:30 does not exist on" in response.get_data(as_text=True)
    assert db.session.scalars(select(Booking)).first() is None


def _messages(page: str) -> list[str]:
    return [html.unescape(m) for m in re.findall(r'class="error"[^>]*>([^<]+)<', page)]


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("end_before_start", "The end must be after the start."),
        ("past", "The start is in the past."),
        ("too_short", "The booking must last at least 60 minutes."),
        ("too_long", "The booking may last at most 240 minutes."),
        ("over_capacity", "This space holds at most 20 people."),
        ("no_people", "At least one person must attend."),
        ("no_purpose", "Please describe the purpose of the booking."),
        ("outside_hours", "The space is not open for the whole time."),
        ("closure", "The space is closed at that time (방역)."),
        ("bad_time", "Enter a time such as 18:30."),
        ("no_date", "Choose a date."),
        ("bad_people", "attendees-err"),
    ],
)
def test_request_form_explains_each_problem(client, db, factories, login, case, message):
    start = next_weekday(2, 14)
    end = start + timedelta(hours=2)
    space = factories.space(capacity=20, min_minutes=60, max_minutes=240)
    factories.closure(space, start - timedelta(hours=1), start + timedelta(hours=1), reason="방역")
    db.session.commit()
    login(factories.user())
    closure_free = start + timedelta(hours=3)  # 17:00, after the closure
    data = {
        "end_before_start": form_data(closure_free, closure_free - timedelta(hours=1)),
        "past": form_data(
            closure_free - timedelta(days=14),
            closure_free - timedelta(days=14) + timedelta(hours=1),
        ),
        "too_short": form_data(closure_free, closure_free + timedelta(minutes=30)),
        "too_long": form_data(closure_free - timedelta(hours=6), closure_free),
        "over_capacity": form_data(closure_free, closure_free + timedelta(hours=1), attendees="21"),
        "no_people": form_data(closure_free, closure_free + timedelta(hours=1), attendees=""),
        "no_purpose": form_data(closure_free, closure_free + timedelta(hours=1), purpose="  "),
        "outside_hours": form_data(
            closure_free, closure_free, start_time="21:00", end_time="23:00"
        ),
        "closure": form_data(start, end),
        "bad_time": form_data(closure_free, closure_free, start_time="25:00"),
        "no_date": form_data(closure_free, closure_free, date=""),
        "bad_people": form_data(closure_free, closure_free + timedelta(hours=1), attendees="many"),
    }[case]
    response = client.post(f"/spaces/{space.id}/book", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in page if message.endswith("-err") else message in _messages(page)
    assert db.session.scalars(select(Booking)).first() is None
    assert data["purpose"].strip() in page or not data["purpose"].strip()  # input is kept


def test_a_taken_slot_answers_409_with_the_calendar_link(client, db, factories, login):
    start = next_weekday(2, 14)
    space = factories.space()
    factories.booking(space, start=start, end=start + timedelta(hours=2))
    db.session.commit()
    login(factories.user())
    data = form_data(start + timedelta(hours=1), start + timedelta(hours=3))
    response = client.post(f"/spaces/{space.id}/book", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "This time was just taken. Please choose another time." in page
    week = start.astimezone(SEOUL).date().isoformat()
    assert f"/spaces/{space.id}?week={week}#calendar" in page
    assert db.session.scalars(select(Booking)).one().start_at == start  # only the first one


@pytest.mark.parametrize(
    "query",
    [
        {"start": "garbage", "end": "x"},
        {"start": "2026-13-40T99:00", "end": ""},
        {"start": "9999-12-31T23:59:59-23:00"},
        {"start": "0001-01-01T00:00:00+14:00", "end": "0001-01-01T01:00:00+14:00"},
        {"start": "2027-01-01T10:00:00+09:00", "end": "2026-01-01T10:00:00+09:00"},
    ],
)
def test_bad_prefill_is_ignored(client, db, factories, login, query):
    space = factories.space()
    db.session.commit()
    login(factories.user())
    assert client.get(f"/spaces/{space.id}/book", query_string=query).status_code == 200


def test_space_page_runs_a_bounded_number_of_queries(client, db, factories, count_queries, now):
    def make(n):
        space = factories.space(jurisdictions=[factories.jurisdiction() for _ in range(3)])
        space.amenities = ["wifi", "projector", "piano"]
        for i in range(n):
            start = next_weekday(i % 7, 9 + i // 7)
            factories.booking(space, start=start, end=start + timedelta(hours=1))
            factories.closure(
                space, now + timedelta(days=20 + i), now + timedelta(days=20 + i, hours=1)
            )
        db.session.commit()
        return space

    small, big = make(1), make(20)
    counts = []
    for space in (small, big):
        week = next_weekday(0).date().isoformat()
        with count_queries() as q:
            assert client.get(f"/spaces/{space.id}?week={week}").status_code == 200
        counts.append(q.count)
    # +2: the jurisdiction tree and the rule sets in force; +1: the week's closures (reasons)
    assert counts[0] == counts[1] <= 13


def test_an_officer_may_look_at_an_unpublished_space_but_not_book_it(client, db, factories, login):
    district = factories.jurisdiction()
    space = factories.space(published=False, jurisdictions=[district])
    officer = factories.officer(district)
    db.session.commit()
    login(officer)
    assert client.get(f"/spaces/{space.id}").status_code == 200
    start = next_weekday(2, 14)
    response = client.post(
        f"/spaces/{space.id}/book", data=form_data(start, start + timedelta(hours=1))
    )
    assert response.status_code == 403
    assert "This space is not open for booking." in response.get_data(as_text=True)
    assert db.session.scalars(select(Booking)).first() is None
