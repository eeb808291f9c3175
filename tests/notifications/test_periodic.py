"""Scheduled messages: reminders, deadline warnings, the daily digest, the weekly summary —
each sent at its time and only once, however often the job runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.bookings import services
from app.extensions import db
from app.notifications import periodic
from app.notifications.models import EmailDelivery, Notification
from app.notifications.services import set_preferences
from tests.approvals import school_world, seoul
from tests.conftest import next_weekday

pytestmark = pytest.mark.usefixtures("english")


def told(user, kind) -> list[Notification]:
    return list(db.session.scalars(
        select(Notification).where(Notification.user_id == user.id, Notification.kind == kind)
        .order_by(Notification.id)
    ))


def test_reminder_goes_out_once_at_the_chosen_lead_time(factories, now):
    space = factories.space()
    start = next_weekday(3, 10, weeks=2)
    early = factories.user()
    late = factories.user(reminder_hours=2)
    never = factories.user(reminder_hours=0)
    made = start - timedelta(days=7)
    a = factories.booking(space, early, start=start, end=start + timedelta(hours=1), now=made,
                          status="approved")
    b = factories.booking(space, late, start=start + timedelta(hours=2),
                          end=start + timedelta(hours=3), now=made, status="confirmed")
    factories.booking(space, never, start=start + timedelta(hours=4),
                      end=start + timedelta(hours=5), now=made, status="approved")
    for booking in (a, b):
        booking.created_at = made
    db.session.commit()

    assert periodic.reminders(now=start - timedelta(hours=25)) == 0
    assert periodic.reminders(now=start - timedelta(hours=23)) == 1
    assert periodic.reminders(now=start - timedelta(hours=22)) == 0  # already reminded
    [note] = told(early, "booking_reminder")
    assert note.booking_id == a.id and note.params["hours"] == 24
    assert periodic.reminders(now=b.start_at - timedelta(hours=1)) == 1
    assert told(late, "booking_reminder")[0].params["hours"] == 2
    assert told(never, "booking_reminder") == []


def test_a_booking_made_after_its_reminder_time_gets_none(factories):
    space = factories.space()
    start = next_weekday(3, 10, weeks=2)
    user = factories.user()
    booking = factories.booking(space, user, start=start, end=start + timedelta(hours=1),
                                now=start - timedelta(hours=3), status="approved")
    booking.created_at = start - timedelta(hours=3)
    db.session.commit()
    assert periodic.reminders(now=start - timedelta(hours=2)) == 0


def test_deadline_warning_once_to_the_stage_s_deciders(factories, now):
    w = school_world(factories)
    start = next_weekday(1, 10, weeks=3)
    booking = w.request(start=start, now=now)
    db.session.commit()
    due = booking.current_stage.due_at
    assert periodic.approval_deadlines(now=due - timedelta(hours=30)) == 0
    sent = periodic.approval_deadlines(now=due - timedelta(hours=20))
    assert sent == 2  # the facility manager and the staff member
    assert periodic.approval_deadlines(now=due - timedelta(hours=10)) == 0
    [warning] = told(w.manager, "approval_deadline")
    assert warning.params["stage"]["due"] == due.isoformat()
    assert told(w.resident, "approval_deadline") == []


def test_daily_digest_gathers_requests_into_one_email_from_8_am(factories, now):
    w = school_world(factories)
    set_preferences(w.manager, {"approval_requested": "digest"})
    db.session.commit()
    day = next_weekday(0, 7, weeks=1).date()
    start = next_weekday(1, 10, weeks=3)
    for n in range(3):
        w.request(w.neighbour(), start=start + timedelta(hours=3 * n), hours=1, now=now)
    db.session.commit()
    notes = told(w.manager, "approval_requested")
    assert [n.channel for n in notes] == ["digest"] * 3
    # No email per request for the digest reader; the staff member still gets each by email.
    mine = select(EmailDelivery).where(EmailDelivery.user_id == w.manager.id)
    assert db.session.scalars(mine).all() == []

    assert periodic.digests(now=seoul(day, 7, 59)) == 0
    assert periodic.digests(now=seoul(day, 8, 5)) == 1
    assert periodic.digests(now=seoul(day, 9, 0)) == 0  # one a day
    [digest] = db.session.scalars(mine).all()
    assert digest.kind == "digest" and sorted(digest.params["ids"]) == [n.id for n in notes]
    assert all(n.digested_at is not None for n in told(w.manager, "approval_requested"))

    w.request(w.neighbour(), start=start + timedelta(days=1), hours=1, now=now)
    db.session.commit()
    assert periodic.digests(now=seoul(day, 23, 0)) == 0  # tomorrow's digest
    assert periodic.digests(now=seoul(day + timedelta(days=1), 8, 0)) == 1


def test_weekly_summary_for_officers_who_ask_for_it(factories, now):
    w = school_world(factories)
    set_preferences(w.officer, {"weekly_summary": "email"})
    db.session.commit()
    monday = next_weekday(0, 9, weeks=2)
    last_week = monday - timedelta(days=7)
    made = last_week + timedelta(days=1)
    a = w.request(start=monday + timedelta(days=8), now=made)
    w.request(w.neighbour(), start=monday + timedelta(days=9), now=made)
    services.approve(a, w.manager, now=made)
    db.session.commit()
    for booking in (a,):
        booking.created_at = made
    db.session.commit()

    assert periodic.weekly_summaries(now=monday - timedelta(hours=2)) == 0  # 07:00
    assert periodic.weekly_summaries(now=monday) == 1
    assert periodic.weekly_summaries(now=monday + timedelta(hours=1)) == 0
    [summary] = told(w.officer, "weekly_summary")
    assert summary.params["jurisdiction"] == "서울특별시교육청"
    assert summary.params["waiting"] == 2
    # Officers who did not ask get nothing (the summary is off unless chosen).
    assert told(w.seoul_officer, "weekly_summary") == []


def test_summary_figures_count_the_week_only(factories):
    w = school_world(factories)
    monday = datetime(2031, 3, 3, 0, 0, tzinfo=UTC)
    start = monday + timedelta(days=20)
    inside = w.request(start=start, now=monday + timedelta(days=1))
    inside.created_at = monday + timedelta(days=1)
    outside = w.request(w.neighbour(), start=start + timedelta(hours=3),
                        now=monday - timedelta(days=1))
    outside.created_at = monday - timedelta(days=1)
    db.session.commit()
    figures = periodic.summary_figures(w.edu.id, monday, monday + timedelta(days=7),
                                       now=monday + timedelta(days=7))
    assert figures["requests"] == 1
    assert figures["waiting"] == 2
    assert figures["hours"] == 0  # nothing approved took place that week


def test_summary_booked_hours_add_up_in_sql(factories):
    w = school_world(factories)
    monday = datetime(2031, 3, 3, 0, 0, tzinfo=UTC)
    first = w.request(start=monday + timedelta(days=1), hours=2, now=monday - timedelta(days=9))
    second = w.request(w.neighbour(), start=monday + timedelta(days=2), hours=1.5,
                       now=monday - timedelta(days=9))
    first.status = second.status = "approved"
    db.session.commit()
    figures = periodic.summary_figures(w.edu.id, monday, monday + timedelta(days=7),
                                       now=monday + timedelta(days=7))
    assert figures["hours"] == 3.5
    assert [s["bookings"] for s in figures["top_spaces"]] == [2]
