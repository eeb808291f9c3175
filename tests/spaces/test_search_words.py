"""Search by plain words and places: "강북구 체육관", "수유동", "미아역", near me.

Districts, 동 and space-type words are read out of the query; a station or other place goes
through the configured geocoder (the fake Nominatim) and the search runs around it.
"""

from __future__ import annotations

import re

import pytest

from tests.fake_nominatim import PLACES, fake_nominatim_for


def found(client, **args) -> list[str]:
    """Names of the spaces the search page lists, in order."""
    response = client.get("/spaces", query_string=args)
    assert response.status_code == 200
    results = response.get_data(as_text=True).split('<ul class="cards results">')
    if len(results) == 1:
        return []
    return re.findall(r'<a href="/spaces/\d+"><strong>([^<]+)</strong>', results[1])


@pytest.fixture
def gangbuk(db, factories):
    """Two districts, with gyms and meeting rooms in each, and one space known only by address."""
    seoul = factories.jurisdiction(slug="seoul", name="서울특별시", kind="metropolitan")
    gangbuk = factories.jurisdiction(slug="gangbuk", name="강북구", parent=seoul)
    gangbuk.name_en = "Gangbuk-gu"
    dobong = factories.jurisdiction(slug="dobong", name="도봉구", parent=seoul)
    real_space = factories.space

    def space(**kw):  # each with its own owner, so owners' names match no other space
        return real_space(owner=factories.org(name=f"소유 기관 {kw['name']}"), **kw)

    factories.space = space
    factories.space(name="번동초 체육관", type="gym", jurisdictions=[gangbuk],
                    address="서울특별시 강북구 오현로 145", latitude=37.6347, longitude=127.0431)
    factories.space(name="미아중 강당 겸 체육관", type="auditorium", jurisdictions=[gangbuk],
                    address="서울특별시 강북구 솔샘로 174", latitude=37.6215, longitude=127.0178)
    factories.space(name="수유1동 주민센터 다목적실", type="meeting_room", jurisdictions=[gangbuk],
                    address="서울특별시 강북구 도봉로89길 13", latitude=37.6398, longitude=127.0249)
    factories.space(name="수유2동 작은 스튜디오", type="studio",
                    address="서울특별시 강북구 인수봉로 243", latitude=37.6441, longitude=127.0135)
    factories.space(name="번1동 회의실", type="meeting_room", jurisdictions=[gangbuk],
                    address="서울특별시 강북구 도봉로98길 29", latitude=37.6378, longitude=127.0322)
    factories.space(name="창동고 체육관", type="gym", jurisdictions=[dobong],
                    address="서울특별시 도봉구 덕릉로 351", latitude=37.6489, longitude=127.0435)
    factories.space(name="혜화초 체육관", type="gym", address="서울특별시 종로구 창경궁로 265",
                    latitude=37.5700, longitude=126.9990,
                    description="미아역에서 버스로 30분 걸립니다.")
    factories.space = real_space
    db.session.commit()


def test_district_and_type_words(client, gangbuk):
    # 강북구 by its jurisdiction; 체육관 as the gym type or in the name (강당 겸 체육관).
    assert sorted(found(client, q="강북구 체육관")) == ["미아중 강당 겸 체육관", "번동초 체육관"]
    assert sorted(found(client, q="강북 gym")) == ["미아중 강당 겸 체육관", "번동초 체육관"]
    assert found(client, q="Gangbuk-gu studio") == ["수유2동 작은 스튜디오"]  # by its address
    assert found(client, q="도봉구 체육관") == ["창동고 체육관"]
    # A metropolitan city includes its districts; type words in English too.
    assert sorted(found(client, q="서울 gym")) == ["미아중 강당 겸 체육관", "번동초 체육관",
                                                   "창동고 체육관", "혜화초 체육관"]
    page = client.get("/spaces", query_string={"q": "강북구 체육관"}).get_data(as_text=True)
    assert "검색 조건: 강북구 · 체육관" in page  # says how the words were read
    # The other words still have to match.
    assert found(client, q="강북구 체육관 번동초") == ["번동초 체육관"]


def test_dong_words_find_numbered_dong(client, gangbuk):
    assert sorted(found(client, q="수유동")) == [
        "수유1동 주민센터 다목적실", "수유2동 작은 스튜디오"
    ]
    assert found(client, q="수유1동") == ["수유1동 주민센터 다목적실"]
    assert found(client, q="번동") == ["번1동 회의실", "번동초 체육관"]
    # 다목적실 is a meeting room.
    assert found(client, q="수유동 회의실") == ["수유1동 주민센터 다목적실"]


def test_station_searched_around_its_point(app, client, gangbuk):
    with fake_nominatim_for(app) as fake:
        response = client.get("/spaces", query_string={"q": "미아역"})
        page = response.get_data(as_text=True)
        names = found(client, q="미아역")
    assert response.status_code == 200
    assert [r["query"]["q"] for r in fake.requests] == ["미아역"]  # then from the cache
    # Nearest first, within 5 km; 혜화 (mentions 미아역 in its text, 6 km away) is not.
    assert names[:3] == ["미아중 강당 겸 체육관", "번1동 회의실", "수유1동 주민센터 다목적실"]
    assert "혜화초 체육관" not in names
    assert "미아역 주변" in page
    assert re.search(r"\d+(\.\d)?\s?km", page)  # distances shown


