"""The owner's API for photos: upload (checked by content and re-encoded), describe, reorder,
choose the cover, remove; the photos in the answers about spaces."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from app.media.images import MAX_BYTES, REFUSALS
from app.spaces import photos as photo_services
from app.spaces.models import SpacePhoto
from tests.api.helpers import assert_error
from tests.media.pictures import CAMERA, bomb, picture, with_exif


def upload(api, space, data: bytes | None, alt: str | None = "창가에서 본 다목적실", *,
           user, name="photo.jpg", **headers):
    form: dict = {}
    if data is not None:
        form["file"] = (io.BytesIO(data), name)
    if alt is not None:
        form["alt"] = alt
    return api.send("POST", f"/api/v1/spaces/{space.id}/photos", user=user, data=form,
                    content_type="multipart/form-data", headers=headers)


def photos_of(db, space) -> list[SpacePhoto]:
    db.session.expire_all()
    return list(db.session.scalars(
        select(SpacePhoto).where(SpacePhoto.space_id == space.id)
        .order_by(SpacePhoto.position, SpacePhoto.id)
    ))


def stored_files(media) -> list:
    return sorted(p for p in media.root.rglob("*") if p.is_file())


def add_rows(db, space, n: int) -> list[SpacePhoto]:
    """`n` photo rows (files not needed), the first the cover."""
    rows = [
        SpacePhoto(space_id=space.id, position=i, alt=f"사진 {i}", is_cover=i == 0,
                   digest=f"{i:032x}", width=1600, height=1200)
        for i in range(n)
    ]
    db.session.add_all(rows)
    db.session.commit()
    return rows


def test_upload_answers_the_photo_with_the_address_of_every_file(
    api, db, space, manager, media
):
    response = upload(api, space, with_exif((2000, 1500)), user=manager)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    (photo,) = photos_of(db, space)
    assert body["id"] == photo.id and body["alt"] == "창가에서 본 다목적실"
    assert body["cover"] is True and (body["width"], body["height"]) == (1600, 1200)
    assert set(body["urls"]) == {"webp", "jpeg"}
    assert set(body["urls"]["webp"]) == {"480", "960", "1600"}
    assert body["urls"]["jpeg"]["960"] == f"http://localhost/media/{photo.digest[:2]}/" \
                                          f"{photo.digest}-960.jpg"
    # The files are there, without the camera's metadata, and served.
    files = stored_files(media)
    assert len(files) == 6
    assert all(CAMERA.encode() not in p.read_bytes() for p in files)
    served = api.client.get(body["urls"]["webp"]["480"].removeprefix("http://localhost"))
    assert served.status_code == 200 and served.mimetype == "image/webp"


def test_the_space_shows_its_cover_and_photos(api, db, space, manager, media):
    first = upload(api, space, picture(color=(10, 10, 10)), "첫 사진", user=manager).get_json()
    second = upload(api, space, picture(color=(200, 10, 10)), "둘째 사진",
                    user=manager).get_json()
    detail = api.get(f"/api/v1/spaces/{space.id}").get_json()
    assert [p["id"] for p in detail["photos"]] == [first["id"], second["id"]]
    assert detail["cover_photo"] == {
        # The JPEG of middle width, as the pages' <img> (600 pixels wide: 480 and 600 stored).
        "id": first["id"], "alt": "첫 사진", "url": first["urls"]["jpeg"]["600"],
    }
    (item,) = api.get("/api/v1/spaces").get_json()["items"]
    assert item["cover_photo"]["id"] == first["id"]
    assert [p["id"] for p in item["photos"]] == [first["id"], second["id"]]


@pytest.mark.parametrize(
    ("data", "name", "refusal"),
    [
        (b"not a picture at all", "photo.jpg", "not_an_image"),
        (b"%PDF-1.4 pretending", "photo.png", "not_an_image"),
        (bomb(), "bomb.png", "too_many_pixels"),
        (b"\xff" * (MAX_BYTES + 1), "big.jpg", "too_large"),
        (picture((32, 32)), "tiny.jpg", "too_small"),
    ],
)
def test_pictures_that_are_not_acceptable_answer_422(
    api, db, space, manager, media, data, name, refusal
):
    response = upload(api, space, data, user=manager, name=name, **{"Accept-Language": "en"})
    error = assert_error(response, 422, "invalid")
    assert error["details"] == {"file": [str(REFUSALS[refusal])]}
    assert photos_of(db, space) == [] and stored_files(media) == []


@pytest.mark.parametrize(
    ("data", "alt", "field"),
    [
        (None, "사진", "file"),
        (b"", "사진", "file"),
        ("picture", None, "alt"),
        ("picture", "   ", "alt"),
        ("picture", "x" * 301, "alt"),
        ("picture", "\x00", "alt"),
    ],
)
def test_a_missing_file_or_description_answers_422(
    api, db, space, manager, media, data, alt, field
):
    data = picture() if data == "picture" else data
    response = upload(api, space, data, alt, user=manager,
                      name="" if data == b"" else "photo.jpg")
    assert field in assert_error(response, 422, "invalid")["details"]
    assert photos_of(db, space) == []


def test_a_json_body_is_no_upload(api, space, manager, media):
    response = api.post(f"/api/v1/spaces/{space.id}/photos", {"file": "x", "alt": "y"},
                        user=manager)
    assert "file" in assert_error(response, 422, "invalid")["details"]


def test_a_space_has_at_most_twelve_photos(api, db, space, manager, media):
    add_rows(db, space, photo_services.MAX_PHOTOS)
    response = upload(api, space, picture(), user=manager, **{"Accept-Language": "en"})
    error = assert_error(response, 422, "invalid")
    assert "at most 12 photos" in error["details"]["file"][0]
    assert len(photos_of(db, space)) == photo_services.MAX_PHOTOS
    assert stored_files(media) == []


def test_only_the_spaces_managers_upload(api, db, factories, org, manager, resident, media):
    district = factories.jurisdiction()
    space = factories.space(owner=org, jurisdictions=[district])
    officer = factories.officer(district)
    other_manager = factories.manager(factories.org())
    assert_error(upload(api, space, picture(), user=officer), 403, "forbidden")
    assert_error(upload(api, space, picture(), user=other_manager), 404, "not_found")
    assert_error(upload(api, space, picture(), user=resident), 404, "not_found")
    assert_error(upload(api, space, picture(), user=None), 401, "unauthorized")
    assert photos_of(db, space) == [] and stored_files(media) == []


def test_uploads_are_rate_limited_per_account(app, api, space, manager, media, monkeypatch):
    """The limit of the photos page, counted for the account whichever way it uploads."""
    monkeypatch.setitem(app.config, "RATELIMIT_PHOTO_UPLOAD_PER_ACCOUNT", "2 per hour")
    assert upload(api, space, b"nope", user=manager).status_code == 422
    assert upload(api, space, b"nope", user=manager).status_code == 422
    error = assert_error(upload(api, space, b"nope", user=manager), 429, "rate_limited")
    assert error["retry_after"] > 0


# --- Describing, ordering, the cover, removing --------------------------------------------------


def test_changing_the_description(api, db, space, manager):
    photo = add_rows(db, space, 1)[0]
    path = f"/api/v1/spaces/{space.id}/photos/{photo.id}"
    response = api.send("PATCH", path, {"alt": "  무대 쪽  "}, user=manager)
    assert response.status_code == 200 and response.get_json()["alt"] == "무대 쪽"
    assert "alt" in assert_error(api.send("PATCH", path, {"alt": ""}, user=manager), 422,
                                 "invalid")["details"]
    assert "alt" in assert_error(api.send("PATCH", path, {}, user=manager), 422,
                                 "invalid")["details"]
    assert photos_of(db, space)[0].alt == "무대 쪽"


def test_putting_the_photos_in_a_new_order(api, db, space, manager):
    a, b, c = add_rows(db, space, 3)
    response = api.send("PUT", f"/api/v1/spaces/{space.id}/photos/order",
                        {"ids": [c.id, a.id, b.id]}, user=manager)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()["photos"]
    assert [p["id"] for p in body] == [c.id, a.id, b.id]
    assert [p["position"] for p in body] == [0, 1, 2]
    # The cover stays the cover, wherever it is now.
    assert [p["cover"] for p in body] == [False, True, False]
    assert [p.id for p in photos_of(db, space)] == [c.id, a.id, b.id]


@pytest.mark.parametrize(
    "ids",
    [
        "missing", "duplicate", "foreign", "extra", [], None, "1,2,3", [True, False, True],
        ["1", "2", "3"], [10**30, 1, 2], {"0": 1},
    ],
)
def test_an_order_must_name_exactly_the_spaces_photos(api, db, factories, space, manager, ids):
    a, b, c = add_rows(db, space, 3)
    other = add_rows(db, factories.space(owner=space.owner), 1)[0]
    ids = {
        "missing": [a.id, b.id],
        "duplicate": [a.id, b.id, b.id, c.id],
        "foreign": [a.id, b.id, other.id],
        "extra": [a.id, b.id, c.id, other.id],
    }.get(ids, ids) if isinstance(ids, str) else ids
    response = api.send("PUT", f"/api/v1/spaces/{space.id}/photos/order", {"ids": ids},
                        user=manager)
    assert "ids" in assert_error(response, 422, "invalid")["details"]
    assert [p.id for p in photos_of(db, space)] == [a.id, b.id, c.id]


def test_choosing_the_cover(api, db, space, manager):
    a, b = add_rows(db, space, 2)
    response = api.post(f"/api/v1/spaces/{space.id}/photos/{b.id}/cover", user=manager)
    assert response.status_code == 200
    assert [p["cover"] for p in response.get_json()["photos"]] == [False, True]
    assert api.get(f"/api/v1/spaces/{space.id}").get_json()["cover_photo"]["id"] == b.id


def test_removing_the_cover_makes_the_next_photo_the_cover(api, db, space, manager, media):
    first = upload(api, space, picture(color=(1, 2, 3)), user=manager).get_json()
    second = upload(api, space, picture(color=(200, 2, 3)), user=manager).get_json()
    assert len(stored_files(media)) == 8  # 480 and 600 wide, WebP and JPEG, of each
    response = api.send("DELETE", f"/api/v1/spaces/{space.id}/photos/{first['id']}",
                        user=manager)
    assert response.status_code == 204 and response.data == b""
    (left,) = photos_of(db, space)
    assert left.id == second["id"] and left.is_cover
    assert len(stored_files(media)) == 4  # the removed photo's files are gone
    again = api.send("DELETE", f"/api/v1/spaces/{space.id}/photos/{first['id']}", user=manager)
    assert_error(again, 404, "not_found")


def test_a_photo_of_another_space_is_not_found(api, db, factories, space, manager):
    other = add_rows(db, factories.space(owner=space.owner), 1)[0]
    base = f"/api/v1/spaces/{space.id}/photos/{other.id}"
    assert_error(api.send("DELETE", base, user=manager), 404, "not_found")
    assert_error(api.post(base + "/cover", user=manager), 404, "not_found")
    assert_error(api.send("PATCH", base, {"alt": "x"}, user=manager), 404, "not_found")
    assert len(photos_of(db, other.space)) == 1


def test_photo_changes_are_for_the_spaces_managers(api, db, factories, space, resident):
    photo = add_rows(db, space, 1)[0]
    other_manager = factories.manager(factories.org())
    base = f"/api/v1/spaces/{space.id}/photos"
    for user in (resident, other_manager):
        assert_error(api.send("DELETE", f"{base}/{photo.id}", user=user), 404, "not_found")
        assert_error(api.post(f"{base}/{photo.id}/cover", user=user), 404, "not_found")
        assert_error(api.send("PUT", f"{base}/order", {"ids": [photo.id]}, user=user), 404,
                     "not_found")
    assert len(photos_of(db, space)) == 1
