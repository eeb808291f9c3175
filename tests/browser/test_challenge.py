"""In Chromium on a phone: a resident books a space whose owner asks for the proof of work. The
widget, served by the app under a Content-Security-Policy without 'unsafe-inline', solves the
challenge in its worker while the form is filled in, and the request goes through."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.bookings.models import Booking
from app.security.models import CHALLENGE_FAILED, SecurityEvent
from tests.browser.test_booking_flow import log_in
from tests.browser.test_phone import PHONE
from tests.conftest import next_weekday

pytestmark = pytest.mark.browser

# What the lead's policy will allow at most; the widget must work within it.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; worker-src 'self'; "
       "connect-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'")


@pytest.fixture
def phone(chromium_browser, live_server):
    context = chromium_browser.new_context(
        base_url=live_server.url, viewport=PHONE, locale="ko-KR", is_mobile=True, has_touch=True
    )
    context.set_default_timeout(30000)
    page = context.new_page()
    yield page
    context.close()


def with_csp(route) -> None:
    """Serve the app's pages with the strict policy (the app does not send one yet)."""
    response = route.fetch(max_redirects=0)
    route.fulfill(response=response,
                  headers={**response.headers, "content-security-policy": CSP})


@pytest.mark.parametrize("difficulty", ["test", "production"])
def test_a_resident_books_with_the_check_on(phone, shot, factories, db, app, monkeypatch,
                                           difficulty):
    if difficulty == "production":  # the defaults of config.Config, as a phone would get them
        monkeypatch.setitem(app.config, "CHALLENGE_COST", 1000)
        monkeypatch.setitem(app.config, "CHALLENGE_MAX_NUMBER", 5000)
    school = factories.org(name="번동초등학교")
    resident = factories.user(email="kim@example.kr", name="김주민")
    space = factories.space(owner=school, name="번동초 다목적실", capacity=30,
                            challenge_mode="always")
    db.session.commit()
    violations: list[str] = []
    phone.on("console", lambda m: violations.append(m.text)
             if "Content Security Policy" in m.text else None)
    phone.route(re.compile(r".*/spaces/\d+/book.*"), with_csp)

    log_in(phone, resident.email)
    start = next_weekday(2, 19)
    local = start.astimezone(space.zone)
    end = local + timedelta(hours=2)
    phone.goto(f"/spaces/{space.id}/book?start={local.isoformat()}&end={end.isoformat()}")
    widget = phone.locator("altcha-widget")
    expect(widget).to_be_visible()
    expect(widget).to_contain_text("매크로 프로그램이 아닙니다")  # our words, in Korean
    shot("challenge-form")

    began = time.monotonic()
    phone.fill("#attendees", "12")  # the first touch of the form starts the check
    phone.fill("#purpose", "주민 독서 모임")
    # "Send" pressed at once: the page waits for the check, then sends by itself.
    phone.locator("main form[method=post] button[name=send]").tap()
    phone.wait_for_url(re.compile(r"/bookings/\d+$"))
    took = time.monotonic() - began
    shot("challenge-booked")

    db.session.rollback()  # see the server's writes
    booking = db.session.scalars(select(Booking)).one()
    assert booking.space_id == space.id and booking.user_id == resident.id
    assert db.session.scalars(
        select(SecurityEvent).where(SecurityEvent.kind == CHALLENGE_FAILED)).all() == []
    assert violations == []
    assert took < 20, f"the check and the request took {took:.1f} s"
