"""A resident's booking pages: the list, one booking with its history, cancelling."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from app.bookings import services
from app.bookings.models import Booking
from tests.conftest import next_weekday
from tests.factories import ALWAYS_OPEN


@pytest.fixture(autouse=True)
def _english(app, monkeypatch):
    """Assertions read the English messages; the pages default to Korean once translated."""
    monkeypatch.setattr(app.extensions["babel"], "locale_selector", lambda: "en")


def listed(client, **args) -> list[int]:
    """Ids of the bookings the list page links to, in order."""
    response = client.get("/bookings", query_string=args)
    assert response.status_code == 200
    return [int(n) for n in re.findall(r'href="/bookings/(\d+)"', response.get_data(as_text=True))]


def test_my_bookings_needs_login(client):
    response = client.get("/bookings")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_upcoming_and_past_tabs(client, db, factories, login, now):
    me, other = factories.user(), factories.user()
    space = factories.space(name="마을 회의실", hours=ALWAYS_OPEN)
    soon = next_weekday(1, 10)
    later = next_weekday(1, 10, weeks=2)
    upcoming_late = factories.booking(space, me, start=later, end=later + timedelta(hours=1))
    upcoming = factories.booking(space, me, start=soon, end=soon + timedelta(hours=1))
    past_start = now - timedelta(days=3)
    past = factories.booking(
        space,
        me,
        start=past_start,
        end=past_start + timedelta(hours=1),
        now=past_start - timedelta(days=1),
        status="completed",
    )
    factories.booking(space, other, start=soon + timedelta(hours=3), end=soon + timedelta(hours=4))
    db.session.commit()
    login(me)

    assert listed(client) == [upcoming.id, upcoming_late.id]  # soonest first
    assert listed(client, when="past") == [past.id]
    page = client.get("/bookings").get_data(as_text=True)
    assert "마을 회의실" in page
    assert 'class="badge status-requested"' in page
    local_soon = soon.astimezone(space.zone)
    assert f"{local_soon:%Y-%m-%d}" in page and f"{local_soon:%H:%M}" in page
    assert 'aria-current="page"' in page


def test_my_bookings_are_paged(client, db, factories, login, app, monkeypatch):
    monkeypatch.setitem(app.config, "SEARCH_PER_PAGE", 3)
    me = factories.user()
    space = factories.space()
    for week in range(1, 6):
        start = next_weekday(2, 10, weeks=week)
        factories.booking(space, me, start=start, end=start + timedelta(hours=1))
    db.session.commit()
    login(me)
    assert len(listed(client)) == 3
    assert len(listed(client, page=2)) == 2
    assert "1 / 2" in client.get("/bookings").get_data(as_text=True)


def test_booking_page_shows_facts_decision_and_history(client, db, factories, login):
    org = factories.org(name="수유 주민센터")
    space = factories.space(owner=org, name="주민센터 강당", price_per_hour=20000, capacity=60)
    manager = factories.manager(org)
    me = factories.user(name="이주민")
    start = next_weekday(4, 19)
    booking = factories.booking(
        space,
        me,
        start=start,
        end=start + timedelta(hours=2),
        purpose="마을 영화 상영",
        attendees=40,
    )
    services.reject(booking, manager, reason="같은 날 구청 행사가 있습니다")
    db.session.commit()
    login(me)
    page = client.get(f"/bookings/{booking.id}").get_data(as_text=True)
    for text in (
        "주민센터 강당",
        "수유 주민센터",
        "마을 영화 상영",
        "40",
        "₩40,000",
        "Rejected",
        "같은 날 구청 행사가 있습니다",
        "시설 담당자",
        "이주민",
        f"{start.astimezone(space.zone):%H:%M}",
        "Asia/Seoul",
    ):
        assert text in page, text
    history = page.split('<ol class="history">')[1].split("</ol>")[0]
    assert history.index("Requested") < history.index("Rejected")
    assert "Cancel the booking" not in page  # a rejected booking cannot be cancelled


@pytest.mark.parametrize("who", ["stranger", "nobody"])
def test_someone_elses_booking_is_not_found(client, db, factories, login, who):
    owner = factories.user()
    start = next_weekday(3, 10)
    booking = factories.booking(
        factories.space(), owner, start=start, end=start + timedelta(hours=1)
    )
    stranger = factories.user()
    db.session.commit()
    if who == "stranger":
        login(stranger)
        assert client.get(f"/bookings/{booking.id}").status_code == 404
        assert client.get("/bookings/999999").status_code == 404  # the same answer
        assert client.post(f"/bookings/{booking.id}/cancel").status_code == 404
    else:
        assert client.get(f"/bookings/{booking.id}").status_code == 302  # log in first
    db.session.expire_all()
    assert db.session.get(Booking, booking.id).status == "requested"


def test_cancel_is_recorded_in_the_history(client, db, factories, login):
    me = factories.user(name="최주민")
    start = next_weekday(5, 10)
    booking = factories.booking(factories.space(), me, start=start, end=start + timedelta(hours=1))
    db.session.commit()
    login(me)
    assert "Cancel the booking" in client.get(f"/bookings/{booking.id}").get_data(as_text=True)

    response = client.post(
        f"/bookings/{booking.id}/cancel", data={"reason": "일정이 바뀌었어요", "confirm": "1"}
    )
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "The booking was cancelled." in page
    history = page.split('<ol class="history">')[1].split("</ol>")[0]
    assert "Cancelled" in history and "일정이 바뀌었어요" in history and "최주민" in history
    assert "Cancel the booking" not in page

    db.session.expire_all()
    booking = db.session.get(Booking, booking.id)
    assert booking.status == "cancelled"
    last = booking.transitions[-1]
    assert (last.from_status, last.to_status, last.actor_id, last.reason) == (
        "requested",
        "cancelled",
        me.id,
        "일정이 바뀌었어요",
    )


def test_cancelling_twice_explains_why_not(client, db, factories, login):
    me = factories.user()
    start = next_weekday(5, 10)
    booking = factories.booking(factories.space(), me, start=start, end=start + timedelta(hours=1))
    db.session.commit()
    login(me)
    client.post(f"/bookings/{booking.id}/cancel", data={"confirm": "1"})
    response = client.post(
        f"/bookings/{booking.id}/cancel", data={"confirm": "1"}, follow_redirects=True
    )
    assert response.status_code == 200
    assert "cannot be changed that way" in response.get_data(as_text=True)
    db.session.expire_all()
    assert len(db.session.get(Booking, booking.id).transitions) == 2


def test_a_started_booking_cannot_be_cancelled_by_the_resident(client, db, factories, login, now):
    me = factories.user()
    start = now - timedelta(minutes=30)
    booking = factories.booking(
        factories.space(hours=ALWAYS_OPEN),
        me,
        start=start,
        end=start + timedelta(hours=2),
        now=start - timedelta(days=1),
        status="confirmed",
    )
    db.session.commit()
    login(me)
    assert "Cancel the booking" not in client.get(f"/bookings/{booking.id}").get_data(as_text=True)
    response = client.post(
        f"/bookings/{booking.id}/cancel", data={"confirm": "1"}, follow_redirects=True
    )
    assert "A booking that has already started cannot be cancelled." in response.get_data(
        as_text=True
    )
    db.session.expire_all()
    assert db.session.get(Booking, booking.id).status == "confirmed"


def test_booking_pages_run_a_bounded_number_of_queries(client, db, factories, login, count_queries):
    me = factories.user()
    manager = factories.manager()
    spaces = [factories.space(jurisdictions=[factories.jurisdiction()]) for _ in range(6)]
    bookings = []
    for week in range(1, 4):
        for n, space in enumerate(spaces):
            start = next_weekday(n, 10, weeks=week)
            bookings.append(
                factories.booking(space, me, start=start, end=start + timedelta(hours=1))
            )
    for b in bookings[:5]:
        services.transition(b, "approved", manager, reason="확인")
    db.session.commit()
    login(me)
    with count_queries() as q:
        client.get("/bookings")
    list_queries = q.count
    with count_queries() as q:
        client.get(f"/bookings/{bookings[0].id}")
    # Each counts the read of the browser's log-in session (one query, whatever the data).
    assert list_queries <= 7  # + the bookings needing action
    assert q.count <= 9
