"""Every API call runs the same number of SQL statements whatever the amount of data."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.bookings import services as booking_services
from tests.conftest import next_weekday


def _world(factories, db, n: int):
    """`n` spaces with amenities and jurisdictions, and `n` decided bookings on the first one."""
    org = factories.org()
    manager = factories.manager(org)
    resident = factories.user()
    district = factories.jurisdiction()
    spaces = []
    for i in range(n):
        space = factories.space(
            owner=org,
            name=f"공간 {i:02d}",
            jurisdictions=[district],
            latitude=37.6 + i / 1000,
            longitude=127.0,
        )
        space.amenities = ["wifi", "projector"]
        spaces.append(space)
    first = next_weekday(0, 9)
    bookings = []
    for i in range(n):
        start = first + timedelta(days=i % 6, hours=2 * (i // 6))
        booking = factories.booking(
            spaces[0], resident, start=start, end=start + timedelta(hours=1)
        )
        bookings.append(booking)
    db.session.commit()
    return spaces, bookings, resident, manager


def _measure(api, count_queries, path: str, user) -> int:
    headers = api.headers(user)  # issue the token outside the measurement
    api.db.session.commit()
    api.db.session.expunge_all()  # nothing cached from the setup
    with count_queries() as q:
        response = api.client.get(path, headers=headers)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body.get("items", [None]) or body.get("free"), "measure with data"
    return q.count


PATHS = {
    "search": lambda s, b: "/api/v1/spaces?per_page=100",
    "search-near": lambda s, b: "/api/v1/spaces?near=37.6,127.0&radius_km=100&amenities=wifi",
    "space": lambda s, b: f"/api/v1/spaces/{s[0].id}",
    "availability": lambda s, b: f"/api/v1/spaces/{s[0].id}/availability?"
    f"from={b[0].local_start.date()}&to={b[0].local_start.date() + timedelta(days=13)}",
    "bookings": lambda s, b: "/api/v1/bookings?per_page=100",
    "managed-bookings": lambda s, b: "/api/v1/bookings?scope=managed&per_page=100",
    "booking": lambda s, b: f"/api/v1/bookings/{b[-1].id}",
}
CASES = [
    ("search", "anonymous"),
    ("search", "resident"),
    ("search-near", "anonymous"),
    ("space", "anonymous"),
    ("space", "manager"),
    ("availability", "anonymous"),
    ("availability", "resident"),
    ("bookings", "resident"),
    ("managed-bookings", "manager"),
    ("booking", "resident"),
    ("booking", "manager"),
]


@pytest.mark.parametrize(("name", "who"), CASES)
def test_query_count_does_not_grow_with_data(api, db, factories, count_queries, name, who):
    counts = []
    for n in (2, 30):
        spaces, bookings, resident, manager = _world(factories, db, n)
        # Every booking has a history of two transitions by two different people.
        for booking in bookings:
            booking_services.approve(booking, manager)
        user = {"anonymous": None, "resident": resident, "manager": manager}[who]
        counts.append(_measure(api, count_queries, PATHS[name](spaces, bookings), user))
    assert counts[0] == counts[1], counts
    assert counts[1] <= 12, counts


def _measure_post(api, count_queries, path: str, body: dict, user) -> tuple[int, int]:
    headers = api.headers(user)
    api.db.session.commit()
    api.db.session.expunge_all()
    with count_queries() as q:
        response = api.client.post(path, json=body, headers=headers)
    return response.status_code, q.count


@pytest.mark.parametrize("action", ["create", "approve", "reject", "cancel"])
def test_writes_run_a_bounded_number_of_queries(api, db, factories, count_queries, action):
    """Making and deciding a booking costs the same whatever the space's calendar holds."""
    counts = []
    for n in (2, 30):
        spaces, bookings, resident, manager = _world(factories, db, n)
        for booking in bookings[:-1]:
            booking_services.approve(booking, manager)
        target = bookings[-1]  # still requested, with a history of its own
        if action == "create":
            start = target.start_at + timedelta(days=7)
            body = {"space_id": spaces[0].id, "start": start.isoformat(),
                    "end": (start + timedelta(hours=1)).isoformat(), "purpose": "회의",
                    "attendees": 3}
            status, count = _measure_post(api, count_queries, "/api/v1/bookings", body, resident)
            assert status == 201
        else:
            user = resident if action == "cancel" else manager
            status, count = _measure_post(
                api, count_queries, f"/api/v1/bookings/{target.id}/{action}",
                {"reason": "사유"}, user,
            )
            assert status == 200
        counts.append(count)
    assert counts[0] == counts[1], counts
    # A create also reads the rule sets in force and writes its stages; each change also writes
    # its notifications (resident, deciders) and delivers their emails after the commit, about
    # four statements per message. A create is logged (and the space's last minute counted for
    # the anti-macro surge) in a commit of its own before the booking, so a refused request
    # counts too: four statements more with reloading the space and the user after it.
    assert counts[1] <= 44, counts


