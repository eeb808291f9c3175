"""End to end in Chromium, on a desktop and on a phone: a facility manager logs in, lands on the
queue with its count in the navigation, opens a request whose time a lottery entry also asks for,
sees the conflict and the person's history at this school, and approves it."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from app.bookings.models import Booking
from tests.browser.test_booking_flow import log_in
from tests.conftest import next_weekday

pytestmark = pytest.mark.browser


def test_a_manager_decides_a_request_from_the_queue(page, browser_context, shot, factories, db):
    school = factories.org(name="번동초등학교")
    manager = factories.manager(school, email="manager@bundong.example")
    resident = factories.user(email="kim@example.kr", name="김주민")
    rival = factories.user(email="park@example.kr", name="박경쟁")
    gym = factories.space(owner=school, name="번동초 체육관", type="gym", capacity=80)
    music = factories.space(owner=school, name="번동초 음악실", capacity=20)
    start = next_weekday(2, 18)
    factories.booking(gym, rival, start=start, end=start + timedelta(hours=2),
                      status="entered", purpose="배드민턴 추첨")
    first = factories.booking(gym, resident, start=start, end=start + timedelta(hours=2),
                              attendees=16, purpose="주민 배구 모임")
    second = factories.booking(gym, resident, start=start + timedelta(days=1),
                               end=start + timedelta(days=1, hours=2), purpose="배구 연습")
    for n, status in enumerate(["completed", "completed", "no_show"], start=2):
        factories.booking(music, resident, start=start + timedelta(days=n),
                          end=start + timedelta(days=n, hours=1), status=status)
    db.session.commit()

    phone_context = browser_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                                    has_touch=True)
    phone = phone_context.new_page()
    for device, booking, tab in (("desktop", first, page), ("phone", second, phone)):
        log_in(tab, manager.email)
        # Lands on the queue, its count in the navigation.
        expect(tab).to_have_url(re.compile(r"/manage/queue$"))
        waiting = 2 if device == "desktop" else 1
        expect(tab.locator(".nav-queue [data-count=pending]")).to_have_text(str(waiting))
        card = tab.locator(f"#booking-{booking.id}")
        if device == "desktop":
            expect(card.locator(".conflict-badge")).to_be_visible()
        # The reason box waits behind "other decisions".
        expect(card.locator("textarea[name=reason]")).to_be_hidden()
        shot(f"{device}-queue", tab)
        card.locator("h2 a").first.click()
        expect(tab).to_have_url(re.compile(rf"/manage/bookings/{booking.id}$"))
        expect(tab.locator("#history")).to_contain_text("노쇼: 1건")
        expect(tab.locator("#history")).to_contain_text("번동초 음악실")
        if device == "desktop":
            expect(tab.locator("#conflicts")).to_contain_text("박경쟁")
        shot(f"{device}-request", tab)
        tab.locator("#decide .approve-form button[type=submit]").click()
        expect(tab).to_have_url(re.compile(r"/manage/queue$"))
        expect(tab.locator(".flash-success")).to_be_visible()
        shot(f"{device}-approved", tab)
        db.session.rollback()  # end the test's read transaction to see the server's writes
        assert db.session.get(Booking, booking.id).status == "approved"
    # Nothing is left to decide: no badge in the navigation.
    expect(phone.locator(".nav-queue [data-count=pending]")).to_have_count(0)
