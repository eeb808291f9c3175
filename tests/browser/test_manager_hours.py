"""A manager changes the opening hours by day (copy Monday to the weekdays), sees the booking
the change would affect before anything is saved, chooses what happens to it and confirms; the
week calendar then shows bookings as blocks coloured by state. Desktop, then a phone."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from app.bookings.models import Booking
from app.spaces.models import OpeningHours
from tests.browser.test_booking_flow import log_in
from tests.conftest import next_weekday

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


def _journey(page, shot, space, booking, *, prefix: str, target: str, cancel: bool):
    page.goto(f"/manage/spaces/{space.id}/hours")
    page.select_option("#open_0_0", "12:00")
    page.select_option("#close_0_0", "21:00")
    page.locator(f"button[data-copy={target}]").click()
    # Copied in the page (no reload): Wednesday now reads 12:00–21:00.
    expect(page.locator("#open_2_0")).to_have_value("12:00")
    expect(page.locator("#close_2_0")).to_have_value("21:00")
    expect(page.locator("#copy-status")).to_contain_text("월요일")
    shot(f"{prefix}-copied", page)
    page.get_by_role("button", name="운영 시간 저장").click()
    preview = page.locator("#affected")
    expect(preview).to_be_visible()
    expect(preview.locator(f'li[data-booking="{booking.id}"]')).to_contain_text("김주민")
    expect(preview).to_contain_text("확인하기 전에는 아무것도 저장되지 않습니다")
    shot(f"{prefix}-preview", page)
    if cancel:
        preview.get_by_label("취소하기: 주민에게 알리고 전액 환불합니다").check()
    page.fill("#affected_note", "오전에는 관리 인력이 없습니다")
    page.get_by_role("button", name="확인하고 저장").click()
    expect(page.locator(".flash").first).to_contain_text("운영 시간")
    shot(f"{prefix}-saved", page)
    assert page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    ) <= 0


def test_manager_edits_hours_sees_affected_booking_and_confirms(
    page, browser_context, shot, factories, db
):
    school = factories.org(name="번동초등학교")
    manager = factories.manager(school, email="manager@bundong.example")
    resident = factories.user(email="kim@example.kr", name="김주민")
    hall = factories.space(owner=school, name="번동초 다목적실", capacity=30)
    gym = factories.space(owner=school, name="번동초 체육관", capacity=80)
    hall.buffer_minutes = 30
    start = next_weekday(2, 10)
    kept = factories.booking(hall, resident, start=start, end=start + timedelta(hours=2),
                             status="approved")  # fmt: skip
    factories.booking(hall, start=start + timedelta(hours=4), end=start + timedelta(hours=5))
    cancelled = factories.booking(gym, resident, start=start, end=start + timedelta(hours=1),
                                  status="confirmed")  # fmt: skip
    db.session.commit()

    # Desktop: copy Monday to the weekdays, keep the affected booking and tell the resident.
    log_in(page, manager.email)
    _journey(page, shot, hall, kept, prefix="desktop", target="weekdays", cancel=False)
    db.session.rollback()  # a new transaction sees what the server wrote
    assert db.session.get(Booking, kept.id).status == "approved"
    hours = {(h.weekday, h.open_minute, h.close_minute)
             for h in db.session.query(OpeningHours).filter_by(space_id=hall.id)}  # fmt: skip
    assert (2, 720, 1260) in hours and (5, 540, 1320) in hours
    page.goto(f"/manage/spaces/{hall.id}/calendar?week={start.date().isoformat()}")
    expect(page.locator(f'a.bk-paid[data-booking="{kept.id}"]').first).to_be_visible()
    expect(page.locator(".legend-blocks")).to_contain_text("신청: 결정 대기")
    shot("desktop-calendar", page)

    # Phone: copy Monday to every day on the gym, cancel the affected paid booking.
    phone = browser_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    log_in(phone, manager.email)
    _journey(phone, shot, gym, cancelled, prefix="phone", target="all", cancel=True)
    db.session.rollback()  # a new transaction sees what the server wrote
    assert db.session.get(Booking, cancelled.id).status == "cancelled"
    phone.goto(f"/manage/spaces/{gym.id}/calendar?week={start.date().isoformat()}")
    expect(phone.locator(f'a.bk-off[data-booking="{cancelled.id}"]').first).to_be_attached()
    shot("phone-calendar", phone)
