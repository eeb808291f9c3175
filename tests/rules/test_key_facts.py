"""The resident's rules summary: three key facts (price, who can book, cancellation) in that
order, and rule descriptions in Korean with no machine-made particles or "0일 전까지 0%"."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest

from app.rules.describe import describe
from app.rules.engine import Source, combine
from app.rules.messages import key_facts, refund_text, summary
from app.rules.schema import RefundTier, parse_rules

EDU = Source("j:2", "jurisdiction", "서울특별시교육청", 99)
GANGBUK = Source("j:3", "jurisdiction", "강북구", 99)
SCHOOL = Source("o:5", "owner", "번동초등학교", 1)
GYM = Source("s:7", "space", "미아체육관", 0)

# What a machine writes when it does not know which particle a word takes.
MACHINE = re.compile(r"이\(가\)|을\(를\)|은\(는\)|와\(과\)|\(으\)로|\(이\)|\(을\)|\(은\)")

# The demo's rule sets (app/seed_rules.py): a notice stage and labelled decision stages, and
# refund tiers ending in "0 days before: 0%".
EDU_RULES = {
    "min_notice_hours": 24,
    "stages": [{"approver": "jurisdiction", "mode": "notify", "label": "교육청 통보"}],
}
GANGBUK_RULES = {
    "eligibility": "residents_first",
    "residents_first_days": 14,
    "refund_tiers": [
        {"days_before": 7, "percent": 100},
        {"days_before": 2, "percent": 50},
        {"days_before": 0, "percent": 0},
    ],
}
SCHOOL_RULES = {
    "stages": [
        {"approver": "owner_manager", "deadline_days": 3, "on_deadline": "escalate",
         "label": "행정실 검토"},
        {"approver": "owner_principal", "deadline_days": 2, "label": "교장 승인"},
    ],
}  # fmt: skip
GYM_RULES = {
    "fees": {"rates": {"resident": 30000, "non_resident": 45000}, "weekend_percent": 20},
}


def effective(*parts):
    return combine([(source, parse_rules(body, level=source.level)) for source, body in parts])


def space(price=0, min_minutes=60, max_minutes=240):
    return SimpleNamespace(price_per_hour=price, currency="KRW", min_minutes=min_minutes,
                           max_minutes=max_minutes)  # fmt: skip


DEMO = ((EDU, EDU_RULES), (GANGBUK, GANGBUK_RULES), (SCHOOL, SCHOOL_RULES), (GYM, GYM_RULES))


def test_three_key_facts_in_korean_in_order():
    facts = key_facts(effective(*DEMO), space())
    assert [label for label, _ in facts] == ["이용료", "예약 대상", "취소·환불"]
    price, who, cancel = (text for _, text in facts)
    assert price == (
        "주민: 2시간 ₩60,000 (시간당 ₩30,000). 그 밖의 이용자: 시간당 ₩45,000. "
        "주말·야간에는 할증이 붙습니다."
    )
    assert who == (
        "강북구 주민이 먼저 예약할 수 있고, 그 밖의 분은 이용일 14일 전부터 예약할 수 있습니다."
    )
    assert cancel == (
        "이용 7일 전까지 취소하면 전액 환불됩니다. 이용 2일 전까지 취소하면 50% 환불됩니다. "
        "그 이후에 취소하면 환불되지 않습니다."
    )


def test_key_facts_in_english(english):
    facts = key_facts(effective((GYM, {"eligibility": "residents"})), space(price=12000))
    assert facts == [
        ("Price", "₩24,000 for 2 hours (₩12,000 an hour)."),
        ("Who can book", "Only residents can book."),
        ("Cancellation", "Cancel before the start for a full refund."),
    ]


def test_a_typical_booking_stays_within_the_allowed_lengths(english):
    facts = key_facts(effective((GYM, {"min_minutes": 180})), space(price=10000))
    assert facts[0][1] == "₩30,000 for 3 hours (₩10,000 an hour)."
    facts = key_facts(effective(), space(price=10000, min_minutes=30, max_minutes=90))
    assert facts[0][1] == "₩15,000 for 1.5 hours (₩10,000 an hour)."


def test_a_free_space_says_so(english):
    facts = key_facts(effective((GANGBUK, GANGBUK_RULES)), space(price=0))
    assert facts[0] == ("Price", "Free of charge.")
    assert facts[2] == ("Cancellation", "Free to cancel before the start.")


@pytest.mark.parametrize(
    ("tiers", "korean"),
    [
        ([(1, 100), (0, 0)],
         "이용 1일 전까지 취소하면 전액 환불됩니다. 이용 당일 취소 시 환불되지 않습니다."),
        ([(0, 0)], "취소해도 환불되지 않습니다."),
        ([], "취소해도 환불되지 않습니다."),
        ([(0, 50)], "이용 시작 전까지 취소하면 50% 환불됩니다."),
        ([(3, 80), (0, 30)],
         "이용 3일 전까지 취소하면 80% 환불됩니다. 이용 시작 전까지 취소하면 30% 환불됩니다."),
    ],
)  # fmt: skip
def test_refund_tiers_in_whole_korean_sentences(tiers, korean):
    text = refund_text(tuple(RefundTier(d, p) for d, p in tiers))
    assert text == korean
    assert not re.search(r"(?<!\d)0(일 전|%)", text)


def test_rule_descriptions_have_no_machine_particles():
    lines = [text for _, text in summary(effective(*DEMO))]
    for source, body in DEMO:
        lines += describe(parse_rules(body, level=source.level)).values()
    text = "\n".join(lines)
    assert not MACHINE.search(text), text
    assert "통보에게" not in text and "검토이" not in text and "0일 전까지 0%" not in text
    # A stage's name comes first; who is told or decides follows as fixed words.
    assert "교육청 통보: 관할 담당 공무원에게 알림만 보내며, 따로 승인하지는 않습니다." in text
    assert (
        "행정실 검토 (운영 기관의 시설 담당자 및 직원): 3근무일 안에 승인 여부를 결정합니다. "
        "기한을 넘기면: 다음 단계로 넘김." in text
    )
