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
        "/api/v1/spaces/99999999999999999999/rules",
        "/api/v1/spaces/2147483648/rules",
        "/api/v1/lottery/draws/99999999999999999999",
        "/api/v1/lottery/draws/2147483648",
        "/api/v1/rule-sets/space/99999999999999999999",
        "/api/v1/rule-sets/space/2147483648",
        "/api/v1/rule-sets/%00/1",
        "/api/v1/approvals?space=%00",
        "/api/v1/approvals?from=" + "9" * 5000,
    ],
)
def test_nasty_query_strings_never_500(api, space, resident, path):
    response = api.get(path, user=resident)
    assert response.status_code in (200, 404, 422), response.get_data(as_text=True)[:300]
    assert response.is_json


# --- Rule facts, quotes, rule sets, returns and bulk decisions --------------------------------

NASTY_FACTS = [
    ("purpose_category", "wedding"),
    ("purpose_category", ""),
    ("purpose_category", 5),
    ("purpose_category", ["community"]),
    ("purpose_category", {"community": 1}),
    ("purpose_category", "community\x00"),
    ("purpose_category", "\ud800"),
    ("waiver", "vip"),
    ("waiver", ""),
    ("waiver", 1),
    ("waiver", True),
    ("waiver", "senior\x00"),
    ("group_id", "1"),
    ("group_id", 10**30),
    ("group_id", -(10**30)),
    ("group_id", 1.5),
    ("group_id", 1e308),
    ("group_id", True),
    ("group_id", [1]),
    ("group_id", 999),  # not a group of the person booking
    ("group_id", -1),
    ("group_id", 0),
]


@pytest.mark.parametrize(("field", "value"), NASTY_FACTS, ids=lambda v: repr(v)[:40])
def test_nasty_rule_facts_answer_422(api, db, good, resident, field, value):
    response = api.post("/api/v1/bookings", dict(good, **{field: value}), user=resident)
    assert response.status_code == 422, response.get_data(as_text=True)[:300]
    error = response.get_json()["error"]
    assert error["code"] == "invalid" and field in error["details"], error
    assert _count(db) == 0


QUOTE_NASTY = (
    [
        (field, value)
        for field, value in NASTY_FIELDS
        if field != "space_id" and not (field == "purpose" and value in (None, ""))
    ]
    + NASTY_FACTS
    + [
        ("end", "2999-12-31T00:00:00+09:00"),  # a thousand years long
        ("start", "1970-01-01T00:00:00Z"),
    ]
)


@pytest.mark.parametrize(("field", "value"), QUOTE_NASTY, ids=lambda v: repr(v)[:40])
def test_nasty_quote_bodies_answer_422(api, db, good, space, resident, field, value):
    response = api.post(
        f"/api/v1/spaces/{space.id}/quote", dict(good, **{field: value}), user=resident
    )
    assert response.status_code == 422, response.get_data(as_text=True)[:300]
    assert field in response.get_json()["error"]["details"]
    assert _count(db) == 0