def test_station_with_a_type_word(app, client, gangbuk):
    with fake_nominatim_for(app):
        assert found(client, q="미아역 체육관", radius_km="3") == [
            "미아중 강당 겸 체육관", "번동초 체육관", "창동고 체육관"  # 0.9, 1.7, 2.9 km
        ]
        assert found(client, q="미아역 체육관", radius_km="2") == [
            "미아중 강당 겸 체육관", "번동초 체육관"
        ]


def test_words_matching_a_name_are_not_looked_up(app, client, gangbuk):
    with fake_nominatim_for(app) as fake:
        assert found(client, q="번동초") == ["번동초 체육관"]
        assert found(client, q="강북구") != []
        assert fake.requests == []


def test_unknown_words_are_tried_as_a_place(app, client, gangbuk):
    with fake_nominatim_for(app) as fake:
        names = found(client, q="북서울꿈의숲")
    assert [r["query"]["q"] for r in fake.requests] == ["북서울꿈의숲"]
    assert "번동초 체육관" in names and "창동고 체육관" not in names[:1]


@pytest.mark.parametrize("mode", ["error", "slow", "garbage"])
def test_geocoder_failure_falls_back_to_text(app, client, gangbuk, mode):
    with fake_nominatim_for(app) as fake:
        fake.mode, fake.delay = mode, 1.0
        response = client.get("/spaces", query_string={"q": "미아역"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "‘미아역’의 위치를 찾지 못해" in page
    assert found_in(page) == ["혜화초 체육관"]  # its description mentions 미아역


def test_geocoder_off_searches_the_words_as_text(client, gangbuk):
    response = client.get("/spaces", query_string={"q": "미아역"})
    page = response.get_data(as_text=True)
    assert found_in(page) == ["혜화초 체육관"]
    assert "위치를 찾지 못해" not in page  # nothing was tried, nothing failed


def test_a_place_the_geocoder_does_not_know(app, client, gangbuk):
    with fake_nominatim_for(app) as fake:
        page = client.get("/spaces", query_string={"q": "없는역"}).get_data(as_text=True)
    assert [r["query"]["q"] for r in fake.requests] == ["없는역"]
    assert "‘없는역’의 위치를 찾지 못해" in page and found_in(page) == []


def test_place_lookups_are_rate_limited(app, client, gangbuk):
    app.config["RATELIMIT_GEOCODE_PER_CLIENT"] = "2 per minute"
    app.config["RATELIMIT_GEOCODE_SITE"] = "100 per second"
    try:
        with fake_nominatim_for(app) as fake:
            for station in ("수유역", "쌍문역", "혜화역"):
                response = client.get("/spaces", query_string={"q": station})
                assert response.status_code == 200
        assert [r["query"]["q"] for r in fake.requests] == ["수유역", "쌍문역"]
        assert "‘혜화역’의 위치를 찾지 못해" in response.get_data(as_text=True)
    finally:
        app.config["RATELIMIT_GEOCODE_PER_CLIENT"] = "10 per minute; 100 per day"
        app.config["RATELIMIT_GEOCODE_SITE"] = "1 per second"


def test_fake_geocoder_knows_the_stations():
    assert "미아역" in PLACES


def found_in(page: str) -> list[str]:
    parts = page.split('<ul class="cards results">')
    return re.findall(r'<a href="/spaces/\d+"><strong>([^<]+)</strong>', parts[1]) if len(
        parts) > 1 else []


def test_form_has_near_me_and_no_coordinate_boxes(client, gangbuk):
    page = client.get("/spaces").get_data(as_text=True)
    start = page.index('role="search"')
    form = page[start:page.index("</form>", start)]
    # Coordinates come from the browser's location only: hidden fields, no boxes to type in.
    assert re.search(r'<input type="hidden" name="lat" value="">', form)
    assert re.search(r'<input type="hidden" name="lon" value="">', form)
    assert 'id="lat"' not in form and "Latitude" not in form and "위도" not in form
    assert re.search(r"<button[^>]*data-locate[^>]*data-msg-denied=", form, re.S)
    # The filters fold (closed until asked, or opened by site.js on wide screens).
    assert re.search(r'<details class="filters" data-open-wide>', form)
    # Searching near a point the browser gave keeps it and says so.
    page = client.get("/spaces?lat=37.6267&lon=127.0262").get_data(as_text=True)
    assert '<input type="hidden" name="lat" value="37.6267">' in page
    assert "내 위치 주변에서 찾고 있습니다." in page


def test_filter_toggle_counts_the_filters_in_use(client, gangbuk):
    page = client.get("/spaces?q=&type=gym&min_capacity=&free_only=1").get_data(as_text=True)
    assert re.search(r'<span class="count-badge filter-count">2</span>', page)


def test_word_search_runs_a_bounded_number_of_queries(app, client, db, factories,
                                                      count_queries):
    j = factories.jurisdiction(slug="gb", name="강북구")
    counts = []
    # One geocoder for both rounds: the station is looked up once and then cached, so the
    # site-wide lookup limit (one a second) never turns the second round into a text search.
    with fake_nominatim_for(app):
        for n in (2, 15):
            for i in range(n):
                factories.space(name=f"수유{i}동 체육관 {n}", type="gym", jurisdictions=[j],
                                latitude=37.63, longitude=127.02)
            db.session.commit()
            for q in ("강북구 체육관 수유동", "미아역 체육관"):
                with count_queries() as counter:
                    html = client.get("/spaces", query_string={"q": q})
                    assert html.status_code == 200
                counts.append(counter.count)
                assert f"체육관 {n}" in html.get_data(as_text=True)  # the spaces were found
    assert counts[:2] == counts[2:]
    assert max(counts) <= 16
