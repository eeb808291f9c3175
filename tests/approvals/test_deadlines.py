"""Stage deadlines in working days (Korean weekends and public holidays skipped, Seoul time)
and the sweep that runs them: pass on, approve or expire, and expire unanswered returns.

Dates are fixed (December 2026 to January 2027, around Christmas and New Year's Day) and every
service gets an explicit `now`, so nothing depends on today's date.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from app.bookings import approvals, services, sweeps
from app.bookings.models import Booking
from app.extensions import db
from tests.approvals import (
    SEOUL,
    add_rules,
    end_of,
    make_principal,
    school_world,
    seoul,
)
from tests.factories import Factories

pytestmark = pytest.mark.usefixtures("english")

ZERO = {"expired": 0, "escalated": 0, "auto_approved": 0, "drawn": 0, "completed": 0}
SECOND = timedelta(seconds=1)

FRIDAY = date(2026, 12, 4)
WEDNESDAY_AFTER = date(2026, 12, 9)
FAR = seoul(date(2027, 1, 19), 10)  # a Tuesday, after every deadline below


def counts(**changes) -> dict:
    return ZERO | changes


# --- Working days ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("start", "days", "last_day"),
    [
        # Friday afternoon, 3 working days: Monday, Tuesday, Wednesday.
        (seoul(FRIDAY, 15), 3, WEDNESDAY_AFTER),
        # Late on Friday in Seoul is still Thursday in UTC: the local day counts.
        (seoul(FRIDAY, 8, 30), 3, WEDNESDAY_AFTER),
        (seoul(FRIDAY, 23, 59), 3, WEDNESDAY_AFTER),
        # Saturday and Sunday count as nothing.
        (seoul(date(2026, 12, 5), 10), 1, date(2026, 12, 7)),
        (seoul(date(2026, 12, 6), 10), 3, WEDNESDAY_AFTER),
        # Christmas Day (Friday 25 December 2026) is a public holiday.
        (seoul(date(2026, 12, 24), 10), 3, date(2026, 12, 30)),
        (seoul(date(2026, 12, 24), 10), 1, date(2026, 12, 28)),
        # New Year's Day 2027 is a Friday: Thursday plus one working day is Monday.
        (seoul(date(2026, 12, 31), 10), 1, date(2027, 1, 4)),
        # Seollal 2027: 6–8 February and the alternative holiday on Tuesday the 9th.
        (seoul(date(2027, 2, 5), 10), 1, date(2027, 2, 10)),
    ],
)
def test_add_working_days_ends_at_the_end_of_the_last_working_day(start, days, last_day):
    due = approvals.add_working_days(start, days, SEOUL)
    assert due == end_of(last_day)
    local = due.astimezone(SEOUL)
    assert (local.hour, local.minute) == (0, 0)


def test_a_friday_request_is_due_at_the_end_of_wednesday(factories):
    w = school_world(factories)
    booking = w.request(start=FAR, now=seoul(FRIDAY, 15))
    stage = booking.current_stage
    assert stage.due_at == end_of(WEDNESDAY_AFTER)
    assert f"{stage.due_at.astimezone(SEOUL):%Y-%m-%d %H:%M}" == "2026-12-10 00:00"


def test_a_deadline_over_christmas_skips_the_holiday(factories):
    w = school_world(factories)
    booking = w.request(start=FAR, now=seoul(date(2026, 12, 24), 11))
    assert booking.current_stage.due_at == end_of(date(2026, 12, 30))


def test_a_deadline_is_capped_at_the_booking_start(factories):
    w = school_world(factories)
    start = seoul(date(2026, 12, 8), 10)  # Tuesday, before Wednesday's deadline
    booking = w.request(start=start, now=seoul(FRIDAY, 15))
    assert booking.current_stage.due_at == start
    # The sweep at the start expires it once (not also as an overdue stage).
    assert sweeps.sweep(now=start - SECOND) == ZERO
    assert sweeps.sweep(now=start) == counts(expired=1)
    assert booking.status == "expired" and booking.reason == "Not decided before the start."
    assert [s.state for s in booking.stages] == ["expired", "skipped", "skipped", "skipped"]
    assert sweeps.sweep(now=start) == ZERO


# --- The sweep at a stage's deadline ------------------------------------------------------------
def test_escalate_passes_the_request_on_with_a_new_deadline(factories):
    w = school_world(factories)
    booking = w.request(start=FAR, now=seoul(FRIDAY, 15))
    due = end_of(WEDNESDAY_AFTER)
    assert sweeps.sweep(now=due - SECOND) == ZERO
    assert sweeps.sweep(now=due) == counts(escalated=1)
    assert booking.status == "requested"
    assert [s.state for s in booking.stages] == ["escalated", "pending", "waiting", "waiting"]
    assert booking.stages[0].decided_at == due and booking.stages[0].decided_by is None
    principal_stage = booking.current_stage
    assert principal_stage.position == 1 and principal_stage.started_at == due
    # Two working days from Thursday 00:00: Friday and Monday.
    assert principal_stage.due_at == end_of(date(2026, 12, 14))
    # Idempotent: nothing is left to do at the same moment.
    assert sweeps.sweep(now=due) == ZERO
    # Only the principal decides now.
    assert booking.can_decide_now(w.principal) and not booking.can_decide_now(w.manager)


def test_expire_at_the_deadline_releases_the_slot(factories):
    w = school_world(factories)
    booking = w.request(start=FAR, now=seoul(FRIDAY, 15))
    services.approve(booking, w.manager, now=seoul(date(2026, 12, 7), 9))
    due = booking.current_stage.due_at
    assert due == end_of(WEDNESDAY_AFTER)  # Monday + 2 working days
    assert sweeps.sweep(now=due - SECOND) == ZERO
    assert sweeps.sweep(now=due) == counts(expired=1)
    assert booking.status == "expired"
    assert booking.reason == (
        "Not decided in time by: Head of the owner organisation (번동초등학교)."
    )
    assert [s.state for s in booking.stages] == ["approved", "expired", "skipped", "skipped"]
    assert booking.stage_position is None
    assert sweeps.sweep(now=due) == ZERO
    again = w.request(w.neighbour(), start=FAR, now=due + SECOND)
    assert again.status == "requested"
    db.session.commit()


@pytest.fixture
def simple(factories):
    """`simple(stages)`: a published hall whose own rule set has just these stages, with its
    owner's manager and principal."""

    def _make(stages: list[dict]):
        org = factories.org(name="번동 주민센터", kind="community_center")
        hall = factories.space(owner=org, name="다목적홀", capacity=40)
        add_rules(space_id=hall.id, body={"stages": stages})
        return hall, factories.manager(org), make_principal(factories, org)

    return _make


