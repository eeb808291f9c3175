"""The owner's API: the managers of an organisation create and edit its spaces, their weekly
hours, closures and photos.

Thin like `app.api.routes`: the same services as the manager's pages (`app.spaces.services`,
`app.spaces.photos`) check every value and every right; the schemas only read JSON types.
Whoever may not manage a space gets 404, or 403 when they may see it anyway (an officer
overseeing it), as on the pages.
"""

from __future__ import annotations

from flask import abort, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app import access
from app.api import bp
from app.api.auth import token_required
from app.api.document import errors
from app.api.parsing import MAX_INT
from app.api.routes import SPACE_OPTIONS, _get
from app.api.schemas.answers import (
    ClosureSchema,
    PhotoListSchema,
    PhotoSchema,
    SpaceDetailSchema,
    closure_json,
    photo_json,
)
from app.api.schemas.requests import (
    SPACE_CREATE_EXAMPLE,
    ClosureRequestSchema,
    OpeningHoursRequestSchema,
    PhotoAltSchema,
    PhotoOrderSchema,
    PhotoUploadSchema,
    SpaceCreateSchema,
    SpaceFieldsSchema,
)
from app.bookings import conflicts
from app.errors import ValidationFailed
from app.extensions import db
from app.media.storage import storage
from app.orgs.models import Organisation
from app.security import limits
from app.spaces import photos as photo_services
from app.spaces import services as space_services
from app.spaces.models import Closure, Space, SpacePhoto


def _managed_space(space_id: int) -> Space:
    return access.load(
        Space,
        space_id,
        "can_manage",
        options=SPACE_OPTIONS,
        visible="can_oversee",
        message=_("You do not manage this space."),
    )


def _space_answer(space_id: int, status: int = 200, headers=None):
    """The space reloaded after the commit with everything its answer reads."""
    return _get(Space, space_id, SPACE_OPTIONS), status, headers or {}


def _photo(space: Space, photo_id: int) -> SpacePhoto:
    photo = next((p for p in space.photos if p.id == photo_id), None)
    if photo is None:
        abort(404)
    return photo


def _photos_answer(space_id: int) -> dict:
    space = _get(Space, space_id, SPACE_OPTIONS)
    return {"photos": [photo_json(p) for p in space.photos]}


# --- Spaces --------------------------------------------------------------------------------


@bp.post("/spaces")
@token_required
@bp.arguments(SpaceCreateSchema, example=SPACE_CREATE_EXAMPLE)
@bp.response(201, SpaceDetailSchema, description="The new space.")
@bp.doc(tags=["spaces"], responses=errors(403))
def create_space(body: dict):
    """Create a space of an organisation you manage

    `organisation_id`, `name`, `type` and `capacity` are required; the other fields default
    (unpublished, booked on request, free). An address without coordinates is looked up on the
    map; when it is not found the coordinates stay null. 403 for an organisation you do not
    manage (or one that may not offer spaces); 422 with messages per field."""
    org_id = body.pop("organisation_id")
    owner = db.session.get(Organisation, org_id) if 0 < org_id <= MAX_INT else None
    if owner is None:
        raise ValidationFailed.single(_("There is no such organisation."), "organisation_id")
    space = space_services.create_space(current_user, owner, **body)
    db.session.commit()
    location = url_for("api.space", space_id=space.id)
    return _space_answer(space.id, 201, {"Location": location})


@bp.patch("/spaces/<int:space_id>")
@token_required
@bp.arguments(SpaceFieldsSchema, example={"capacity": 60, "published": True})
@bp.response(200, SpaceDetailSchema, description="The space as changed.")
@bp.doc(tags=["spaces"], responses=errors(403, 404))
def update_space(body: dict, space_id: int):
    """Change some fields of a space

    Only the fields sent change, checked as on creation; a new address without new coordinates
    is looked up on the map. For the owner's managers."""
    space = _managed_space(space_id)
    space_services.update_space(space, current_user, **body)
    db.session.commit()
    return _space_answer(space_id)


@bp.put("/spaces/<int:space_id>/hours")
@token_required
@bp.arguments(
    OpeningHoursRequestSchema,
    example={
        "hours": [
            {"weekday": 0, "open": "09:00", "close": "12:00"},
            {"weekday": 0, "open": "13:00", "close": "18:00"},
            {"weekday": 5, "open": "10:00", "close": "24:00"},
        ]
    },
)
@bp.response(200, SpaceDetailSchema, description="The space with its new hours.")
@bp.doc(tags=["spaces"], responses=errors(403, 404))
def set_hours(body: dict, space_id: int):
    """Replace the weekly opening hours

    Local wall-clock times (`24:00` is midnight at the end of the day). A weekday without a
    range is closed; an empty list closes every day. Ranges of one day must not overlap and
    each must open before it closes: such errors come per day (`weekday_<n>`), and nothing
    changes."""
    ranges = body["hours"]
    space = _managed_space(space_id)
    space_services.set_opening_hours(space, current_user, ranges)
    db.session.commit()
    return _space_answer(space_id)


