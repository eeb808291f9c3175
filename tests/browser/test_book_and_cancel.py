"""End to end in Chromium, desktop then phone: a resident fills the request form while the
summary panel follows (total, refusal, what happens next), pays once approved (the Stripe double)
with the button at the top, cancels through the confirmation step that shows the refund, and
finds the message about it."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from app.bookings import services as booking_services
from app.bookings.models import Booking
from tests.approvals import add_rules
from tests.browser.test_booking_flow import log_in
from tests.browser.test_payment import stripe_for_live_server  # noqa: F401 (a fixture)

pytestmark = pytest.mark.browser
SEOUL_OFFSET = timedelta(hours=9)
TIERS = {"refund_tiers": [{"days_before": 7, "percent": 100}, {"days_before": 2, "percent": 50}]}


def test_book_pay_and_cancel_with_the_refund_shown(
    page, shot, browser_context, factories, db, now, stripe_for_live_server  # noqa: F811
):
    center = factories.org(name="수유동 주민센터", kind="community_center")
    manager = factories.manager(center)
    resident = factories.user(email="flow@example.kr", name="정주민")
    space = factories.space(owner=center, name="수유동 다목적실", price_per_hour=10_000,
                            capacity=40, booking_mode="request")
    add_rules(body=TIERS, space_id=space.id)
    db.session.commit()
    start = (now + timedelta(days=4)).replace(hour=5, minute=0, second=0, microsecond=0)
    local = start + SEOUL_OFFSET  # 14:00 in Seoul, four days ahead: 50% back under TIERS

    # --- Desktop: the form and its summary panel.
    log_in(page, resident.email)
    page.goto(f"/spaces/{space.id}/book?start={start.isoformat()}"
              f"&end={(start + timedelta(hours=2)).isoformat()}")
    panel = page.locator(".book-summary")
    expect(panel.locator(".total")).to_have_text("₩20,000")
    page.fill("#end_time", f"{(local + timedelta(hours=3)):%H:%M}")
    expect(panel.locator(".total")).to_have_text("₩30,000")
    page.fill("#attendees", "120")
    expect(panel.locator(".refused")).to_be_visible()
    shot("summary-refuses-too-many")
    page.fill("#attendees", "25")
    expect(panel.locator(".next")).to_be_visible()
    expect(panel.locator(".policy li")).to_have_count(4)
    box = panel.bounding_box()
    page.mouse.wheel(0, 600)
    page.wait_for_timeout(200)
    assert panel.bounding_box()["y"] >= 0 and panel.is_visible()  # stays in view
    assert box is not None and box["x"] > 640  # beside the form, not under it
    shot("summary-desktop")
    page.fill("#purpose", "주민 요가 모임")
    page.locator("button[name=send]").click()
    page.wait_for_url(re.compile(r"/bookings/\d+$"))
    booking_id = int(page.url.rsplit("/", 1)[1])

    db.session.rollback()
    booking_services.approve(db.session.get(Booking, booking_id), manager)
    db.session.commit()

    # --- Approved: the payment stands out at the top; pay through the test checkout.
    page.goto(f"/bookings/{booking_id}")
    expect(page.locator("h1 .badge.payment-due")).to_be_visible()
    callout = page.locator(".pay-callout")
    expect(callout).to_contain_text("₩30,000")
    assert callout.bounding_box()["y"] < 400
    shot("payment-due-on-top")
    callout.locator(".pay-button").click()
    page.locator("button[value=pay]").click()
    page.wait_for_url(re.compile(rf"/bookings/{booking_id}/receipt$"))

    # --- Cancel: a confirmation step with the refund, then consistent badges.
    page.goto(f"/bookings/{booking_id}")
    expect(page.locator("h1 .badge.payment-paid")).to_be_visible()
    page.locator(f"a[href='/bookings/{booking_id}/cancel']").click()
    box = page.locator(".refund-box")
    expect(box).to_have_attribute("data-refund-amount", "15000")
    expect(box).to_contain_text("₩15,000")
    expect(box).to_contain_text("50%")
    shot("cancel-confirm")
    page.locator(".cancel-confirm button.danger").click()
    page.wait_for_url(re.compile(rf"/bookings/{booking_id}$"))
    expect(page.locator(".badge.status-cancelled").first).to_be_visible()
    expect(page.locator("h1 .badge.refund-pending, h1 .badge.refund-done")).to_be_visible()
    expect(page.locator("h1 .badge.payment-paid")).to_have_count(0)
    shot("cancelled")

    db.session.rollback()
    booking = db.session.get(Booking, booking_id)
    assert booking.status == "cancelled"
    assert sum(r.amount for p in booking.payments for r in p.refunds) == 15_000

    page.goto("/notifications")
    expect(page.locator("main")).to_contain_text("예약 취소 완료: 수유동 다목적실")
    shot("notifications")

    # --- Phone: the summary is a bar at the bottom that opens on a tap.
    phone = browser_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                            has_touch=True).new_page()
    log_in(phone, resident.email)
    later = start + timedelta(days=1)
    phone.goto(f"/spaces/{space.id}/book?start={later.isoformat()}"
               f"&end={(later + timedelta(hours=1)).isoformat()}")
    bar = phone.locator(".book-summary")
    expect(bar.locator(".summary-total")).to_have_text("₩10,000")
    bar_box = bar.bounding_box()
    assert bar_box is not None and bar_box["y"] + bar_box["height"] <= 844 + 1
    assert bar_box["height"] < 200  # closed: one line
    shot("summary-phone-bar", phone)
    phone.fill("#attendees", "30")
    expect(bar.locator(".summary-line")).to_contain_text("30")
    bar.locator("summary").tap()
    expect(bar.locator(".policy")).to_be_visible()
    shot("summary-phone-open", phone)
    phone.goto(f"/bookings/{booking_id}")
    expect(phone.locator("h1 .badge.status-cancelled")).to_be_visible()
    shot("cancelled-phone", phone)
