"""End to end in Chromium, desktop then a 390 px phone: My bookings puts what needs the
resident first, as cards with the action on them (pay, change a returned request, a closure);
rejected and cancelled bookings sit under the past tab; the inbox shows the requests for action
first and one entry per booking; the closure card opens the booking page's closure note."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.bookings.test_todo import make_bookings
from tests.browser.test_booking_flow import log_in
from tests.notifications.test_pages import add_copies

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


def overflow(page) -> int:
    return page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )


def test_my_bookings_and_inbox_as_to_do_lists(page, browser_context, shot, factories, db):
    me = factories.user(email="kim@example.kr", name="김주민")
    made = make_bookings(factories, me)
    from app.notifications.models import Notification

    received = db.session.query(Notification).filter_by(
        user_id=me.id, booking_id=made["plain"][0].id).one()
    add_copies(received, 6)  # many messages about one booking: one entry

    log_in(page, me.email)
    page.goto("/bookings/")
    expect(page.locator("nav.booking-tabs a[aria-current=page]")).to_have_text("할 일 · 예정")
    todo = page.locator("section[aria-labelledby=todo-title] .booking-card")
    expect(todo).to_have_count(3)
    expect(todo.nth(0)).to_contain_text("까지 결제")  # the payment deadline first
    expect(todo.filter(has_text="보완 요청").locator("a.button")).to_have_text("신청 고치기")
    closed = todo.filter(has_text="휴관과 겹침")
    expect(closed).to_have_count(1)
    expect(page.locator("section[aria-labelledby=upcoming-title] .booking-card")).to_have_count(1)
    expect(page.locator("main")).not_to_contain_text("거절")
    shot("desktop-my-bookings")

    # The past tab holds the rejected and cancelled ones.
    page.locator("nav.booking-tabs a", has_text="지난 예약 · 취소").click()
    expect(page.locator("nav.booking-tabs a[aria-current=page]")).to_have_text("지난 예약 · 취소")
    past = page.locator("section[aria-labelledby=past-title] .booking-card")
    expect(past).to_have_count(3)  # rejected, cancelled, cancelled after payment
    shot("desktop-past")

    # The closure card opens the booking page at its note.
    page.goto("/bookings/")
    closed.locator("a", has_text="할 수 있는 일 보기").click()
    page.wait_for_url(re.compile(r"/bookings/\d+#closure-note$"))
    expect(page.locator("#closure-note")).to_contain_text("전기 점검")
    shot("desktop-closure-note")

    # The inbox: requests for action first, then one entry per booking.
    page.goto("/notifications")
    actions = page.locator("section[aria-labelledby=inbox-actions-title] .inbox-item")
    expect(actions).to_have_count(3)  # payment due, returned, closure
    rest = page.locator("section[aria-labelledby=inbox-rest-title] > ul > .inbox-item")
    expect(rest.first.locator("details summary")).to_contain_text("이 예약에 관한 이전 알림")
    shot("desktop-inbox")

    # On a phone: cards, nothing wider than the screen, words kept whole.
    phone = browser_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    log_in(phone, me.email)
    phone.goto("/bookings/")
    assert overflow(phone) <= 0
    card = phone.locator(".booking-card").first
    assert card.evaluate("e => getComputedStyle(e).wordBreak") == "keep-all"
    box = card.bounding_box()
    assert box is not None and box["width"] <= PHONE["width"]
    expect(phone.locator("table")).to_have_count(0)
    shot("phone-my-bookings", phone)
    phone.goto("/notifications")
    assert overflow(phone) <= 0
    shot("phone-inbox", phone)
