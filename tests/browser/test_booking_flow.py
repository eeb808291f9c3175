"""End to end in Chromium: a resident finds a space, picks a free slot on the week calendar and
requests it; the facility manager approves it from the queue; the resident sees it approved."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from app.bookings.models import Booking

pytestmark = pytest.mark.browser


def log_in(page, email: str, password: str = "password123") -> None:
    page.context.clear_cookies()
    page.goto("/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.locator("main form[method=post] button[type=submit]").click()
    page.wait_for_url(lambda url: "/login" not in url)


def test_request_approve_and_see_it_approved(page, shot, factories, db):
    school = factories.org(name="번동초등학교")
    manager = factories.manager(school, email="manager@bundong.example")
    resident = factories.user(email="kim@example.kr", name="김주민")
    space = factories.space(owner=school, name="번동초 다목적실", capacity=30, type="classroom")
    factories.space(
        name="다른 동네 강당", type="auditorium", owner=factories.org(name="용산 주민센터")
    )
    db.session.commit()

    # The resident searches and opens the space.
    log_in(page, resident.email)
    page.goto("/spaces")
    page.fill("#q", "번동초")
    page.locator("form[role=search] button[type=submit]").first.click()
    expect(page.locator("main")).to_contain_text("번동초 다목적실")
    expect(page.locator("main")).not_to_contain_text("다른 동네 강당")
    shot("search")
    page.locator(f"main a[href$='/spaces/{space.id}']").first.click()

    # Next week has no past cells; choose 19:00 to 21:00 on its Wednesday by clicking two cells.
    page.locator("a[rel=next]").first.click()
    wednesday = page.locator("td.free[data-start*='T19:00']").nth(2).get_attribute("data-day")
    page.locator(f"td.free[data-day='{wednesday}'][data-start*='T19:00']").click()
    expect(page.locator(f"td.selected[data-day='{wednesday}']")).to_have_count(1)
    page.locator(f"td.free[data-day='{wednesday}'][data-start*='T20:30']").click()
    page.wait_for_url(re.compile(r"/spaces/\d+/book\?"))
    shot("request-form")
    page.fill("#attendees", "12")
    page.fill("#purpose", "주민 독서 모임")
    page.locator("main form[method=post] button[name=send]").click()
    page.wait_for_url(re.compile(r"/bookings/\d+$"))
    expect(page.locator(".badge.status-requested").first).to_be_visible()
    shot("requested")

    db.session.rollback()  # end the test's own read transaction to see the server's writes
    booking = db.session.scalars(db.select(Booking)).one()
    seoul = ZoneInfo("Asia/Seoul")
    assert booking.start_at.astimezone(seoul).strftime("%H:%M") == "19:00"
    assert booking.end_at.astimezone(seoul).strftime("%H:%M") == "21:00"
    assert booking.start_at.astimezone(seoul).date().isoformat() == wednesday

    # The manager approves it from the queue.
    log_in(page, manager.email)
    page.goto("/manage/queue")
    expect(page.locator("main")).to_contain_text("김주민")
    shot("queue")
    page.locator(f"form[action$='/manage/bookings/{booking.id}/approve'] button").click()
    expect(page.locator("main")).not_to_contain_text("주민 독서 모임")

    # The resident sees it approved, with the decision in the history.
    log_in(page, resident.email)
    page.goto(f"/bookings/{booking.id}")
    expect(page.locator(".badge.status-approved").first).to_be_visible()
    shot("approved")
    db.session.rollback()
    assert db.session.get(Booking, booking.id).status == "approved"
