"""Words people use: no machine-made Korean particles anywhere in the catalog or the templates,
and no technical jargon on the pages residents see (home, search, a space, its booking form,
sign-up) in Korean."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.extensions import db as _db
from app.formatting import josa
from app.rules.models import RuleSet

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "app" / "translations" / "ko" / "LC_MESSAGES" / "messages.po"
TEMPLATES = ROOT / "app" / "templates"

# "이(가)", "을(를)", "(으)로"…: what a machine writes when it does not know the word's last sound.
MACHINE_PARTICLE = re.compile(
    r"이\(가\)|가\(이\)|을\(를\)|를\(을\)|은\(는\)|는\(은\)|와\(과\)|과\(와\)|\(으\)로|\(이\)[가라]"
)


def test_the_catalog_has_no_machine_particles():
    found = [
        line.strip()
        for line in PO.read_text(encoding="utf-8").splitlines()
        if line.startswith(("msgstr", '"')) and MACHINE_PARTICLE.search(line)
    ]
    assert not found, found


def test_the_templates_have_no_machine_particles():
    found = [
        str(path.relative_to(ROOT))
        for path in TEMPLATES.rglob("*")
        if path.is_file() and MACHINE_PARTICLE.search(path.read_text(encoding="utf-8"))
    ]
    assert not found, found


@pytest.mark.parametrize(
    ("word", "particle", "expected"),
    [("행정실", "이", "행정실이"), ("교육청", "가", "교육청이"), ("강북구", "이", "강북구가"),
     ("서울", "으로", "서울로"), ("교육청", "로", "교육청으로"), ("체육관", "를", "체육관을")],
)  # fmt: skip
def test_josa_picks_the_particle_by_the_last_sound(app, word, particle, expected):
    assert josa(word, particle) == expected
    with app.test_request_context():
        rendered = app.jinja_env.from_string("{{ w|josa(p) }}").render(w=word, p=particle)
    assert rendered == expected


# Words a resident should not meet on a public page in Korean.
JARGON = ["Asia/Seoul", "UTC", "JavaScript", "자바스크립트", ".ics", "iCal", "ICS", "webhook",
          "웹훅", "API", "피드", "residents_first", "meeting_room", "booking_mode",
          "non_resident", "owner_manager", "None", "True", "False"]  # fmt: skip


def visible_text(page: str) -> str:
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    page = re.sub(r"<[^>]+>", " ", page)
    return html.unescape(page)


@pytest.fixture
def demo_space(factories):
    gangbuk = factories.jurisdiction(name="강북구")
    edu = factories.jurisdiction(name="서울특별시교육청", kind="education_office")
    school = factories.org(name="번동초등학교")
    gym = factories.space(owner=school, name="번동초 체육관", type="gym", capacity=80,
                          price_per_hour=30000, booking_mode="request",
                          jurisdictions=[gangbuk, edu])  # fmt: skip
    since = datetime(2020, 1, 1, tzinfo=UTC)
    for scope, body in (
        ({"jurisdiction_id": edu.id}, {
            "min_notice_hours": 24,
            "stages": [{"approver": "jurisdiction", "mode": "notify", "label": "교육청 통보"}]}),
        ({"jurisdiction_id": gangbuk.id}, {
            "eligibility": "residents_first", "residents_first_days": 14,
            "refund_tiers": [{"days_before": 7, "percent": 100},
                             {"days_before": 2, "percent": 50},
                             {"days_before": 0, "percent": 0}]}),
        ({"organisation_id": school.id}, {"stages": [
            {"approver": "owner_manager", "deadline_days": 3, "on_deadline": "escalate",
             "label": "행정실 검토"}]}),
    ):  # fmt: skip
        _db.session.add(RuleSet(version=1, effective_from=since, body=body, **scope))
    _db.session.commit()
    return gym


def test_public_pages_in_korean_have_no_jargon(client, factories, login, demo_space):
    pages = {
        "home": "/",
        "search": "/spaces/?q=체육관",
        "space": f"/spaces/{demo_space.id}",
        "sign-up": "/register",
    }
    texts = {}
    for name, url in pages.items():
        response = client.get(url)
        assert response.status_code == 200, name
        texts[name] = visible_text(response.get_data(as_text=True))
    login(factories.user())
    texts["booking form"] = visible_text(
        client.get(f"/spaces/{demo_space.id}/book").get_data(as_text=True)
    )
    for name, text in texts.items():
        found = [word for word in JARGON if word in text]
        assert not found, (name, found)
        assert not MACHINE_PARTICLE.search(text), name
    space = texts["space"]
    # The three key facts come first, in this order, before the details.
    price, who, cancel = (space.index(w) for w in ("이용료", "예약 대상", "취소·환불"))
    assert price < who < cancel
    assert "2시간 ₩60,000" in space
    assert "강북구 주민이 먼저 예약할 수 있고" in space
    assert "그 이후에 취소하면 환불되지 않습니다." in space
    assert "교육청 통보: 관할 담당 공무원에게 알림만 보내며" in space


def test_the_rules_summary_costs_the_same_queries_however_many_rule_sets(
    factories, login, queries_of_get, demo_space
):
    login(factories.user())
    pages = (f"/spaces/{demo_space.id}", f"/spaces/{demo_space.id}/book")
    before = [queries_of_get(url) for url in pages]
    since = datetime(2020, 1, 1, tzinfo=UTC)
    for n in range(4):
        place = factories.jurisdiction(name=f"관할 {n}")
        demo_space.jurisdictions.append(place)
        _db.session.add(RuleSet(version=1, effective_from=since, jurisdiction_id=place.id,
                                body={"refund_tiers": [{"days_before": n + 1, "percent": 50}]}))
    _db.session.commit()
    assert [queries_of_get(url) for url in pages] == before
