"""Manager pages for external calendars: attach one to a space or to an organisation (by URL or
by uploading an .ics file), sync it again, remove it. Its events become closures; bookings that
now collide are listed, never cancelled.

A space's calendars are for its managers (others: 404, an overseeing officer: 403, as on the
other manager pages); an organisation's for its members (manager, principal, staff) and admins.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from sqlalchemy import delete, select
from wtforms import StringField
from wtforms.validators import InputRequired, Length, Optional

from app import access
from app.calendars.fetch import check_url, fetch
from app.calendars.imports import MAX_BYTES, colliding_bookings, import_calendar, record_failure
from app.calendars.imports import too_large_message as _too_large
from app.calendars.models import ExternalCalendar
from app.db import rowcount, utcnow
from app.errors import ValidationFailed
from app.extensions import db
from app.orgs.models import Organisation
from app.spaces.models import Closure, Space
from app.web.accounts.routes import apply_errors
from app.web.calendars import bp
from app.web.helpers import required


class ExternalCalendarForm(FlaskForm):
    name = StringField(
        _l("Name"), validators=[InputRequired(), Length(max=160)], render_kw={"maxlength": 160}
    )
    url = StringField(
        _l("Calendar address (URL)"),
        validators=[Optional(), Length(max=2000)],
        render_kw={"inputmode": "url", "placeholder": "https://…/basic.ics"},
    )
    file = FileField(_l("Or upload an .ics file"), render_kw={"accept": ".ics,text/calendar"})


# --- Access ----------------------------------------------------------------------------------
def _managed_space(space_id: int) -> Space:
    return access.load(Space, space_id, "can_manage", visible="can_oversee")


def _managed_org(org_id: int) -> Organisation:
    org = db.get_or_404(Organisation, org_id)
    if not (current_user.is_admin or org.id in current_user.managed_org_ids):
        abort(404)
    return org


def _managed_calendar(ext_id: int) -> ExternalCalendar:
    ext = db.get_or_404(ExternalCalendar, ext_id)
    if ext.space_id is not None:
        _managed_space(ext.space_id)
    else:
        assert ext.organisation_id is not None  # a calendar closes a space or an organisation
        _managed_org(ext.organisation_id)
    return ext


def _list_url(ext: ExternalCalendar) -> str:
    if ext.space_id is not None:
        return url_for("calendars.space_calendars", space_id=ext.space_id)
    return url_for("calendars.org_calendars", org_id=ext.organisation_id)


# --- Input -----------------------------------------------------------------------------------
def _uploaded(storage) -> tuple[bytes, str] | None:
    """(content, filename) of an uploaded file, None when none was sent."""
    if storage is None or not getattr(storage, "filename", ""):
        return None
    data = storage.stream.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise ValidationFailed.single(_too_large(), "file")
    name = storage.filename.replace("\\", "/").rsplit("/", 1)[-1].strip()[:255] or "calendar.ics"
    return data, name


def _summary(result: dict) -> tuple[str, str]:
    message = _(
        "Calendar imported. Events: %(events)d; closures added: %(added)d, updated: "
        "%(updated)d, removed: %(removed)d.",
        events=result["events"],
        added=result["added"],
        updated=result["updated"],
        removed=result["removed"],
    )
    collisions = result["collisions"]
    if collisions:
        message += " " + _(
            "Bookings that fall in its closures: %(n)d. They were NOT cancelled: see the list "
            "below.",
            n=len(collisions),
        )
        return message, "warning"
    return message, "success"


def _add(form: ExternalCalendarForm, *, space: Space | None, org: Organisation | None):
    """Create and import a calendar from the form; ValidationFailed leaves nothing behind."""
    url = (form.url.data or "").strip()
    upload = _uploaded(form.file.data)
    if bool(url) == bool(upload):
        raise ValidationFailed.single(
            _("Give the calendar's address or upload its .ics file (one of the two)."), "url"
        )
    if url:
        check_url(url)  # the form of the address; fetch checks where it points
        # End the transaction (on SQLite a write lock) before waiting for another server.
        db.session.rollback()
        data = fetch(url)
        filename = None
    else:
        assert upload is not None  # exactly one of the two, checked above
        data, filename = upload
    ext = ExternalCalendar(
        space_id=space.id if space else None,
        organisation_id=org.id if org else None,
        name=required(form.name.data).strip()[:160],
        url=url or None,
        filename=filename,
        created_by_id=current_user.id,
    )
    db.session.add(ext)
    db.session.flush()
    result = import_calendar(ext, data, utcnow())
    db.session.commit()
    return ext, result


def _page(*, space: Space | None, org: Organisation | None):
    form = ExternalCalendarForm()
    status = 200
    if request.method == "POST":
        status = 422
        if form.validate_on_submit():
            try:
                _ext, result = _add(form, space=space, org=org)
            except ValidationFailed as exc:
                db.session.rollback()
                apply_errors(form, exc)
            else:
                flash(*_summary(result))
                return redirect(request.path)
    query = select(ExternalCalendar).order_by(ExternalCalendar.name, ExternalCalendar.id)
    if space is not None:
        query = query.where(ExternalCalendar.space_id == space.id)
    else:
        assert org is not None  # the page of a space or of an organisation
        query = query.where(ExternalCalendar.organisation_id == org.id)
    calendars = list(db.session.scalars(query))
    # A space's page also names the calendars of its organisation that close it.
    org_calendars = []
    if space is not None:
        org_calendars = list(
            db.session.scalars(
                select(ExternalCalendar)
                .where(ExternalCalendar.organisation_id == space.owner_id)
                .order_by(ExternalCalendar.name, ExternalCalendar.id)
            )
        )
    now = utcnow()
    collisions = {ext.id: colliding_bookings(ext, now) for ext in calendars}
    zone = space.timezone if space is not None else "Asia/Seoul"
    return render_template(
        "calendars/external.html",
        space=space,
        org=org,
        form=form,
        calendars=calendars,
        org_calendars=org_calendars,
        collisions=collisions,
        zone=zone,
    ), status


# --- Routes ----------------------------------------------------------------------------------
@bp.route("/manage/spaces/<int:space_id>/calendars", methods=["GET", "POST"])
@login_required
def space_calendars(space_id: int):
    return _page(space=_managed_space(space_id), org=None)


@bp.route("/manage/organisations/<int:org_id>/calendars", methods=["GET", "POST"])
@login_required
def org_calendars(org_id: int):
    return _page(space=None, org=_managed_org(org_id))


@bp.post("/manage/external-calendars/<int:ext_id>/sync")
@login_required
def sync_calendar(ext_id: int):
    ext = _managed_calendar(ext_id)
    back = _list_url(ext)
    filename: str | None
    try:
        upload = _uploaded(request.files.get("file"))
        if upload is not None:
            data, filename = upload
        elif ext.url:
            url, filename = ext.url, ext.filename
            db.session.rollback()  # hold no transaction (on SQLite a write lock) while fetching
            data = fetch(url)
            fresh = db.session.get(ExternalCalendar, ext_id)
            if fresh is None:  # removed by someone else meanwhile
                abort(404)
            ext = fresh
        else:
            raise ValidationFailed.single(
                _("This calendar was uploaded as a file: choose the file again to update it."),
                "file",
            )
        result = import_calendar(ext, data, utcnow())
        if upload is not None:
            ext.filename = filename
        db.session.commit()
    except ValidationFailed as exc:
        db.session.rollback()
        failed = db.session.get(ExternalCalendar, ext_id)
        if failed is not None:
            record_failure(failed, exc.message)
            db.session.commit()
        flash(_("The calendar was not updated: %(error)s", error=exc.message), "error")
        return redirect(back)
    flash(*_summary(result))
    return redirect(back)


@bp.post("/manage/external-calendars/<int:ext_id>/delete")
@login_required
def delete_calendar(ext_id: int):
    ext = _managed_calendar(ext_id)
    back = _list_url(ext)
    result = db.session.execute(delete(Closure).where(Closure.external_calendar_id == ext.id))
    db.session.delete(ext)
    db.session.commit()
    flash(
        _(
            "The calendar was removed with its closures (%(n)d); that time can be booked again.",
            n=rowcount(result),
        ),
        "success",
    )
    return redirect(back)
