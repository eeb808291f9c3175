"""Every route × every role: who may see and do what. Object-level checks included.

The matrix must list every rule in the URL map (a test fails when a new route is added without
deciding who may use it). Outcomes:
  ok     — the page or action works (2xx, or a redirect that is not to the login page)
  login  — anonymous: sent to the login page (pages) or 401 (API)
  403    — the object is visible to this user but the action is not theirs
  404    — the object is not this user's business; its existence is not revealed
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.extensions import db
from tests.conftest import next_weekday

ROLES = ["anon", "resident", "stranger", "manager", "other_manager", "officer", "other_officer",
         "admin"]


@pytest.fixture
def world(factories):
    seoul = factories.jurisdiction(slug="seoul", name="서울특별시", kind="metropolitan")
    gangbuk = factories.jurisdiction(slug="gangbuk", name="강북구", parent=seoul)
    jongno = factories.jurisdiction(slug="jongno", name="종로구", parent=seoul)
    org = factories.org(slug="bundong", name="번동초등학교")
    other_org = factories.org(slug="other", name="다른 기관")
    space = factories.space(owner=org, jurisdictions=[gangbuk])
    hidden = factories.space(owner=other_org, published=False, name="비공개 공간")
    users = {
        "resident": factories.user(email="resident@example.kr"),
        "stranger": factories.user(email="stranger@example.kr"),
        "manager": factories.manager(org, email="manager@example.kr"),
        "other_manager": factories.manager(other_org, email="other-manager@example.kr"),
        "officer": factories.officer(gangbuk, email="officer@example.kr"),
        "other_officer": factories.officer(jongno, email="other-officer@example.kr"),
        "admin": factories.user(email="admin@example.kr", is_admin=True),
    }
    start = next_weekday(2, 10)
    booking = factories.booking(
        space, users["resident"], start=start, end=start + timedelta(hours=2)
    )
    closure = factories.closure(space, start + timedelta(days=1), start + timedelta(days=2))
    db.session.commit()
    return {
        "space": space.id,
        "hidden": hidden.id,
        "booking": booking.id,
        "closure": closure.id,
        "users": users,
        "start": start,
    }
