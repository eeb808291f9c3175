"""The residency-based rules count a home district only once its officers verified it: an
unverified claim is treated exactly as no residency (fees, residents-first and residents-only
eligibility, automatic approval for residents, lottery priority, the lottery report)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.accounts import services as account_services
from app.bookings.lottery_report import fairness
from app.bookings.models import LotteryDraw
from app.bookings.sweeps import sweep
from app.errors import RuleViolation
from app.extensions import db
from tests.lottery.conftest import draw_time, make_setup, saturday, setup  # noqa: F401
from tests.verification import NOW, TUESDAY, town

pytestmark = pytest.mark.usefixtures("english")


def test_an_unverified_resident_pays_the_non_resident_fee(factories):
    t = town(factories)
    claimed = t.request(t.person("미확인"))
    verified = t.request(t.person("확인", verified=True), day=TUESDAY + timedelta(days=7))
    assert claimed.price_breakdown["category"] == "non_resident"
    assert claimed.price_amount == 40000
    assert verified.price_breakdown["category"] == "resident"
    assert verified.price_amount == 20000


def test_residents_first_opens_for_an_unverified_claim_only_with_everybody(factories):
    t = town(factories, rules={"eligibility": "residents_first", "residents_first_days": 7})
    early = NOW  # a month before the request's time: residents only
    with pytest.raises(RuleViolation) as caught:
        t.request(t.person("미확인"), now=early)
    assert [r["code"] for r in caught.value.reasons] == ["residents_first"]
    booking = t.request(t.person("확인", verified=True), now=early)
    assert booking.id is not None


def test_residents_only_refuses_an_unverified_claim(factories):
    t = town(factories, rules={"eligibility": "residents"})
    with pytest.raises(RuleViolation) as caught:
        t.request(t.person("미확인"))
    assert [r["code"] for r in caught.value.reasons] == ["residents_only"]
    assert t.request(t.person("확인", verified=True)).id is not None


def test_residents_only_group_quotas_do_not_let_an_unverified_member_in(factories):
    """A resident group's quota under a residents-only rule set: the member's own residency
    decides whether they may book for the group at all."""
    from app.accounts.group_models import ResidentGroup, ResidentGroupMember

    t = town(factories, rules={"eligibility": "residents",
                               "quotas": [{"per": "group", "period": "month",
                                           "max_bookings": 2}]})
    unverified, verified = t.person("미확인"), t.person("확인", verified=True)
    group = ResidentGroup(name="배드민턴 동호회")
    group.members += [ResidentGroupMember(user=unverified), ResidentGroupMember(user=verified)]
    db.session.add(group)
    db.session.flush()
    with pytest.raises(RuleViolation) as caught:
        t.request(unverified, group_id=group.id)
    assert [r["code"] for r in caught.value.reasons] == ["residents_only"]
    t.request(verified, group_id=group.id)
    t.request(verified, group_id=group.id, day=TUESDAY + timedelta(days=1))
    with pytest.raises(RuleViolation) as caught:
        t.request(verified, group_id=group.id, day=TUESDAY + timedelta(days=2))
    assert [r["code"] for r in caught.value.reasons] == ["quota_bookings"]


def test_automatic_approval_for_residents_needs_a_verified_district(factories):
    t = town(factories, rules={
        "stages": [{"approver": "owner_manager"}],
        "auto_approve": [{"residents_only": True}],
    })
    assert t.request(t.person("미확인")).status == "requested"
    assert t.request(t.person("확인", verified=True),
                     day=TUESDAY + timedelta(days=7)).status != "requested"


def test_moving_house_makes_the_residency_unverified_again(factories):
    t = town(factories)
    person = t.person("이사", verified=True)
    account_services.update_profile(person, name=person.name, locale="en",
                                     home_district=t.dobong)
    assert person.home_district_verified_at is None
    assert person.verified_home_district_id is None
    # Back to 강북구: still unverified until its officers say so.
    account_services.update_profile(person, name=person.name, locale="en",
                                    home_district=t.gangbuk)
    assert person.verified_home_district_id is None
    assert t.request(person).price_breakdown["category"] == "non_resident"


def test_saving_the_profile_without_moving_keeps_the_verification(factories):
    t = town(factories)
    person = t.person("그대로", verified=True)
    account_services.update_profile(person, name="새 이름", locale="ko",
                                    home_district=t.gangbuk)
    assert person.verified_home_district_id == t.gangbuk.id


def test_an_unverified_resident_is_drawn_with_everybody_else(setup, db):  # noqa: F811
    day = saturday(6)
    verified = setup.enter(setup.resident("확인"), day, 9, 11)
    claimed_user = setup.factories.user(name="미확인", home_district_id=setup.district.id)
    claimed = setup.enter(claimed_user, day, 9, 11)
    sweep(now=draw_time(day) + timedelta(minutes=1))
    record = db.session.get(LotteryDraw, verified.lottery_draw_id)
    tiers = {i["booking"]: i["tier"] for i in record.result}
    assert tiers == {verified.id: 0, claimed.id: 1}
    assert verified.status == "requested" and claimed.status == "lost"
    report = fairness(setup.space, draw_time(day) - timedelta(days=1),
                      draw_time(day) + timedelta(days=1))
    by = {g.key: g.entries for g in report.residency}
    assert by == {"resident": 1, "non_resident": 1}


def test_the_request_form_says_an_unverified_resident_is_treated_as_a_non_resident(
    factories, login, client
):
    t = town(factories)
    claimed, verified = t.person("미확인"), t.person("확인", verified=True)
    db.session.commit()
    login(claimed)
    page = client.get(f"/spaces/{t.room.id}/book").get_data(as_text=True)
    assert "data-unverified" in page and "treated as a non-resident" in page
    assert 'href="/account/verification"' in page
    client.post("/logout")
    login(verified)
    page = client.get(f"/spaces/{t.room.id}/book").get_data(as_text=True)
    assert "data-unverified" not in page
