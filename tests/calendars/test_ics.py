"""iCalendar files and feeds: they parse back (icalendar) and are accepted by an independent
parser (vobject); UIDs are stable, SEQUENCE grows with every change, cancellations say so,
public feeds carry no personal data, secret feed addresses can be revoked."""

from __future__ import annotations

import re
from datetime import timedelta

import icalendar
import pytest
import vobject

from app.bookings import services as booking_services


def _parse(body: bytes):
    cal = icalendar.Calendar.from_ical(body)
    assert cal.to_ical() == body or icalendar.Calendar.from_ical(cal.to_ical()) == cal
    independent = vobject.readOne(body.decode("utf-8"))
    return cal, independent


def _events(cal):
    return [c for c in cal.walk("VEVENT")]


def make_feed(client, organisation: int | None = None) -> str:
    """Make (or remake) an address on the settings page as the logged-in user; returns its
    token, read from that answer: the only place it is ever shown."""
    data = {"action": "create"}
    if organisation is not None:
        data["organisation"] = organisation
    response = client.post("/account/calendars", data=data)
    assert response.status_code == 201
    found = re.search(r"webcal://localhost/calendars/([A-Za-z0-9_-]+)\.ics",
                      response.get_data(as_text=True))
    assert found
    return found.group(1)


@pytest.fixture
def world(factories, db, now):
    org = factories.org(name="번동초등학교")
    manager = factories.manager(org)
    resident = factories.user(name="김주민, \"독서회\"; 대표")
    space = factories.space(owner=org, name="번동초 다목적실", address="서울 강북구 번동")
    start = (now + timedelta(days=3)).replace(hour=10, minute=0, second=0)  # 19:00 Seoul
    booking = factories.booking(space, resident, start=start, end=start + timedelta(hours=2),
                                purpose="독서 모임; 줄바꿈\n둘째 줄, 쉼표 " + "긴 글 " * 30)
    db.session.commit()
    return {"org": org, "manager": manager, "resident": resident, "space": space,
            "booking": booking}


def test_a_booking_file_parses_everywhere_and_keeps_its_uid_across_changes(
    world, client, login, db
):
    booking, resident = world["booking"], world["resident"]
    login(resident)
    first = client.get(f"/bookings/{booking.id}/calendar.ics")
    assert first.status_code == 200
    assert first.headers["Content-Type"] == "text/calendar; charset=utf-8"
    cal, independent = _parse(first.data)
    (event,) = _events(cal)
    assert str(event["uid"]) == f"booking-{booking.id}@localhost"
    assert int(event["sequence"]) == 0 and str(event["status"]) == "TENTATIVE"
    assert event.decoded("dtstart").utcoffset() == timedelta(hours=9)
    assert str(event["dtstart"].params["TZID"]) == "Asia/Seoul"
    assert cal.walk("VTIMEZONE") and str(cal.walk("VTIMEZONE")[0]["tzid"]) == "Asia/Seoul"
    assert "독서 모임; 줄바꿈\n둘째 줄, 쉼표" in str(event["description"])
    assert independent.vevent.uid.value == f"booking-{booking.id}@localhost"
    assert all(len(line) <= 75 for line in first.data.split(b"\r\n"))  # folded (octets)

    booking_services.approve(booking, world["manager"])
    db.session.commit()
    second = _events(_parse(client.get(f"/bookings/{booking.id}/calendar.ics").data)[0])[0]
    assert str(second["uid"]) == str(event["uid"])
    assert int(second["sequence"]) == 1 and str(second["status"]) == "CONFIRMED"

    booking_services.cancel(booking, resident)
    db.session.commit()
    body = client.get(f"/bookings/{booking.id}/calendar.ics").data
    cal, _ = _parse(body)
    assert str(cal["method"]) == "CANCEL"
    third = _events(cal)[0]
    assert int(third["sequence"]) == 2 and str(third["status"]) == "CANCELLED"


