"""End to end in Chromium: a district officer lands on the statistics overview (this month,
next month's demand, what needs attention), opens the "by space" tab, sees the charts drawn by
Chart.js (served by the app) on axes scaled to their data, drills down into a district by
clicking its row (its spaces, not one bar), reads the peak-time heatmap in the "use" tab, and
the breadcrumb shows the way back. The same on a phone (390 px): overview and a tab without
sideways scrolling."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from playwright.sync_api import expect

from app.bookings import services
from app.stats import facts
from tests.browser.test_booking_flow import log_in

pytestmark = pytest.mark.browser

SEOUL = ZoneInfo("Asia/Seoul")
THEN = datetime(2031, 1, 10, tzinfo=UTC)
NOW = datetime(2031, 2, 15, 12, tzinfo=SEOUL)  # the pages' "today": 2031-02-15


def city(factories, db):
    seoul = factories.jurisdiction(slug="seoul", name="서울특별시", kind="metropolitan")
    gangbuk = factories.jurisdiction(slug="gangbuk", name="강북구", parent=seoul)
    dobong = factories.jurisdiction(slug="dobong", name="도봉구", parent=seoul)
    school = factories.org(name="번동초등학교")
    manager = factories.manager(school, email="manager@bundong.example")
    officer = factories.officer(seoul, email="officer@seoul.example")
    gym = factories.space(owner=school, name="번동초 체육관", jurisdictions=[gangbuk])
    room = factories.space(owner=school, name="번동초 회의실", jurisdictions=[gangbuk])
    hall = factories.space(owner=school, name="도봉 강당", jurisdictions=[dobong])
    for space, day, hour in ((gym, 3, 10), (gym, 4, 19), (hall, 5, 10), (room, 6, 14),
                             (gym, 10, 10), (gym, 12, 19)):
        start = datetime(2031, 2, day, hour, tzinfo=SEOUL).astimezone(UTC)
        booking = factories.booking(space, start=start, end=start + timedelta(hours=2),
                                    now=THEN)
        services.approve(booking, manager, now=THEN)
    start = datetime(2031, 3, 7, 10, tzinfo=SEOUL).astimezone(UTC)  # next month
    services.approve(factories.booking(gym, start=start, end=start + timedelta(hours=3),
                                       now=THEN), manager, now=THEN)
    db.session.commit()
    facts.rebuild_open(date(2031, 1, 1), date(2031, 3, 31),
                       space_ids=[gym.id, room.id, hall.id])
    db.session.commit()
    return {"gangbuk": gangbuk, "officer": officer, "manager": manager}


@pytest.fixture
def in_2031():
    with time_machine.travel(NOW, tick=True):
        yield


def test_an_officer_reads_the_overview_and_drills_into_a_district(
        page, shot, factories, db, in_2031):
    world = city(factories, db)
    gangbuk = world["gangbuk"]
    log_in(page, world["officer"].email)
    page.locator("header nav a[href='/stats/']").click()
    page.wait_for_url(re.compile(r"/stats/$"))

    # The overview: this month so far, next month's demand, what needs attention.
    month = page.locator("[data-overview='month']")
    expect(month).to_contain_text("2031-02-01 – 2031-02-15")
    expect(month.locator("[data-figure='bookings'] dd").first).to_have_text("6")
    coming = page.locator("[data-overview='next_month']")
    expect(coming.locator("[data-figure='next_booked_hours'] dd").first).to_have_text("3.0")
    expect(page.locator("[data-overview='attention'] [data-attention='low']")).to_contain_text(
        "도봉 강당")
    expect(page.locator(".stats-tabs a[aria-current='page']")).to_have_attribute(
        "data-tab", "overview")
    shot("overview")

    # The "by space" tab: a link, marked current; its charts drawn on a scaled axis.
    page.locator(".stats-tabs a[data-tab='spaces']").click()
    page.wait_for_url(re.compile(r"tab=spaces"))
    expect(page.locator(".stats-tabs a[aria-current='page']")).to_have_attribute(
        "data-tab", "spaces")
    chart = page.locator("#stats-by_district-chart")
    expect(chart).to_have_attribute("data-drawn", "true")
    expect(chart).to_have_attribute("role", "img")
    top = page.evaluate("document.getElementById('stats-by_district-chart').chart"
                        ".scales.y.max")
    assert 0 < top < 0.2, top  # a few percent used: not a 0–100 % axis
    expect(page.locator(".stats-crumbs li")).to_have_count(1)
    shot("spaces")

    # Into 강북구: its spaces and breakdowns, no one-bar district chart; the way back.
    page.locator(f"#stats-by_district tr[data-district='{gangbuk.id}'] a.stats-drill").click()
    page.wait_for_url(re.compile(rf"district={gangbuk.id}"))
    assert "tab=spaces" in page.url
    crumbs = page.locator(".stats-crumbs li")
    expect(crumbs).to_have_count(2)
    expect(crumbs.last).to_contain_text("강북구")
    expect(page.locator("#stats-by_district")).to_have_count(0)
    by_space = page.locator("#stats-by_space")
    expect(by_space).to_contain_text("번동초 체육관")
    expect(by_space).to_contain_text("번동초 회의실")
    expect(by_space).not_to_contain_text("도봉 강당")
    shot("district")

    # The "use" tab keeps the district: the heatmap is a table.
    page.locator(".stats-tabs a[data-tab='usage']").click()
    page.wait_for_url(re.compile(r"tab=usage"))
    assert f"district={gangbuk.id}" in page.url
    heatmap = page.locator("table.stats-heatmap")
    expect(heatmap).to_be_visible()
    expect(heatmap.locator("td.heat-5")).not_to_have_count(0)
    assert page.evaluate("typeof window.Chart") == "function"
    shot("usage")

    crumbs.first.locator("a").click()
    page.wait_for_url(lambda url: "district=" not in url)
    expect(page.locator(".stats-crumbs li")).to_have_count(1)

    # Open data: a preview of the month in progress, marked partial, with its licence mark.
    page.locator(".stats-tabs a[data-tab='open']").click()
    page.wait_for_url(re.compile(r"tab=open"))
    expect(page.locator(".open-preview .stats-partial")).to_be_visible()
    expect(page.locator(".open-preview-table tbody tr")).to_have_count(3)
    assert page.evaluate("document.querySelector('.kogl img').naturalWidth") > 0
    shot("open-data")


def test_the_overview_and_a_tab_fit_a_phone(browser_context, live_server, shot, factories, db,
                                            in_2031):
    from tests.browser.test_phone import PHONE, page_width_overflow

    world = city(factories, db)
    context = browser_context(viewport=PHONE, is_mobile=True, has_touch=True)
    phone = context.new_page()
    log_in(phone, world["manager"].email)
    phone.goto("/stats/")
    expect(phone.locator("[data-overview='next_month']")).to_be_visible()
    assert page_width_overflow(phone) == 0
    shot("phone-overview", phone)
    phone.locator(".stats-tabs a[data-tab='spaces']").click()
    expect(phone.locator("#stats-by_space-chart")).to_have_attribute("data-drawn", "true")
    assert page_width_overflow(phone) == 0
    shot("phone-spaces", phone)
