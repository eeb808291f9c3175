"""The request queue and the decisions on bookings: approve, reject, cancel, attendance."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from app.bookings.models import Booking
from tests.conftest import next_weekday
from tests.factories import ALWAYS_OPEN
from tests.manage.helpers import text_of

HOUR = timedelta(hours=1)


def request_ids(response) -> list[int]:
    return [
        int(i)
        for i in re.findall(
            r'<article class="panel request" id="booking-(\d+)"', response.get_data(as_text=True)
        )
    ]


def status_of(db, booking) -> str:
    db.session.expire_all()
    return db.session.get(Booking, booking.id).status


@pytest.fixture
def requests_(factories, org, other_org, space, resident, now, db):
    """Three requests on my spaces made at different times, one on another org's space."""
    second = factories.space(owner=org, name="음악실", price_per_hour=12000)
    theirs = factories.space(owner=other_org, name="남의 공간")
    start = next_weekday(1, 10)
    made = {}
    for key, target, offset, created in [
        ("newest", space, 0, now - timedelta(hours=1)),
        ("oldest", second, 2, now - timedelta(days=2)),
        ("middle", space, 4, now - timedelta(days=1)),
        ("theirs", theirs, 0, now - timedelta(days=3)),
    ]:
        made[key] = factories.booking(
            target,
            resident,
            start=start + offset * HOUR,
            end=start + (offset + 2) * HOUR,
            purpose=f"모임 {key}",
            attendees=7,
            now=created,
        )
    factories.booking(space, start=start + 8 * HOUR, end=start + 9 * HOUR, status="approved")
    made["second"] = second
    db.session.commit()
    return made


def test_queue_shows_my_requests_oldest_first(requests_, manager, login, client):
    login(manager)
    response = client.get("/manage/queue")
    assert response.status_code == 200
    assert request_ids(response) == [
        requests_["oldest"].id,
        requests_["middle"].id,
        requests_["newest"].id,
    ]
    text = text_of(response)
    assert "남의 공간" not in text and "모임 theirs" not in text
    assert "3 requests." in text
    assert "김주민" in text and "모임 oldest" in text and "₩24,000" in text


def test_queue_filter_by_space(requests_, manager, login, client):
    login(manager)
    response = client.get(f"/manage/queue?space={requests_['second'].id}")
    assert request_ids(response) == [requests_["oldest"].id]
    # A space of another organisation filters to nothing and reveals nothing.
    theirs = requests_["theirs"].space_id
    assert request_ids(client.get(f"/manage/queue?space={theirs}")) == []


def test_queue_shows_local_times(requests_, manager, login, client):
    login(manager)
    text = text_of(client.get("/manage/queue"))
    booking = requests_["oldest"]
    local = booking.start_at.astimezone(booking.space.zone)
    assert f"{local:%Y-%m-%d} (Tue) 12:00–14:00" in text


