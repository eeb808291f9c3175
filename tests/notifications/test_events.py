"""Who is told what, when a request goes through its approval chain, is decided, cancelled,
expires, is drawn in a lottery, is paid or refunded, or meets a closure. The messages are
written in the same transaction as the change (checked here on the rows; sending is tested in
test_delivery)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.bookings import services, sweeps
from app.extensions import db
from app.notifications.models import EmailDelivery, Notification
from app.notifications.services import set_preferences
from tests.approvals import MANAGER_STAGE, add_rules, school_world
from tests.conftest import next_weekday

pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
def w(factories):
    return school_world(factories)


@pytest.fixture
def start():
    return next_weekday(1, 10, weeks=2)


def told(user=None, kind=None) -> list[Notification]:
    query = select(Notification).order_by(Notification.id)
    if user is not None:
        query = query.where(Notification.user_id == user.id)
    if kind is not None:
        query = query.where(Notification.kind == kind)
    return list(db.session.scalars(query))


def kinds(user) -> list[str]:
    return [n.kind for n in told(user)]


def test_a_request_tells_the_resident_and_the_first_stage_s_deciders_only(w, start, now):
    booking = w.request(start=start, now=now)
    db.session.commit()
    [received] = told(w.resident)
    assert received.kind == "booking_received" and received.booking_id == booking.id
    assert received.params["booking"]["space"] == "체육관"
    assert received.params["next"]["position"] == 1 and received.params["next"]["count"] == 4
    # Stage 1: the school's facility manager and staff decide; nobody else hears yet.
    assert kinds(w.manager) == ["approval_requested"]
    assert kinds(w.staff) == ["approval_requested"]
    assert told(w.principal) == [] and told(w.officer) == []
    # Email is the default: one outbox row per emailed notification, to the right address.
    rows = db.session.scalars(select(EmailDelivery).order_by(EmailDelivery.id)).all()
    assert {r.to_address for r in rows} == {w.resident.email, w.manager.email, w.staff.email}
    assert {r.status for r in rows} == {"pending"} or {r.status for r in rows} <= {"sent",
                                                                                "pending"}


def test_each_stage_passes_to_the_next_deciders_and_the_resident_follows(w, start, now):
    booking = w.request(start=start, now=now)
    services.approve(booking, w.manager, now=now)
    db.session.commit()
    assert kinds(w.principal) == ["approval_requested"]
    [passed] = told(w.resident, "stage_decided")
    assert passed.params["stage"]["position"] == 1
    assert passed.params["next"]["position"] == 2

    services.approve(booking, w.principal, now=now)
    db.session.commit()
    # Stage 3 belongs to the education office's officers, not to the city's above it.
    assert kinds(w.officer) == ["approval_requested"]
    assert told(w.seoul_officer) == [] and told(w.other_officer) == []

    services.approve(booking, w.officer, now=now)
    db.session.commit()
    # The school charges: the approval is told together with the payment now due (one
    # message, which cannot be turned off).
    assert kinds(w.resident) == [
        "booking_received", "stage_decided", "stage_decided", "payment_due"
    ]
    [approved] = told(w.resident, "payment_due")
    assert approved.params["approved"] is True and approved.params["amount"] == 20000
    assert approved.params["due"] is not None
    # The notify-only stage of the education office tells its officers for information
    # (in the inbox by default, no email).
    [notice] = told(w.officer, "approval_notice")
    assert notice.channel == "in_app"
    assert db.session.scalar(
        select(EmailDelivery).where(EmailDelivery.notification_id == notice.id)
    ) is None


def test_a_deciding_officer_is_not_told_about_their_own_request(w, start, now, factories):
    # Officers of the jurisdiction above (서울특별시) are asked only when the education office
    # itself has none.
    booking = w.request(start=start, now=now)
    services.approve(booking, w.manager, now=now)
    services.approve(booking, w.principal, now=now)
    db.session.commit()
    assert kinds(w.seoul_officer) == []


def test_jurisdiction_without_officers_asks_the_nearest_one_above(factories, start, now):
    city = factories.jurisdiction(name="서울특별시", kind="metropolitan")
    district = factories.jurisdiction(name="강북구", parent=city)
    city_officer = factories.officer(city)
    space = factories.space(jurisdictions=[district])
    add_rules(jurisdiction_id=district.id,
              body={"stages": [{"approver": "jurisdiction", "deadline_days": 3}]})
    resident = factories.user()
    services.create_booking(space, resident, start=start, end=start + timedelta(hours=1),
                            purpose="회의", attendees=3, now=now)
    db.session.commit()
    assert kinds(city_officer) == ["approval_requested"]


def test_rejection_tells_the_resident_why(w, start, now):
    booking = w.request(start=start, now=now)
    services.approve(booking, w.manager, now=now)
    services.reject(booking, w.principal, reason="학교 행사와 겹칩니다", now=now)
    db.session.commit()
    [rejected] = told(w.resident, "booking_rejected")
    assert rejected.params["reason"] == "학교 행사와 겹칩니다"
    assert rejected.params["stage"]["position"] == 2


def test_return_and_resubmit(w, start, now):
    booking = w.request(start=start, now=now)
    services.return_to_resident(booking, w.manager, reason="인원을 줄여 주세요", now=now)
    db.session.commit()
    [returned] = told(w.resident, "booking_returned")
    assert returned.params["reason"] == "인원을 줄여 주세요"
    assert returned.params["answer_by"] is not None
    services.resubmit(booking, w.resident, purpose="배드민턴", attendees=10,
                      purpose_category="sports", now=now + timedelta(hours=1))
    db.session.commit()
    # The stage that returned it is asked again.
    assert kinds(w.manager) == ["approval_requested", "approval_requested"]


def test_cancellations_by_the_owner_are_told_those_by_the_resident_are_not(w, start, now):
    mine = w.request(start=start, now=now)
    theirs = w.request(start=start + timedelta(hours=3), now=now)
    services.cancel(mine, w.resident, now=now)
    services.cancel(theirs, w.manager, reason="누수 공사", now=now)
    db.session.commit()
    [cancelled] = told(w.resident, "booking_cancelled")
    assert cancelled.booking_id == theirs.id
    assert cancelled.params["reason"] == "누수 공사"


def test_expiry_by_the_sweep(w, start, now):
    booking = w.request(start=start, now=now)
    db.session.commit()
    sweeps.sweep(now=start + timedelta(minutes=1))
    db.session.commit()
    [expired] = told(w.resident, "booking_expired")
    assert expired.booking_id == booking.id and expired.params["was"] == "requested"


def test_escalation_tells_the_next_stage_it_was_passed_on(factories, start, now):
    space = factories.space()
    manager = factories.manager(space.owner)
    head = factories.user()
    from app.orgs.models import OrgMembership

    db.session.add(OrgMembership(user=head, organisation=space.owner, role="principal"))
    add_rules(organisation_id=space.owner_id, body={"stages": [
        MANAGER_STAGE, {"approver": "owner_principal", "deadline_days": 2},
    ]})
    booking = services.create_booking(space, factories.user(), start=start,
                                      end=start + timedelta(hours=1), purpose="회의",
                                      attendees=3, now=now)
    db.session.commit()
    assert kinds(manager) == ["approval_requested"]
    sweeps.sweep(now=booking.current_stage.due_at + timedelta(minutes=1))
    db.session.commit()
    assert kinds(head) == ["approval_escalated"]


def test_nothing_is_written_when_the_change_rolls_back(w, start, now):
    w.request(start=start, now=now)
    db.session.flush()
    assert told() != []
    db.session.rollback()
    assert told() == [] and db.session.scalars(select(EmailDelivery)).all() == []


def test_a_rolled_back_savepoint_takes_its_notifications_with_it(w, start, now):
    keep = w.request(start=start, now=now)
    db.session.flush()
    before = len(told())
    nested = db.session.begin_nested()
    services.approve(keep, w.manager, now=now)
    db.session.flush()
    assert len(told()) > before
    nested.rollback()
    assert len(told()) == before


def test_preferences_choose_the_channel_and_mandatory_kinds_stay_on(w, start, now):
    set_preferences(w.manager, {"approval_requested": "off"})
    set_preferences(w.staff, {"approval_requested": "in_app"})
    with pytest.raises(ValueError):
        set_preferences(w.resident, {"booking_returned": "off"})
    db.session.commit()
    booking = w.request(start=start, now=now)
    services.return_to_resident(booking, w.manager, reason="날짜를 바꿔 주세요", now=now)
    db.session.commit()
    assert told(w.manager) == []
    [staff_note] = told(w.staff)
    assert staff_note.channel == "in_app"
    assert db.session.scalar(
        select(EmailDelivery).where(EmailDelivery.notification_id == staff_note.id)
    ) is None
    assert kinds(w.resident) == ["booking_received", "booking_returned"]


def test_a_closure_over_a_booking_tells_its_resident_once(factories, now):
    space = factories.space()
    start = next_weekday(2, 10, weeks=2)
    resident = factories.user()
    booking = factories.booking(space, resident, start=start, end=start + timedelta(hours=2))
    other = factories.booking(space, start=start + timedelta(hours=5),
                              end=start + timedelta(hours=6))
    db.session.commit()
    factories.closure(space, start - timedelta(hours=1), start + timedelta(hours=1),
                      reason="정기 점검")
    db.session.commit()
    [note] = told(resident, "closure_conflict")
    assert note.booking_id == booking.id
    assert note.params["closure"]["reason"] == "정기 점검"
    assert told(other.user, "closure_conflict") == []


def test_who_decides_is_worded_in_the_reader_s_language(w, start, now):
    from app.notifications import render

    booking = w.request(start=start, now=now)
    services.approve(booking, w.manager, now=now)
    db.session.commit()
    [passed] = told(w.resident, "stage_decided")
    assert passed.params["next"]["who"]["approver"] == "owner_principal"
    with render.email_context("en"):
        english = render.render_email(passed, user=w.resident).text
    with render.email_context("ko"):
        korean = render.render_email(passed, user=w.resident).text
    assert "Head of the owner organisation (번동초등학교)" in english
    assert "Head of the owner organisation" not in korean and "번동초등학교" in korean


def test_a_deadline_at_midnight_reads_as_the_end_of_the_day_before():
    from app.notifications.templating import deadline

    assert deadline("2026-11-27T15:00:00+00:00", "Asia/Seoul") in (
        "2026-11-27 (Fri) 24:00", "2026-11-27 (금) 24:00")
    assert deadline("2026-11-27T06:30:00+00:00", "Asia/Seoul").endswith("15:30")


def test_the_digest_opens_the_queue_only_when_something_waits_for_a_decision(w, start, now):
    from app.notifications import render

    booking = w.request(start=start, now=now)
    db.session.commit()
    [asked] = told(w.manager, "approval_requested")
    notice = Notification(user=w.manager, kind="approval_notice", channel="digest",
                          booking_id=booking.id, params=dict(asked.params))
    with render.email_context("en"):
        both = render.render_digest([asked, notice], user=w.manager)
        only_notice = render.render_digest([notice], user=w.manager)
    assert "http://gonggan.test/manage/queue" in both.text
    assert "http://gonggan.test/notifications" in only_notice.text
    assert "/manage/queue" not in only_notice.text


def test_a_decision_rolled_back_in_its_savepoint_tells_nobody(w, start, now):
    # A bulk decision runs each booking in a savepoint; one that fails after its events were
    # announced must leave no message behind, while the decision kept is announced.
    booking = w.request(start=start, now=now)
    kept = w.request(start=start + timedelta(days=1), now=now)
    db.session.commit()
    before = kinds(w.resident)
    savepoint = db.session.begin_nested()
    services.reject(booking, w.manager, reason="공사 중", now=now)  # announced, then undone
    savepoint.rollback()
    services.reject(kept, w.manager, reason="공사 중", now=now)
    db.session.commit()
    rejected = told(w.resident, "booking_rejected")
    assert [n.booking_id for n in rejected] == [kept.id]
    assert kinds(w.resident)[: len(before)] == before
    assert db.session.get(type(booking), booking.id).status == "requested"