def test_the_public_busy_feed_has_no_personal_data_and_answers_not_modified(
    world, client
):
    space = world["space"]
    response = client.get(f"/spaces/{space.id}/busy.ics")
    assert response.status_code == 200 and "public" in response.headers["Cache-Control"]
    cal, _ = _parse(response.data)
    (event,) = _events(cal)
    text = response.data.decode()
    assert "김주민" not in text and "독서" not in text and "DESCRIPTION" not in text
    assert str(event["status"]) == "TENTATIVE"
    again = client.get(f"/spaces/{space.id}/busy.ics",
                       headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_personal_and_organisation_feeds_and_revoking_them(world, client, login, db):
    resident, manager = world["resident"], world["manager"]
    login(resident)
    token = make_feed(client)
    client.get("/logout")
    feed = client.get(f"/calendars/{token}.ics")  # no login: the token is the key
    assert feed.status_code == 200 and feed.headers.get("Last-Modified")
    (event,) = _events(_parse(feed.data)[0])
    assert str(event["uid"]) == f"booking-{world['booking'].id}@localhost"

    login(resident)
    new = make_feed(client)  # regenerate
    assert client.get(f"/calendars/{token}.ics").status_code == 404
    assert client.get(f"/calendars/{new}.ics").status_code == 200
    client.post("/account/calendars", data={"action": "revoke"})
    assert client.get(f"/calendars/{new}.ics").status_code == 404

    login(manager)
    org_token = make_feed(client, world["org"].id)
    events = _events(_parse(client.get(f"/calendars/{org_token}.ics").data)[0])
    assert len(events) == 1 and str(events[0]["status"]) == "TENTATIVE"
    # A resident cannot ask for an organisation's feed.
    login(resident)
    assert client.post("/account/calendars", data={
        "action": "create", "organisation": world["org"].id}).status_code == 404


def test_feeds_read_a_fixed_number_of_queries(world, factories, db, client, login,
                                              count_queries, now):
    login(world["resident"])
    token = make_feed(client)
    counts = []
    for n in (0, 6):
        for i in range(n):
            start = (now + timedelta(days=10 + i)).replace(hour=10, minute=0, second=0)
            space = factories.space(owner=world["org"], name=f"교실 {i}")
            factories.booking(space, world["resident"], start=start,
                              end=start + timedelta(hours=1))
        db.session.commit()
        with count_queries() as q:
            assert client.get(f"/calendars/{token}.ics").status_code == 200
        counts.append(q.count)
    assert counts[0] == counts[1]


def test_a_series_is_one_event_with_rrule_exdate_and_overrides(factories, db, client,
                                                              login, now):
    import recurring_ical_events

    from app.bookings import series as series_services
    from app.bookings.series import Repeat
    from tests.calendars.test_series import _first_weekday

    space = factories.space(timezone="Europe/Berlin")
    manager = factories.manager(space.owner)
    resident = factories.user()
    first = _first_weekday(now, 1)
    times = series_services.occurrences(Repeat("weekly", weekdays=(1,), count=5), first,
                                        18 * 60, 90, space.zone)
    factories.booking(space, factories.user(), start=times[1][0], end=times[1][1])
    series, _plan = series_services.create_series(
        space, resident, Repeat("weekly", weekdays=(1,), count=5), first, 18 * 60, 90,
        {"purpose": "합창", "attendees": 5}, skip_conflicts=True)
    made = series_services.series_bookings(series.id)
    booking_services.approve(made[0], manager)          # differs from the series: override
    booking_services.cancel(made[2], resident)          # cancelled: EXDATE
    db.session.commit()
    login(resident)
    body = client.get(f"/calendars/{make_feed(client)}.ics").data
    cal, independent = _parse(body)

    masters = [e for e in _events(cal) if "rrule" in e]
    assert len(masters) == 1
    master = masters[0]
    assert str(master["uid"]) == f"series-{series.id}@localhost"
    assert master["rrule"]["FREQ"] == ["WEEKLY"]
    assert str(master["dtstart"].params["TZID"]) == "Europe/Berlin"
    assert str(master["status"]) == "TENTATIVE"
    overrides = [e for e in _events(cal) if "recurrence-id" in e]
    assert len(overrides) == 1 and str(overrides[0]["status"]) == "CONFIRMED"
    # Expanded by an independent implementation, the series gives exactly the dates that go
    # ahead: not the one taken by someone else, not the cancelled one.
    window = (times[0][0] - timedelta(days=1), times[-1][1] + timedelta(days=1))
    expanded = recurring_ical_events.of(cal).between(*window)
    starts = sorted(e.decoded("dtstart") for e in expanded)
    going = [b.start_at for b in made if b.status in ("requested", "approved")]
    assert starts == sorted(going)
    assert len(starts) == 3
    assert independent.vevent.rruleset is not None


def test_feeds_are_the_same_bytes_a_second_later(world, client):
    import time

    first = client.get(f"/spaces/{world['space'].id}/busy.ics")
    time.sleep(1.1)
    second = client.get(f"/spaces/{world['space'].id}/busy.ics")
    assert first.data == second.data and first.headers["ETag"] == second.headers["ETag"]


def test_a_feed_answers_not_modified_from_one_aggregate_until_something_changes(
    world, client, login, db, count_queries
):
    login(world["resident"])
    token = make_feed(client)
    client.get("/logout")
    url = f"/calendars/{token}.ics"
    first = client.get(url)
    etag = first.headers["ETag"]
    assert etag.startswith('W/"')
    with count_queries() as q:
        again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    assert q.count <= 3  # the feed's row, its user, one aggregate
    booking_services.approve(world["booking"], world["manager"])
    db.session.commit()
    changed = client.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert b"STATUS:CONFIRMED" in changed.data