@pytest.mark.parametrize(("raw", "status"), RAW_BODIES, ids=lambda v: repr(v)[:30])
def test_raw_quote_bodies_never_500(api, space, resident, raw, status):
    response = api.post(
        f"/api/v1/spaces/{space.id}/quote",
        user=resident,
        data=raw,
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == status, response.get_data(as_text=True)[:300]


def _deep(levels: int) -> dict:
    doc: dict = {}
    for _ in range(levels):
        doc = {"a": doc}
    return doc


NASTY_RULE_SETS = [
    {"rules": "text"},
    {"rules": 5},
    {"rules": None},
    {"rules": []},
    {"rules": {"hours_note": "a\x00b"}},
    {"rules": {"hours_note": "\ud800"}},
    {"rules": {"\ud800": 1}},
    {"rules": {"a\x00": 1}},
    {"rules": {"stages": [{"approver": "owner_manager", "label": "\x00"}]}},
    {"rules": {"max_attendees": 10**30}},
    {"rules": {"max_attendees": -(10**30)}},
    {"rules": {"max_attendees": 1e308}},
    {"rules": {"max_attendees": True}},
    {"rules": {"max_attendees": "50"}},
    {"rules": {"allowed_hours": {"0": [[0, 10**30]]}}},
    {"rules": {"allowed_hours": {"7": [[0, 60]]}}},
    {"rules": {"allowed_hours": [[0, 60]]}},
    {"rules": {"fees": {"rates": {"resident": 10**30}}}},
    {"rules": {"fees": {"rates": {"resident": -1}}}},
    {"rules": {"fees": "free"}},
    {"rules": {"waivers": {"senior": "50"}}},
    {"rules": {"allowed_purposes": [None]}},
    {"rules": {"allowed_purposes": "education"}},
    {"rules": {"quotas": [{}] * 25}},
    {"rules": {"stages": "x" * 1000}},
    {"rules": {"stages": [{"approver": "owner_manager", "deadline_days": 10**30}]}},
    {"rules": {"lottery": [{"weekdays": [True], "start": 0, "end": 60}]}},
    {"rules": {"refund_tiers": [{"days_before": 10**30, "percent": 50}]}},
    {"rules": _deep(500)},
    {"rules": {"max_attendees": 10}, "effective_from": "2026-13-01"},
    {"rules": {"max_attendees": 10}, "effective_from": "0001-01-01"},
    {"rules": {"max_attendees": 10}, "effective_from": "9999-12-31"},
    {"rules": {"max_attendees": 10}, "effective_from": 20261201},
    {"rules": {"max_attendees": 10}, "effective_from": "2026-12-01T00:00"},
    {"rules": {"max_attendees": 10}, "effective_from": ""},
    {"rules": {"max_attendees": 10}, "effective_from": "\x00"},
    {"rules": {"max_attendees": 10}, "effective_from": None},
    {"rules": {"max_attendees": 10}, "note": 5},
    {"rules": {"max_attendees": 10}, "note": "\x00"},
    {"rules": {"max_attendees": 10}, "note": "x" * 5000},
]


@pytest.mark.parametrize("payload", NASTY_RULE_SETS, ids=lambda v: repr(v)[:50])
def test_nasty_rule_sets_answer_422_and_save_nothing(api, db, org, manager, payload):
    from datetime import date

    from app.rules.models import RuleSet

    payload = {"effective_from": date.today().isoformat(), **payload}
    response = api.post(f"/api/v1/rule-sets/organisation/{org.id}", payload, user=manager)
    assert response.status_code == 422, response.get_data(as_text=True)[:300]
    assert response.get_json()["error"]["details"]
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(RuleSet)) == 0


@pytest.mark.parametrize(("raw", "status"), RAW_BODIES, ids=lambda v: repr(v)[:30])
def test_raw_rule_set_bodies_never_500(api, db, org, manager, raw, status):
    from app.rules.models import RuleSet

    response = api.post(
        f"/api/v1/rule-sets/organisation/{org.id}",
        user=manager,
        data=raw,
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(RuleSet)) == 0


ID = "<the id of the test's booking>"
NASTY_BULK = [
    {"action": "approve", "ids": "1"},
    {"action": "approve", "ids": []},
    {"action": "approve", "ids": ["1"]},
    {"action": "approve", "ids": [10**30]},
    {"action": "approve", "ids": [2**31]},
    {"action": "approve", "ids": [0]},
    {"action": "approve", "ids": [-1]},
    {"action": "approve", "ids": [True]},
    {"action": "approve", "ids": [1.5]},
    {"action": "approve", "ids": [None]},
    {"action": "approve", "ids": [[1]]},
    {"action": "approve", "ids": list(range(1, 200))},
    {"action": "approve", "ids": {"1": 1}},
    {"action": "approve"},
    {"ids": ID},
    {"action": "delete", "ids": ID},
    {"action": 5, "ids": ID},
    {"action": "", "ids": ID},
    {"action": "approve\x00", "ids": ID},
    {"action": "approve", "ids": ID, "reason": 5},
    {"action": "approve", "ids": ID, "reason": "\x00"},
    {"action": "reject", "ids": ID, "reason": "   "},
    {"action": "reject", "ids": ID, "reason": None},
]


