"""End to end in Chromium: a resident pays for an approved booking through the simulated
Stripe Checkout (the local double, real stripe library, real webhooks over HTTP) and lands on
the receipt."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from app.bookings import services as booking_services
from app.bookings.models import Booking
from devtools.stripe_double import StripeDouble
from tests.browser.test_booking_flow import log_in

pytestmark = pytest.mark.browser


@pytest.fixture
def stripe_for_live_server(app, live_server):
    double = StripeDouble(webhook_url=f"{live_server.url}/stripe/webhook",
                          webhook_secret="whsec_browser")
    keys = {"STRIPE_SECRET_KEY": "sk_test_browser", "STRIPE_API_BASE": double.start(),
            "STRIPE_WEBHOOK_SECRET": "whsec_browser"}
    old = {k: app.config.get(k) for k in keys}
    app.config.update(keys)
    app.extensions.pop("gonggan_stripe", None)
    yield double
    app.config.update(old)
    app.extensions.pop("gonggan_stripe", None)
    double.stop()


def test_a_resident_pays_an_approved_booking_through_checkout(
    page, shot, factories, db, now, stripe_for_live_server
):
    center = factories.org(name="미아동 주민센터", kind="community_center")
    manager = factories.manager(center)
    resident = factories.user(email="pay@example.kr", name="박주민")
    space = factories.space(owner=center, name="미아동 강당", price_per_hour=15_000)
    start = (now + timedelta(days=4)).replace(hour=10, minute=0, second=0)  # 19:00 in Seoul
    booking = booking_services.create_booking(
        space, resident, start=start, end=start + timedelta(hours=2), purpose="합창 연습",
        attendees=20,
    )
    booking_services.approve(booking, manager)
    db.session.commit()

    log_in(page, resident.email)
    page.goto(f"/bookings/{booking.id}")
    expect(page.locator(".payment-panel")).to_contain_text("₩30,000")
    expect(page.locator(".payment-panel .test-banner")).to_be_visible()
    shot("payment-due")
    page.locator(".pay-button").click()

    # The simulated hosted checkout: clearly a test payment.
    expect(page.locator("body")).to_contain_text("TEST PAYMENT")
    expect(page.locator("h1")).to_contain_text("30,000")
    shot("checkout")
    page.locator("button[value=pay]").click()

    page.wait_for_url(re.compile(rf"/bookings/{booking.id}/receipt$"))
    expect(page.locator(".receipt")).to_contain_text("₩30,000")
    expect(page.locator(".receipt")).to_contain_text("4242")
    shot("receipt")

    db.session.rollback()
    booking = db.session.get(Booking, booking.id)
    assert booking.payment_status == "paid"
    assert booking.payments[-1].status == "succeeded"