# --- Closures ------------------------------------------------------------------------------


@bp.post("/spaces/<int:space_id>/closures")
@token_required
@bp.arguments(
    ClosureRequestSchema,
    example={
        "start": "2026-12-24T00:00:00+09:00",
        "end": "2026-12-26T00:00:00+09:00",
        "reason": "성탄절 휴관",
    },
)
@bp.response(201, ClosureSchema, description="The closure.")
@bp.doc(tags=["spaces"], responses=errors(403, 404))
def add_closure(body: dict, space_id: int):
    """Close a space for a while

    Nothing can be booked in that time. Bookings already in it are NOT cancelled: they are
    listed in `affected_booking_ids` for you to contact the residents or cancel them."""
    start, end, reason = body["start"], body["end"], body.get("reason") or ""
    space = _managed_space(space_id)
    closure = space_services.add_closure(space, current_user, start, end, reason)
    affected = [b.id for b in conflicts.active_bookings_between(space, start, end)]
    db.session.commit()
    return closure_json(closure, affected), 201


@bp.delete("/spaces/<int:space_id>/closures/<int:closure_id>")
@token_required
@bp.response(204, description="The closure was removed; its time can be booked again.")
@bp.doc(tags=["spaces"], responses=errors(403, 404))
def delete_closure(space_id: int, closure_id: int):
    """Remove a closure"""
    space = _managed_space(space_id)
    closure = _get(Closure, closure_id)
    if closure.space_id != space.id:
        abort(404)
    space_services.delete_closure(closure, current_user)
    db.session.commit()
    return None


# --- Photos --------------------------------------------------------------------------------


@bp.post("/spaces/<int:space_id>/photos")
@token_required
@limits.photo_upload_per_account
@bp.arguments(PhotoUploadSchema, location="files", content_type="multipart/form-data")
@bp.response(201, PhotoSchema, description="The photo, re-encoded at each width.")
@bp.doc(tags=["spaces"], responses=errors(403, 404))
def add_photo(form: dict, space_id: int):
    """Add a photo

    A multipart form with `file` (JPEG, PNG or WebP, judged by its content; at most 10 MB and
    40 megapixels) and `alt`, its description for people who cannot see it. The picture is
    re-encoded without its metadata (camera, GPS position). A space has at most 12 photos; its
    first photo becomes the cover. Uploads are limited per account, as on the pages."""
    space = _managed_space(space_id)
    data = photo_services.read_upload(form.get("file"))
    photo = photo_services.add_photo(
        space, current_user, data, form.get("alt") or "", storage=storage()
    )
    db.session.commit()
    return photo_json(_get(SpacePhoto, photo.id)), 201


@bp.patch("/spaces/<int:space_id>/photos/<int:photo_id>")
@token_required
@bp.arguments(PhotoAltSchema, example={"alt": "창가 쪽에서 본 다목적실"})
@bp.response(200, PhotoSchema, description="The photo.")
@bp.doc(tags=["spaces"], responses=errors(403, 404))
def describe_photo(body: dict, space_id: int, photo_id: int):
    """Change the description of a photo"""
    photo = _photo(_managed_space(space_id), photo_id)
    photo_services.describe(photo, current_user, body["alt"])
    db.session.commit()
    return photo_json(_get(SpacePhoto, photo_id))


@bp.delete("/spaces/<int:space_id>/photos/<int:photo_id>")
@token_required
@bp.response(204, description="The photo was removed.")
@bp.doc(tags=["spaces"], responses=errors(403, 404))
def delete_photo(space_id: int, photo_id: int):
    """Remove a photo

    When it was the cover, the next photo in order becomes the cover."""
    photo = _photo(_managed_space(space_id), photo_id)
    keys = photo_services.remove(photo, current_user)
    db.session.commit()
    photo_services.delete_unused_files(keys, storage=storage())
    return None


@bp.put("/spaces/<int:space_id>/photos/order")
@token_required
@bp.arguments(PhotoOrderSchema, example={"ids": [3, 1, 2]})
@bp.response(200, PhotoListSchema, description="The photos in their new order.")
@bp.doc(tags=["spaces"], responses=errors(403, 404))
def order_photos(body: dict, space_id: int):
    """Put the photos in a new order

    `ids` lists every photo of the space exactly once. The cover stays the cover (choose it
    with `/cover`)."""
    ids = body["ids"]
    space = _managed_space(space_id)
    photo_services.reorder(space, current_user, ids)
    db.session.commit()
    return _photos_answer(space_id)


@bp.post("/spaces/<int:space_id>/photos/<int:photo_id>/cover")
@token_required
@bp.response(200, PhotoListSchema, description="The photos, this one the cover.")
@bp.doc(tags=["spaces"], responses=errors(403, 404))
def cover_photo(space_id: int, photo_id: int):
    """Make a photo the cover

    The cover is what search results and maps show; it need not come first."""
    photo = _photo(_managed_space(space_id), photo_id)
    photo_services.set_cover(photo, current_user)
    db.session.commit()
    return _photos_answer(space_id)
