"""End to end in Chromium: a district officer opens the statistics, sees the charts drawn by
Chart.js (served by the app) and the peak-time heatmap, drills down into a district by clicking
its row, and the breadcrumb shows the way back."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from app.bookings import services
from app.stats import facts
from tests.browser.test_booking_flow import log_in

pytestmark = pytest.mark.browser

SEOUL = ZoneInfo("Asia/Seoul")
THEN = datetime(2031, 1, 10, tzinfo=UTC)


def test_an_officer_reads_the_charts_and_drills_into_a_district(page, shot, factories, db):
    seoul = factories.jurisdiction(slug="seoul", name="서울특별시", kind="metropolitan")
    gangbuk = factories.jurisdiction(slug="gangbuk", name="강북구", parent=seoul)
    dobong = factories.jurisdiction(slug="dobong", name="도봉구", parent=seoul)
    school = factories.org(name="번동초등학교")
    manager = factories.manager(school)
    officer = factories.officer(seoul, email="officer@seoul.example")
    gym = factories.space(owner=school, name="번동초 체육관", jurisdictions=[gangbuk])
    hall = factories.space(owner=school, name="도봉 강당", jurisdictions=[dobong])
    for space, day in ((gym, 3), (gym, 4), (hall, 5)):
        start = datetime(2031, 2, day, 10, tzinfo=SEOUL).astimezone(UTC)
        booking = factories.booking(space, start=start, end=start + timedelta(hours=2),
                                    now=THEN)
        services.approve(booking, manager, now=THEN)
    db.session.commit()
    facts.rebuild_open(date(2031, 2, 1), date(2031, 2, 28), space_ids=[gym.id, hall.id])
    db.session.commit()

    log_in(page, officer.email)
    page.locator("header nav a[href='/stats/']").click()
    page.wait_for_url(re.compile(r"/stats/$"))
    page.goto("/stats/?from=2031-02-01&to=2031-02-28")

    # Chart.js drew the charts (the canvas is marked once drawn) and the heatmap is a table.
    chart = page.locator("#stats-by_district-chart")
    expect(chart).to_have_attribute("data-drawn", "true")
    expect(chart).to_have_attribute("role", "img")
    assert page.evaluate("typeof window.Chart") == "function"
    heatmap = page.locator("table.stats-heatmap")
    expect(heatmap).to_be_visible()
    expect(heatmap.locator("td.heat-5")).not_to_have_count(0)
    expect(page.locator(".stats-crumbs li")).to_have_count(1)
    shot("dashboard")

    # Into 강북구: only its space is left, and the breadcrumb leads back.
    page.locator(f"#stats-by_district tr[data-district='{gangbuk.id}'] a.stats-drill").click()
    page.wait_for_url(re.compile(rf"district={gangbuk.id}"))
    assert "from=2031-02-01" in page.url
    crumbs = page.locator(".stats-crumbs li")
    expect(crumbs).to_have_count(2)
    expect(crumbs.last).to_contain_text("강북구")
    expect(page.locator("#stats-by_space")).to_contain_text("번동초 체육관")
    expect(page.locator("#stats-by_space")).not_to_contain_text("도봉 강당")
    shot("district")

    crumbs.first.locator("a").click()
    page.wait_for_url(lambda url: "district=" not in url)
    expect(page.locator("#stats-by_space")).to_contain_text("도봉 강당")


def test_the_dashboard_fits_a_phone(browser_context, live_server, shot, factories, db):
    from tests.browser.test_phone import PHONE, page_width_overflow

    gangbuk = factories.jurisdiction(slug="gangbuk", name="강북구")
    school = factories.org(name="번동초등학교")
    manager = factories.manager(school, email="manager@bundong.example")
    gym = factories.space(owner=school, name="번동초 체육관", jurisdictions=[gangbuk])
    start = datetime(2031, 2, 3, 19, tzinfo=SEOUL).astimezone(UTC)
    booking = factories.booking(gym, start=start, end=start + timedelta(hours=2), now=THEN)
    services.approve(booking, manager, now=THEN)
    db.session.commit()
    facts.rebuild_open(date(2031, 2, 1), date(2031, 2, 28), space_ids=[gym.id])
    db.session.commit()

    context = browser_context(viewport=PHONE, is_mobile=True, has_touch=True)
    phone = context.new_page()
    log_in(phone, manager.email)
    phone.goto("/stats/?from=2031-02-01&to=2031-02-28")
    expect(phone.locator("#stats-by_space-chart")).to_have_attribute("data-drawn", "true")
    expect(phone.locator("table.stats-heatmap")).to_be_attached()
    assert page_width_overflow(phone) == 0
    shot("phone", phone)
