"""Phone-first markup: the header's menu button, the space page's folds and booking button,
and wide tables that read as cards (their cells name their columns)."""

from __future__ import annotations

import re


def test_header_has_a_menu_button_for_the_navigation(client, factories, login, db):
    page = client.get("/spaces").get_data(as_text=True)
    header = page[page.index('<header class="site-header">'):page.index("</header>")]
    menu = re.search(
        r'<details class="site-menu" data-open-wide>\s*(?:\{#.*?#\}\s*)?'
        r'<summary class="menu-button" aria-controls="site-nav">(.*?)</summary>\s*'
        r'<nav class="main-nav" id="site-nav" aria-label="[^"]+">(.*?)</nav>\s*</details>',
        header, re.S,
    )
    assert menu, "the navigation sits in a <details> opened by a menu button"
    assert "메뉴" in menu.group(1)
    assert 'href="/accounts/login' in menu.group(2) or "/login" in menu.group(2)
    # Signed in, the same links (and the unread badge) are inside the menu.
    user = factories.user(email="menu@example.kr")
    db.session.commit()
    login(user)
    page = client.get("/spaces").get_data(as_text=True)
    nav = page[page.index('id="site-nav"'):page.index("</nav>")]
    assert 'href="/bookings/' in nav and "nav-notifications" in nav


def test_space_page_folds_rules_and_map_and_keeps_a_book_button(client, factories, db):
    space = factories.space(name="번동초 체육관", latitude=37.6347, longitude=127.0431)
    db.session.commit()
    page = client.get(f"/spaces/{space.id}").get_data(as_text=True)
    assert re.search(r'<details class="fold sp-rules" id="rules" data-open-wide>', page)
    assert re.search(r'<details class="fold sp-map" data-open-wide>\s*<summary>지도</summary>\s*'
                     r'<div id="space-map"', page)
    # The calendar section is the one phones show first (CSS order on .sp-book).
    assert re.search(r'<section class="panel sp-book" id="calendar"', page)
    sticky = re.search(r'<p class="book-sticky"><a class="button" href="([^"]+)">([^<]+)</a>', page)
    assert sticky and sticky.group(1) == f"/spaces/{space.id}/book"
    assert sticky.group(2) == "예약하기"
    # After the content, so it stays at the bottom of the screen while the page scrolls.
    assert page.index("book-sticky") > page.index('id="calendar"')


def test_manager_tables_name_their_columns_for_phones(client, factories, login, db):
    school = factories.org(name="번동초등학교")
    manager = factories.manager(school, email="m@bundong.example")
    factories.space(owner=school, name="번동초 체육관")
    db.session.commit()
    login(manager)
    page = client.get("/manage/spaces").get_data(as_text=True)
    assert '<table class="list stack">' in page
    labels = re.findall(r'<td data-label="([^"]+)"', page)
    assert labels[:5] == ["공간", "운영 기관", "상태", "대기 중인 신청", "관리"], labels
