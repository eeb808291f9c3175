"""The photo verbs of a space: add, describe, reorder, choose the cover, remove.

Like the other space services they take the acting user, flush but never commit, and raise
`ValidationFailed` (with the field: "file" or "alt") or `NotAllowed`. Files are written to the
storage before the row is flushed (a failed transaction leaves unused files, never a row
without its files); files are removed only once the caller has committed the removal, with
`delete_unused_files`.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, select

from app.errors import NotAllowed, ValidationFailed
from app.extensions import db
from app.media import images
from app.media.storage import Storage
from app.spaces.models import Space, SpacePhoto

MAX_PHOTOS = 12
MAX_ALT = 300


def _require_manager(space: Space, actor) -> None:
    if not space.can_manage(actor):
        raise NotAllowed(_("You do not manage this space."))


def clean_alt(alt: str | None) -> str:
    """The alt text, trimmed, or ValidationFailed: every photo needs one for people who cannot
    see it."""
    alt = " ".join((alt or "").split())
    if not alt:
        raise ValidationFailed.single(
            _("Describe the photo for people who cannot see it (alt text)."), "alt"
        )
    if len(alt) > MAX_ALT:
        raise ValidationFailed.single(
            _("Keep the description under %(n)d characters.", n=MAX_ALT), "alt"
        )
    return alt


def read_upload(upload) -> bytes:
    """The bytes of an uploaded file (a werkzeug `FileStorage`), read no further than needed to
    know it is too large; ValidationFailed when no file was chosen."""
    if upload is None or not getattr(upload, "filename", "") or not hasattr(upload, "stream"):
        raise ValidationFailed.single(_("Choose a photo to upload."), "file")
    # One byte more than allowed is enough to know it is too large.
    data: bytes = upload.stream.read(images.MAX_BYTES + 1)
    return data


def _count(space: Space) -> int:
    return db.session.execute(
        select(func.count(SpacePhoto.id)).where(SpacePhoto.space_id == space.id)
    ).scalar_one()


def add_photo(space: Space, actor, data: bytes, alt: str, *, storage: Storage) -> SpacePhoto:
    """Check and re-encode the picture in `data`, store its files, add it after the others.
    The first photo of a space becomes its cover."""
    _require_manager(space, actor)
    alt = clean_alt(alt)
    count = _count(space)
    if count >= MAX_PHOTOS:
        raise ValidationFailed.single(
            _("A space has at most %(n)d photos. Remove one before adding another.",
              n=MAX_PHOTOS),
            "file",
        )
    try:
        processed = images.process(data)
    except images.ImageRefused as exc:
        raise ValidationFailed.single(exc.message, "file") from None
    for r in processed.renditions:
        storage.put(images.file_key(processed.digest, r.width, "webp"), r.webp)
        storage.put(images.file_key(processed.digest, r.width, "jpg"), r.jpeg)
    last = db.session.scalar(
        select(func.max(SpacePhoto.position)).where(SpacePhoto.space_id == space.id)
    )
    photo = SpacePhoto(
        space_id=space.id,
        position=(last if last is not None else -1) + 1,
        alt=alt,
        is_cover=count == 0,
        digest=processed.digest,
        width=processed.width,
        height=processed.height,
        created_by_id=getattr(actor, "id", None),
    )
    db.session.add(photo)
    db.session.flush()
    db.session.expire(space, ["photos", "cover"])
    return photo


def describe(photo: SpacePhoto, actor, alt: str) -> None:
    _require_manager(photo.space, actor)
    photo.alt = clean_alt(alt)
    db.session.flush()


def move(photo: SpacePhoto, actor, offset: int) -> None:
    """Move the photo `offset` places (-1: earlier, 1: later); positions become 0, 1, 2, …"""
    space = photo.space
    _require_manager(space, actor)
    ordered = list(space.photos)
    index = ordered.index(photo)
    target = max(0, min(len(ordered) - 1, index + offset))
    ordered.insert(target, ordered.pop(index))
    for n, p in enumerate(ordered):
        p.position = n
    db.session.flush()
    db.session.expire(space, ["photos"])  # reloaded in the new order when next read


def reorder(space: Space, actor, ids) -> None:
    """Put the photos in the order of `ids`, which must name every photo of the space exactly
    once; positions become 0, 1, 2, … The cover stays the cover."""
    _require_manager(space, actor)
    by_id = {p.id: p for p in space.photos}
    if (
        not isinstance(ids, list)
        or any(isinstance(i, bool) or not isinstance(i, int) for i in ids)
        or len(ids) != len(set(ids))
        or set(ids) != set(by_id)
    ):
        raise ValidationFailed.single(
            _("List every photo of the space exactly once, in the new order."), "ids"
        )
    for n, photo_id in enumerate(ids):
        by_id[photo_id].position = n
    db.session.flush()
    db.session.expire(space, ["photos"])


def set_cover(photo: SpacePhoto, actor) -> None:
    space = photo.space
    _require_manager(space, actor)
    for p in space.photos:
        if p.is_cover and p is not photo:
            p.is_cover = False
    db.session.flush()  # the old cover first: the index allows one cover per space
    photo.is_cover = True
    db.session.flush()
    db.session.expire(space, ["cover"])


def remove(photo: SpacePhoto, actor) -> list[str]:
    """Delete the photo; the next one becomes the cover if it was. Returns the storage keys to
    pass to `delete_unused_files` after the commit."""
    space = photo.space
    _require_manager(space, actor)
    keys = photo.keys()
    was_cover = photo.is_cover
    space.photos.remove(photo)
    db.session.flush()
    if was_cover and space.photos:
        space.photos[0].is_cover = True
        db.session.flush()
    db.session.expire(space, ["cover"])
    return keys


def delete_unused_files(keys: list[str], *, storage: Storage) -> None:
    """Remove stored files no photo refers to any more (the same picture uploaded to two
    spaces shares its files). Call after the commit that removed the photo."""
    digests = {key.split("/")[1].split("-")[0] for key in keys}
    used = set(
        db.session.scalars(select(SpacePhoto.digest).where(SpacePhoto.digest.in_(digests)))
    )
    for key in keys:
        if key.split("/")[1].split("-")[0] not in used:
            storage.delete(key)
