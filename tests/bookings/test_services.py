"""Booking services: validation messages, the state machine, overlap and buffers, the sweep."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.bookings import services, sweeps
from app.bookings.states import STATUS_LABELS, TRANSITIONS
from app.errors import InvalidTransition, NotAllowed, SlotTaken, ValidationFailed
from app.payments.services import record_offline
from tests.conftest import next_weekday

# The messages asserted here are the English ones.
pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
def space(factories):
    return factories.space(capacity=10, min_minutes=60, max_minutes=180, price_per_hour=12000)


@pytest.fixture
def resident(factories):
    return factories.user(name="김주민")


def _request(space, user, start, hours=2, **kw):
    values = {"purpose": "독서 모임", "attendees": 5} | kw
    return services.create_booking(
        space, user, start=start, end=start + timedelta(hours=hours), **values
    )


def test_request_mode_creates_a_request_with_history_and_price(space, resident):
    start = next_weekday(1, 10)
    booking = _request(space, resident, start, hours=1.5)
    assert booking.status == "requested"
    assert booking.price_amount == 18000 and booking.currency == "KRW"
    [first] = booking.transitions
    assert (first.from_status, first.to_status, first.actor) == (None, "requested", resident)


def test_instant_mode_confirms_at_once(factories, resident):
    space = factories.space(booking_mode="instant")
    booking = _request(space, resident, next_weekday(2, 10))
    assert booking.status == "confirmed"


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"end_delta": -1}, "end", "The end must be after the start."),
        ({"hours": 0.5}, "end", "The booking must last at least 60 minutes."),
        ({"hours": 4}, "end", "The booking may last at most 180 minutes."),
        ({"attendees": 11}, "attendees", "This space holds at most 10 people."),
        ({"attendees": 0}, "attendees", "At least one person must attend."),
        ({"purpose": "   "}, "purpose", "Please describe the purpose of the booking."),
        ({"purpose": "x" * 2001}, "purpose", "The purpose may be at most 2000 characters."),
    ],
)
def test_each_invalid_request_is_explained(space, resident, change, field, message):
    start = next_weekday(1, 10)
    end = start + timedelta(hours=change.get("hours", 2))
    if "end_delta" in change:
        end = start + timedelta(hours=change["end_delta"])
    with pytest.raises(ValidationFailed) as caught:
        services.create_booking(
            space,
            resident,
            start=start,
            end=end,
            purpose=change.get("purpose", "모임"),
            attendees=change.get("attendees", 3),
        )
    assert message in caught.value.errors[field]


def test_the_past_is_refused(space, resident):
    start = datetime.now(UTC) - timedelta(days=1)
    with pytest.raises(ValidationFailed) as caught:
        _request(space, resident, start)
    assert caught.value.errors["start"] == ["The start is in the past."]


def test_outside_opening_hours_is_refused(factories, resident):
    space = factories.space(hours={d: [(18 * 60, 22 * 60)] for d in range(5)})  # weekday evenings
    with pytest.raises(ValidationFailed, match="not open for the whole time"):
        _request(space, resident, next_weekday(1, 17))  # 17:00-19:00 starts before opening
    with pytest.raises(ValidationFailed, match="not open"):
        _request(space, resident, next_weekday(5, 19))  # Saturday: closed
    assert _request(space, resident, next_weekday(1, 18)).status == "requested"


def test_closure_is_refused_with_its_reason(factories, space, resident):
    start = next_weekday(3, 10)
    factories.closure(space, start - timedelta(hours=1), start + timedelta(hours=1), "시설 점검")
    with pytest.raises(ValidationFailed, match="시설 점검"):
        _request(space, resident, start)


def test_unpublished_space_cannot_be_booked_by_residents(factories, resident):
    space = factories.space(published=False)
    with pytest.raises(NotAllowed):
        _request(space, resident, next_weekday(1, 10))


def test_naive_times_are_refused(space, resident):
    naive = datetime(2030, 1, 7, 10)
    with pytest.raises(ValidationFailed):
        services.create_booking(
            space, resident, start=naive, end=naive + timedelta(hours=1), purpose="x", attendees=1
        )


def test_overlap_is_taken_and_adjacent_is_fine(space, factories):
    start = next_weekday(1, 13)
    _request(space, factories.user(), start)
    with pytest.raises(SlotTaken):
        _request(space, factories.user(), start + timedelta(hours=1))
    with pytest.raises(SlotTaken):
        _request(space, factories.user(), start - timedelta(hours=1))
    # Back to back, with no buffer: allowed on both sides.
    assert _request(space, factories.user(), start + timedelta(hours=2)).status == "requested"
    assert _request(space, factories.user(), start - timedelta(hours=2)).status == "requested"


def test_buffer_keeps_bookings_apart(factories):
    space = factories.space(buffer_minutes=30)
    start = next_weekday(2, 10)
    _request(space, factories.user(), start)  # 10-12
    with pytest.raises(SlotTaken):
        _request(space, factories.user(), start + timedelta(hours=2, minutes=15))  # 12:15
    assert _request(space, factories.user(), start + timedelta(hours=2, minutes=30)).is_active


def test_rejected_and_cancelled_bookings_free_the_slot(space, factories, db):
    manager = factories.manager(space.owner)
    start = next_weekday(4, 10)
    first = _request(space, factories.user(), start)
    services.reject(first, manager, reason="공사 예정")
    second = _request(space, factories.user(), start)
    services.cancel(second, second.user, reason="일정 변경")
    third = _request(space, factories.user(), start)
    db.session.commit()
    assert [first.status, second.status, third.status] == ["rejected", "cancelled", "requested"]


def test_approval_records_who_and_when(space, factories, resident):
    manager = factories.manager(space.owner)
    booking = _request(space, resident, next_weekday(1, 14))
    services.approve(booking, manager, reason="확인했습니다")
    assert booking.status == "approved"
    assert booking.decided_by == manager and booking.decided_at is not None
    assert [t.to_status for t in booking.transitions] == ["requested", "approved"]
    assert booking.transitions[-1].actor == manager


def test_rejection_needs_a_reason_and_changes_nothing_without_one(space, factories, resident):
    manager = factories.manager(space.owner)
    booking = _request(space, resident, next_weekday(1, 14))
    with pytest.raises(ValidationFailed, match="reason"):
        services.reject(booking, manager, reason="  ")
    assert booking.status == "requested" and len(booking.transitions) == 1


def test_only_the_owners_managers_decide(space, factories, resident):
    other_manager = factories.manager(factories.org())
    booking = _request(space, resident, next_weekday(1, 14))
    for actor in (resident, other_manager):
        with pytest.raises(NotAllowed):
            services.approve(booking, actor)
    with pytest.raises(NotAllowed):
        services.cancel(booking, factories.user())


def test_invalid_transitions_are_refused(space, factories, resident):
    manager = factories.manager(space.owner)
    booking = _request(space, resident, next_weekday(1, 14))
    services.reject(booking, manager, reason="중복 신청")
    with pytest.raises(InvalidTransition):
        services.approve(booking, manager)
    with pytest.raises(InvalidTransition):
        services.cancel(booking, resident)


def test_residents_cannot_cancel_after_the_start(space, factories, resident):
    start = next_weekday(1, 10)
    booking = _request(space, resident, start)
    later = start + timedelta(minutes=30)
    with pytest.raises(InvalidTransition, match="already started"):
        services.cancel(booking, resident, now=later)
    manager = factories.manager(space.owner)
    services.cancel(booking, manager, reason="정전", now=later)
    assert booking.status == "cancelled"


def test_attendance_only_after_the_start(space, factories, resident):
    manager = factories.manager(space.owner)
    start = next_weekday(1, 10)
    booking = _request(space, resident, start)
    services.approve(booking, manager)
    with pytest.raises(InvalidTransition):
        services.mark_attendance(booking, manager, showed_up=False)
    services.mark_attendance(booking, manager, showed_up=False, now=start + timedelta(hours=3))
    assert booking.status == "no_show"


def test_a_request_whose_time_has_begun_cannot_be_approved(space, factories, resident, db):
    manager = factories.manager(space.owner)
    start = next_weekday(1, 10)
    booking = _request(space, resident, start)
    with pytest.raises(InvalidTransition, match="already begun"):
        services.approve(booking, manager, now=start + timedelta(minutes=1))
    assert booking.status == "requested" and len(booking.transitions) == 1
    services.approve(booking, manager, now=start - timedelta(minutes=1))
    assert booking.status == "approved"


def test_sweep_expires_undecided_requests_and_completes_old_bookings(space, factories, db):
    manager = factories.manager(space.owner)
    start = next_weekday(1, 10)
    undecided = _request(space, factories.user(), start)
    approved = _request(space, factories.user(), start + timedelta(hours=3))
    services.approve(approved, manager)
    # Paid (an unpaid one is expired by the payment sweep instead: tests/payments).
    record_offline(approved, manager, method="cash", amount=approved.price_amount,
                   reference="영수증 1")
    db.session.commit()
    nothing = {"expired": 0, "escalated": 0, "auto_approved": 0, "drawn": 0, "completed": 0}
    assert sweeps.sweep(now=start - timedelta(minutes=1)) == nothing
    assert sweeps.sweep(now=start + timedelta(minutes=1)) == {**nothing, "expired": 1}
    later = start + timedelta(days=4)
    assert sweeps.sweep(now=later) == {**nothing, "completed": 1}
    assert sweeps.sweep(now=later) == nothing  # idempotent
    assert (undecided.status, approved.status) == ("expired", "completed")
    assert undecided.transitions[-1].actor is None


def test_transition_table_is_complete_and_terminal_states_are_final():
    assert set(TRANSITIONS) - {None} == set(STATUS_LABELS)
    for state in ("rejected", "cancelled", "expired", "completed", "no_show"):
        assert TRANSITIONS[state] == frozenset()
    reachable = set().union(*TRANSITIONS.values())
    assert reachable == set(STATUS_LABELS)


def test_a_deadlock_between_racing_inserts_is_a_taken_slot(space, factories, db, monkeypatch):
    """PostgreSQL may resolve two overlapping inserts by aborting one as a deadlock (40P01);
    that request lost the race and hears so, instead of a server error."""
    from sqlalchemy.exc import OperationalError

    from app.bookings.models import Booking

    class Deadlock(Exception):
        sqlstate = "40P01"

    user = factories.user()
    db.session.commit()
    session = db.session()
    real_flush = session.flush

    def deadlocked(*args, **kwargs):
        if any(isinstance(obj, Booking) for obj in session.new):
            raise OperationalError("INSERT INTO bookings ...", {}, Deadlock("deadlock detected"))
        return real_flush(*args, **kwargs)

    monkeypatch.setattr(session, "flush", deadlocked)
    with pytest.raises(SlotTaken):
        _request(space, user, next_weekday(1, 10))
