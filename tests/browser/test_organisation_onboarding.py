"""In Chromium, an owner from nothing: a person applies as a company with a rooftop, the
district officer approves it, the new manager invites a colleague (who accepts), lists the
rooftop with opening hours and two photos and publishes it; a resident finds it in search with
its cover photo and books it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.bookings.models import Booking
from app.notifications.models import EmailDelivery
from app.orgs.models import Organisation, OrgMembership
from tests.browser.test_booking_flow import log_in
from tests.media.pictures import picture
from tests.orgs.conftest import pdf_bytes

pytestmark = pytest.mark.browser


def test_apply_approve_invite_list_and_book(page, shot, factories, db, media, tmp_path):
    seoul = factories.jurisdiction(slug="seoul", name="서울특별시", kind="metropolitan")
    gangbuk = factories.jurisdiction(slug="gangbuk", name="강북구", parent=seoul)
    officer = factories.officer(gangbuk, email="officer@gangbuk.example")
    founder = factories.user(email="founder@rooftop.example", name="한옥상")
    colleague = factories.user(email="colleague@rooftop.example", name="이동료")
    resident = factories.user(email="kim@example.kr", name="김주민")
    db.session.commit()

    # The founder applies as a company, with the registration certificate as a PDF.
    log_in(page, founder.email)
    page.goto("/organisations/apply")
    page.locator("input[name=kind][value=company]").check()
    page.fill("#legal_name", "(주)미아옥상정원")
    page.fill("#name", "미아 옥상정원")
    page.fill("#representative", "한옥상")
    page.fill("#contact_email", "hello@rooftop.example")
    page.fill("#contact_phone", "02-987-6543")
    page.fill("#address", "서울 강북구 도봉로 100")
    page.fill("#registration_number", "124-81-00998")
    certificate = tmp_path / "사업자등록증.pdf"
    certificate.write_bytes(pdf_bytes())
    page.set_input_files("#evidence", str(certificate))
    shot("apply")
    page.locator("main form[enctype] button[type=submit]").click()
    page.wait_for_url(re.compile(r"/organisations/\d+$"))
    expect(page.locator("main")).to_contain_text("심사 중")
    expect(page.locator("main")).to_contain_text("강북구")
    org_id = int(page.url.rsplit("/", 1)[1])

    # The Gangbuk officer finds it in the review queue and approves it.
    log_in(page, officer.email)
    page.goto("/organisations/review")
    page.locator(f"#application-{org_id} a").first.click()
    expect(page.locator(f"a[href$='/organisations/{org_id}/evidence']")).to_be_visible()
    page.locator("input[name=decision][value=approve]").check()
    page.locator("form[action$='/decide'] button[type=submit]").click()
    page.wait_for_url(re.compile(r"/organisations/review$"))
    expect(page.locator(".flash-success")).to_be_visible()

    # The founder, now its manager, invites a colleague as staff.
    log_in(page, founder.email)
    page.goto(f"/organisations/{org_id}/team")
    page.fill("#email", colleague.email)
    page.locator("#role").select_option("staff")
    page.locator("form[action$='/team/invite'] button[type=submit]").click()
    expect(page.locator(".flash-success")).to_contain_text(colleague.email)
    db.session.rollback()
    token = db.session.scalars(select(EmailDelivery.params).where(
        EmailDelivery.kind == "org_invitation")).one()["token"]

    log_in(page, colleague.email)
    page.goto(f"/organisations/invitations/{token}")
    page.locator("main form[method=post] button[type=submit]").click()
    page.wait_for_url(re.compile(rf"/organisations/{org_id}/team$"))
    expect(page.locator(f"#member-{colleague.id}")).to_contain_text("이동료")
    db.session.rollback()
    assert db.session.scalar(select(OrgMembership.role).where(
        OrgMembership.user_id == colleague.id)) == "staff"

    # The manager lists the rooftop, sets its hours, adds two photos and publishes it.
    log_in(page, founder.email)
    page.goto("/manage/spaces/new")
    page.locator("#owner_id").select_option(str(org_id))
    page.fill("#name", "미아 옥상정원 루프탑")
    page.locator("#type").select_option("rooftop")
    page.fill("#capacity", "30")
    page.fill("#price_per_hour", "0")
    page.fill("#buffer_minutes", "0")
    page.fill("#min_minutes", "60")
    page.fill("#max_minutes", "240")
    page.locator("#jurisdiction_ids").select_option(str(gangbuk.id))
    page.locator("main form[method=post] button[type=submit]").last.click()
    page.wait_for_url(re.compile(r"/manage/spaces/\d+/hours"))
    space_id = int(re.search(r"/manage/spaces/(\d+)/hours", page.url).group(1))
    for day in range(7):
        page.locator(f"input[name=closed_{day}]").uncheck()
        page.select_option(f"#open_{day}_0", "09:00")
        page.select_option(f"#close_{day}_0", "22:00")
    with page.expect_navigation():
        page.get_by_role("button", name="운영 시간 저장").click()
    expect(page.locator(".flash-success")).to_be_visible()
    expect(page.locator("#open_2_0")).to_have_value("09:00")
    for n, color in enumerate([(40, 160, 60), (30, 30, 200)]):
        path = tmp_path / f"rooftop-{n}.jpg"
        path.write_bytes(picture((1200, 800), color=color))
        page.goto(f"/manage/spaces/{space_id}/photos")
        page.set_input_files("#file", str(path))
        page.fill("#alt", f"옥상 사진 {n + 1}")
        page.locator("main form[enctype] button[type=submit]").click()
        expect(page.locator(".flash-success")).to_be_visible()
    expect(page.locator(".photo-item")).to_have_count(2)
    page.goto(f"/manage/spaces/{space_id}/edit")
    page.locator("form[action$='/publish'] button[type=submit]").click()
    expect(page.locator(".flash-success")).to_be_visible()
    shot("published")

    # A resident finds it, with its cover photo, and books it.
    log_in(page, resident.email)
    page.goto("/spaces")
    page.fill("#q", "옥상정원")
    page.locator("form[role=search] button[type=submit]").first.click()
    card = page.locator("li.card", has_text="미아 옥상정원 루프탑")
    expect(card.locator("picture img")).to_have_attribute("alt", "옥상 사진 1")
    shot("search")
    card.locator(f"a[href$='/spaces/{space_id}']").first.click()
    page.locator("a[rel=next]").first.click()
    day = page.locator("td.free[data-start*='T19:00']").nth(2).get_attribute("data-day")
    page.locator(f"td.free[data-day='{day}'][data-start*='T19:00']").click()
    page.locator(f"td.free[data-day='{day}'][data-start*='T20:30']").click()
    page.wait_for_url(re.compile(r"/spaces/\d+/book\?"))
    page.fill("#attendees", "12")
    page.fill("#purpose", "옥상 텃밭 모임")
    page.locator("main form[method=post] button[name=send]").click()
    page.wait_for_url(re.compile(r"/bookings/\d+$"))
    shot("booked")
    db.session.rollback()
    booking = db.session.scalars(select(Booking)).one()
    assert booking.space_id == space_id and booking.user_id == resident.id
    assert db.session.get(Organisation, org_id).status == "active"
