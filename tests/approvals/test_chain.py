"""The approval chain of a request: its stages in order, who decides each, and what approving,
rejecting, returning, resubmitting and cancelling do to them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.bookings import approvals, services
from app.bookings.models import BookingStage
from app.errors import InvalidTransition, NotAllowed, RuleViolation, ValidationFailed
from tests.approvals import (
    MANAGER_STAGE,
    MANAGER_WHO,
    OFFICER_WHO,
    PRINCIPAL_WHO,
    add_rules,
    school_world,
)
from tests.conftest import next_weekday

pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
def w(factories):
    return school_world(factories)


@pytest.fixture
def start():
    """Tuesday 10:00 in Seoul, two weeks ahead: later than every stage deadline."""
    return next_weekday(1, 10, weeks=2)


def states(booking) -> list[str]:
    return [s.state for s in booking.stages]


def test_stages_in_order_space_owner_then_jurisdiction(w, start, now):
    booking = w.request(start=start, now=now)
    assert booking.status == "requested"
    assert [(s.position, s.approver, s.mode) for s in booking.stages] == [
        (0, "owner_manager", "decide"),
        (1, "owner_principal", "decide"),
        (2, "jurisdiction", "decide"),
        (3, "jurisdiction", "notify"),
    ]
    assert [s.source_name for s in booking.stages] == ["번동초등학교"] * 2 + [
        "서울특별시교육청"
    ] * 2
    assert [s.organisation_id for s in booking.stages[:2]] == [w.school.id] * 2
    assert [s.jurisdiction_id for s in booking.stages[2:]] == [w.edu.id] * 2
    assert [approvals.stage_who(s) for s in booking.stages[:3]] == [
        MANAGER_WHO,
        PRINCIPAL_WHO,
        OFFICER_WHO,
    ]
    assert states(booking) == ["pending", "waiting", "waiting", "waiting"]
    first = booking.current_stage
    assert booking.stage_position == 0 and first.position == 0
    assert first.started_at == now
    assert first.due_at == approvals.add_working_days(now, 3, w.gym.zone)


def test_each_approval_moves_to_the_next_stage_and_the_last_approves(w, start, now, db):
    booking = w.request(start=start, now=now)
    services.approve(booking, w.manager, reason="시설 확인함", now=now + timedelta(hours=1))
    assert booking.status == "requested"
    assert states(booking) == ["approved", "pending", "waiting", "waiting"]
    assert booking.stage_position == 1
    first = booking.stages[0]
    assert (first.decided_by, first.reason) == (w.manager, "시설 확인함")
    assert booking.current_stage.started_at == now + timedelta(hours=1)
    assert booking.current_stage.due_at == approvals.add_working_days(
        now + timedelta(hours=1), 2, w.gym.zone
    )

    services.approve(booking, w.principal, now=now + timedelta(hours=2))
    assert booking.status == "requested" and booking.stage_position == 2
    assert states(booking) == ["approved", "approved", "pending", "waiting"]
    assert booking.current_stage.due_at == approvals.add_working_days(
        now + timedelta(hours=2), 5, w.gym.zone
    )

    services.approve(booking, w.officer, now=now + timedelta(hours=3))
    assert booking.status == "approved"
    # The education office's notification stage is passed on the way out.
    assert states(booking) == ["approved", "approved", "approved", "notified"]
    assert booking.stage_position is None and booking.current_stage is None
    assert (booking.decided_by, booking.decided_at) == (w.officer, now + timedelta(hours=3))
    # Stage approvals are not booking transitions: requested, then approved.
    assert [t.to_status for t in booking.transitions] == ["requested", "approved"]
    db.session.commit()


def test_only_the_stage_s_approver_decides(w, start, now):
    booking = w.request(start=start, now=now)
    # Stage 1: the owner's facility managers and staff.
    for wrong in (w.principal, w.officer, w.seoul_officer, w.resident):
        assert not booking.can_decide_now(wrong)
        with pytest.raises(NotAllowed):
            services.approve(booking, wrong, now=now)
    assert approvals.can_decide_stage(w.staff, booking.current_stage)
    assert states(booking)[0] == "pending"
    services.approve(booking, w.manager, now=now)

    # Stage 2: the principal only; a facility manager cannot decide it.
    for wrong in (w.manager, w.staff, w.officer):
        with pytest.raises(NotAllowed):
            services.reject(booking, wrong, reason="아니요", now=now)
    services.approve(booking, w.principal, now=now)

    # Stage 3: officers of the education office, or of a jurisdiction above it.
    for wrong in (w.manager, w.principal, w.other_officer):
        with pytest.raises(NotAllowed):
            services.approve(booking, wrong, now=now)
    assert booking.can_decide_now(w.officer) and booking.can_decide_now(w.seoul_officer)
    assert booking.status == "requested" and booking.stage_position == 2
    services.approve(booking, w.seoul_officer, now=now)
    assert booking.status == "approved"


def test_admin_decides_any_stage(w, start, now):
    booking = w.request(start=start, now=now)
    for _ in range(3):
        services.approve(booking, w.admin, now=now)
    assert booking.status == "approved"
    assert [s.decided_by for s in booking.stages[:3]] == [w.admin] * 3


def test_decidable_by_agrees_with_can_decide_stage(w, start, now, db):
    """The queue's SQL condition and the per-stage check name the same people."""
    at_stage = []
    for n in range(3):
        booking = w.request(start=start + timedelta(hours=3 * n), now=now)
        for approver in (w.manager, w.principal)[:n]:
            services.approve(booking, approver, now=now)
        at_stage.append(booking)
    assert [b.stage_position for b in at_stage] == [0, 1, 2]
    pending = db.session.scalars(select(BookingStage).where(BookingStage.state == "pending")).all()
    people = (
        w.manager,
        w.staff,
        w.principal,
        w.officer,
        w.seoul_officer,
        w.other_officer,
        w.admin,
        w.resident,
    )
    for user in people:
        by_sql = set(
            db.session.scalars(
                select(BookingStage.id).where(
                    BookingStage.state == "pending", approvals.decidable_by(user)
                )
            )
        )
        by_check = {s.id for s in pending if approvals.can_decide_stage(user, s)}
        assert by_sql == by_check, user.name
    expected = {
        w.manager: [0],
        w.staff: [0],
        w.principal: [1],
        w.officer: [2],
        w.seoul_officer: [2],
        w.other_officer: [],
        w.admin: [0, 1, 2],
        w.resident: [],
    }
    for user, positions in expected.items():
        assert [b.stage_position for b in at_stage if b.can_decide_now(user)] == positions


