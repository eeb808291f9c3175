"""Whatever a client sends, the API answers 4xx with a message, changes nothing, and never 500s."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.bookings.models import Booking
from tests.api.helpers import seoul_iso
from tests.conftest import next_weekday

START = next_weekday(1, 10)
GOOD = {
    "space_id": None,  # filled in with the test's space
    "start": seoul_iso(START),
    "end": seoul_iso(START + timedelta(hours=2)),
    "purpose": "탁구 동호회",
    "attendees": 6,
}

NASTY_FIELDS = [
    # Strings for numbers, numbers for strings.
    ("space_id", "1"),
    ("attendees", "6"),
    ("attendees", "six"),
    ("purpose", 42),
    ("start", 1764579600),
    # Numbers that do not fit, or are not whole.
    ("space_id", 10**30),
    ("space_id", -1),
    ("space_id", 0),
    ("attendees", 10**30),
    ("attendees", -(10**30)),
    ("attendees", 6.5),
    ("attendees", 1e308),
    ("attendees", True),
    ("space_id", False),
    # Nulls, arrays and objects.
    ("space_id", None),
    ("start", None),
    ("purpose", None),
    ("attendees", None),
    ("start", [seoul_iso(START)]),
    ("purpose", ["a", "b"]),
    ("attendees", {"n": 6}),
    ("space_id", [1]),
    # Times: no offset, wrong format, out of range, end before start.
    ("start", (START + timedelta(hours=9)).replace(tzinfo=None).isoformat()),
    ("start", "2026-12-01"),
    ("start", "next tuesday"),
    ("start", ""),
    ("start", "2026-13-01T10:00:00+09:00"),
    ("start", "2026-12-01T25:00:00+09:00"),
    ("start", "2026-12-01T10:00:00+25:00"),
    ("start", "0001-01-01T00:00:00+09:00"),
    ("end", "9999-12-31T23:59:59-12:00"),
    ("end", "9999-12-31T23:59:59.999999+00:00"),
    ("end", seoul_iso(START - timedelta(hours=1))),
    ("end", seoul_iso(START)),
    ("start", "x" * 10000),
    # Text a database cannot store, or too much of it.
    ("purpose", "모임\x00"),
    ("purpose", "\ud800"),
    ("purpose", ""),
    ("purpose", "x" * 5000),
]


@pytest.fixture
def good(space):
    return dict(GOOD, space_id=space.id)


def _count(db) -> int:
    db.session.commit()
    return db.session.scalar(select(func.count()).select_from(Booking))


def test_the_good_body_works(api, good, resident):
    assert api.post("/api/v1/bookings", good, user=resident).status_code == 201


@pytest.mark.parametrize(("field", "value"), NASTY_FIELDS, ids=lambda v: repr(v)[:40])
def test_nasty_field_values_answer_422(api, db, good, resident, field, value):
    response = api.post("/api/v1/bookings", dict(good, **{field: value}), user=resident)
    assert response.status_code == 422, response.get_data(as_text=True)[:300]
    error = response.get_json()["error"]
    assert error["code"] == "invalid" and error["message"]
    assert field in error["details"], error
    assert _count(db) == 0


@pytest.mark.parametrize("missing", ["space_id", "start", "end", "purpose", "attendees"])
def test_missing_fields_answer_422(api, db, good, resident, missing):
    body = {k: v for k, v in good.items() if k != missing}
    response = api.post("/api/v1/bookings", body, user=resident)
    assert response.status_code == 422
    assert missing in response.get_json()["error"]["details"]
    assert _count(db) == 0


RAW_BODIES = [
    (b"", 422),
    (b"   ", 422),
    (b"{", 400),
    (b"{'space_id': 1}", 400),
    (b"not json", 400),
    (b"\xff\xfe\x00", 400),
    (b"[" * 100000 + b"]" * 100000, 413),
    (b"[" * 20000 + b"]" * 20000, 400),  # deep nesting: recursion limit
    (b"1" * 5000, 400),  # more digits than Python converts
    (b"null", 422),
    (b"[]", 422),
    (b"[1, 2]", 422),
    (b'"space"', 422),
    (b"42", 422),
    (b"true", 422),
    (b'{"attendees": NaN}', 422),
    (b'{"attendees": Infinity}', 422),
    (b'{"space_id": 1e999}', 422),
    (json.dumps({"purpose": "x" * 70000}).encode(), 413),
]


@pytest.mark.parametrize(("raw", "status"), RAW_BODIES, ids=lambda v: repr(v)[:30])
@pytest.mark.parametrize("content_type", ["application/json", "text/plain"])
def test_raw_bodies_never_500(api, db, resident, raw, status, content_type):
    response = api.post(
        "/api/v1/bookings", user=resident, data=raw, headers={"Content-Type": content_type}
    )
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert response.get_json()["error"]["message"]
    assert _count(db) == 0


@pytest.mark.parametrize("verb", ["approve", "reject", "cancel"])
@pytest.mark.parametrize(
    "raw",
    [b"{", b"[]", b'{"reason": 5}', b'{"reason": ["a"]}', b'{"reason": "\\u0000"}', b"null"],
    ids=lambda v: repr(v)[:30],
)
def test_decision_bodies_never_500(api, db, factories, space, manager, resident, verb, raw):
    booking = factories.booking(space, resident, start=START, end=START + timedelta(hours=2))
    user = resident if verb == "cancel" else manager
    response = api.post(
        f"/api/v1/bookings/{booking.id}/{verb}",
        user=user,
        data=raw,
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code in (400, 422), response.get_data(as_text=True)[:300]
    db.session.refresh(booking)
    assert booking.status == "requested"


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/spaces?page=99999999999999999999",
        "/api/v1/spaces?min_capacity=99999999999999999999",
        "/api/v1/spaces?near=1e999,1e999",
        "/api/v1/spaces?near=37.6,127&radius_km=inf",
        "/api/v1/spaces?amenities=" + "wifi," * 1000,
        "/api/v1/spaces?q=" + "%" * 300,
        "/api/v1/spaces?q=%ED%A0%80",  # an encoded lone surrogate
        "/api/v1/spaces?free_from=2026-12-01T18:00Z&free_to=2026-11-01T18:00Z",
        "/api/v1/spaces/1/availability?from=2026-12-01&to=" + "9" * 50,
        "/api/v1/bookings?page=" + "9" * 5000,
        "/api/v1/bookings?status=" + "," * 500,
        "/api/v1/bookings?status=%00",
        "/api/v1/bookings?scope=%00",
    ],
)
def test_nasty_query_strings_never_500(api, space, resident, path):
    response = api.get(path, user=resident)
    assert response.status_code in (200, 404, 422), response.get_data(as_text=True)[:300]
    assert response.is_json