def ask(space, now, start=FAR):
    """A request of a new resident for two hours at `start`, made at `now`."""
    return services.create_booking(
        space,
        Factories().user(name="주민"),
        start=start,
        end=start + timedelta(hours=2),
        purpose="주민 모임",
        attendees=8,
        now=now,
    )


def test_approve_at_the_deadline_approves_stage_after_stage(simple):
    hall, _manager, _principal = simple(
        [
            {"approver": "owner_manager", "deadline_days": 2, "on_deadline": "approve"},
            {"approver": "owner_principal", "deadline_days": 1, "on_deadline": "approve"},
        ]
    )
    booking = ask(hall, seoul(date(2026, 12, 1), 10))  # Tuesday
    first_due = end_of(date(2026, 12, 3))
    assert booking.current_stage.due_at == first_due
    assert sweeps.sweep(now=first_due) == counts(auto_approved=1)
    assert booking.status == "requested"
    assert [s.state for s in booking.stages] == ["auto_approved", "pending"]
    second_due = booking.current_stage.due_at
    assert second_due == end_of(date(2026, 12, 7))  # Friday 00:00 + 1 working day: Monday
    assert sweeps.sweep(now=second_due) == counts(auto_approved=1)
    assert booking.status == "approved"
    assert booking.reason == "Approved when the deadline passed."
    assert [s.state for s in booking.stages] == ["auto_approved", "auto_approved"]
    assert booking.decided_at == second_due and booking.decided_by is None
    assert sweeps.sweep(now=second_due) == ZERO


def test_escalate_on_the_last_stage_expires(simple):
    hall, _manager, _principal = simple(
        [{"approver": "owner_manager", "deadline_days": 1, "on_deadline": "escalate"}]
    )
    booking = ask(hall, seoul(FRIDAY, 15))
    due = end_of(date(2026, 12, 7))
    assert booking.current_stage.due_at == due
    assert sweeps.sweep(now=due) == counts(expired=1)
    assert booking.status == "expired" and booking.reason == "No stage left to decide."
    assert [s.state for s in booking.stages] == ["expired"]
    assert sweeps.sweep(now=due) == ZERO


