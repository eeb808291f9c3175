"""End to end in Chromium: a resident requests a weekly series, sees which date is taken,
sends it skipping that date, and cancels one date of the series."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from app.bookings.models import Booking
from tests.browser.test_booking_flow import log_in
from tests.conftest import next_weekday

pytestmark = pytest.mark.browser


def test_a_resident_books_a_weekly_series_and_cancels_one_date(page, shot, factories, db):
    center = factories.org(name="수유동 주민센터", kind="community_center")
    resident = factories.user(email="choir@example.kr", name="합창단장")
    space = factories.space(owner=center, name="수유동 다목적실", capacity=30)
    first = next_weekday(1, 19)  # a Tuesday at 19:00 in Seoul
    taken = first + timedelta(days=14)
    factories.booking(space, factories.user(), start=taken, end=taken + timedelta(hours=2))
    db.session.commit()

    log_in(page, resident.email)
    page.goto(f"/spaces/{space.id}/book?start={first.isoformat()}"
              f"&end={(first + timedelta(hours=2)).isoformat()}")
    page.fill("#attendees", "15")
    page.fill("#purpose", "주민 합창단 정기 연습")
    page.locator("details.repeat summary").click()
    page.select_option("#repeat", "weekly")
    page.fill("#count", "4")
    page.locator("button[name=check]").click()
    expect(page.locator("table.series-plan tr.conflict")).to_have_count(1)
    expect(page.locator("table.series-plan tr.ok")).to_have_count(3)
    shot("series-preview")

    page.locator("#skip_conflicts").check()
    page.locator("button[name=send]").click()
    page.wait_for_url(re.compile(r"/bookings/series/\d+$"))
    expect(page.locator("table.series-dates tbody tr")).to_have_count(3)
    shot("series-page")

    # Cancel the second date only.
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("table.series-dates tbody tr").nth(1).locator(
        "form[action$='/cancel'] button").click()
    # The confirmation step says what is refunded (nothing was paid) before anything changes.
    expect(page.locator(".cancel-confirm .refund-box")).to_be_visible()
    page.locator(".cancel-confirm button.danger").click()
    page.wait_for_url(re.compile(r"/bookings/series/\d+$"))
    expect(page.locator("table.series-dates tbody tr").nth(1).locator(
        ".badge.status-cancelled")).to_be_visible()
    shot("series-one-cancelled")

    db.session.rollback()
    statuses = [b.status for b in db.session.scalars(
        db.select(Booking).where(Booking.user_id == resident.id).order_by(Booking.start_at))]
    assert statuses == ["requested", "cancelled", "requested"]
