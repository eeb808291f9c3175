"""In Chromium, desktop and phone: a space page opens with the three key facts of its rules
(price, who can book, cancellation) in plain Korean; the full rules are folded beneath and open
on a tap."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from app.rules.models import RuleSet

pytestmark = pytest.mark.browser


def test_space_page_starts_with_three_facts(page, browser_context, shot, factories, db, now):
    gangbuk = factories.jurisdiction(name="강북구")
    sen = factories.jurisdiction(name="서울특별시교육청", kind="education_office")
    school = factories.org(name="번동초등학교")
    gym = factories.space(owner=school, name="번동초 체육관", type="gym", capacity=80,
                          price_per_hour=30000, jurisdictions=[gangbuk, sen])  # fmt: skip
    since = now - timedelta(days=30)
    db.session.add_all([
        RuleSet(jurisdiction_id=gangbuk.id, version=1, effective_from=since, body={
            "eligibility": "residents_first", "residents_first_days": 14,
            "refund_tiers": [{"days_before": 7, "percent": 100},
                             {"days_before": 2, "percent": 50},
                             {"days_before": 0, "percent": 0}]}),
        RuleSet(jurisdiction_id=sen.id, version=1, effective_from=since, body={
            "stages": [{"approver": "jurisdiction", "mode": "notify", "label": "교육청 통보"}]}),
    ])  # fmt: skip
    db.session.commit()

    phone = browser_context(viewport={"width": 390, "height": 844}).new_page()
    for view, name in ((page, "desktop"), (phone, "phone")):
        view.goto(f"/spaces/{gym.id}")
        facts = view.locator(".key-facts")
        expect(facts).to_be_visible()
        expect(facts).to_contain_text("2시간 ₩60,000")
        expect(facts).to_contain_text("강북구 주민이 먼저 예약할 수 있고")
        expect(facts).to_contain_text("이용 7일 전까지 취소하면 전액 환불됩니다.")
        rules = view.locator("ul.rule-summary")
        expect(rules).to_be_hidden()
        shot(f"{name}-facts", view)
        if name == "phone":  # on a phone the rules beyond the three facts are folded
            fold = view.locator("details.sp-rules")
            expect(fold).not_to_have_attribute("open", "")
            fold.locator("> summary").click()
        view.get_by_text("적용되는 규정 전체와 정한 기관").click()
        expect(rules).to_be_visible()
        expect(rules).to_contain_text("교육청 통보: 관할 담당 공무원에게 알림만 보내며")
        shot(f"{name}-all-rules", view)
