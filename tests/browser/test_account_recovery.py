"""End to end in Chromium: a forgotten password is reset from the link in the email (every
other browser is logged out), and a new account confirms its address before it can book."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.bookings.models import Booking
from app.notifications.delivery import _content
from app.notifications.models import EmailDelivery
from tests.browser.test_booking_flow import log_in
from tests.conftest import next_weekday

pytestmark = pytest.mark.browser


def _link_in_latest(db, kind: str, path: str) -> str:
    """The link of the newest `kind` email in the outbox, as a path on the live server."""
    db.session.rollback()  # see the server's writes
    mail = db.session.scalars(
        select(EmailDelivery).where(EmailDelivery.kind == kind).order_by(EmailDelivery.id.desc())
    ).first()
    assert mail is not None, kind
    if mail.body_text is None:  # not delivered yet: render it as the worker would
        _content(mail)
    found = re.search(rf"https?://\S+?({re.escape(path)}\S+)", mail.body_text or "")
    assert found, mail.body_text
    db.session.rollback()
    return urlsplit(found.group(0)).path


def test_a_forgotten_password_is_reset_from_the_email(page, browser_context, shot, factories, db):
    user = factories.user(email="kim@example.kr", name="김주민")
    db.session.commit()
    # Logged in (and remembered) on another device.
    other = browser_context(viewport={"width": 390, "height": 800}).new_page()
    log_in(other, user.email)

    page.goto("/login")
    page.locator("main a[href$='/password/forgot']").click()
    page.wait_for_url(re.compile(r"/password/forgot$"))
    page.fill("#email", "kim@example.kr")
    page.locator("main form[method=post] button[type=submit]").click()
    expect(page.locator("main")).to_contain_text("kim@example.kr")
    shot("asked")

    page.goto(_link_in_latest(db, "password_reset", "/password/reset/"))
    page.fill("#password", "a-brand-new-password")
    page.fill("#confirm", "a-brand-new-password")
    shot("new-password")
    page.locator("main form[method=post] button[type=submit]").click()
    page.wait_for_url(re.compile(r"/spaces/"))
    # Signed in here: the account page opens.
    page.goto("/account")
    expect(page.locator("main")).to_contain_text("kim@example.kr")

    # The other device was logged out.
    other.goto("/account")
    other.wait_for_url(re.compile(r"/login"))
    # The old password no longer works there; the new one does.
    other.fill("#email", user.email)
    other.fill("#password", "password123")
    other.locator("main form[method=post] button[type=submit]").click()
    expect(other).to_have_url(re.compile(r"/login"))
    log_in(other, user.email, "a-brand-new-password")
    other.goto("/account")
    expect(other.locator("main")).to_contain_text("kim@example.kr")


def test_a_new_account_confirms_its_address_before_booking(page, shot, factories, db):
    space = factories.space(name="번동 다목적실", capacity=30)
    db.session.commit()
    day = next_weekday(2, 19).astimezone(space.zone).date()

    page.goto("/register")
    page.fill("#name", "박새내기")
    page.fill("#email", "new@example.kr")
    page.fill("#password", "a-long-password")
    page.fill("#confirm", "a-long-password")
    page.check("#consent_booking")
    page.locator("main form[method=post] button[type=submit]").click()
    expect(page.locator("main")).to_contain_text("new@example.kr")
    log_in(page, "new@example.kr", "a-long-password")

    def send_request():
        page.goto(f"/spaces/{space.id}/book")
        page.fill("#date", day.isoformat())
        page.fill("#start_time", "19:00")
        page.fill("#end_time", "21:00")
        page.fill("#attendees", "12")
        page.fill("#purpose", "주민 독서 모임")
        page.locator("main form[method=post] button[name=send]").click()

    send_request()
    notice = page.locator("#unverified")
    expect(notice).to_be_visible()
    expect(page.locator("main .form-errors")).to_be_visible()
    shot("blocked")
    db.session.rollback()
    assert db.session.scalars(select(Booking)).first() is None

    # A new link, then the link from the email.
    notice.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(rf"/spaces/{space.id}/book$"))
    page.goto(_link_in_latest(db, "email_verification", "/verify-email/"))
    page.wait_for_url(re.compile(r"/account$"))
    expect(page.locator("#verify-title")).to_have_count(0)

    send_request()
    page.wait_for_url(re.compile(r"/bookings/\d+$"))
    shot("booked")
    db.session.rollback()
    assert db.session.scalars(select(Booking)).one().purpose == "주민 독서 모임"
