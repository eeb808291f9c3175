"""Spaces through the API: search, one space, availability."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from app.db import utcnow
from tests.api.helpers import SEOUL, assert_error, seoul_iso
from tests.conftest import next_weekday

# --- Search -----------------------------------------------------------------------------------


def test_search_lists_published_spaces_with_their_facts(api, factories, org):
    district = factories.jurisdiction(slug="gangbuk-gu", name="강북구")
    gym = factories.space(
        owner=org,
        name="번동초 체육관",
        type="gym",
        capacity=80,
        price_per_hour=30000,
        address="서울 강북구 번동 1",
        latitude=37.6397,
        longitude=127.0256,
        booking_mode="instant",
        jurisdictions=[district],
    )
    gym.amenities = ["showers", "wifi"]
    factories.space(owner=org, name="비공개 교실", published=False)

    response = api.get("/api/v1/spaces")
    assert response.status_code == 200
    body = response.get_json()
    assert (body["total"], body["page"]) == (1, 1)
    item = body["items"][0]
    assert item == {
        "id": gym.id,
        "name": "번동초 체육관",
        "type": "gym",
        "owner": {"id": org.id, "name": "번동초등학교"},
        "capacity": 80,
        "price_per_hour": {"amount": 30000, "currency": "KRW"},
        "address": "서울 강북구 번동 1",
        "latitude": 37.6397,
        "longitude": 127.0256,
        "timezone": "Asia/Seoul",
        "booking_mode": "instant",
        "amenities": ["showers", "wifi"],
        "accessibility": [],
        "cover_photo": None,
        "photos": [],
        "jurisdictions": [{"slug": "gangbuk-gu", "name": "강북구"}],
        "url": f"http://localhost/spaces/{gym.id}",
    }


def test_search_filters(api, factories):
    parent = factories.jurisdiction(slug="seoul", kind="metropolitan", name="서울")
    gangbuk = factories.jurisdiction(slug="gangbuk", parent=parent)
    gym = factories.space(name="체육관", type="gym", capacity=80, jurisdictions=[gangbuk])
    gym.amenities = ["showers"]
    room = factories.space(name="회의실", type="meeting_room", capacity=10, price_per_hour=5000)
    room.amenities = ["wifi", "projector"]

    def names(query: str) -> list[str]:
        response = api.get(f"/api/v1/spaces?{query}")
        assert response.status_code == 200, response.get_json()
        return [s["name"] for s in response.get_json()["items"]]

    assert names("type=gym") == ["체육관"]
    assert names("min_capacity=50") == ["체육관"]
    assert names("amenities=wifi,projector") == ["회의실"]
    assert names("amenities=wifi,showers") == []
    assert names("district=seoul") == ["체육관"]  # includes the districts inside Seoul
    assert names("q=회의") == ["회의실"]
    assert names("free_only=true") == ["체육관"]
    assert sorted(names("free_only=false")) == ["체육관", "회의실"]


def test_search_near_a_point_sorts_by_distance(api, factories):
    factories.space(name="멀리", latitude=37.70, longitude=127.10)
    factories.space(name="가까이", latitude=37.6400, longitude=127.0260)
    factories.space(name="좌표 없음")
    body = api.get("/api/v1/spaces?near=37.6397,127.0256&radius_km=20").get_json()
    assert [s["name"] for s in body["items"]] == ["가까이", "멀리"]
    distances = [s["distance_km"] for s in body["items"]]
    assert distances[0] < 0.1 < distances[1] < 20
    assert "distance_km" not in api.get("/api/v1/spaces").get_json()["items"][0]


def test_search_free_between_two_times(api, factories):
    taken, free = factories.space(name="예약됨"), factories.space(name="비어있음")
    start = next_weekday(2, 18)
    factories.booking(taken, start=start, end=start + timedelta(hours=2))
    query = f"free_from={seoul_iso(start)}&free_to={seoul_iso(start + timedelta(hours=1))}"
    body = api.get("/api/v1/spaces?" + query.replace("+", "%2B")).get_json()
    assert [s["name"] for s in body["items"]] == [free.name]


def test_search_pages(api, app, factories):
    for n in range(5):
        factories.space(name=f"공간 {n}")
    body = api.get("/api/v1/spaces?per_page=2&page=3").get_json()
    assert (body["total"], body["page"], body["per_page"]) == (5, 3, 2)
    assert [s["name"] for s in body["items"]] == ["공간 4"]
    cap = app.config["API_MAX_PER_PAGE"]
    assert api.get(f"/api/v1/spaces?per_page={cap}").status_code == 200
    error = assert_error(api.get(f"/api/v1/spaces?per_page={cap + 1}"), 422, "invalid")
    assert "per_page" in error["details"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("type=castle", "type"),
        ("min_capacity=many", "min_capacity"),
        ("amenities=jacuzzi", "amenities"),
        ("near=north", "near"),
        ("near=91,0", "near"),
        ("near=37.6,127&radius_km=-1", "radius_km"),
        ("near=37.6,127&radius_km=nan", "radius_km"),
        ("free_from=2026-12-01T18:00&free_to=2026-12-01T20:00", "free_from"),
        ("free_from=yesterday&free_to=2026-12-01T20:00Z", "free_from"),
        ("free_from=9999-12-30T00:00Z&free_to=9999-12-31T00:00Z", "free_from"),
        ("free_from=2026-12-01T18:00Z", "free_to"),
        ("page=0", "page"),
        ("q=%00", "q"),
        ("district=%00x", "district"),
        ("free_only=perhaps", "free_only"),
    ],
)
def test_search_refuses_bad_arguments(api, query, field):
    error = assert_error(api.get(f"/api/v1/spaces?{query}"), 422, "invalid")
    assert field in error["details"], error


# --- One space --------------------------------------------------------------------------------


def test_space_detail_has_hours_and_rules(api, factories):
    space = factories.space(
        hours={0: [(9 * 60, 12 * 60), (13 * 60, 18 * 60)], 5: [(10 * 60, 24 * 60)]},
        min_minutes=30,
        max_minutes=180,
        buffer_minutes=15,
        description="피아노가 있는 음악실",
    )
    body = api.get(f"/api/v1/spaces/{space.id}").get_json()
    assert body["opening_hours"] == [
        {"weekday": 0, "open": "09:00", "close": "12:00"},
        {"weekday": 0, "open": "13:00", "close": "18:00"},
        {"weekday": 5, "open": "10:00", "close": "24:00"},
    ]
    assert (body["min_minutes"], body["max_minutes"], body["buffer_minutes"]) == (30, 180, 15)
    assert body["description"] == "피아노가 있는 음악실"
    assert body["published"] is True


def test_unpublished_space_is_visible_to_its_people_only(api, factories, org, manager, resident):
    district = factories.jurisdiction()
    hidden = factories.space(owner=org, published=False, jurisdictions=[district])
    path = f"/api/v1/spaces/{hidden.id}"
    assert_error(api.get(path), 404, "not_found")
    assert_error(api.get(path, user=resident), 404, "not_found")
    assert_error(api.get(path, user=factories.manager()), 404, "not_found")
    assert api.get(path, user=manager).status_code == 200
    assert api.get(path, user=factories.officer(district)).status_code == 200
    assert_error(api.get(f"{path}/availability"), 404, "not_found")
    assert api.get(f"{path}/availability", user=manager).status_code == 200


@pytest.mark.parametrize("ident", ["424242", "0", "123456789012345678901234567890"])
def test_missing_space_is_404(api, ident):
    assert_error(api.get(f"/api/v1/spaces/{ident}"), 404, "not_found")
    assert_error(api.get(f"/api/v1/spaces/{ident}/availability"), 404, "not_found")


# --- Availability -----------------------------------------------------------------------------


def _local(day: date, hour: int, minute: int = 0) -> str:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SEOUL).isoformat()


def test_availability_of_given_days_in_local_time(api, factories):
    space = factories.space(buffer_minutes=30, hours={d: [(9 * 60, 18 * 60)] for d in range(7)})
    start = next_weekday(2, 10)  # a Wednesday 10:00 in Seoul
    factories.booking(space, start=start, end=start + timedelta(hours=2))
    day = start.astimezone(SEOUL).date()

    response = api.get(f"/api/v1/spaces/{space.id}/availability?from={day}&to={day}")
    assert response.status_code == 200
    body = response.get_json()
    assert (body["timezone"], body["from"], body["to"]) == ("Asia/Seoul", str(day), str(day))
    # The booking 10-12 keeps its 30-minute buffer on each side.
    assert body["busy"] == [{"start": _local(day, 9, 30), "end": _local(day, 12, 30)}]
    assert body["free"] == [
        {"start": _local(day, 9), "end": _local(day, 9, 30)},
        {"start": _local(day, 12, 30), "end": _local(day, 18)},
    ]
    assert body["open"] == [{"start": _local(day, 9), "end": _local(day, 18)}]


def test_availability_to_is_inclusive_and_defaults_to_this_week(api, factories):
    space = factories.space()
    day = next_weekday(0, 10).astimezone(SEOUL).date()  # a Monday
    body = api.get(f"/api/v1/spaces/{space.id}/availability?from={day}&to={day + timedelta(2)}")
    assert len(body.get_json()["open"]) == 3  # Monday, Tuesday and Wednesday

    week = api.get(f"/api/v1/spaces/{space.id}/availability").get_json()
    today = utcnow().astimezone(SEOUL).date()
    monday = today - timedelta(days=today.weekday())
    assert (week["from"], week["to"]) == (str(monday), str(monday + timedelta(days=6)))
    assert len(week["open"]) == 7
    # Past time is never free.
    assert all(span["end"] > utcnow().astimezone(SEOUL).isoformat() for span in week["free"])

    only_from = api.get(f"/api/v1/spaces/{space.id}/availability?from={day}").get_json()
    assert only_from["to"] == str(day + timedelta(days=6))


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("from=2026-12-10&to=2026-12-01", "to"),
        ("from=2026-01-01&to=2026-03-31", "to"),  # more than 62 days
        ("from=tomorrow", "from"),
        ("from=2026-02-30", "from"),
        ("to=0001-01-01", "to"),
        ("from=9999-12-31", "from"),
        ("from=%00", "from"),
    ],
)
def test_availability_refuses_bad_dates(api, space, query, field):
    response = api.get(f"/api/v1/spaces/{space.id}/availability?{query}")
    error = assert_error(response, 422, "invalid")
    assert field in error["details"], error


def test_availability_allows_62_days(api, space):
    response = api.get(f"/api/v1/spaces/{space.id}/availability?from=2026-01-01&to=2026-03-03")
    assert response.status_code == 200
    assert len(response.get_json()["open"]) == 62
