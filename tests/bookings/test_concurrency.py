"""The key guarantee: a space is never double-booked, even when requests race.

Real HTTP against a threaded server, many residents released together by a barrier. On SQLite
the write requests are serialized (BEGIN IMMEDIATE, see app.db); on PostgreSQL the exclusion
constraint `ex_bookings_no_overlap` decides. Either way exactly one request wins.
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import requests
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from app.accounts.models import ApiToken
from app.bookings import services as booking_services
from app.bookings.models import Booking
from app.bookings.states import ACTIVE
from tests.conftest import next_weekday

RACERS = 24
SEOUL = ZoneInfo("Asia/Seoul")


@pytest.fixture
def residents(factories, db):
    """`RACERS` residents, each with their own bearer token."""
    headers = []
    for n in range(RACERS):
        user = factories.user(name=f"주민 {n}")
        _row, plain = ApiToken.issue(user, "race")
        headers.append({"Authorization": f"Bearer {plain}"})
    db.session.commit()
    return headers


@pytest.fixture
def race(live_server, db):
    """`race(calls)` sends each (method, path, json, headers) from its own thread, all at once,
    and returns the responses in the same order."""

    def _race(calls) -> list[requests.Response]:
        db.session.commit()  # the server must see the test's data, and not wait for its lock
        return _send_together(live_server.url, calls)

    return _race


def _send_together(base_url: str, calls) -> list[requests.Response]:
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(i: int, method: str, path: str, body, headers) -> None:
        with requests.Session() as http:
            barrier.wait(timeout=30)
            try:
                results[i] = http.request(
                    method, base_url + path, json=body, headers=headers, timeout=120
                )
            except requests.RequestException as exc:  # reported below, not lost in a thread
                results[i] = exc

    threads = [threading.Thread(target=run, args=(i, *call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    assert all(isinstance(r, requests.Response) for r in results), results
    return results


def booking_calls(space, slots, residents):
    return [
        (
            "POST",
            "/api/v1/bookings",
            {
                "space_id": space.id,
                "start": start.isoformat(),
                "end": end.isoformat(),
                "purpose": "동시 예약 시험",
                "attendees": 4,
            },
            headers,
        )
        for (start, end), headers in zip(slots, residents, strict=True)
    ]


def active_bookings(db, space) -> list[Booking]:
    db.session.commit()  # end this thread's transaction to see what the server committed
    return db.session.scalars(
        select(Booking).where(Booking.space_id == space.id, Booking.status.in_(ACTIVE))
    ).all()


def assert_exactly_one_winner(responses, db, space) -> tuple[Booking, int]:
    """Exactly one 201, the others 409 slot_taken, and one active booking: the winner's.

    Returns the booking and the position of the winning call."""
    statuses = Counter(r.status_code for r in responses)
    assert statuses == {201: 1, 409: len(responses) - 1}, [
        (r.status_code, r.text[:200]) for r in responses if r.status_code not in (201, 409)
    ]
    for response in responses:
        if response.status_code == 409:
            assert response.json()["error"]["code"] == "slot_taken"
    position = next(i for i, r in enumerate(responses) if r.status_code == 201)
    active = active_bookings(db, space)
    assert [b.id for b in active] == [responses[position].json()["id"]]
    return active[0], position


def test_same_slot(race, db, factories, residents):
    space = factories.space(name="인기 강당")
    start = next_weekday(2, 19)
    slots = [(start, start + timedelta(hours=2))] * RACERS
    responses = race(booking_calls(space, slots, residents))
    assert_exactly_one_winner(responses, db, space)


def test_overlapping_slots(race, db, factories, residents):
    """Each request starts 15 minutes after the previous one; every pair overlaps."""
    space = factories.space(max_minutes=600)
    first = next_weekday(3, 9)
    length = timedelta(minutes=15 * RACERS + 15)
    slots = [
        (first + timedelta(minutes=15 * i), first + timedelta(minutes=15 * i) + length)
        for i in range(RACERS)
    ]
    responses = race(booking_calls(space, slots, residents))
    assert_exactly_one_winner(responses, db, space)


def test_slots_inside_each_others_buffer(race, db, factories, residents):
    """Two times 15 minutes apart, with a 30-minute buffer: only one of them may be booked."""
    space = factories.space(buffer_minutes=30)
    first = next_weekday(4, 10)
    a = (first, first + timedelta(hours=1))
    b = (a[1] + timedelta(minutes=15), a[1] + timedelta(minutes=75))
    slots = [a if i % 2 else b for i in range(RACERS)]
    responses = race(booking_calls(space, slots, residents))
    assert_exactly_one_winner(responses, db, space)


def test_distinct_slots_all_within_one_buffer(race, db, factories, residents):
    """Every request is for a different half hour and none overlaps another, but the buffer is
    longer than the whole range: the first to arrive keeps everyone else out."""
    space = factories.space(min_minutes=30, buffer_minutes=30 * RACERS)
    first = next_weekday(5, 9)
    slots = [
        (first + timedelta(minutes=30 * i), first + timedelta(minutes=30 * (i + 1)))
        for i in range(RACERS)
    ]
    responses = race(booking_calls(space, slots, residents))
    assert_exactly_one_winner(responses, db, space)


def test_free_slots_all_succeed_at_once(race, db, factories, residents):
    """No false conflicts: residents racing for different free times all get them."""
    spaces = [factories.space(name=f"방 {n}") for n in range(2)]
    first = next_weekday(1, 9)
    calls = []
    for i, headers in enumerate(residents):
        space = spaces[i % 2]
        start = first + timedelta(days=(i // 2) // 12, hours=(i // 2) % 12)
        calls += booking_calls(space, [(start, start + timedelta(hours=1))], [headers])
    responses = race(calls)
    assert [r.status_code for r in responses] == [201] * RACERS, [r.text for r in responses]
    assert sum(len(active_bookings(db, s)) for s in spaces) == RACERS


def test_readers_are_never_hurt_by_racing_writers(race, db, factories, residents):
    """Half the residents read availability and their bookings while the others race."""
    space = factories.space()
    start = next_weekday(0, 14)
    writers = residents[: RACERS // 2]
    readers = residents[RACERS // 2 :]
    calls = booking_calls(space, [(start, start + timedelta(hours=1))] * len(writers), writers)
    day = start.astimezone(SEOUL).date()
    for n, headers in enumerate(readers):
        path = f"/api/v1/spaces/{space.id}/availability?from={day}" if n % 2 else "/api/v1/bookings"
        calls.append(("GET", path, None, headers))
    responses = race(calls)
    assert all(r.status_code == 200 for r in responses[len(writers) :]), [
        r.text[:200] for r in responses[len(writers) :]
    ]
    assert_exactly_one_winner(responses[: len(writers)], db, space)


def test_a_cancelled_winner_frees_the_slot_for_the_next_race(
    live_server, race, db, factories, residents
):
    space = factories.space()
    start = next_weekday(6, 10)
    calls = booking_calls(space, [(start, start + timedelta(hours=1))] * RACERS, residents)
    first, position = assert_exactly_one_winner(race(calls), db, space)
    cancelled = requests.post(
        f"{live_server.url}/api/v1/bookings/{first.id}/cancel",
        json={"reason": "일정 변경"},
        headers=residents[position],
        timeout=30,
    )
    assert cancelled.status_code == 200, cancelled.text
    second, _position = assert_exactly_one_winner(race(calls), db, space)
    assert second.id != first.id


# --- The constraint itself (PostgreSQL) -------------------------------------------------------


def _insert(db, space, user, start: datetime, end: datetime, status: str = "requested"):
    """A booking row written with plain SQL, bypassing every check of the application."""
    half = timedelta(minutes=space.buffer_minutes / 2)
    db.session.execute(
        text(
            "INSERT INTO bookings (space_id, user_id, start_at, end_at, hold_start, hold_end, "
            "purpose, attendees, status, price_amount, currency, created_at) VALUES (:space, "
            ":user, :start, :end, :hold_start, :hold_end, 'sql', 1, :status, 0, 'KRW', now())"
        ),
        {
            "space": space.id,
            "user": user.id,
            "start": start,
            "end": end,
            "hold_start": start - half,
            "hold_end": end + half,
            "status": status,
        },
    )


@pytest.fixture
def postgresql_only(db):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the exclusion constraint ex_bookings_no_overlap is PostgreSQL's")


def test_database_refuses_an_overlapping_row(postgresql_only, db, factories):
    space = factories.space(buffer_minutes=30)
    user = factories.user()
    start = datetime(2030, 3, 4, 1, 0, tzinfo=UTC)
    _insert(db, space, user, start, start + timedelta(hours=2))
    db.session.commit()
    # Overlapping in time, and merely inside the buffer: both refused by the database itself.
    for other in [
        (start + timedelta(hours=1), start + timedelta(hours=3)),
        (start + timedelta(hours=2, minutes=10), start + timedelta(hours=3)),
    ]:
        with pytest.raises(IntegrityError, match="ex_bookings_no_overlap"):
            _insert(db, space, user, *other)
        db.session.rollback()
    # A full buffer away is fine, and so is the same time in another space.
    _insert(db, space, user, start + timedelta(hours=2, minutes=30), start + timedelta(hours=3))
    _insert(db, factories.space(), user, start, start + timedelta(hours=2))
    db.session.commit()


def test_database_alone_keeps_the_guarantee(
    postgresql_only, monkeypatch, race, db, factories, residents
):
    """Even with the application's own overlap check switched off, the constraint lets exactly
    one of the racing requests through and the others still get a clean 409."""
    monkeypatch.setattr(booking_services, "_check_slot", lambda space, start, end, user: None)
    space = factories.space(buffer_minutes=30)
    first = next_weekday(2, 10)
    slots = [
        (first + timedelta(minutes=15 * (i % 4)), first + timedelta(minutes=15 * (i % 4) + 60))
        for i in range(RACERS)
    ]
    assert_exactly_one_winner(race(booking_calls(space, slots, residents)), db, space)


@pytest.mark.parametrize("status", ["rejected", "cancelled", "expired", "completed", "no_show"])
def test_inactive_bookings_do_not_hold_the_slot(postgresql_only, db, factories, status):
    space = factories.space()
    user = factories.user()
    start = datetime(2030, 3, 5, 1, 0, tzinfo=UTC)
    _insert(db, space, user, start, start + timedelta(hours=2), status=status)
    _insert(db, space, user, start, start + timedelta(hours=2))  # same time, active
    db.session.commit()
    # Bringing the old one back to life would double-book: refused too.
    with pytest.raises(IntegrityError, match="ex_bookings_no_overlap"):
        db.session.execute(
            text("UPDATE bookings SET status = 'approved' WHERE status = :status"),
            {"status": status},
        )
    db.session.rollback()
