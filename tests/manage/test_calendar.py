"""A space's week for its manager: every booking with its state in the right local cells."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from tests.conftest import next_weekday
from tests.manage.helpers import calendar_cell, text_of


def at(instant, zone) -> str:
    return instant.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%dT%H:%M")


def test_booking_status_in_the_right_local_cells(
    factories, manager, resident, space, login, client, db
):
    start = next_weekday(2, 10)  # Wednesday 10:00 in Seoul
    booking = factories.booking(
        space, resident, start=start, end=start + timedelta(minutes=90), status="approved"
    )
    db.session.commit()
    login(manager)
    week = start.astimezone(ZoneInfo("Asia/Seoul")).date().isoformat()
    response = client.get(f"/manage/spaces/{space.id}/calendar?week={week}")
    assert response.status_code == 200
    zone = "Asia/Seoul"
    classes, inner = calendar_cell(response, at(start, zone))
    assert "has-event" in classes
    assert f'href="/bookings/{booking.id}"' in inner
    assert "status-approved" in inner and "Approved · 김주민" in inner and "cont" not in inner
    for later in (30, 60):
        classes, inner = calendar_cell(response, at(start + timedelta(minutes=later), zone))
        assert "status-approved" in inner and " cont" in inner  # shaded, not labelled again
    for outside in (-30, 90):
        _classes, inner = calendar_cell(response, at(start + timedelta(minutes=outside), zone))
        assert "status-" not in inner
    text = text_of(response)
    assert "Bookings this week" in text and "김주민" in text


def test_all_states_and_closures_are_shown(factories, manager, space, login, client, db):
    start = next_weekday(3, 9)
    hour = timedelta(hours=1)
    factories.booking(space, start=start, end=start + hour, status="cancelled")
    factories.booking(space, start=start + hour, end=start + 2 * hour)
    factories.booking(space, start=start + 3 * hour, end=start + 4 * hour, status="rejected")
    factories.closure(space, start + 5 * hour, start + 7 * hour, reason="소독")
    db.session.commit()
    login(manager)
    week = start.astimezone(ZoneInfo("Asia/Seoul")).date().isoformat()
    response = client.get(f"/manage/spaces/{space.id}/calendar?week={week}")
    zone = "Asia/Seoul"
    assert "Cancelled" in calendar_cell(response, at(start, zone))[1]
    assert "Requested" in calendar_cell(response, at(start + hour, zone))[1]
    assert "Rejected" in calendar_cell(response, at(start + 3 * hour, zone))[1]
    assert "Closed: 소독" in calendar_cell(response, at(start + 5 * hour, zone))[1]


def test_calendar_follows_the_space_time_zone(factories, org, manager, login, client, db):
    berlin = factories.space(owner=org, name="Kiez-Saal", timezone="Europe/Berlin")
    day = datetime.now(UTC).date() + timedelta(days=9)
    start = datetime(day.year, day.month, day.day, 15, tzinfo=ZoneInfo("Europe/Berlin"))
    factories.booking(berlin, start=start, end=start + timedelta(hours=1), status="confirmed")
    db.session.commit()
    login(manager)
    response = client.get(f"/manage/spaces/{berlin.id}/calendar?week={day.isoformat()}")
    assert "Confirmed" in calendar_cell(response, f"{day.isoformat()}T15:00")[1]
    assert "Times are shown in Europe/Berlin." in text_of(response)


def test_week_navigation_and_bad_week(manager, space, login, client, db):
    db.session.commit()
    login(manager)
    response = client.get(f"/manage/spaces/{space.id}/calendar?week=2026-13-45")
    assert response.status_code == 200
    assert client.get(f"/manage/spaces/{space.id}/calendar?week=0001-01-01").status_code == 200
    assert client.get(f"/manage/spaces/{space.id}/calendar?week=9999-12-31").status_code == 200
    html = client.get(f"/manage/spaces/{space.id}/calendar?week=2030-01-09").get_data(as_text=True)
    assert "Week of 2030-01-07" in html
    assert f'href="/manage/spaces/{space.id}/calendar?week=2029-12-31" rel="prev"' in html
    assert f'href="/manage/spaces/{space.id}/calendar?week=2030-01-14" rel="next"' in html


def test_calendar_runs_a_bounded_number_of_queries(
    factories, manager, space, login, queries_of_get, db
):
    start = next_weekday(1, 9)
    sunday_evening = start + timedelta(days=5, hours=11)
    factories.booking(space, start=sunday_evening, end=sunday_evening + timedelta(hours=1))
    db.session.commit()
    login(manager)
    week = start.astimezone(ZoneInfo("Asia/Seoul")).date().isoformat()
    url = f"/manage/spaces/{space.id}/calendar?week={week}"

    few = queries_of_get(url)
    for n in range(10):
        factories.booking(
            space,
            factories.user(name=f"주민{n}"),
            start=start + timedelta(days=n % 5, hours=n),
            end=start + timedelta(days=n % 5, hours=n + 1),
        )
    factories.closure(space, start + timedelta(days=5), start + timedelta(days=5, hours=3))
    db.session.commit()
    assert queries_of_get(url) == few


def test_booking_blocks_have_their_own_colour_per_state(
    factories, manager, space, login, client, db
):
    from app.bookings.states import PaymentState

    start = next_weekday(2, 9)
    hour = timedelta(hours=1)
    made = {}
    for n, (status, paid) in enumerate((
        ("requested", None), ("approved", PaymentState.DUE), ("approved", PaymentState.NONE),
        ("confirmed", PaymentState.PAID), ("cancelled", None),
    )):
        b = factories.booking(space, start=start + 2 * n * hour,
                              end=start + (2 * n + 1) * hour, status=status)  # fmt: skip
        if paid:
            b.payment_status = paid
        made[n] = b
    space.buffer_minutes = 30
    db.session.commit()
    login(manager)
    week = start.astimezone(ZoneInfo("Asia/Seoul")).date().isoformat()
    url = f"/manage/spaces/{space.id}/calendar?week={week}"
    response = client.get(url)
    zone = "Asia/Seoul"
    expected = ["pending", "unpaid", "paid", "paid", "off"]
    for n, kind in enumerate(expected):
        classes, inner = calendar_cell(response, at(start + 2 * n * hour, zone))
        assert f"bk bk-{kind}" in inner, (n, inner)
        # A cell a booking holds is not painted in the availability colours behind the block.
        assert ("has-booking" in classes) == (kind != "off")
    # The half hour after an active booking is its buffer, named as such; the legend matches.
    classes, _inner = calendar_cell(response, at(start + hour, zone))
    assert "buffer" in classes
    text = text_of(response)
    for label in ("Requested: waiting for your decision", "Approved: payment due",
                  "Confirmed: paid or free", "Cancelled or rejected", "Free to book", "Buffer"):
        assert label in text
    assert "Buffer: 30 minutes before and after each booking stay free" in text
    html = response.get_data(as_text=True)
    for kind in expected:
        assert f'class="bk bk-{kind}"' in html  # each block style appears in the legend
    # Cancelled bookings can be hidden; the toggle says how many are hidden.
    hidden = client.get(url + "&cancelled=0")
    _classes, inner = calendar_cell(hidden, at(start + 8 * hour, zone))
    assert "bk-off" not in inner
    assert "Show cancelled and rejected bookings (1)" in text_of(hidden)
    assert "cancelled=0" in hidden.get_data(as_text=True).split('rel="next"')[0].rsplit("<a", 1)[1]
