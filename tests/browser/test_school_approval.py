"""End to end in Chromium: a resident requests a school gym that answers to its district, the
Seoul Office of Education and the school itself. A time the education office forbids is refused
with its rule quoted; an allowed time goes to the facility manager, then to the principal, and
the resident follows it stage by stage until it is approved."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from app.bookings.models import Booking
from app.orgs.models import OrgMembership
from app.rules.models import RuleSet
from tests.browser.test_booking_flow import log_in
from tests.conftest import next_weekday
from tests.factories import VERIFIED

pytestmark = pytest.mark.browser


def test_a_school_request_goes_through_two_stages(page, shot, factories, db, now):
    seoul = factories.jurisdiction(name="서울특별시", kind="metropolitan")
    gangbuk = factories.jurisdiction(name="강북구", parent=seoul)
    sen = factories.jurisdiction(name="서울특별시교육청", kind="education_office", parent=seoul)
    school = factories.org(name="번동초등학교")
    manager = factories.manager(school, email="manager@bundong.example")
    principal = factories.user(email="principal@bundong.example", name="오교장")
    db.session.add(OrgMembership(user=principal, organisation=school, role="principal"))
    resident = factories.user(email="hong@example.kr", name="홍길동", home_district=gangbuk,
                             home_district_verified_at=VERIFIED)
    gym = factories.space(
        owner=school, name="번동초 체육관", type="gym", capacity=80,
        jurisdictions=[gangbuk, sen], price_per_hour=20000,
    )  # fmt: skip
    since = now - timedelta(days=30)
    db.session.add_all(
        [
            RuleSet(
                jurisdiction_id=sen.id, version=1, effective_from=since,
                body={
                    "allowed_hours": {
                        **{str(d): [[18 * 60, 22 * 60]] for d in range(5)},
                        **{str(d): [[9 * 60, 18 * 60]] for d in (5, 6)},
                    },
                    "hours_note": "학기 중 평일에는 18시 이후에만 개방",
                    "refused_purposes": ["commercial"],
                },
            ),
            RuleSet(
                organisation_id=school.id, version=1, effective_from=since,
                body={"stages": [
                    {"approver": "owner_manager", "deadline_days": 3, "on_deadline": "escalate",
                     "label": "행정실 검토"},
                    {"approver": "owner_principal", "deadline_days": 2, "on_deadline": "expire",
                     "label": "교장 승인"},
                ]},
            ),
        ]
    )  # fmt: skip
    db.session.commit()
    wednesday = next_weekday(2, 10).astimezone(gym.zone).date()

    # 10:00 on a school day: the education office's rule refuses it, and says so.
    log_in(page, resident.email)
    page.goto(f"/spaces/{gym.id}/book")
    expect(page.locator("main")).to_contain_text("서울특별시교육청")  # the rules that apply
    page.fill("#date", wednesday.isoformat())
    page.fill("#start_time", "10:00")
    page.fill("#end_time", "12:00")
    page.fill("#attendees", "16")
    page.select_option("#purpose_category", "sports")
    page.fill("#purpose", "주민 배구 모임")
    page.locator("button[name=check]").click()
    refusal = page.locator(".rule-refusals")
    expect(refusal).to_contain_text("서울특별시교육청")
    expect(refusal).to_contain_text("18:00–22:00")
    shot("refused")

    # 19:00 is allowed: the check shows both stages and the price before sending.
    page.fill("#start_time", "19:00")
    page.fill("#end_time", "21:00")
    page.locator("button[name=check]").click()
    expect(page.locator(".rule-ok")).to_be_visible()
    expect(page.locator(".stage-plan li")).to_have_count(2)
    expect(page.locator(".stage-plan")).to_contain_text("행정실 검토")
    expect(page.locator(".stage-plan")).to_contain_text("교장 승인")
    expect(page.locator(".quote-lines .total")).to_contain_text("40,000")
    shot("checked")
    page.locator("button[name=send]").click()
    page.wait_for_url("**/bookings/*")
    expect(page.locator("li.stage-pending")).to_contain_text("행정실 검토")
    expect(page.locator("li.stage-waiting")).to_contain_text("교장 승인")
    shot("stage-1")
    db.session.rollback()
    booking = db.session.scalars(db.select(Booking)).one()
    assert (booking.status, booking.stage_position, booking.price_amount) == ("requested", 0, 40000)

    # The principal does not see it yet; the facility manager approves stage 1.
    log_in(page, principal.email)
    page.goto("/manage/queue")
    expect(page.locator(f"#booking-{booking.id}")).to_have_count(0)
    log_in(page, manager.email)
    page.goto("/manage/queue")
    expect(page.locator(f"#booking-{booking.id}")).to_contain_text("홍길동")
    page.locator(f"form[action$='/manage/bookings/{booking.id}/approve'] button").click()
    expect(page.locator(f"#booking-{booking.id}")).to_have_count(0)

    # The resident sees it at the principal's stage.
    log_in(page, resident.email)
    page.goto(f"/bookings/{booking.id}")
    expect(page.locator("li.stage-approved")).to_contain_text("행정실 검토")
    expect(page.locator("li.stage-pending")).to_contain_text("교장 승인")
    shot("stage-2")

    # The principal approves stage 2: the booking is approved.
    log_in(page, principal.email)
    page.goto("/manage/queue")
    expect(page.locator(f"#booking-{booking.id}")).to_contain_text("홍길동")
    shot("principal-queue")
    page.locator(f"form[action$='/manage/bookings/{booking.id}/approve'] button").click()
    expect(page.locator(f"#booking-{booking.id}")).to_have_count(0)

    log_in(page, resident.email)
    page.goto(f"/bookings/{booking.id}")
    expect(page.locator(".badge.status-approved").first).to_be_visible()
    expect(page.locator("li.stage-approved")).to_have_count(2)
    shot("approved")
    db.session.rollback()
    assert db.session.get(Booking, booking.id).status == "approved"
