"""Accessibility features of spaces: edited by managers, shown on the space page and the search
cards, searchable; the old "wheelchair_access" amenity is now the step-free entrance; spaces
are published and unpublished in one click."""

from __future__ import annotations

import re

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import select, text

from app.seed import SPACES
from app.spaces import services as space_services
from app.spaces.models import SpaceAmenity


def found(client, **args) -> list[str]:
    response = client.get("/spaces", query_string=args)
    assert response.status_code == 200
    results = response.get_data(as_text=True).split('<ul class="cards results">')
    if len(results) == 1:
        return []
    return re.findall(r'<a href="/spaces/\d+"><strong>([^<]+)</strong>', results[1])


@pytest.fixture
def manager(factories, org):
    return factories.manager(org, locale="en")


@pytest.fixture
def org(factories):
    return factories.org(name="수유1동 주민센터")


def _form(space, **changes) -> dict:
    data = {
        "name": space.name, "type": space.type, "description": "", "capacity": "40",
        "address": "", "latitude": "", "longitude": "", "timezone": "Asia/Seoul",
        "price_per_hour": "0", "min_minutes": "60", "max_minutes": "180",
        "buffer_minutes": "0", "booking_mode": "request", "challenge_mode": "auto",
        "amenities": ["wifi"], "published": "y",
    }
    data.update(changes)
    return data


def test_manager_sets_features_and_residents_see_them(client, login, db, factories, org,
                                                      manager):
    space = factories.space(owner=org, name="다목적실")
    db.session.commit()
    login(manager)
    form = client.get(f"/manage/spaces/{space.id}/edit").get_data(as_text=True)
    assert 'name="accessibility" type="checkbox" value="hearing_loop"' in form
    response = client.post(f"/manage/spaces/{space.id}/edit", data=_form(
        space, accessibility=["step_free_entrance", "hearing_loop"]))
    assert response.status_code == 302
    db.session.expire_all()
    assert space.accessibility == ["step_free_entrance", "hearing_loop"]
    assert space.amenities == ["wifi"]
    page = client.get(f"/spaces/{space.id}").get_data(as_text=True)
    assert 'data-access="step_free_entrance"' in page and "Hearing loop" in page
    assert 'data-access="lift"' not in page
    # Unticking every feature leaves the amenities as they are.
    client.post(f"/manage/spaces/{space.id}/edit", data=_form(space, amenities=["projector"]))
    db.session.expire_all()
    assert (space.accessibility, space.amenities) == ([], ["projector"])
    assert "No accessibility features listed" in client.get(f"/spaces/{space.id}").get_data(
        as_text=True)


def test_unknown_feature_is_refused_in_the_services_words(db, factories, org, manager, english):
    space = factories.space(owner=org)
    with pytest.raises(Exception, match="Unknown accessibility feature: ramp"):
        space_services.update_space(space, manager, accessibility=["ramp"])
    space_services.update_space(space, manager, accessibility=["lift"], amenities=["piano"])
    assert (space.accessibility, space.amenities) == (["lift"], ["piano"])


def test_search_filters_by_every_chosen_feature(client, db, factories, app, monkeypatch):
    monkeypatch.setattr(app.extensions["babel"], "locale_selector", lambda: "en")
    both = factories.space(name="경사로와 승강기")
    both.accessibility = ["step_free_entrance", "lift"]
    both.amenities = ["wifi"]
    ramp = factories.space(name="경사로만")
    ramp.accessibility = ["step_free_entrance"]
    plain = factories.space(name="계단만")
    plain.amenities = ["wifi"]
    db.session.commit()
    assert sorted(found(client, accessibility="step_free_entrance")) == [
        "경사로만", "경사로와 승강기"]
    response = client.get("/spaces?accessibility=step_free_entrance&accessibility=lift")
    page = response.get_data(as_text=True)
    assert found(client, accessibility="step_free_entrance,lift") == ["경사로와 승강기"]
    assert 'value="lift" checked' in page
    # The cards say what each space offers.
    assert 'data-access="lift"' in page
    # Amenities and accessibility combine.
    assert found(client, accessibility="lift", amenities="wifi") == ["경사로와 승강기"]
    # Old links asking for the wheelchair amenity find step-free entrances.
    assert sorted(found(client, amenities="wheelchair_access")) == ["경사로만", "경사로와 승강기"]
    bad = client.get("/spaces?accessibility=ramp").get_data(as_text=True)
    assert "Unknown accessibility feature: ramp." in bad


def test_search_with_features_runs_a_bounded_number_of_queries(client, db, factories,
                                                               count_queries):
    def make(n, tag):
        j = factories.jurisdiction(slug=tag)
        for i in range(n):
            space = factories.space(name=f"{tag} {i}", jurisdictions=[j])
            space.accessibility = ["step_free_entrance", "accessible_toilet"]
            space.amenities = ["wifi"]
        db.session.commit()

    make(2, "small")
    make(15, "big")
    counts = []
    for tag in ("small", "big"):
        with count_queries() as q:
            assert client.get("/spaces", query_string={
                "district": tag, "accessibility": "accessible_toilet", "amenities": "wifi",
            }).status_code == 200
        counts.append(q.count)
    assert counts[0] == counts[1]


def test_publish_and_unpublish_in_one_click(client, login, db, factories, org, manager):
    space = factories.space(owner=org, name="작은 회의실", published=False)
    db.session.commit()
    assert client.get(f"/spaces/{space.id}").status_code == 404
    login(manager)
    listing = client.get("/manage/spaces").get_data(as_text=True)
    assert f'action="/manage/spaces/{space.id}/publish"' in listing
    response = client.post(f"/manage/spaces/{space.id}/publish",
                           data={"value": "1", "next": "/manage/spaces"},
                           follow_redirects=True)
    assert "is published" in response.get_data(as_text=True)
    db.session.expire_all()
    assert space.published
    edit = client.get(f"/manage/spaces/{space.id}/edit").get_data(as_text=True)
    assert "Unpublish" in edit
    client.post(f"/manage/spaces/{space.id}/publish", data={"value": "0",
                                                            "next": "https://evil.example/"})
    db.session.expire_all()
    assert not space.published


def test_another_organisations_manager_cannot_publish(client, login, db, factories, org):
    space = factories.space(owner=org, published=False)
    stranger = factories.manager(factories.org(name="다른 기관"))
    db.session.commit()
    login(stranger)
    assert client.post(f"/manage/spaces/{space.id}/publish",
                       data={"value": "1"}).status_code == 404
    db.session.expire_all()
    assert not space.published


# The newest migration: upgrade() goes back to it.
HEAD = "0021"


def test_migration_turns_the_wheelchair_amenity_into_a_step_free_entrance(app, db, factories):
    space = factories.space()
    space.accessibility = ["step_free_entrance", "lift"]
    space.amenities = ["wifi"]
    db.session.commit()
    space_id = space.id

    def codes() -> set[str]:
        return set(db.session.scalars(select(SpaceAmenity.code).where(
            SpaceAmenity.space_id == space_id)))

    db.session.remove()
    downgrade(revision="0015")
    assert codes() == {"wheelchair_access", "wifi"}
    db.session.remove()
    upgrade()
    assert codes() == {"step_free_entrance", "wifi"}
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == HEAD


def test_demo_spaces_have_realistic_features():
    with_features = [s for s in SPACES if set(s.amenities) & {"step_free_entrance", "lift"}]
    assert len(with_features) >= 5
    assert all("wheelchair_access" not in s.amenities for s in SPACES)