def test_a_returned_request_unanswered_expires(factories):
    w = school_world(factories)
    booking = w.request(start=FAR, now=seoul(FRIDAY, 15))
    returned_at = seoul(date(2026, 12, 7), 10)  # Monday
    services.return_to_resident(booking, w.manager, reason="인원을 알려 주세요", now=returned_at)
    due = booking.current_stage.due_at
    assert due == end_of(date(2026, 12, 10))  # three working days to answer
    # The stage's own deadline (Wednesday) no longer applies while the resident answers.
    assert sweeps.sweep(now=end_of(WEDNESDAY_AFTER)) == ZERO
    assert booking.status == "returned"
    assert sweeps.sweep(now=due) == counts(expired=1)
    assert booking.status == "expired" and booking.reason == "The resident did not answer in time."
    assert [s.state for s in booking.stages] == ["expired", "skipped", "skipped", "skipped"]
    assert sweeps.sweep(now=due) == ZERO


def test_a_returned_request_answered_in_time_does_not_expire(factories):
    w = school_world(factories)
    booking = w.request(start=FAR, now=seoul(FRIDAY, 15))
    services.return_to_resident(
        booking, w.manager, reason="인원을 알려 주세요", now=seoul(date(2026, 12, 7), 10)
    )
    answered = seoul(date(2026, 12, 10), 9)
    services.resubmit(
        booking,
        w.resident,
        purpose="배드민턴",
        attendees=10,
        purpose_category="sports",
        now=answered,
    )
    assert booking.current_stage.due_at == end_of(date(2026, 12, 15))
    assert sweeps.sweep(now=end_of(date(2026, 12, 10))) == ZERO
    assert booking.status == "requested"


def test_one_sweep_counts_every_kind_and_a_second_finds_nothing(factories, simple):
    requested_at = seoul(FRIDAY, 15)
    due = end_of(date(2026, 12, 7))  # Friday + 1 working day
    escalating, _m, _p = simple(
        [
            {"approver": "owner_manager", "deadline_days": 1, "on_deadline": "escalate"},
            {"approver": "owner_principal", "deadline_days": 3, "on_deadline": "expire"},
        ]
    )
    approving, _m, _p = simple(
        [{"approver": "owner_manager", "deadline_days": 1, "on_deadline": "approve"}]
    )
    expiring, _m, _p = simple(
        [{"approver": "owner_manager", "deadline_days": 1, "on_deadline": "expire"}]
    )
    returning, returner, _p = simple(
        [{"approver": "owner_manager", "deadline_days": 10, "on_deadline": "expire"}]
    )
    escalated = ask(escalating, requested_at)
    approved = ask(approving, requested_at)
    expired = ask(expiring, requested_at)
    returned = ask(returning, seoul(date(2026, 12, 1), 15))
    services.return_to_resident(
        returned, returner, reason="목적을 적어 주세요", now=seoul(date(2026, 12, 1), 16)
    )
    assert returned.current_stage.due_at == end_of(date(2026, 12, 4))
    # Not yet due, so left alone: a request decided in ten working days.
    waiting = ask(returning, requested_at, start=FAR + timedelta(hours=3))
    # An approved booking that ended more than three days before the sweep.
    past = ask(approving, seoul(date(2026, 11, 20), 9), start=seoul(date(2026, 11, 27), 10))
    past.status = "approved"
    db.session.commit()

    result = sweeps.sweep(now=due)
    assert result == {"expired": 2, "escalated": 1, "auto_approved": 1, "drawn": 0, "completed": 1}
    db.session.commit()
    db.session.expire_all()
    status = {b.id: b.status for b in db.session.query(Booking)}
    assert status == {
        escalated.id: "requested",
        approved.id: "approved",
        expired.id: "expired",
        returned.id: "expired",
        waiting.id: "requested",
        past.id: "completed",
    }
    assert sweeps.sweep(now=due) == ZERO
    assert sweeps.sweep(now=due + timedelta(hours=1)) == ZERO


def test_the_sweep_uses_the_current_time_by_default(factories, time_machine):
    w = school_world(factories)
    booking = w.request(start=FAR, now=seoul(FRIDAY, 15))
    db.session.commit()
    time_machine.move_to(datetime(2026, 12, 9, 14, 59, tzinfo=UTC), tick=False)  # 23:59 Seoul
    assert sweeps.sweep() == ZERO
    time_machine.move_to(datetime(2026, 12, 9, 15, 0, tzinfo=UTC), tick=False)  # midnight
    assert sweeps.sweep() == counts(escalated=1)
    assert booking.stage_position == 1
