"""The photos page of a space: managers upload (checked and re-encoded), describe, reorder,
choose the cover and remove; everyone else is turned away."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image
from sqlalchemy import select

from app.media.images import MAX_BYTES
from app.spaces import photos as photo_services
from app.spaces.models import SpacePhoto
from tests.manage.helpers import text_of
from tests.media.pictures import CAMERA, bomb, picture, with_exif


def upload(client, space, data: bytes, alt="The hall with chairs in rows", name="photo.jpg"):
    return client.post(
        f"/manage/spaces/{space.id}/photos",
        data={"file": (io.BytesIO(data), name), "alt": alt},
        content_type="multipart/form-data",
    )


def photos_of(db, space) -> list[SpacePhoto]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(SpacePhoto)
            .where(SpacePhoto.space_id == space.id)
            .order_by(SpacePhoto.position, SpacePhoto.id)
        )
    )


def stored_files(media) -> list:
    return sorted(p for p in media.root.rglob("*") if p.is_file())


def test_upload_stores_three_widths_without_metadata(client, db, login, manager, space, media):
    db.session.commit()
    login(manager)
    response = upload(client, space, with_exif((2000, 1500)))
    assert response.status_code == 302
    (photo,) = photos_of(db, space)
    assert photo.is_cover and photo.alt == "The hall with chairs in rows"
    assert (photo.width, photo.height) == (1600, 1200)
    files = stored_files(media)
    assert len(files) == 6
    assert sorted(p.name for p in files) == sorted(
        f"{photo.digest}-{w}.{ext}" for w in (480, 960, 1600) for ext in ("webp", "jpg")
    )
    for path in files:
        data = path.read_bytes()
        assert CAMERA.encode() not in data and b"Exif" not in data
        assert not Image.open(path).getexif()
    page = client.get(response.headers["Location"])
    assert "The photo was added." in text_of(page)
    served = client.get(f"/media/{photo.renditions()[0][2]}")
    assert served.status_code == 200 and served.mimetype == "image/webp"
    assert served.headers["Cache-Control"] == "public, max-age=31536000, immutable"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"GIF89a? not really <script>", "not a picture we can read"),
        (bomb(), "too many pixels"),
        (picture((64, 64)) + b"\0" * MAX_BYTES, "larger than 10 MB"),
    ],
    ids=["non-image named .jpg", "decompression bomb", "over 10 MB"],
)
def test_refused_uploads_say_why_and_store_nothing(
    client, db, login, manager, space, media, data, message
):
    db.session.commit()
    login(manager)
    response = upload(client, space, data, name="photo.jpg")
    assert response.status_code == 422
    assert message in text_of(response)
    assert photos_of(db, space) == []
    assert stored_files(media) == []


def test_alt_text_is_required(client, db, login, manager, space, media):
    db.session.commit()
    login(manager)
    response = upload(client, space, picture(), alt="   ")
    assert response.status_code == 422
    assert "Describe the photo for people who cannot see it" in text_of(response)
    assert photos_of(db, space) == [] and stored_files(media) == []


def test_a_file_is_required(client, db, login, manager, space, media):
    db.session.commit()
    login(manager)
    response = client.post(f"/manage/spaces/{space.id}/photos", data={"alt": "A room"})
    assert response.status_code == 422
    assert "Choose a photo to upload." in text_of(response)


def test_the_thirteenth_photo_is_refused(client, db, login, manager, space, media):
    for n in range(photo_services.MAX_PHOTOS):
        db.session.add(SpacePhoto(space_id=space.id, position=n, alt=f"Photo {n}",
                                  is_cover=n == 0, digest=f"{n:032x}", width=480, height=320))
    db.session.commit()
    login(manager)
    response = upload(client, space, picture())
    assert response.status_code == 422
    assert "A space has at most 12 photos" in text_of(response)
    assert len(photos_of(db, space)) == 12
    assert stored_files(media) == []


@pytest.fixture
def three(db, manager, space, media):
    made = [
        photo_services.add_photo(space, manager, picture(color=(n * 80, 90, 90)), f"Photo {n}",
                                 storage=media)
        for n in range(3)
    ]
    db.session.commit()
    return made


def test_reorder_with_buttons(client, db, login, manager, space, three):
    login(manager)
    first, second, third = three
    response = client.post(
        f"/manage/spaces/{space.id}/photos/{third.id}/move", data={"to": "up"}
    )
    assert response.status_code == 302
    assert [p.alt for p in photos_of(db, space)] == ["Photo 0", "Photo 2", "Photo 1"]
    client.post(f"/manage/spaces/{space.id}/photos/{first.id}/move", data={"to": "down"})
    assert [p.alt for p in photos_of(db, space)] == ["Photo 2", "Photo 0", "Photo 1"]
    assert client.post(
        f"/manage/spaces/{space.id}/photos/{first.id}/move", data={"to": "sideways"}
    ).status_code == 400


def test_choose_the_cover_and_edit_alt(client, db, login, manager, space, three):
    login(manager)
    first, second, _third = three
    client.post(f"/manage/spaces/{space.id}/photos/{second.id}/cover")
    assert [p.is_cover for p in photos_of(db, space)] == [False, True, False]
    client.post(f"/manage/spaces/{space.id}/photos/{first.id}/alt", data={"alt": " New  words "})
    assert photos_of(db, space)[0].alt == "New words"
    response = client.post(
        f"/manage/spaces/{space.id}/photos/{first.id}/alt", data={"alt": ""},
        follow_redirects=True,
    )
    assert "Describe the photo" in text_of(response)
    assert photos_of(db, space)[0].alt == "New words"


def test_removing_the_cover_promotes_the_next_and_deletes_files(
    client, db, login, manager, space, three, media
):
    login(manager)
    first = three[0]
    assert len(stored_files(media)) == 3 * 4  # 600 px wide: 480 and 600, WebP and JPEG
    response = client.post(f"/manage/spaces/{space.id}/photos/{first.id}/delete")
    assert response.status_code == 302
    left = photos_of(db, space)
    assert [p.alt for p in left] == ["Photo 1", "Photo 2"]
    assert left[0].is_cover
    assert len(stored_files(media)) == 2 * 4
    assert not any(first.digest in p.name for p in stored_files(media))


def test_files_shared_with_another_photo_are_kept(client, db, login, manager, space, media,
                                                  factories, org):
    other = factories.space(owner=org, name="Other room")
    one = photo_services.add_photo(space, manager, picture(), "Same", storage=media)
    photo_services.add_photo(other, manager, picture(), "Same", storage=media)
    db.session.commit()
    login(manager)
    client.post(f"/manage/spaces/{space.id}/photos/{one.id}/delete")
    assert len(stored_files(media)) == 4


def test_page_lists_photos_with_no_js_controls(client, db, login, manager, space, three):
    login(manager)
    response = client.get(f"/manage/spaces/{space.id}/photos")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in html
    assert html.count('name="to" value="up"') == 2
    assert html.count('name="to" value="down"') == 2
    assert html.count("Make it the cover") == 2
    assert re.search(r'<img src="/media/[0-9a-f]{2}/[0-9a-f]{32}-600\.jpg"', html)
    assert "style=" not in html and "onclick" not in html


@pytest.mark.parametrize("who", ["resident", "other_manager"])
def test_others_get_404_everywhere(client, db, login, request, space, three, media, who):
    user = request.getfixturevalue(who)
    db.session.commit()
    login(user)
    photo = three[0]
    base = f"/manage/spaces/{space.id}/photos"
    assert client.get(base).status_code == 404
    assert upload(client, space, picture()).status_code == 404
    for action, data in [("alt", {"alt": "x"}), ("move", {"to": "down"}), ("cover", {}),
                         ("delete", {})]:
        assert client.post(f"{base}/{photo.id}/{action}", data=data).status_code == 404
    assert len(photos_of(db, space)) == 3


def test_a_photo_of_another_space_is_404(client, db, login, manager, space, factories, org,
                                         media):
    other = factories.space(owner=org, name="Other room")
    photo = photo_services.add_photo(other, manager, picture(), "Other", storage=media)
    db.session.commit()
    login(manager)
    assert client.post(
        f"/manage/spaces/{space.id}/photos/{photo.id}/delete"
    ).status_code == 404
    assert len(photos_of(db, other)) == 1


def test_uploads_are_rate_limited(client, db, login, manager, space, media, app, monkeypatch):
    monkeypatch.setitem(app.config, "RATELIMIT_PHOTO_UPLOAD_PER_ACCOUNT", "2 per hour")
    db.session.commit()
    login(manager)
    assert upload(client, space, b"nope").status_code == 422
    assert upload(client, space, b"nope").status_code == 422
    assert upload(client, space, b"nope").status_code == 429
    assert client.get(f"/manage/spaces/{space.id}/photos").status_code == 200
