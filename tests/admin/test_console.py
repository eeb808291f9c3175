"""The admin console: people, roles, deactivation, the jurisdiction hierarchy, the audit trail."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.accounts.models import LoginSession
from app.db import utcnow
from app.extensions import db
from app.orgs.models import Jurisdiction, JurisdictionMembership
from app.security.models import SecurityEvent


@pytest.fixture
def admin(factories):
    return factories.user(email="admin@example.kr", name="관리자", is_admin=True, locale="en")


def _audit(kind: str) -> list[SecurityEvent]:
    return list(db.session.scalars(select(SecurityEvent).where(SecurityEvent.kind == kind)))


def test_console_links_to_its_sections(client, login, admin):
    login(admin)
    page = client.get("/admin/").get_data(as_text=True)
    for href in ("/admin/users", "/admin/jurisdictions", "/admin/organisations", "/admin/audit"):
        assert f'href="{href}"' in page


def test_search_finds_people_by_name_or_email(client, login, admin, factories):
    factories.user(email="kim@school.kr", name="김민수")
    factories.user(email="lee@example.kr", name="이영희")
    db.session.commit()
    login(admin)
    page = client.get("/admin/users?q=민수").get_data(as_text=True)
    assert "kim@school.kr" in page and "lee@example.kr" not in page
    page = client.get("/admin/users?q=LEE@").get_data(as_text=True)
    assert "lee@example.kr" in page and "kim@school.kr" not in page
    # The wildcards of LIKE are taken literally.
    assert "No account matches" in client.get("/admin/users?q=%25%25").get_data(as_text=True)
    assert "No account matches" in client.get("/admin/users?q=_zz_").get_data(as_text=True)


def test_people_list_runs_a_bounded_number_of_queries(client, login, admin, factories,
                                                      queries_of_get):
    login(admin)
    for n in range(3):
        factories.officer(email=f"o{n}@example.kr")
    db.session.commit()
    few = queries_of_get("/admin/users")
    for n in range(3, 20):
        factories.officer(email=f"o{n}@example.kr")
        factories.manager(email=f"m{n}@example.kr")
    db.session.commit()
    assert queries_of_get("/admin/users") == few
    assert queries_of_get("/admin/audit") <= few


def test_granting_and_removing_roles_is_audited(client, login, admin, factories):
    person = factories.user(email="kim@example.kr", name="김민수")
    gangbuk = factories.jurisdiction(slug="gangbuk", name="강북구")
    db.session.commit()
    login(admin)
    client.post(f"/admin/users/{person.id}/admin", data={"value": "1"})
    client.post(f"/admin/users/{person.id}/officer", data={"jurisdiction_id": gangbuk.id})
    page = client.get(f"/admin/users/{person.id}").get_data(as_text=True)
    assert "This person administers the platform" in page and "강북구" in page
    assert db.session.get(type(person), person.id).is_admin
    client.post(f"/admin/users/{person.id}/officer/{gangbuk.id}/revoke")
    client.post(f"/admin/users/{person.id}/admin", data={"value": "0"})
    db.session.expire_all()
    assert not db.session.get(type(person), person.id).is_admin
    assert db.session.scalars(select(JurisdictionMembership)).all() == []
    for kind in ("admin_granted", "officer_granted", "officer_revoked", "admin_revoked"):
        [event] = _audit(kind)
        assert event.user_id == admin.id and event.detail["target_id"] == person.id
    audit = client.get("/admin/audit?kind=officer_granted").get_data(as_text=True)
    assert "kim@example.kr" in audit and audit.count('data-kind="') == 1
    assert client.get("/admin/audit").get_data(as_text=True).count('data-kind="') == 4


def test_deactivation_ends_every_session_and_reactivation_lets_them_back(
    app, client, login, admin, factories
):
    person = factories.user(email="kim@example.kr")
    db.session.commit()
    theirs = app.test_client()
    login_response = theirs.post("/login", data={"email": person.email,
                                                 "password": "password123"})
    assert login_response.status_code == 302
    assert theirs.get("/account").status_code == 200
    login(admin)
    response = client.post(f"/admin/users/{person.id}/deactivate", follow_redirects=True)
    assert "signed out everywhere" in response.get_data(as_text=True)
    assert "/login" in theirs.get("/account").headers.get("Location", "")
    assert db.session.scalars(
        select(LoginSession).where(LoginSession.user_id == person.id,
                                   LoginSession.ended_at.is_(None))
    ).all() == []
    assert theirs.post("/login", data={"email": person.email,
                                       "password": "password123"}).status_code != 302
    client.post(f"/admin/users/{person.id}/reactivate")
    assert theirs.post("/login", data={"email": person.email,
                                       "password": "password123"}).status_code == 302
    assert [e.detail["target_id"] for e in _audit("account_deactivated")] == [person.id]
    assert [e.detail["target_id"] for e in _audit("account_reactivated")] == [person.id]


def test_no_one_deactivates_themselves_or_removes_the_last_admin(client, login, admin):
    db.session.commit()
    login(admin)
    page = client.post(f"/admin/users/{admin.id}/deactivate",
                       follow_redirects=True).get_data(as_text=True)
    assert "You cannot deactivate your own account" in page
    page = client.post(f"/admin/users/{admin.id}/admin", data={"value": "0"},
                       follow_redirects=True).get_data(as_text=True)
    assert "at least one active administrator" in page
    db.session.expire_all()
    assert admin.is_admin and admin.is_active_account
    assert _audit("account_deactivated") == [] and _audit("admin_revoked") == []


def test_an_admin_may_remove_another_admin(client, login, admin, factories):
    other = factories.user(email="other@example.kr", is_admin=True)
    db.session.commit()
    login(admin)
    client.post(f"/admin/users/{other.id}/deactivate")
    db.session.expire_all()
    assert not other.is_active_account
    # Now the only active administrator left is the one signed in.
    page = client.post(f"/admin/users/{admin.id}/admin", data={"value": "0"},
                       follow_redirects=True).get_data(as_text=True)
    assert "at least one active administrator" in page


def test_jurisdictions_are_added_renamed_and_moved(client, login, admin, factories):
    seoul = factories.jurisdiction(slug="seoul", name="서울특별시", kind="metropolitan")
    busan = factories.jurisdiction(slug="busan", name="부산광역시", kind="metropolitan")
    db.session.commit()
    login(admin)
    response = client.post("/admin/jurisdictions", data={
        "name": "강서구", "slug": "gangseo", "kind": "district", "parent_id": str(seoul.id),
    })
    assert response.status_code == 302
    gangseo = db.session.scalars(select(Jurisdiction).where(Jurisdiction.slug == "gangseo")).one()
    assert gangseo.parent_id == seoul.id
    client.post(f"/admin/jurisdictions/{gangseo.id}/rename",
                data={"name": "강서구(부산)", "name_en": "Gangseo-gu"})
    client.post(f"/admin/jurisdictions/{gangseo.id}/move", data={"parent_id": str(busan.id)})
    db.session.expire_all()
    assert (gangseo.name, gangseo.name_en, gangseo.parent_id) == (
        "강서구(부산)", "Gangseo-gu", busan.id)
    page = client.get("/admin/jurisdictions").get_data(as_text=True)
    # The tree shows the district right under Busan, one level down.
    spots = [page.index(f'id="jurisdiction-{j.id}"') for j in (busan, gangseo, seoul)]
    assert spots == sorted(spots)
    assert f'id="jurisdiction-{gangseo.id}" class="depth-1"' in page
    assert [len(_audit(k)) for k in ("jurisdiction_added", "jurisdiction_renamed",
                                     "jurisdiction_moved")] == [1, 1, 1]
    [moved] = _audit("jurisdiction_moved")
    assert moved.detail["old_parent_id"] == seoul.id and moved.detail["new_parent_id"] == busan.id


def test_moving_a_jurisdiction_under_its_own_descendant_is_refused(client, login, admin,
                                                                   factories):
    seoul = factories.jurisdiction(slug="seoul", name="서울특별시", kind="metropolitan")
    gangbuk = factories.jurisdiction(slug="gangbuk", name="강북구", parent=seoul)
    db.session.commit()
    login(admin)
    for target in (gangbuk.id, seoul.id):
        page = client.post(f"/admin/jurisdictions/{seoul.id}/move",
                           data={"parent_id": str(target)},
                           follow_redirects=True).get_data(as_text=True)
        assert "cannot be moved under itself" in page
    db.session.expire_all()
    assert seoul.parent_id is None and _audit("jurisdiction_moved") == []
    # Moving to the top works.
    client.post(f"/admin/jurisdictions/{gangbuk.id}/move", data={"parent_id": ""})
    db.session.expire_all()
    assert gangbuk.parent_id is None


def test_adding_a_jurisdiction_with_a_taken_or_bad_short_name_says_so(client, login, admin,
                                                                      factories):
    factories.jurisdiction(slug="seoul", name="서울특별시", kind="metropolitan")
    db.session.commit()
    login(admin)
    response = client.post("/admin/jurisdictions",
                           data={"name": "서울", "slug": "seoul", "kind": "metropolitan"})
    assert response.status_code == 422
    assert "This short name is taken" in response.get_data(as_text=True)
    response = client.post("/admin/jurisdictions",
                           data={"name": "서울", "slug": "서울", "kind": "metropolitan",
                                 "parent_id": "abc"})
    assert response.status_code == 422
    assert _audit("jurisdiction_added") == []


def test_jurisdiction_tree_runs_a_bounded_number_of_queries(client, login, admin, factories,
                                                            queries_of_get):
    login(admin)
    seoul = factories.jurisdiction(slug="seoul", name="서울특별시", kind="metropolitan")
    db.session.commit()
    few = queries_of_get("/admin/jurisdictions")
    for n in range(20):
        factories.jurisdiction(slug=f"d{n}", name=f"구{n}", parent=seoul)
    db.session.commit()
    assert queries_of_get("/admin/jurisdictions") == few
    person = factories.officer(seoul)
    db.session.commit()
    assert queries_of_get(f"/admin/users/{person.id}") <= few + 4


@pytest.mark.parametrize("url", ["/admin/", "/admin/users", "/admin/jurisdictions",
                                 "/admin/audit"])
def test_only_admins_see_the_console(client, login, factories, url):
    officer = factories.officer()
    db.session.commit()
    assert "/login" in client.get(url).headers["Location"]
    login(officer)
    assert client.get(url).status_code == 403


def test_the_console_is_rate_limited(app, client, login, admin, factories, monkeypatch):
    person = factories.user()
    db.session.commit()
    monkeypatch.setitem(app.config, "RATELIMIT_ADMIN_PER_ACCOUNT", "2 per minute")
    login(admin)
    codes = [client.post(f"/admin/users/{person.id}/reactivate").status_code for _ in range(3)]
    assert codes == [302, 302, 429]


def test_old_sessions_stay_ended_after_reactivation(client, login, admin, factories):
    person = factories.user()
    db.session.add(LoginSession(user=person, key_hash=LoginSession.hash("phone"),
                                expires_at=utcnow() + timedelta(hours=1)))
    db.session.commit()
    login(admin)
    client.post(f"/admin/users/{person.id}/deactivate")
    client.post(f"/admin/users/{person.id}/reactivate")
    assert db.session.scalars(
        select(LoginSession).where(LoginSession.user_id == person.id,
                                   LoginSession.ended_at.is_(None))
    ).all() == []


def test_the_console_speaks_korean_by_default(client, login, factories):
    korean = factories.user(email="ko-admin@example.kr", is_admin=True)
    db.session.commit()
    login(korean)
    assert "관리자 콘솔" in client.get("/").get_data(as_text=True)  # the menu link
    page = client.get("/admin/jurisdictions").get_data(as_text=True)
    assert "관할 추가" in page and "(최상위)" in page