def test_rejection_at_stage_two_needs_a_reason_and_skips_the_rest(w, start, now, db):
    booking = w.request(start=start, now=now)
    services.approve(booking, w.manager, now=now)
    with pytest.raises(ValidationFailed) as caught:
        services.reject(booking, w.principal, reason="  ", now=now)
    assert caught.value.errors == {"reason": ["Please give a reason for the rejection."]}
    assert booking.status == "requested"
    assert states(booking) == ["approved", "pending", "waiting", "waiting"]

    services.reject(booking, w.principal, reason="학교 행사와 겹칩니다", now=now)
    assert booking.status == "rejected" and booking.reason == "학교 행사와 겹칩니다"
    assert states(booking) == ["approved", "rejected", "skipped", "skipped"]
    second = booking.stages[1]
    assert (second.decided_by, second.reason, second.decided_at) == (
        w.principal,
        "학교 행사와 겹칩니다",
        now,
    )
    assert booking.stage_position is None
    assert booking.decided_by == w.principal
    # The slot is free again.
    again = w.request(w.neighbour(), start=start, now=now)
    assert again.status == "requested"
    db.session.commit()


def test_return_at_stage_two_then_resubmit_decides_stage_two_again(w, start, now, db):
    booking = w.request(start=start, now=now, attendees=30)
    assert booking.price_amount == 20000  # two hours at the resident rate
    services.approve(booking, w.manager, now=now)
    later = now + timedelta(hours=1)
    with pytest.raises(ValidationFailed) as caught:
        services.return_to_resident(booking, w.principal, reason="", now=later)
    assert caught.value.errors == {"reason": ["Please say what the resident should change."]}

    services.return_to_resident(booking, w.principal, reason="인원을 줄여 주세요", now=later)
    assert booking.status == "returned" and booking.reason == "인원을 줄여 주세요"
    assert states(booking) == ["approved", "returned", "waiting", "waiting"]
    returned = booking.current_stage
    assert returned.position == 1
    assert returned.due_at == min(
        approvals.add_working_days(later, services.RETURN_WORKING_DAYS, w.gym.zone),
        booking.start_at,
    )
    # Nobody decides a returned request; the resident answers it.
    with pytest.raises(InvalidTransition):
        services.approve(booking, w.principal, now=later)
    with pytest.raises(NotAllowed):
        services.resubmit(
            booking, w.manager, purpose="x", attendees=5, purpose_category="sports", now=later
        )

    answered = now + timedelta(hours=2)
    # The resident's nonprofit status is verified on their profile, so the waiver applies.
    w.factories.verified_waiver(w.resident, "nonprofit")
    services.resubmit(
        booking,
        w.resident,
        purpose="배드민턴 동호회 (비영리)",
        attendees=20,
        purpose_category="sports",
        waiver="nonprofit",
        now=answered,
    )
    assert booking.status == "requested"
    assert (booking.attendees, booking.purpose_category, booking.waiver_category) == (
        20,
        "sports",
        "nonprofit",
    )
    # Stage 2 decides again with a fresh deadline; stage 1 is not asked again.
    assert states(booking) == ["approved", "pending", "waiting", "waiting"]
    assert booking.stage_position == 1
    reopened = booking.current_stage
    assert reopened.started_at == answered
    assert reopened.due_at == approvals.add_working_days(answered, 2, w.gym.zone)
    # Nobody has decided the reopened stage yet; the return is in the history.
    assert (reopened.decided_at, reopened.decided_by, reopened.reason) == (None, None, None)
    assert booking.transitions[1].reason == "인원을 줄여 주세요"
    # The price was computed again: the nonprofit waiver halves it.
    assert booking.price_amount == 10000
    assert [line["code"] for line in booking.price_breakdown["lines"]] == ["base", "waiver"]
    assert [t.to_status for t in booking.transitions] == ["requested", "returned", "requested"]

    services.approve(booking, w.principal, now=answered)
    assert booking.stage_position == 2
    db.session.commit()


