"""Phone first, then desktop: the header's menu, search by plain words, a station and "near
me" (with the location allowed and refused), and the space page's booking button."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.test_booking_flow import log_in
from tests.conftest import next_weekday
from tests.fake_nominatim import fake_nominatim_for

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
MIA_STATION = {"latitude": 37.6267, "longitude": 127.0262}


def in_view(page, locator) -> bool:
    box = locator.bounding_box()
    bottom = page.viewport_size["height"]
    return box is not None and 0 <= box["y"] <= box["y"] + box["height"] <= bottom


def header_height(page) -> float:
    return page.locator("header.site-header").bounding_box()["height"]


def test_phone_and_desktop_search_header_and_space_page(browser_context, shot, app, factories,
                                                        db):
    gangbuk = factories.jurisdiction(slug="gangbuk", name="강북구")
    school = factories.org(name="번동초등학교")
    manager = factories.manager(school, email="manager@bundong.example")
    gym = factories.space(owner=school, name="번동초등학교 체육관", type="gym", capacity=80,
                          jurisdictions=[gangbuk], address="서울특별시 강북구 오현로 145",
                          latitude=37.6347, longitude=127.0431, price_per_hour=20000)
    factories.space(owner=factories.org(name="미아중학교"), name="미아중학교 강당 겸 체육관",
                    type="auditorium", jurisdictions=[gangbuk], latitude=37.6215,
                    longitude=127.0178)
    factories.space(owner=factories.org(name="강북구청"), name="수유1동 주민센터 다목적실",
                    jurisdictions=[gangbuk], latitude=37.6398, longitude=127.0249)
    factories.space(owner=factories.org(name="혜화초등학교"), name="혜화초등학교 체육관",
                    type="gym", latitude=37.5700, longitude=126.9990)
    resident = factories.user(email="kim@example.kr", name="김주민")
    officer = factories.officer(gangbuk, email="officer@gangbuk.example")
    start = next_weekday(2, 19)
    factories.booking(gym, resident, start=start, end=start + timedelta(hours=2))
    db.session.commit()

    phone = browser_context(viewport=PHONE, is_mobile=True, has_touch=True,
                            geolocation=MIA_STATION, permissions=["geolocation"]).new_page()
    # The header: one line, a menu button that opens the navigation.
    phone.goto("/spaces/")
    menu = phone.locator("summary.menu-button")
    expect(menu).to_be_visible()
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(phone.locator("#site-nav")).to_be_hidden()
    assert header_height(phone) < 70
    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(phone.locator("#site-nav a", has_text="공간 찾기")).to_be_visible()
    shot("phone-menu-open", phone)
    menu.click()
    expect(phone.locator("#site-nav")).to_be_hidden()

    # Plain words: the results come first, the filters stay folded.
    phone.fill("#q", "강북구 체육관")
    phone.locator(".search-bar button[type=submit]").click()
    expect(phone.locator("#results-title")).to_contain_text("2")
    expect(phone.locator("details.filters")).not_to_have_attribute("open", "")
    first = phone.locator("ul.results li.card").first
    expect(first).to_contain_text("체육관")
    assert in_view(phone, first.locator("strong")), "the first result is on the first screen"
    shot("phone-search-words", phone)
    phone.locator("details.filters > summary").click()
    expect(phone.locator("#type")).to_be_visible()
    shot("phone-search-filters-open", phone)

    # A station through the geocoder: nearest first, said in the heading.
    with fake_nominatim_for(app):
        phone.fill("#q", "미아역")
        phone.locator(".search-bar button[type=submit]").click()
        expect(phone.locator("#results-title")).to_contain_text("미아역 주변")
    expect(phone.locator("ul.results li.card").first).to_contain_text("미아중학교")
    expect(phone.locator("ul.results")).not_to_contain_text("혜화초등학교")
    shot("phone-search-station", phone)

    # Near me: the browser's location fills the hidden fields.
    phone.goto("/spaces/")
    phone.locator("button[data-locate]").click()
    phone.wait_for_url(lambda url: "lat=37.6267" in url)
    expect(phone.locator(".near-me")).to_contain_text("내 위치 주변에서 찾고 있습니다.")
    expect(phone.locator("ul.results li.card").first).to_contain_text("미아중학교")
    shot("phone-near-me", phone)

    # The space page: the calendar before the rules and the map, a booking button in view.
    phone.goto(f"/spaces/{gym.id}")
    book = phone.locator(".book-sticky a")
    expect(book).to_be_visible()
    assert in_view(phone, book)
    calendar_y = phone.locator("#calendar").bounding_box()["y"]
    assert calendar_y < phone.locator("details.sp-rules").bounding_box()["y"]
    expect(phone.locator("details.sp-rules")).not_to_have_attribute("open", "")
    phone.mouse.wheel(0, 1500)
    phone.wait_for_timeout(200)
    assert in_view(phone, book), "the booking button stays at the bottom while scrolling"
    shot("phone-space", phone)
    book.click()
    phone.wait_for_url(lambda url: "book" in url)  # the form, after logging in

    # Other pages keep the header on one line.
    log_in(phone, resident.email)
    for url in ("/bookings/", "/notifications/", "/account"):
        phone.goto(url)
        assert header_height(phone) < 70, url
    shot("phone-header-my-bookings", phone)
    log_in(phone, manager.email)
    for url in ("/manage/queue", "/manage/spaces"):
        phone.goto(url)
        assert header_height(phone) < 70, url
    shot("phone-manager-spaces", phone)
    # The officer's wide tables read as cards: no sideways scroll, each value named.
    log_in(phone, officer.email)
    for url in ("/oversight/verifications", "/oversight/bookings"):
        phone.goto(url)
        assert header_height(phone) < 70, url
        assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], url
    expect(phone.locator("table.stack td[data-label]").first).to_be_visible()
    shot("phone-oversight-bookings-cards", phone)

    # Location refused: a clear message, nothing submitted.
    refused = browser_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    refused.goto("/spaces/")
    refused.locator("button[data-locate]").click()
    expect(refused.locator("[data-locate-status]")).to_contain_text("허용되지 않았습니다")
    assert "lat=" not in refused.url
    shot("phone-near-me-refused", refused)

    # Desktop: the navigation and the filters are open, no menu button, no sticky button.
    desk = browser_context(viewport=DESKTOP).new_page()
    desk.goto("/spaces/?q=수유동")
    expect(desk.locator("summary.menu-button")).to_be_hidden()
    expect(desk.locator("#site-nav a", has_text="공간 찾기")).to_be_visible()
    expect(desk.locator("#type")).to_be_visible()
    expect(desk.locator("ul.results li.card")).to_have_count(1)
    shot("desktop-search", desk)
    desk.goto(f"/spaces/{gym.id}")
    expect(desk.locator(".book-sticky")).to_be_hidden()
    expect(desk.locator("details.sp-rules")).to_have_attribute("open", "")
    shot("desktop-space", desk)