@pytest.mark.parametrize("payload", NASTY_BULK, ids=lambda v: repr(v)[:50])
def test_nasty_bulk_bodies_answer_422_and_decide_nothing(
    api, db, space, manager, resident, payload
):
    booking = _booking(space, resident)
    payload = {k: ([booking.id] if v == ID else v) for k, v in payload.items()}
    response = api.post("/api/v1/approvals/bulk", payload, user=manager)
    assert response.status_code == 422, response.get_data(as_text=True)[:300]
    assert response.get_json()["error"]["details"]
    db.session.refresh(booking)
    assert booking.status == "requested"


def _booking(space, user):
    from app.bookings import services as booking_services

    return booking_services.create_booking(
        space, user, start=START, end=START + timedelta(hours=2), purpose="모임", attendees=4
    )


@pytest.mark.parametrize(
    "raw",
    [b"{", b"[]", b"{}", b'{"reason": 5}', b'{"reason": ["a"]}', b'{"reason": "\\u0000"}',
     b'{"reason": "\\ud800"}', b"null", b'{"reason": ""}'],
    ids=lambda v: repr(v)[:30],
)  # fmt: skip
def test_return_bodies_never_500(api, db, space, manager, resident, raw):
    booking = _booking(space, resident)
    response = api.post(
        f"/api/v1/bookings/{booking.id}/return",
        user=manager,
        data=raw,
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code in (400, 422), response.get_data(as_text=True)[:300]
    db.session.refresh(booking)
    assert booking.status == "requested"


NASTY_RESUBMIT = [
    {"attendees": 10**30},
    {"attendees": 0},
    {"attendees": "5"},
    {"attendees": 10**6},
    {"purpose": ""},
    {"purpose": "\x00"},
    {"purpose": "\ud800"},
    {"purpose": 5},
    {"purpose": "x" * 5000},
    {"purpose_category": "wedding"},
    {"purpose_category": 5},
    {"waiver": "vip"},
    {"waiver": 5},
    {"group_id": "1"},
    {"group_id": 10**30},
    {"group_id": 999},
    {"group_id": True},
]


@pytest.mark.parametrize("payload", NASTY_RESUBMIT, ids=lambda v: repr(v)[:40])
def test_nasty_resubmit_bodies_answer_422(api, db, space, manager, resident, payload):
    from app.bookings import services as booking_services

    booking = _booking(space, resident)
    booking_services.return_to_resident(booking, manager, reason="인원 확인")
    response = api.post(f"/api/v1/bookings/{booking.id}/resubmit", payload, user=resident)
    assert response.status_code == 422, response.get_data(as_text=True)[:300]
    assert set(response.get_json()["error"]["details"]) == set(payload)
    db.session.refresh(booking)
    assert booking.status == "returned"


@pytest.mark.parametrize(
    "query",
    [
        "?space=99999999999999999999",
        "?space=-1",
        "?space=%00",
        "?approver=%00",
        "?approver=" + "x" * 5000,
        "?purpose=%ED%A0%80",
        "?from=0001-01-01",
        "?to=9999-12-31",
        "?from=2026-12-01&to=2026-11-01",
        "?sort=" + "%" * 300,
        "?page=" + "9" * 5000,
        "?per_page=-1",
        "?overdue=%00",
    ],
)
def test_nasty_queue_filters_answer_422(api, manager, query):
    response = api.get(f"/api/v1/approvals{query}", user=manager)
    assert response.status_code == 422, response.get_data(as_text=True)[:300]
    assert response.is_json