def test_resubmit_is_judged_by_the_rule_versions_of_the_request(w, start, now, db):
    booking = w.request(start=start, now=now, attendees=30)
    services.return_to_resident(booking, w.manager, reason="목적을 자세히", now=now)
    # The school tightens its rules after the request was made.
    add_rules(
        organisation_id=w.school.id,
        version=2,
        effective_from=now + timedelta(minutes=1),
        body={
            "stages": [MANAGER_STAGE],
            "max_attendees": 10,
            "fees": {"rates": {"resident": 99000}},
        },
    )
    later = now + timedelta(hours=1)
    # The old rules still bind the returned request: 80 people at most ...
    with pytest.raises(RuleViolation) as caught:
        services.resubmit(
            booking,
            w.resident,
            purpose="배드민턴",
            attendees=90,
            purpose_category="sports",
            now=later,
        )
    assert [(r["code"], r["source"]) for r in caught.value.reasons] == [
        ("max_attendees", "번동초등학교")
    ]
    assert booking.status == "returned" and booking.attendees == 30
    # ... so 30 people pass, at the old price, and the chain stays the one of the request.
    services.resubmit(
        booking, w.resident, purpose="배드민턴", attendees=30, purpose_category="sports", now=later
    )
    assert booking.status == "requested" and booking.price_amount == 20000
    assert len(booking.stages) == 4 and booking.stage_position == 0
    assert sorted(booking.rule_version_ids) == sorted([w.org_rules.id, w.edu_rules.id])
    # A new request is judged by the new version.
    with pytest.raises(RuleViolation):
        w.request(w.neighbour(), start=start + timedelta(days=1), now=later, attendees=30)


def test_resubmit_only_answers_a_returned_request(w, start, now):
    booking = w.request(start=start, now=now)
    with pytest.raises(InvalidTransition):
        services.resubmit(
            booking, w.resident, purpose="모임", attendees=5, purpose_category="community", now=now
        )


