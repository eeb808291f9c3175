"""On a phone: the pages a resident and a manager use fit the screen (only the week calendar
scrolls sideways, inside its own box), and the site speaks Korean unless asked otherwise."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.test_booking_flow import log_in
from tests.conftest import next_weekday

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 740}


@pytest.fixture
def phone(browser_context):
    context = browser_context(viewport=PHONE, is_mobile=True, has_touch=True)
    return context.new_page()


def page_width_overflow(page) -> int:
    """How many CSS pixels the page is wider than the screen (0 when nothing sticks out)."""
    return page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )


def test_pages_fit_a_phone_screen_in_korean(phone, shot, factories, db):
    school = factories.org(name="번동초등학교")
    manager = factories.manager(school, email="manager@bundong.example")
    resident = factories.user(email="kim@example.kr", name="김주민")
    space = factories.space(
        owner=school,
        name="번동초 다목적실",
        capacity=30,
        type="classroom",
        address="서울특별시 강북구 번동 411",
        latitude=37.6367,
        longitude=127.0283,
    )
    start = next_weekday(2, 19)
    booking = factories.booking(space, resident, start=start, end=start + timedelta(hours=2))
    db.session.commit()

    log_in(phone, resident.email)
    pages = {
        "search": "/spaces/",
        "space": f"/spaces/{space.id}",
        "request-form": f"/spaces/{space.id}/book",
        "my-bookings": "/bookings/",
        "booking": f"/bookings/{booking.id}",
    }
    for step, url in pages.items():
        phone.goto(url)
        assert page_width_overflow(phone) <= 0, f"{url} is wider than a phone screen"
        shot(f"phone-{step}", phone)
    # Korean by default: the navigation and the calendar speak Korean.
    phone.goto(f"/spaces/{space.id}")
    expect(phone.locator("html")).to_have_attribute("lang", "ko")
    expect(phone.locator("nav.main-nav")).to_contain_text("공간 찾기")
    expect(phone.locator("nav.main-nav")).to_contain_text("내 예약")

    log_in(phone, manager.email)
    for step, url in {"queue": "/manage/queue", "spaces": "/manage/spaces",
                      "calendar": f"/manage/spaces/{space.id}/calendar",
                      "edit": f"/manage/spaces/{space.id}/edit",
                      "hours": f"/manage/spaces/{space.id}/hours"}.items():
        phone.goto(url)
        assert page_width_overflow(phone) <= 0, f"{url} is wider than a phone screen"
        shot(f"phone-manager-{step}", phone)
    phone.goto("/manage/queue")
    expect(phone.locator("main")).to_contain_text("김주민")
    approve = phone.locator(f"form[action$='/manage/bookings/{booking.id}/approve'] button")
    expect(approve).to_be_visible()