# --- The endpoints of rules, approvals and lotteries --------------------------------------------


def _rules_world(factories, db, n: int):
    """A space under a three-stage chain with `n` of everything the new GETs list: requests in
    the manager's queue, versions of the owner's rule set, jurisdictions with rule sets over the
    space, and entries of one lottery draw."""
    from datetime import UTC, datetime

    from app.bookings import lottery
    from app.bookings.models import LotteryDraw
    from app.orgs.models import OrgMembership
    from app.rules.models import RuleSet

    past = datetime.now(UTC) - timedelta(days=30)
    org = factories.org()
    manager = factories.manager(org)
    principal = factories.user()
    db.session.add(OrgMembership(user=principal, organisation=org, role="principal"))
    districts = [factories.jurisdiction(name=f"구 {i:02d}") for i in range(n)]
    space = factories.space(owner=org, jurisdictions=districts)
    for version in range(1, n + 1):
        db.session.add(
            RuleSet(
                organisation_id=org.id,
                version=version,
                effective_from=past + timedelta(hours=version),
                body={
                    "stages": [
                        {"approver": "owner_manager", "deadline_days": 3,
                         "on_deadline": "escalate"},
                        {"approver": "owner_principal", "deadline_days": 2},
                    ],
                    "max_attendees": 100 + version,
                },
            )
        )  # fmt: skip
    for i, district in enumerate(districts):
        db.session.add(
            RuleSet(
                jurisdiction_id=district.id,
                version=1,
                effective_from=past,
                body={"refused_purposes": ["commercial"], "max_days_ahead": 300 + i},
            )
        )
    officer = factories.officer(districts[0])
    db.session.flush()
    first = next_weekday(0, 9)
    bookings = []
    for i in range(n):
        start = first + timedelta(days=i % 6, hours=2 * (i // 6))
        bookings.append(
            factories.booking(space, factories.user(), start=start, end=start + timedelta(hours=1))
        )
    entries = [lottery.Entry(b.id, b.user_id, b.hold_start, b.hold_end) for b in bookings]
    outcomes = lottery.draw(entries, "ab" * 16, caps={}, prior_wins={}, busy=[])
    record = LotteryDraw(
        space_id=space.id,
        draw_at=first - timedelta(days=7),
        seed="ab" * 16,
        result=lottery._result(entries, {}, {}, [], outcomes),
    )
    db.session.add(record)
    db.session.commit()
    users = {"anonymous": None, "manager": manager, "officer": officer, "principal": principal}
    return {
        "space": space,
        "org": org,
        "district": districts[0],
        "bookings": bookings,
        "draw": record,
        "users": users,
    }


NEW_PATHS = {
    "approvals": lambda w: "/api/v1/approvals?per_page=100",
    "approvals-sorted": lambda w: "/api/v1/approvals?per_page=100&sort=due&purpose=community",
    "space-rules": lambda w: f"/api/v1/spaces/{w['space'].id}/rules",
    "rule-set": lambda w: f"/api/v1/rule-sets/organisation/{w['org'].id}",
    "jurisdiction-rule-set": lambda w: f"/api/v1/rule-sets/jurisdiction/{w['district'].id}",
    "lottery-draw": lambda w: f"/api/v1/lottery/draws/{w['draw'].id}",
    "booking": lambda w: f"/api/v1/bookings/{w['bookings'][-1].id}",
    "managed-bookings": lambda w: "/api/v1/bookings?scope=managed&per_page=100",
}
NEW_CASES = [
    ("approvals", "manager"),
    ("approvals-sorted", "manager"),
    ("space-rules", "anonymous"),
    ("space-rules", "manager"),
    ("rule-set", "manager"),
    ("jurisdiction-rule-set", "officer"),
    ("lottery-draw", "anonymous"),
    ("booking", "manager"),
    ("managed-bookings", "manager"),
]


@pytest.mark.parametrize(("name", "who"), NEW_CASES)
def test_rule_endpoints_run_a_bounded_number_of_queries(
    api, db, factories, count_queries, name, who
):
    counts = []
    for n in (2, 20):
        world = _rules_world(factories, db, n)
        if name == "jurisdiction-rule-set":
            from app.rules.models import RuleSet

            for version in range(2, n + 1):
                db.session.add(
                    RuleSet(
                        jurisdiction_id=world["district"].id,
                        version=version,
                        effective_from=world["draw"].draw_at + timedelta(days=version),
                        body={"max_days_ahead": version},
                    )
                )
        if name == "booking":
            # Through the first two stages, so the booking shows decided stages.
            booking = world["bookings"][-1]
            booking_services.approve(booking, world["users"]["manager"])
            booking_services.approve(booking, world["users"]["principal"])
        path = NEW_PATHS[name](world)
        counts.append(_measure_any(api, count_queries, path, world["users"][who]))
    assert counts[0] == counts[1], counts
    assert counts[1] <= 14, counts


def _measure_any(api, count_queries, path: str, user) -> int:
    headers = api.headers(user)
    api.db.session.commit()
    api.db.session.expunge_all()
    with count_queries() as q:
        response = api.client.get(path, headers=headers)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body.get("items", [None]) and body.get("versions", [None]), "measure with data"
    assert body.get("entries", [None]) and body.get("rule_sets", [None]), "measure with data"
    return q.count


# --- Photos in the answers about spaces, and the owner's writes ---------------------------------


def _photo_world(factories, db, n: int):
    """`n` spaces of one owner, each with `n` photos (the first the cover) and `n` closures."""
    from app.spaces.models import SpacePhoto

    spaces, _bookings, _resident, manager = _world(factories, db, n)
    first = next_weekday(0, 9) + timedelta(days=30)
    for space in spaces:
        space.accessibility = ["lift"]
        for i in range(n):
            db.session.add(SpacePhoto(space_id=space.id, position=i, alt=f"사진 {i}",
                                      is_cover=i == 0, digest=f"{space.id:016x}{i:016x}",
                                      width=1600, height=1200))
            factories.closure(space, first + timedelta(days=i), first + timedelta(days=i, hours=1))
    db.session.commit()
    return spaces, manager


PHOTO_GETS = {
    "search": lambda s: "/api/v1/spaces?per_page=100",
    "space": lambda s: f"/api/v1/spaces/{s[0].id}",
}


@pytest.mark.parametrize("name", PHOTO_GETS)
def test_photos_in_answers_cost_a_fixed_number_of_queries(api, db, factories, count_queries,
                                                           name):
    counts = []
    for n in (2, 12):
        spaces, _manager = _photo_world(factories, db, n)
        counts.append(_measure(api, count_queries, PHOTO_GETS[name](spaces), None))
    assert counts[0] == counts[1], counts
    assert counts[1] <= 12, counts


OWNER_WRITES = {
    "patch": ("PATCH", lambda s: f"/api/v1/spaces/{s.id}", lambda s: {"capacity": 33}),
    "hours": ("PUT", lambda s: f"/api/v1/spaces/{s.id}/hours",
              lambda s: {"hours": [{"weekday": d, "open": "09:00", "close": "18:00"}
                                   for d in range(7)]}),
    "closure": ("POST", lambda s: f"/api/v1/spaces/{s.id}/closures",
                lambda s: {"start": "2030-01-01T10:00:00+09:00",
                           "end": "2030-01-02T10:00:00+09:00"}),
    "order": ("PUT", lambda s: f"/api/v1/spaces/{s.id}/photos/order",
              lambda s: {"ids": [p.id for p in reversed(s.photos)]}),
    "cover": ("POST", lambda s: f"/api/v1/spaces/{s.id}/photos/{s.photos[-1].id}/cover",
              lambda s: None),
}


@pytest.mark.parametrize("name", OWNER_WRITES)
def test_owner_writes_run_a_bounded_number_of_queries(api, db, factories, count_queries, name):
    method, path, body = OWNER_WRITES[name]
    counts = []
    for n in (2, 12):
        spaces, manager = _photo_world(factories, db, n)
        space = spaces[0]
        url, payload = path(space), body(space)
        headers = api.headers(manager)
        db.session.commit()
        db.session.expunge_all()
        with count_queries() as q:
            response = api.client.open(url, method=method, json=payload, headers=headers)
        assert response.status_code in (200, 201), response.get_json()
        counts.append(q.count)
    assert counts[0] == counts[1], counts
    assert counts[1] <= 40, counts  # replacing hours: a statement per row (at most 84)