@pytest.fixture
def center(factories, w):
    """강북구's community centre: its managers decide unless the request is a community meeting
    of a resident of the district, which the rules approve at once."""
    org = factories.org(name="번동 주민센터", kind="community_center")
    hall = factories.space(owner=org, name="다목적홀", capacity=40, jurisdictions=[w.gangbuk])
    add_rules(
        organisation_id=org.id,
        body={
            "stages": [MANAGER_STAGE],
            "auto_approve": [{"residents_only": True, "purposes": ["community"]}],
        },
    )
    return hall


@pytest.mark.parametrize(
    ("who", "purpose", "status", "state"),
    [
        ("resident", "community", "approved", "auto_approved"),
        ("outsider", "community", "requested", "pending"),
        ("homeless", "community", "requested", "pending"),
        ("resident", "sports", "requested", "pending"),
    ],
)
def test_auto_approval_for_residents_community_meetings(
    w, center, start, now, who, purpose, status, state
):
    user = {
        "resident": w.resident,
        "outsider": w.outsider(),
        "homeless": w.factories.user(name="무주소"),
    }[who]
    booking = services.create_booking(
        center,
        user,
        start=start,
        end=start + timedelta(hours=2),
        purpose="주민 회의",
        attendees=10,
        purpose_category=purpose,
        now=now,
    )
    assert booking.status == status
    assert states(booking) == [state]
    if status == "approved":
        assert booking.stage_position is None and booking.decided_at == now
        assert booking.transitions[0].reason == "Approved automatically by the rules."
    else:
        assert booking.stage_position == 0


def test_only_notifying_stages_get_the_owner_s_managers_as_deciders(factories, w, start, now):
    org = factories.org(name="수유 청소년센터", kind="community_center")
    room = factories.space(owner=org, name="세미나실", jurisdictions=[w.gangbuk])
    add_rules(
        organisation_id=org.id, body={"stages": [{"approver": "owner_manager", "mode": "notify"}]}
    )
    booking = services.create_booking(
        room,
        w.resident,
        start=start,
        end=start + timedelta(hours=1),
        purpose="스터디",
        attendees=4,
        now=now,
    )
    assert booking.status == "requested"
    assert [(s.approver, s.mode, s.state) for s in booking.stages] == [
        ("owner_manager", "notify", "notified"),
        ("owner_manager", "decide", "pending"),
    ]
    default = booking.current_stage
    assert default.source_name == "수유 청소년센터" and default.organisation_id == org.id
    # No deadline of its own: it runs until the booking starts.
    assert default.deadline_days is None and default.due_at == booking.start_at
    manager = factories.manager(org)
    services.approve(booking, manager, now=now)
    assert booking.status == "approved"


def test_an_instant_space_with_a_notifying_stage_confirms_and_notifies(factories, w, start, now):
    org = factories.org(name="수유 청소년센터", kind="community_center")
    room = factories.space(
        owner=org, name="스터디룸", booking_mode="instant", jurisdictions=[w.gangbuk]
    )
    add_rules(
        organisation_id=org.id, body={"stages": [{"approver": "owner_manager", "mode": "notify"}]}
    )
    booking = services.create_booking(
        room,
        w.resident,
        start=start,
        end=start + timedelta(hours=1),
        purpose="스터디",
        attendees=4,
        now=now,
    )
    assert booking.status == "confirmed"
    assert states(booking) == ["notified"]
    assert booking.stage_position is None


def test_cancelling_a_request_skips_its_open_stages(w, start, now):
    booking = w.request(start=start, now=now)
    services.approve(booking, w.manager, now=now)
    services.cancel(booking, w.resident, now=now)
    assert booking.status == "cancelled"
    assert states(booking) == ["approved", "skipped", "skipped", "skipped"]
    assert booking.stage_position is None and booking.current_stage is None


def test_cancelling_a_returned_request_skips_its_stages(w, start, now):
    booking = w.request(start=start, now=now)
    services.return_to_resident(booking, w.manager, reason="날짜를 바꿔 주세요", now=now)
    services.cancel(booking, w.resident, reason="다른 곳을 구했어요", now=now)
    assert booking.status == "cancelled"
    assert states(booking) == ["skipped"] * 4
    assert booking.stage_position is None
