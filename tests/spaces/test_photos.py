"""Photos where residents look: the cover on search cards and map popups (a placeholder of the
space's type without one) and the gallery of the space page."""

from __future__ import annotations

import json
import re
from zoneinfo import ZoneInfo

from app.spaces import photos as photo_services
from tests.conftest import next_weekday
from tests.media.pictures import picture

SEOUL = ZoneInfo("Asia/Seoul")


def add(space, user, alt, color=(10, 20, 30), media=None):
    return photo_services.add_photo(space, user, picture(color=color), alt, storage=media)


def test_search_cards_show_the_cover_or_a_placeholder(client, db, factories, media):
    org = factories.org()
    manager = factories.manager(org)
    with_photo = factories.space(owner=org, name="사진 있는 강당", type="auditorium")
    factories.space(owner=org, name="사진 없는 체육관", type="gym")
    add(with_photo, manager, "무대에서 본 강당", media=media)
    cover = add(with_photo, manager, "두 번째 사진", color=(200, 0, 0), media=media)
    photo_services.set_cover(cover, manager)
    db.session.commit()
    html = client.get("/spaces").get_data(as_text=True)
    card = re.search(r'<li class="card">((?:(?!</li>).)*사진 있는 강당.*?)</li>', html, re.S)
    assert card, html
    card = card.group(1)
    assert '<source type="image/webp"' in card
    assert f"/media/{cover.digest[:2]}/{cover.digest}-480.webp 480w" in card
    assert f"/media/{cover.digest[:2]}/{cover.digest}-600.jpg 600w" in card
    assert 'alt="두 번째 사진"' in card
    assert 'loading="lazy"' in card and 'width="600" height="400"' in card
    gym = re.search(r'<li class="card">((?:(?!</li>).)*사진 없는 체육관.*?)</li>', html, re.S)
    assert '/static/img/placeholders/gym.svg' in gym.group(1)
    assert 'alt=""' in gym.group(1)


def test_placeholders_exist_for_every_type(client):
    from app.spaces.models import SPACE_TYPES

    for code in SPACE_TYPES:
        response = client.get(f"/static/img/placeholders/{code}.svg")
        assert response.status_code == 200, code
        assert response.mimetype == "image/svg+xml"


def test_map_popups_carry_the_cover(client, db, factories, media):
    org = factories.org()
    manager = factories.manager(org)
    space = factories.space(owner=org, name="지도 강당", latitude=37.64, longitude=127.025)
    photo = add(space, manager, "강당 입구", media=media)
    db.session.commit()
    page = client.get("/spaces?view=map").get_data(as_text=True)
    block = re.search(r'data-map-for="map">(.*?)</script>', page, re.S)
    (marker,) = json.loads(block.group(1))["markers"]
    base = f"/media/{photo.digest[:2]}/{photo.digest}"
    assert marker["image"] == {
        "src": f"{base}-480.jpg",
        "srcset": f"{base}-480.jpg 480w, {base}-600.jpg 600w",
        "sizes": "12rem",
        "width": 600,
        "height": 400,
        "alt": "강당 입구",
    }


def test_space_page_gallery_works_without_javascript(client, db, factories, media):
    org = factories.org()
    manager = factories.manager(org)
    space = factories.space(owner=org, name="갤러리 강당")
    photos = [add(space, manager, f"사진 {n}", color=(n * 60, 0, 0), media=media)
              for n in range(3)]
    db.session.commit()
    html = client.get(f"/spaces/{space.id}").get_data(as_text=True)
    gallery = re.search(r'<section class="gallery".*?</section>', html, re.S).group(0)
    # The cover (the first photo) is shown large, the thumbnails are links with a name.
    main = re.search(r'<figure class="gallery-main">.*?</figure>', gallery, re.S).group(0)
    assert 'alt="사진 0"' in main and 'loading="eager"' in main
    links = re.findall(r'<a href="([^"]+)"[^>]*>', gallery)
    assert links == [f"/spaces/{space.id}?photo={p.id}#gallery" for p in photos]
    assert gallery.count('aria-current="true"') == 1
    assert "js/gallery.js" in html
    # Without JavaScript, a thumbnail's link shows its photo.
    html = client.get(f"/spaces/{space.id}?photo={photos[2].id}").get_data(as_text=True)
    main = re.search(r'<figure class="gallery-main">.*?</figure>', html, re.S).group(0)
    assert 'alt="사진 2"' in main
    assert re.search(r"<figcaption[^>]*>[^<]*3[^<]*: 사진 2</figcaption>", main)


def test_space_page_without_photos_has_no_gallery(client, db, factories):
    space = factories.space(name="사진 없는 공간")
    db.session.commit()
    html = client.get(f"/spaces/{space.id}").get_data(as_text=True)
    assert 'class="gallery"' not in html and "gallery.js" not in html


def test_search_with_covers_runs_a_bounded_number_of_queries(
    client, db, factories, count_queries, media
):
    org = factories.org()
    manager = factories.manager(org)

    def make(n, tag):
        j = factories.jurisdiction(slug=tag)
        for i in range(n):
            space = factories.space(owner=org, name=f"{tag} {i}", jurisdictions=[j],
                                    latitude=37.6, longitude=127.0)
            add(space, manager, f"{tag} {i}", color=(i, i, i), media=media)
            add(space, manager, f"{tag} {i} b", color=(i, 100, i), media=media)
        db.session.commit()

    make(2, "small")
    make(12, "big")
    day = next_weekday(2).astimezone(SEOUL).date().isoformat()
    counts = []
    for tag in ("small", "big"):
        args = {"district": tag, "date": day, "from_time": "10:00", "to_time": "12:00",
                "view": "map"}
        with count_queries() as q:
            response = client.get("/spaces", query_string=args)
            assert response.status_code == 200
        assert response.get_data(as_text=True).count("<picture") >= 2
        counts.append(q.count)
    # +2 for the searched time's verdicts: the jurisdiction tree and the page's rule sets
    assert counts[0] == counts[1] <= 14
