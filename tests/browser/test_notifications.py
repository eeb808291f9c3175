"""End to end in Chromium: a resident requests a space; the facility manager sees the unread
badge in the header, opens the inbox and the notification (which takes them to the request, and
the badge drops), approves it; the resident opens the approval from the inbox and lands on the
booking page; the manager changes a notification setting and it is kept."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.bookings.models import Booking
from app.notifications import services
from app.notifications.models import Notification
from tests.browser.test_booking_flow import log_in
from tests.conftest import next_weekday

pytestmark = pytest.mark.browser


def test_the_manager_follows_a_notification_and_changes_a_setting(page, shot, factories, db):
    school = factories.org(name="번동초등학교")
    manager = factories.manager(school, email="manager@bundong.example")
    resident = factories.user(email="kim@example.kr", name="김주민")
    space = factories.space(owner=school, name="번동초 다목적실", capacity=30, type="classroom")
    db.session.commit()
    day = next_weekday(2, 19).astimezone(space.zone).date()

    # The resident requests Wednesday evening.
    log_in(page, resident.email)
    page.goto(f"/spaces/{space.id}/book")
    page.fill("#date", day.isoformat())
    page.fill("#start_time", "19:00")
    page.fill("#end_time", "21:00")
    page.fill("#attendees", "12")
    page.fill("#purpose", "주민 독서 모임")
    page.locator("main form[method=post] button[name=send]").click()
    page.wait_for_url(re.compile(r"/bookings/\d+$"))
    db.session.rollback()  # see the server's writes
    booking = db.session.scalars(select(Booking)).one()

    # The manager has one unread notification, shown on every page's header.
    log_in(page, manager.email)
    badge = page.locator("header .nav-notifications .count-badge")
    expect(badge).to_have_text("1")
    expect(page.locator("header .nav-notifications")).to_contain_text("1")
    shot("badge")
    page.locator("header .nav-notifications").click()
    page.wait_for_url(re.compile(r"/notifications$"))
    item = page.locator(".inbox-item.unread")
    expect(item).to_have_count(1)
    expect(item).to_contain_text("번동초 다목적실")
    shot("inbox")

    # Opening it goes where it points (the queue holding the request) and marks it read.
    item.locator("a.inbox-title").click()
    page.wait_for_url(re.compile(r"/manage/queue"))
    expect(page.locator("main")).to_contain_text("김주민")
    expect(badge).to_have_count(0)
    page.locator(f"form[action$='/manage/bookings/{booking.id}/approve'] button").click()
    expect(page.locator("main")).not_to_contain_text("주민 독서 모임")

    # The resident opens the approval from the inbox and lands on the booking page.
    log_in(page, resident.email)
    expect(badge).to_have_text("2")  # received, then approved
    page.goto("/notifications")
    approved = page.locator(".inbox-item.unread").first  # newest first
    approved.locator("a.inbox-title").click()
    page.wait_for_url(re.compile(rf"/bookings/{booking.id}$"))
    expect(page.locator(".badge.status-approved").first).to_be_visible()
    expect(badge).to_have_text("1")
    shot("booking")

    # The manager asks for the daily digest instead of an email per request.
    log_in(page, manager.email)
    page.goto("/account")
    page.locator("main a[href$='/account/notifications']").click()
    page.wait_for_url(re.compile(r"/account/notifications$"))
    page.locator("input[name='kind-approval_requested'][value='digest']").check()
    page.locator("select#reminder_hours").select_option("2")
    page.locator("main form.preferences button[type=submit]").click()
    expect(page.locator(".flashes")).to_be_visible()
    expect(page.locator("input[name='kind-approval_requested'][value='digest']")).to_be_checked()
    expect(page.locator("select#reminder_hours")).to_have_value("2")
    shot("preferences")
    db.session.rollback()
    assert services.preferences_of(manager)["approval_requested"] == "digest"
    db.session.refresh(manager)
    assert manager.reminder_hours == 2
    unread = db.session.scalars(select(Notification).where(
        Notification.user_id == manager.id, Notification.read_at.is_(None))).all()
    assert unread == []
