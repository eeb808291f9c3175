"""In Chromium: a manager uploads photos and picks the cover; residents see it on the search
card and move through the space page's gallery with the keyboard. No CSP violation anywhere."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.test_booking_flow import log_in
from tests.media.pictures import picture

pytestmark = pytest.mark.browser


def test_upload_choose_cover_and_browse_the_gallery(page, shot, factories, db, media, tmp_path):
    school = factories.org(name="번동초등학교")
    manager = factories.manager(school, email="manager@bundong.example")
    space = factories.space(owner=school, name="번동초 강당", type="auditorium")
    factories.space(owner=school, name="번동초 체육관", type="gym")
    db.session.commit()

    log_in(page, manager.email)
    for n, color in enumerate([(200, 30, 30), (30, 30, 200)]):
        path = tmp_path / f"photo-{n}.jpg"
        path.write_bytes(picture((1200, 800), color=color))
        page.goto(f"/manage/spaces/{space.id}/photos")
        page.set_input_files("#file", str(path))
        page.fill("#alt", f"강당 사진 {n + 1}")
        page.locator("main form[enctype] button[type=submit]").click()
        expect(page.locator(".flash-success")).to_be_visible()
    items = page.locator(".photo-item")
    expect(items).to_have_count(2)
    # The second photo becomes the cover.
    items.nth(1).get_by_role("button", name="대표 사진으로 정하기").click()
    expect(page.locator(".photo-item").nth(1).locator(".badge")).to_be_visible()
    shot("manage")

    page.context.clear_cookies()
    page.goto("/spaces")
    card = page.locator("li.card", has_text="번동초 강당")
    cover = card.locator("picture img")
    expect(cover).to_have_attribute("alt", "강당 사진 2")
    cover.scroll_into_view_if_needed()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=cover.element_handle()
    )
    assert cover.evaluate("img => img.currentSrc").endswith(".webp")
    gym = page.locator("li.card", has_text="번동초 체육관").locator("img")
    expect(gym).to_have_attribute("src", "/static/img/placeholders/gym.svg")
    shot("search")

    page.goto(f"/spaces/{space.id}")
    main_img = page.locator(".gallery-main img")
    expect(main_img).to_have_attribute("alt", "강당 사진 2")
    thumbs = page.locator(".gallery-thumbs a")
    thumbs.nth(1).focus()
    page.keyboard.press("ArrowLeft")
    expect(thumbs.nth(0)).to_be_focused()
    expect(main_img).to_have_attribute("alt", "강당 사진 1")
    expect(thumbs.nth(0)).to_have_attribute("aria-current", "true")
    expect(page.locator("[data-gallery-caption]")).to_contain_text("강당 사진 1")
    page.keyboard.press("End")
    expect(main_img).to_have_attribute("alt", "강당 사진 2")
    # The page did not reload: the thumbnails are links, handled in place.
    assert "photo=" not in page.url
    shot("gallery")


def test_map_popup_shows_the_cover(page, factories, db, media, app, monkeypatch):
    from app.spaces import photos as photo_services

    monkeypatch.setitem(app.config, "MAP_TILE_URL", "")  # no tiles from the internet
    school = factories.org(name="번동초등학교")
    manager = factories.manager(school)
    space = factories.space(owner=school, name="지도 위 강당", latitude=37.64, longitude=127.025)
    photo_services.add_photo(space, manager, picture((900, 600)), "강당 정면", storage=media)
    db.session.commit()

    page.goto("/spaces?view=map")
    page.locator(".leaflet-marker-icon").click()
    image = page.locator(".leaflet-popup img.popup-cover")
    expect(image).to_have_attribute("alt", "강당 정면")
    page.wait_for_function("img => img.complete && img.naturalWidth > 0",
                           arg=image.element_handle())
    expect(page.locator(".leaflet-popup-content a")).to_have_text("지도 위 강당")


def test_reordering_keeps_the_focus_on_the_moved_photo(page, factories, db, media):
    from app.spaces import photos as photo_services

    school = factories.org(name="번동초등학교")
    manager = factories.manager(school, email="manager@bundong.example")
    space = factories.space(owner=school, name="번동초 강당")
    for n in range(3):
        photo_services.add_photo(space, manager, picture(color=(n * 90, 20, 20)), f"사진 {n}",
                                 storage=media)
    db.session.commit()

    log_in(page, manager.email)
    page.goto(f"/manage/spaces/{space.id}/photos")
    alts = page.locator(".photo-item input[name=alt]")
    expect(alts).to_have_count(3)
    page.locator(".photo-item").nth(0).locator("button[value=down]").click()
    expect(alts.nth(1)).to_have_value("사진 0")
    # The list was replaced in place, the focus is on the same button of the moved photo.
    focused = page.locator(".photo-item").nth(1).locator("button[value=down]")
    expect(focused).to_be_focused()
    page.keyboard.press("Enter")
    expect(alts.nth(2)).to_have_value("사진 0")
    assert [alts.nth(i).input_value() for i in range(3)] == ["사진 1", "사진 2", "사진 0"]
    # The last photo has no "later" button: the focus falls on its "earlier" one.
    expect(page.locator(".photo-item").nth(2).locator("button[value=up]")).to_be_focused()