def test_queue_is_paginated_with_bounded_queries(
    factories, org, space, manager, login, client, count_queries, db
):
    start = next_weekday(2, 9)
    for n in range(25):
        factories.booking(
            space,
            factories.user(),
            start=start + timedelta(days=n // 12, hours=n % 12),
            end=start + timedelta(days=n // 12, hours=n % 12 + 1),
        )
    db.session.commit()
    login(manager)
    client.get("/manage/queue")
    with count_queries() as q:
        first = client.get("/manage/queue")
    assert len(request_ids(first)) == 20
    # with the read of the browser's log-in session, the conflicts and closures of the cards and
    # the counts of the tabs and the navigation (one query)
    assert q.count <= 10
    assert len(request_ids(client.get("/manage/queue?page=2"))) == 5


def test_approve_with_a_note(requests_, manager, login, client, db):
    login(manager)
    booking = requests_["middle"]
    response = client.post(
        f"/manage/bookings/{booking.id}/approve",
        data={"note": "열쇠는 행정실에서 받으세요", "next": "/manage/queue?space=1"},
    )
    assert response.status_code == 302 and response.headers["Location"] == "/manage/queue?space=1"
    db.session.expire_all()
    booking = db.session.get(Booking, booking.id)
    assert booking.status == "approved" and booking.reason == "열쇠는 행정실에서 받으세요"
    assert booking.decided_by_id == manager.id
    assert "Approved: 김주민, 강당" in text_of(client.get("/manage/queue"))
    assert booking.id not in request_ids(client.get("/manage/queue"))


def test_reject_needs_a_reason(requests_, manager, login, client, db):
    login(manager)
    booking = requests_["middle"]
    response = client.post(
        f"/manage/bookings/{booking.id}/reject", data={"reason": "   "}, follow_redirects=True
    )
    assert response.status_code == 200
    assert "Nothing was changed: Please give a reason for the rejection." in text_of(response)
    assert status_of(db, booking) == "requested"
    response = client.post(
        f"/manage/bookings/{booking.id}/reject",
        data={"reason": "학교 행사가 있습니다"},
        follow_redirects=True,
    )
    assert "Rejected: 김주민" in text_of(response)
    assert status_of(db, booking) == "rejected"
    assert db.session.get(Booking, booking.id).reason == "학교 행사가 있습니다"


def test_deciding_twice_is_a_message_not_an_error(requests_, manager, login, client, db):
    login(manager)
    booking = requests_["middle"]
    client.post(f"/manage/bookings/{booking.id}/approve")
    response = client.post(
        f"/manage/bookings/{booking.id}/reject",
        data={"reason": "늦게 봤어요"},
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "Nothing was changed: A booking that is Approved cannot be changed that way." in (
        text_of(response)
    )
    assert status_of(db, booking) == "approved"


def test_owner_cancels_with_a_reason(requests_, manager, login, client, db):
    login(manager)
    booking = requests_["newest"]
    response = client.post(
        f"/manage/bookings/{booking.id}/cancel", data={"reason": ""}, follow_redirects=True
    )
    assert "Please tell the resident why the booking is cancelled." in text_of(response)
    assert status_of(db, booking) == "requested"
    response = client.post(
        f"/manage/bookings/{booking.id}/cancel",
        data={"reason": "시설 고장"},
        follow_redirects=True,
    )
    assert "Cancelled: 김주민, 강당" in text_of(response)
    assert status_of(db, booking) == "cancelled"


def test_unsafe_next_is_ignored(requests_, manager, login, client):
    login(manager)
    booking = requests_["newest"]
    response = client.post(
        f"/manage/bookings/{booking.id}/approve", data={"next": "https://evil.example/"}
    )
    assert response.headers["Location"] == "/manage/queue"


@pytest.fixture
def started(factories, org, resident, now, db):
    """An approved booking that started an hour ago, and one that starts tomorrow."""
    space = factories.space(owner=org, name="강당", capacity=50, hours=ALWAYS_OPEN)
    past = factories.booking(
        space,
        resident,
        start=now - HOUR,
        end=now + HOUR,
        status="approved",
        now=now - timedelta(days=1),
    )
    future = factories.booking(
        space,
        resident,
        start=now + timedelta(days=1),
        end=now + timedelta(days=1) + HOUR,
        status="confirmed",
    )
    db.session.commit()
    return past, future


@pytest.mark.parametrize(
    ("outcome", "status", "message"),
    [
        ("completed", "completed", "Marked as used: 김주민"),
        ("no_show", "no_show", "Marked as no-show: 김주민"),
    ],
)
def test_attendance_after_the_start(started, manager, login, client, db, outcome, status, message):
    login(manager)
    past, _future = started
    response = client.post(
        f"/manage/bookings/{past.id}/attendance", data={"outcome": outcome}, follow_redirects=True
    )
    assert message in text_of(response)
    assert status_of(db, past) == status


def test_attendance_before_the_start_or_without_outcome(started, manager, login, client, db):
    login(manager)
    past, future = started
    response = client.post(
        f"/manage/bookings/{future.id}/attendance",
        data={"outcome": "completed"},
        follow_redirects=True,
    )
    assert "Attendance can be recorded once the booking has started." in text_of(response)
    assert status_of(db, future) == "confirmed"
    response = client.post(
        f"/manage/bookings/{past.id}/attendance", data={"outcome": "maybe"}, follow_redirects=True
    )
    assert "Choose whether the booking was used." in text_of(response)
    assert status_of(db, past) == "approved"
