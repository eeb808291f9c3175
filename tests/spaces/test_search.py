"""The search page: each filter, the map view, paging, and messages for bad input."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import next_weekday

SEOUL = ZoneInfo("Asia/Seoul")


@pytest.fixture(autouse=True)
def _english(app, monkeypatch):
    """Assertions read the English messages; the pages default to Korean once translated."""
    monkeypatch.setattr(app.extensions["babel"], "locale_selector", lambda: "en")


def found(client, **args) -> list[str]:
    """Names of the spaces the search page lists, in order."""
    response = client.get("/spaces", query_string=args)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    results = page.split('<ul class="cards results">')
    if len(results) == 1:
        return []
    return re.findall(r'<a href="/spaces/\d+[^"]*"><strong>([^<]+)</strong>', results[1])


def test_lists_published_spaces_only(client, db, factories):
    factories.space(name="공개 강당")
    factories.space(name="비공개 창고", published=False)
    db.session.commit()
    assert found(client) == ["공개 강당"]


def test_text_matches_name_description_address_and_owner(client, db, factories):
    factories.space(name="햇살 옥상", description="노을이 보이는 곳")
    factories.space(name="북카페", address="서울 강북구 수유동 12")
    factories.space(name="조리실", owner=factories.org(name="수유 마을부엌"))
    factories.space(name="다른 곳")
    db.session.commit()
    assert found(client, q="옥상") == ["햇살 옥상"]
    assert found(client, q="노을") == ["햇살 옥상"]
    assert sorted(found(client, q="수유")) == ["북카페", "조리실"]
    assert found(client, q="없는말") == []


def test_type_filter(client, db, factories):
    factories.space(name="체육관", type="gym")
    factories.space(name="회의실", type="meeting_room")
    db.session.commit()
    assert found(client, type="gym") == ["체육관"]


def test_capacity_filter(client, db, factories):
    factories.space(name="작은 방", capacity=8)
    factories.space(name="큰 강당", capacity=200)
    db.session.commit()
    assert found(client, min_capacity="50") == ["큰 강당"]
    assert sorted(found(client, min_capacity="8")) == ["작은 방", "큰 강당"]


def test_free_of_charge_only(client, db, factories):
    factories.space(name="무료 회의실", price_per_hour=0)
    factories.space(name="유료 스튜디오", price_per_hour=15000)
    db.session.commit()
    assert found(client, free_only="1") == ["무료 회의실"]
    assert sorted(found(client)) == ["무료 회의실", "유료 스튜디오"]
    page = client.get("/spaces?free_only=1").get_data(as_text=True)
    assert re.search(r'<input id="free_only"[^>]* checked', page)  # the box stays ticked
    response = client.get("/spaces?free_only=maybe")
    assert "Free only must be true or false." in response.get_data(as_text=True)


def test_amenities_must_all_be_there(client, db, factories):
    both = factories.space(name="둘 다")
    both.amenities = ["wifi", "projector"]
    one = factories.space(name="와이파이만")
    one.amenities = ["wifi"]
    db.session.commit()
    response = client.get("/spaces?amenities=wifi&amenities=projector")
    assert re.findall(r"<strong>([^<]+)</strong>", response.get_data(as_text=True)) == ["둘 다"]
    assert sorted(found(client, amenities="wifi")) == ["둘 다", "와이파이만"]
    assert 'value="projector" checked' in response.get_data(as_text=True)
    # The extra filters fold away on a plain search and stay open when one is in use.
    assert '<details class="more-filters" open>' in response.get_data(as_text=True)
    assert '<details class="more-filters">' in client.get("/spaces?q=x").get_data(as_text=True)


def test_district_includes_the_jurisdictions_below_it(client, db, factories):
    seoul = factories.jurisdiction(slug="seoul", name="서울특별시", kind="metropolitan")
    gangbuk = factories.jurisdiction(slug="gangbuk", name="강북구", parent=seoul)
    nowon = factories.jurisdiction(slug="nowon", name="노원구", parent=seoul)
    factories.space(name="강북 공간", jurisdictions=[gangbuk])
    factories.space(name="노원 공간", jurisdictions=[nowon])
    factories.space(name="관할 없음")
    db.session.commit()
    assert found(client, district="gangbuk") == ["강북 공간"]
    assert sorted(found(client, district="seoul")) == ["강북 공간", "노원 공간"]
    assert found(client, district="no-such-place") == []
    page = client.get("/spaces").get_data(as_text=True)
    assert '<option value="gangbuk">' in page and "\u00a0\u00a0강북구" in page  # nested


def test_near_a_point_within_a_radius_with_distances(client, db, factories):
    factories.space(name="가까운 곳", latitude=37.6400, longitude=127.0250)
    factories.space(name="조금 먼 곳", latitude=37.6500, longitude=127.0250)  # ~1.1 km
    factories.space(name="먼 곳", latitude=37.4979, longitude=127.0276)  # Gangnam, ~16 km
    factories.space(name="좌표 없음")
    db.session.commit()
    assert found(client, lat="37.64", lon="127.025", radius_km="2") == ["가까운 곳", "조금 먼 곳"]
    assert found(client, lat="37.64", lon="127.025", radius_km="0.5") == ["가까운 곳"]
    page = client.get("/spaces?lat=37.64&lon=127.025&radius_km=2").get_data(as_text=True)
    assert "0.0 km away" in page and "1.1 km away" in page


def test_free_between_excludes_bookings_closures_and_closed_hours(client, db, factories):
    start = next_weekday(2, 14)  # Wednesday 14:00 Seoul, next week
    day = start.astimezone(SEOUL).date().isoformat()
    factories.space(name="비어 있음")
    booked = factories.space(name="예약 있음")
    factories.booking(booked, start=start + timedelta(hours=1), end=start + timedelta(hours=3))
    closed = factories.space(name="휴관")
    factories.closure(closed, start - timedelta(hours=1), start + timedelta(minutes=30))
    factories.space(name="오전만", hours={d: [(9 * 60, 13 * 60)] for d in range(7)})
    buffered = factories.space(name="정리 시간", buffer_minutes=60)
    # 16:00-17:00 with an hour kept free on each side: busy from 15:00 to 18:00.
    factories.booking(buffered, start=start + timedelta(hours=2), end=start + timedelta(hours=3))
    db.session.commit()

    assert found(client, date=day, from_time="14:00", to_time="16:00") == ["비어 있음"]
    # Later the same day all but the morning-only space are free again.
    assert sorted(found(client, date=day, from_time="18:00", to_time="20:00")) == [
        "비어 있음",
        "예약 있음",
        "정리 시간",
        "휴관",
    ]


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ({"min_capacity": "abc"}, "min_capacity"),
        ({"min_capacity": "-3"}, "min_capacity"),
        ({"min_capacity": "99999999999999999999"}, "min_capacity"),
        ({"type": "castle"}, "type"),
        ({"amenities": "jacuzzi"}, "amenities"),
        ({"lat": "abc", "lon": "127"}, "near"),
        ({"lat": "91", "lon": "127"}, "near"),
        ({"lat": "nan", "lon": "nan"}, "near"),
        ({"lat": "37.5"}, "near"),
        ({"lat": "37.5", "lon": "127", "radius_km": "0"}, "radius_km"),
        ({"lat": "37.5", "lon": "127", "radius_km": "inf"}, "radius_km"),
        ({"lat": "37.5", "lon": "127", "radius_km": "nan"}, "radius_km"),
        ({"date": "2026-02-30"}, "free_from"),
        ({"date": "tomorrow", "from_time": "10:00"}, "free_from"),
        ({"date": "2030-01-01", "from_time": "18:00", "to_time": "09:00"}, "free_to"),
        ({"date": "2030-01-01", "from_time": "25:61"}, "free_from"),
        ({"from_time": "10:00", "to_time": "12:00"}, "date"),
        ({"free_from": "2030-01-01T10:00+09:00"}, "free_to"),
        ({"free_from": "2030-01-01T10:00", "free_to": "2030-02-01T10:00"}, "free_to"),
        ({"page": "0"}, "page"),
        ({"page": "abc"}, "page"),
        ({"per_page": "100000"}, "per_page"),
    ],
)
def test_bad_input_gets_a_message_next_to_the_field(client, db, factories, args, field):
    factories.space(name="아무 공간")
    db.session.commit()
    response = client.get("/spaces", query_string=args)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'class="error" id="{field}-err"' in page
    assert 'role="alert"' in page
    assert "아무 공간" not in page  # no results from a search that was not understood


@pytest.mark.parametrize(
    "args",
    [
        {"q": "%_%'; DROP TABLE spaces; --"},
        {"q": "<script>alert(1)</script>"},
        {"q": "x" * 5000},
        {"district": "<b>"},
        {"view": "nonsense"},
    ],
)
def test_odd_but_harmless_input_just_searches(client, db, factories, args):
    factories.space(name="아무 공간")
    db.session.commit()
    response = client.get("/spaces", query_string=args)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<script>alert(1)</script>" not in page
    assert 'class="error"' not in page


def test_map_view_passes_the_markers_as_json(client, db, factories, app):
    space = factories.space(name="지도 위 공간", latitude=37.64, longitude=127.025)
    factories.space(name="좌표 없는 공간")
    db.session.commit()
    page = client.get("/spaces?view=map&lat=37.6&lon=127.0&radius_km=10").get_data(as_text=True)
    block = re.search(
        r'<script type="application/json" data-map-for="map">(.*?)</script>', page, re.S
    )
    data = json.loads(block.group(1))
    assert data["markers"] == [
        {
            "lat": 37.64,
            "lon": 127.025,
            "name": "지도 위 공간",
            "url": f"/spaces/{space.id}",
            "meta": "Meeting room · 번동초등학교",
            # No photo: the placeholder of its type, decorative next to the name.
            "image": {
                "src": "/static/img/placeholders/meeting_room.svg",
                "width": 480,
                "height": 320,
                "alt": "",
            },
        }
    ]
    assert data["center"] == [37.6, 127.0] and data["radius_km"] == 10
    assert data["tile_url"] == app.config["MAP_TILE_URL"]
    assert "/static/vendor/leaflet/leaflet.js" in page
    assert "/static/js/map.js" in page
    assert "unpkg" not in page and "cdn" not in page.lower()
    # The list view has no map.
    assert 'data-map-for="map"' not in client.get("/spaces").get_data(as_text=True)


def test_map_without_tiles(client, db, factories, app, monkeypatch):
    monkeypatch.setitem(app.config, "MAP_TILE_URL", "")
    factories.space(latitude=37.64, longitude=127.025)
    db.session.commit()
    page = client.get("/spaces?view=map").get_data(as_text=True)
    assert '"tile_url": ""' in page


def test_results_are_paged(client, db, factories, app, monkeypatch):
    monkeypatch.setitem(app.config, "SEARCH_PER_PAGE", 5)
    for n in range(12):
        factories.space(name=f"공간 {n:02d}")
    db.session.commit()
    first = client.get("/spaces?type=meeting_room").get_data(as_text=True)
    assert "12 spaces found" in first
    assert "1 / 3" in first
    assert 'href="/spaces/?type=meeting_room&amp;page=2" rel="next"' in first
    assert found(client, type="meeting_room", page="3") == ["공간 10", "공간 11"]


def test_search_runs_a_bounded_number_of_queries(client, db, factories, count_queries):
    def make(n, tag):
        j = factories.jurisdiction(slug=tag)
        for i in range(n):
            space = factories.space(
                name=f"{tag} {i}", jurisdictions=[j], latitude=37.6, longitude=127.0
            )
            space.amenities = ["wifi"]
        db.session.commit()

    make(2, "small")
    make(15, "big")
    day = next_weekday(2).astimezone(SEOUL).date().isoformat()
    counts = []
    for tag in ("small", "big"):
        args = {
            "district": tag,
            "amenities": "wifi",
            "lat": "37.6",
            "lon": "127.0",
            "date": day,
            "from_time": "10:00",
            "to_time": "12:00",
            "view": "map",
        }
        with count_queries() as q:
            assert client.get("/spaces", query_string=args).status_code == 200
        counts.append(q.count)
    # +2 for the searched time's verdicts: the jurisdiction tree and the page's rule sets
    assert counts[0] == counts[1] <= 14
