"""The photos of a space: upload with alt text, describe, reorder, choose the cover, remove.

Only managers of the space's organisation (and admins) reach these pages; everyone else gets
404 (officers who oversee the space, 403), as on the other pages of a space.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.errors import ValidationFailed
from app.extensions import db
from app.media.storage import storage
from app.security import limits
from app.spaces import photos as photo_services
from app.spaces.models import SpacePhoto
from app.web.accounts.routes import apply_errors
from app.web.helpers import required
from app.web.manage import bp
from app.web.manage.forms import PhotoForm
from app.web.manage.routes import _managed_space


def _photo(space_id: int, photo_id: int) -> SpacePhoto:
    space = _managed_space(space_id)
    photo = db.session.get(SpacePhoto, photo_id)
    if photo is None or photo.space_id != space.id:
        abort(404)
    return photo


def _back(space_id: int, photo_id: int | None = None):
    anchor = f"photo-{photo_id}" if photo_id else None
    return redirect(url_for(".photos", space_id=space_id, _anchor=anchor))


@bp.route("/spaces/<int:space_id>/photos", methods=["GET", "POST"])
@limits.photo_upload_per_account
def photos(space_id: int):
    space = _managed_space(space_id)
    form = PhotoForm()
    status = 200
    if form.validate_on_submit():
        try:
            photo = photo_services.add_photo(
                space,
                current_user,
                photo_services.read_upload(form.file.data),
                required(form.alt.data),
                storage=storage(),
            )
        except ValidationFailed as exc:
            db.session.rollback()
            apply_errors(form, exc)
            status = 422
        else:
            db.session.commit()
            flash(_("The photo was added."), "success")
            return _back(space.id, photo.id)
    elif request.method == "POST":
        status = 400
    return render_template(
        "manage/photos.html",
        space=space,
        form=form,
        photos=space.photos,
        max_photos=photo_services.MAX_PHOTOS,
    ), status


@bp.post("/spaces/<int:space_id>/photos/<int:photo_id>/alt")
def photo_alt(space_id: int, photo_id: int):
    photo = _photo(space_id, photo_id)
    try:
        photo_services.describe(photo, current_user, request.form.get("alt", ""))
    except ValidationFailed as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        db.session.commit()
        flash(_("The description was saved."), "success")
    return _back(space_id, photo_id)


@bp.post("/spaces/<int:space_id>/photos/<int:photo_id>/move")
def photo_move(space_id: int, photo_id: int):
    photo = _photo(space_id, photo_id)
    offset = {"up": -1, "down": 1}.get(request.form.get("to", ""))
    if offset is None:
        abort(400)
    photo_services.move(photo, current_user, offset)
    db.session.commit()
    return _back(space_id, photo_id)


@bp.post("/spaces/<int:space_id>/photos/<int:photo_id>/cover")
def photo_cover(space_id: int, photo_id: int):
    photo = _photo(space_id, photo_id)
    photo_services.set_cover(photo, current_user)
    db.session.commit()
    flash(_("This photo is now the cover."), "success")
    return _back(space_id, photo_id)


@bp.post("/spaces/<int:space_id>/photos/<int:photo_id>/delete")
def photo_delete(space_id: int, photo_id: int):
    photo = _photo(space_id, photo_id)
    keys = photo_services.remove(photo, current_user)
    db.session.commit()
    photo_services.delete_unused_files(keys, storage=storage())
    flash(_("The photo was removed."), "success")
    return _back(space_id)
