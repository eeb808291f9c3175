"""The photo services on their own (the pages and, later, the API call them)."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError

from app.errors import NotAllowed, ValidationFailed
from app.spaces import photos as photo_services
from app.spaces.models import SpacePhoto
from tests.media.pictures import picture


@pytest.fixture
def owner(factories):
    org = factories.org()
    return org, factories.manager(org)


def add(space, user, alt, media, n=0):
    return photo_services.add_photo(space, user, picture(color=(n, 40, 40)), alt, storage=media)


def test_only_managers_of_the_owner_may_act(db, factories, owner, media, english):
    org, manager = owner
    space = factories.space(owner=org)
    photo = add(space, manager, "One", media)
    outsider = factories.manager(factories.org(name="Other"))
    with pytest.raises(NotAllowed):
        add(space, outsider, "Two", media)
    for call in (
        lambda: photo_services.describe(photo, outsider, "x"),
        lambda: photo_services.move(photo, outsider, 1),
        lambda: photo_services.set_cover(photo, outsider),
        lambda: photo_services.remove(photo, outsider),
    ):
        with pytest.raises(NotAllowed):
            call()
    admin = factories.user(is_admin=True)
    add(space, admin, "By the admin", media, n=1)


def test_first_photo_is_the_cover_and_moves_stay_in_bounds(db, factories, owner, media):
    org, manager = owner
    space = factories.space(owner=org)
    photos = [add(space, manager, f"P{n}", media, n=n) for n in range(3)]
    assert [p.is_cover for p in photos] == [True, False, False]
    assert space.cover is photos[0]
    photo_services.move(photos[0], manager, -1)
    assert [p.alt for p in space.photos] == ["P0", "P1", "P2"]
    photo_services.move(photos[2], manager, 1)
    photo_services.move(photos[0], manager, 1)
    assert [p.alt for p in space.photos] == ["P1", "P0", "P2"]
    assert [p.position for p in space.photos] == [0, 1, 2]
    photo_services.set_cover(photos[2], manager)
    assert space.cover is photos[2]
    assert sum(p.is_cover for p in space.photos) == 1


def test_alt_text_is_trimmed_and_bounded(db, factories, owner, media, english):
    org, manager = owner
    space = factories.space(owner=org)
    assert add(space, manager, "  A\n hall  ", media).alt == "A hall"
    with pytest.raises(ValidationFailed) as caught:
        add(space, manager, "x" * 301, media)
    assert caught.value.errors == {"alt": ["Keep the description under 300 characters."]}


def test_the_database_allows_one_cover_per_space(db, factories, owner):
    org, _manager = owner
    space = factories.space(owner=org)
    for n in range(2):
        db.session.add(SpacePhoto(space_id=space.id, position=n, alt="x", is_cover=True,
                                  digest=f"{n:032x}", width=10, height=10))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()
