"""From a search with a time and a headcount to a sent request, on a desktop and on a phone:
the result says "예약 가능 · ₩60,000", the space's calendar opens on that week with the time
preselected, the form is prefilled, the check refuses 200 people in an 80-person gym exactly as
sending would, and the phone shows three days at a time with the times in view."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from tests.approvals import add_rules
from tests.browser.test_booking_flow import log_in
from tests.conftest import next_weekday
from tests.spaces.test_slots import SEOUL

pytestmark = pytest.mark.browser


def test_search_to_a_preselected_slot_to_a_sent_request(browser_context, shot, factories, db):
    school = factories.org(name="번동초등학교")
    gym = factories.space(owner=school, name="번동초 체육관", type="gym", capacity=80,
                          price_per_hour=30000)
    resident = factories.user(email="kim@example.kr", name="김주민")
    add_rules(space_id=gym.id, body={"min_notice_hours": 24})
    db.session.commit()
    wednesday = next_weekday(2, 18).astimezone(SEOUL).date()
    search = (f"/spaces/?date={wednesday.isoformat()}&from_time=18:00&to_time=20:00"
              "&min_capacity=30")

    desktop = browser_context(viewport={"width": 1280, "height": 900}).new_page()
    log_in(desktop, resident.email)
    desktop.goto(search)
    card = desktop.locator("li.card", has_text="번동초 체육관")
    expect(card.locator(".slot-verdict.ok")).to_have_text("예약 가능 · ₩60,000")
    shot("desktop-results", desktop)
    card.locator("a", has_text="번동초 체육관").click()
    expect(desktop.locator("table.calendar td.chosen")).to_have_count(4)
    expect(desktop.locator(".chosen-time")).to_contain_text("₩60,000")
    # Within 24 hours of now nothing can be booked: those times are hatched with the reason.
    # The week of 12 hours from now: 12 to 24 hours ahead always holds open times (09–22).
    soon = (datetime.now(UTC) + timedelta(hours=12)).astimezone(SEOUL).date()
    desktop.goto(f"/spaces/{gym.id}?week={soon.isoformat()}")
    refused = desktop.locator("table.calendar td.refused").first
    expect(refused).to_be_visible()
    assert "24시간" in (refused.get_attribute("title") or "")
    shot("desktop-notice-period", desktop)
    desktop.go_back()
    shot("desktop-calendar", desktop)

    desktop.locator(".chosen-time a.button").click()
    expect(desktop.locator("#attendees")).to_have_value("30")
    expect(desktop.locator("#start_time")).to_have_value("18:00")
    expect(desktop.locator("#end_time")).to_have_value("20:00")
    desktop.fill("#purpose", "배드민턴 동호회 정기 모임")
    desktop.fill("#attendees", "200")
    desktop.locator("button[name=check]").click()
    expect(desktop.locator(".form-errors, .error").first).to_be_visible()
    expect(desktop.locator("main")).to_contain_text("최대 80명")
    expect(desktop.locator(".rule-ok")).to_have_count(0)
    shot("desktop-check-refused", desktop)
    desktop.fill("#attendees", "30")
    desktop.locator("button[name=check]").click()
    expect(desktop.locator(".rule-ok")).to_be_visible()
    expect(desktop.locator(".quote-lines")).to_contain_text("₩60,000")
    desktop.locator("button[name=send]").click()
    desktop.wait_for_url(lambda url: "/bookings/" in url)
    shot("desktop-sent", desktop)

    phone = browser_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                            has_touch=True).new_page()
    log_in(phone, resident.email)
    phone.goto(search.replace("18:00", "10:00").replace("20:00", "12:00"))
    phone.locator("li.card a", has_text="번동초 체육관").click()
    calendar = phone.locator("table.calendar")
    expect(calendar).to_have_class("calendar cal-days")
    visible_days = phone.locator("table.calendar thead th:not(.time):not(.day-off)")
    expect(visible_days).to_have_count(3)
    expect(visible_days.first).to_contain_text(f"{wednesday.month}/{wednesday.day}")
    assert phone.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 0
    expect(phone.locator("table.calendar td.chosen")).to_have_count(4)
    shot("phone-calendar", phone)
    # Scrolled down the calendar, the day names stay at the top and the times at the left.
    phone.locator("table.calendar tbody tr").nth(20).scroll_into_view_if_needed()
    head_top = phone.evaluate(
        "document.querySelector('table.calendar thead th:not(.day-off)')"
        ".getBoundingClientRect().top")
    assert 0 <= head_top < 5
    phone.locator(".cal-days-bar button").nth(1).click()  # later days: up to Sunday
    friday = wednesday + timedelta(days=2)
    expect(visible_days.first).to_contain_text(f"{friday.month}/{friday.day}")
    phone.locator(".cal-days-views button", has_text="1일").click()
    expect(visible_days).to_have_count(1)
    shot("phone-one-day", phone)
