"""The rules through the API: quotes, refusals on create, the booking's rule facts, the rules in
force at a space, rule-set versions and saving them, and lottery results."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from app.accounts.group_models import ResidentGroup, ResidentGroupMember
from app.bookings import lottery
from app.bookings.models import Booking, LotteryDraw
from app.rules.models import RuleSet
from tests.api.conftest import ORG_STAGES
from tests.api.helpers import assert_error, seoul_iso, validate_against
from tests.conftest import next_weekday

EN = {"Accept-Language": "en"}
SEOUL = ZoneInfo("Asia/Seoul")


def body(space, at=None, hours: float = 2, **changes) -> dict:
    at = at or next_weekday(2, 10)
    data = {
        "space_id": space.id,
        "start": seoul_iso(at),
        "end": seoul_iso(at + timedelta(hours=hours)),
        "purpose": "주민 합창 연습",
        "attendees": 10,
    }
    data.update(changes)
    return data


def booking_count(db) -> int:
    db.session.commit()
    return db.session.scalar(select(func.count()).select_from(Booking))


def rule_set_count(db) -> int:
    db.session.commit()
    return db.session.scalar(select(func.count()).select_from(RuleSet))


@pytest.fixture
def document(api):
    return api.get("/api/v1/openapi.json").get_json()


# --- Quote ------------------------------------------------------------------------------------


def test_quote_of_an_allowed_request(api, db, chain, document):
    quote_body = body(chain.space)
    del quote_body["space_id"]
    response = api.post(
        f"/api/v1/spaces/{chain.space.id}/quote", quote_body, user=chain.resident, headers=EN
    )
    assert response.status_code == 200, response.get_json()
    quote = response.get_json()
    assert quote["allowed"] is True and quote["reasons"] == []
    assert quote["mode"] == "request" and quote["draw_at"] is None
    assert [(s["approver"], s["source"]) for s in quote["stages"]] == [
        ("owner_manager", "번동초등학교"),
        ("owner_principal", "번동초등학교"),
        ("jurisdiction", "강북구"),
    ]
    assert quote["stages"][0]["deadline_days"] == 3
    assert quote["stages"][0]["on_deadline"] == "escalate"
    assert quote["stages"][2]["auto_approved"] is False
    assert quote["price"]["total"] == 24000 and quote["price"]["currency"] == "KRW"
    assert quote["price"]["lines"][0]["code"] == "base"
    validate_against(document, "Quote", quote)
    assert booking_count(db) == 0  # nothing was made


def test_quote_of_a_refused_request_cites_the_rule_set(api, db, chain):
    response = api.post(
        f"/api/v1/spaces/{chain.space.id}/quote",
        body(chain.space, purpose_category="commercial"),
        user=chain.resident,
        headers=EN,
    )
    assert response.status_code == 200
    quote = response.get_json()
    assert quote["allowed"] is False
    assert quote["reasons"] == [
        {
            "code": "purpose_refused",
            "source": "강북구",
            "source_level": "jurisdiction",
            "message": "강북구 rules: Bookings for Commercial are refused.",
        }
    ]
    assert booking_count(db) == 0


def test_quote_price_with_a_waiver(api, db, chain, factories):
    # The resident's senior waiver is verified on their profile.
    factories.verified_waiver(chain.resident, "senior")
    db.session.add(
        RuleSet(
            space_id=chain.space.id,
            version=1,
            effective_from=datetime.now(UTC) - timedelta(days=1),
            body={"waivers": {"senior": 50}},
        )
    )
    response = api.post(
        f"/api/v1/spaces/{chain.space.id}/quote",
        body(chain.space, waiver="senior"),
        user=chain.resident,
    )
    price = response.get_json()["price"]
    assert [line["code"] for line in price["lines"]] == ["base", "waiver"]
    assert price["total"] == 12000


def test_quote_charges_an_unverified_waiver_in_full(api, db, chain):
    db.session.add(
        RuleSet(
            space_id=chain.space.id,
            version=1,
            effective_from=datetime.now(UTC) - timedelta(days=1),
            body={"waivers": {"senior": 50}},
        )
    )
    response = api.post(
        f"/api/v1/spaces/{chain.space.id}/quote",
        body(chain.space, waiver="senior"),
        user=chain.resident,
    )
    price = response.get_json()["price"]
    assert [line["code"] for line in price["lines"]] == ["base"]
    assert price["total"] == 24000


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"purpose_category": "wedding"}, "purpose_category"),
        ({"waiver": "vip"}, "waiver"),
        ({"group_id": 12345}, "group_id"),
        ({"attendees": 0}, "attendees"),
        ({"end": None}, "end"),
    ],
)
def test_quote_refuses_bad_input_with_422(api, chain, changes, field):
    response = api.post(
        f"/api/v1/spaces/{chain.space.id}/quote", body(chain.space, **changes), user=chain.resident
    )
    error = assert_error(response, 422, "invalid")
    assert field in error["details"], error


def test_quote_needs_a_token_and_a_visible_space(api, factories, chain):
    assert_error(
        api.post(f"/api/v1/spaces/{chain.space.id}/quote", body(chain.space)), 401, "unauthorized"
    )
    hidden = factories.space(published=False)
    response = api.post(f"/api/v1/spaces/{hidden.id}/quote", body(hidden), user=chain.resident)
    assert_error(response, 404, "not_found")


# --- Create -----------------------------------------------------------------------------------


def test_create_refused_by_the_rules_answers_422_with_reasons(api, db, chain, document):
    response = api.post(
        "/api/v1/bookings",
        body(chain.space, purpose_category="commercial"),
        user=chain.resident,
        headers=EN,
    )
    error = assert_error(response, 422, "rule_violation")
    assert error["reasons"][0]["source"] == "강북구"
    assert error["reasons"][0]["code"] == "purpose_refused"
    assert "강북구" in error["message"]
    validate_against(document, "Error", response.get_json())
    assert booking_count(db) == 0


def test_create_records_the_rule_facts(api, db, chain, document, factories):
    # The resident's senior waiver is verified on their profile, so it is priced in at once.
    factories.verified_waiver(chain.resident, "senior")
    group = ResidentGroup(name="번동 합창단")
    group.members.append(ResidentGroupMember(user_id=chain.resident.id, is_leader=True))
    db.session.add(group)
    db.session.add(
        RuleSet(
            space_id=chain.space.id,
            version=1,
            effective_from=datetime.now(UTC) - timedelta(days=1),
            body={"waivers": {"senior": 50}},
        )
    )
    db.session.flush()
    response = api.post(
        "/api/v1/bookings",
        body(chain.space, purpose_category="culture", waiver="senior", group_id=group.id),
        user=chain.resident,
        headers=EN,
    )
    assert response.status_code == 201, response.get_json()
    booking = response.get_json()
    assert booking["purpose_category"] == "culture"
    assert booking["waiver"] == "senior"
    assert booking["waiver_state"] == "verified"
    assert booking["group"] == {"id": group.id, "name": "번동 합창단"}
    assert booking["price"] == {"amount": 12000, "currency": "KRW"}
    assert booking["price_breakdown"]["total"] == 12000
    assert [line["code"] for line in booking["price_breakdown"]["lines"]] == ["base", "waiver"]
    assert booking["draw_at"] is None and booking["lottery_draw_id"] is None
    approval = booking["approval"]
    assert (approval["stage"], approval["of"]) == (1, 3)
    assert "번동초등학교" in approval["who"]
    assert approval["due_at"] is not None
    assert [s["state"] for s in approval["stages"]] == ["pending", "waiting", "waiting"]
    assert [s["approver"] for s in approval["stages"]] == [
        "owner_manager",
        "owner_principal",
        "jurisdiction",
    ]
    assert approval["stages"][2]["who"] == "Officers of 강북구"
    validate_against(document, "Booking", booking)


def test_create_without_a_category_is_community(api, chain):
    data = body(chain.space)
    response = api.post("/api/v1/bookings", data, user=chain.resident)
    assert response.status_code == 201
    assert response.get_json()["purpose_category"] == "community"
    assert response.get_json()["waiver"] is None and response.get_json()["group"] is None


def test_create_for_a_group_of_someone_else_is_refused(api, db, chain):
    group = ResidentGroup(name="남의 모임")
    db.session.add(group)
    db.session.flush()
    response = api.post(
        "/api/v1/bookings", body(chain.space, group_id=group.id), user=chain.resident
    )
    assert "group_id" in assert_error(response, 422, "invalid")["details"]
    assert booking_count(db) == 0


# --- The rules of a space ---------------------------------------------------------------------


def test_space_rules_are_public(api, chain, document):
    response = api.get(f"/api/v1/spaces/{chain.space.id}/rules", headers=EN)
    assert response.status_code == 200
    rules = response.get_json()
    assert rules["space_id"] == chain.space.id
    sources = {line["source"] for line in rules["summary"]}
    assert sources == {"번동초등학교", "강북구"}
    texts = " ".join(line["text"] for line in rules["summary"])
    assert "Refused purposes: Commercial." in texts
    assert [(r["scope"]["kind"], r["source_level"]) for r in rules["rule_sets"]] == [
        ("organisation", "owner"),
        ("jurisdiction", "jurisdiction"),
    ]
    district = rules["rule_sets"][1]
    assert district["scope"] == {"kind": "jurisdiction", "id": chain.district.id, "name": "강북구"}
    assert district["version"] == 1
    assert district["body"]["refused_purposes"] == ["commercial"]
    validate_against(document, "SpaceRules", rules)


def test_space_rules_show_only_the_version_in_force(api, db, chain):
    db.session.add(
        RuleSet(
            jurisdiction_id=chain.district.id,
            version=2,
            effective_from=datetime.now(UTC) + timedelta(days=10),
            body={},
        )
    )
    rules = api.get(f"/api/v1/spaces/{chain.space.id}/rules").get_json()
    versions = {r["scope"]["kind"]: r["version"] for r in rules["rule_sets"]}
    assert versions == {"organisation": 1, "jurisdiction": 1}


def test_rules_of_a_hidden_space_are_404(api, factories, chain):
    hidden = factories.space(published=False)
    assert_error(api.get(f"/api/v1/spaces/{hidden.id}/rules"), 404, "not_found")
    assert_error(api.get("/api/v1/spaces/99999999999/rules"), 404, "not_found")


# --- Rule sets --------------------------------------------------------------------------------


def test_rule_set_versions_for_its_editors(api, chain, document):
    response = api.get(f"/api/v1/rule-sets/organisation/{chain.org.id}", user=chain.manager)
    assert response.status_code == 200, response.get_json()
    data = response.get_json()
    assert data["scope"] == {"kind": "organisation", "id": chain.org.id, "name": "번동초등학교"}
    assert data["current_version"] == 1
    assert [(v["version"], v["state"]) for v in data["versions"]] == [(1, "in_force")]
    assert data["versions"][0]["body"] == {"stages": chain.org_rules.body["stages"]}
    validate_against(document, "RuleSetVersions", data)

    officer = api.get(f"/api/v1/rule-sets/jurisdiction/{chain.district.id}", user=chain.officer)
    assert officer.status_code == 200


def test_rule_set_access(api, chain):
    path = f"/api/v1/rule-sets/organisation/{chain.org.id}"
    assert_error(api.get(path), 401, "unauthorized")
    assert_error(api.get(path, user=chain.resident), 404, "not_found")
    # The officer oversees the space, so may know its rule set exists, but not change it.
    space_path = f"/api/v1/rule-sets/space/{chain.space.id}"
    assert_error(api.get(space_path, user=chain.officer), 403, "forbidden")
    assert api.get(space_path, user=chain.manager).status_code == 200
    assert_error(api.get("/api/v1/rule-sets/castle/1", user=chain.manager), 404, "not_found")
    assert_error(
        api.get("/api/v1/rule-sets/space/99999999999", user=chain.manager), 404, "not_found"
    )


def _today() -> str:
    return datetime.now(SEOUL).date().isoformat()


def test_saving_a_rule_set_makes_version_2(api, db, chain, document):
    new_rules = {"stages": [ORG_STAGE_ONE], "max_attendees": 50}
    response = api.post(
        f"/api/v1/rule-sets/organisation/{chain.org.id}",
        {"rules": new_rules, "effective_from": _today(), "note": "교장 결재 생략"},
        user=chain.manager,
    )
    assert response.status_code == 201, response.get_json()
    saved = response.get_json()
    assert saved["version"] == 2 and saved["state"] == "in_force"
    assert saved["replaces_id"] == chain.org_rules.id
    assert saved["created_by"] == {"id": chain.manager.id, "name": chain.manager.name}
    assert saved["note"] == "교장 결재 생략"
    assert saved["body"]["max_attendees"] == 50
    assert response.headers["Location"].endswith(f"/api/v1/rule-sets/organisation/{chain.org.id}")
    validate_against(document, "SavedRuleSet", saved)

    listing = api.get(response.headers["Location"], user=chain.manager).get_json()
    assert [(v["version"], v["state"]) for v in listing["versions"]] == [
        (2, "in_force"),
        (1, "replaced"),
    ]
    # The new version is what a quote now follows: one owner stage, then the district's.
    quote = api.post(
        f"/api/v1/spaces/{chain.space.id}/quote", body(chain.space), user=chain.resident
    ).get_json()
    assert [s["approver"] for s in quote["stages"]] == ["owner_manager", "jurisdiction"]


ORG_STAGE_ONE = {"approver": "owner_manager", "deadline_days": 3, "on_deadline": "expire"}


def test_scheduled_rule_set(api, chain):
    later = (datetime.now(SEOUL).date() + timedelta(days=10)).isoformat()
    response = api.post(
        f"/api/v1/rule-sets/space/{chain.space.id}",
        {"rules": {"max_attendees": 30}, "effective_from": later},
        user=chain.manager,
    )
    assert response.status_code == 201
    assert response.get_json()["version"] == 1
    assert response.get_json()["state"] == "scheduled"


@pytest.mark.parametrize(
    ("payload", "fields"),
    [
        ({"rules": {"stages": [{"approver": "jurisdiction"}]}}, {"rules.stages.0"}),
        (
            {"rules": {"max_attendees": 0, "eligibility": "martians", "colour": "red"}},
            {"rules.max_attendees", "rules.eligibility", "rules"},
        ),
        (
            {"rules": {"min_minutes": 120, "max_minutes": 60}, "effective_from": "2001-01-01"},
            {"rules.max_minutes", "effective_from"},
        ),
        ({"rules": {"stages": ORG_STAGES}}, {"rules"}),  # the same as version 1
        ({"rules": [1, 2]}, {"rules"}),
        ({"effective_from": "tomorrow"}, {"rules", "effective_from"}),
        ({"rules": {}, "note": "x" * 301}, {"note"}),
    ],
    ids=["officers-in-org", "several", "length-and-past", "unchanged", "list", "bad-day", "note"],
)
def test_a_bad_rule_set_answers_422_per_field_and_saves_nothing(api, db, chain, payload, fields):
    before = rule_set_count(db)
    payload = {"effective_from": _today(), **payload}
    response = api.post(
        f"/api/v1/rule-sets/organisation/{chain.org.id}", payload, user=chain.manager, headers=EN
    )
    error = assert_error(response, 422, "invalid")
    assert set(error["details"]) == fields, error
    assert rule_set_count(db) == before


def test_only_editors_save_rule_sets(api, db, chain):
    before = rule_set_count(db)
    payload = {"rules": {"max_attendees": 10}, "effective_from": _today()}
    path = f"/api/v1/rule-sets/space/{chain.space.id}"
    assert_error(api.post(path, payload, user=chain.officer), 403, "forbidden")
    assert_error(api.post(path, payload, user=chain.resident), 404, "not_found")
    assert_error(api.post(path, payload), 401, "unauthorized")
    assert rule_set_count(db) == before


# --- Lottery draws ----------------------------------------------------------------------------


def make_draw(factories, db, space, names=("김민수", "박지훈")) -> LotteryDraw:
    """A verifiable draw of overlapping entries for one Saturday morning."""
    start = next_weekday(5, 10)
    entries = []
    for name in names:
        booking = factories.booking(
            space, factories.user(name=name), start=start, end=start + timedelta(hours=1)
        )
        booking.status = "lost"  # the draw decides below; the holds must not collide
        db.session.flush()
        entries.append(
            lottery.Entry(booking.id, booking.user_id, booking.hold_start, booking.hold_end)
        )
    seed = "0123456789abcdef0123456789abcdef"
    outcomes = lottery.draw(entries, seed, caps={}, prior_wins={}, busy=[])
    record = LotteryDraw(
        space_id=space.id,
        draw_at=start - timedelta(days=7),
        seed=seed,
        algorithm=lottery.ALGORITHM,
        result=lottery._result(entries, {}, {}, [], outcomes),
    )
    db.session.add(record)
    db.session.flush()
    return record


def test_lottery_draw_is_public_with_masked_names(api, db, factories, space, document):
    record = make_draw(factories, db, space)
    response = api.get(f"/api/v1/lottery/draws/{record.id}")
    assert response.status_code == 200, response.get_json()
    data = response.get_json()
    assert data["seed"] == "0123456789abcdef0123456789abcdef"
    assert data["algorithm"] == "gonggan-1"
    assert data["verified"] is True
    assert data["space"]["id"] == space.id
    assert data["outcome"] == {"entries": 2, "won": 1, "lost": 1}
    assert [e["rank"] for e in data["entries"]] == [1, 2]
    assert [e["outcome"] for e in data["entries"]] == ["won", "lost"]
    assert data["entries"][1]["why"] == "overlap"
    assert sorted(e["name"] for e in data["entries"]) == ["김**", "박**"]
    text = response.get_data(as_text=True)
    assert "민수" not in text and "지훈" not in text
    validate_against(document, "LotteryDraw", data)


def test_lottery_draw_of_a_hidden_space_is_404(api, db, factories):
    hidden = factories.space()
    record = make_draw(factories, db, hidden)
    hidden.published = False
    assert_error(api.get(f"/api/v1/lottery/draws/{record.id}"), 404, "not_found")
    assert_error(api.get("/api/v1/lottery/draws/99999999999"), 404, "not_found")
