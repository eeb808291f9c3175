"""Calendar files and feeds: one booking's .ics, a space's public busy times, and the secret
subscription feeds (a person's bookings; an organisation's for its managers)."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import case, func, select
from sqlalchemy.orm import joinedload

from app.bookings.models import Booking, BookingTransition
from app.bookings.states import ACTIVE, PAYMENT_STATES
from app.calendars import feeds, ics
from app.db import utcnow
from app.extensions import db
from app.orgs.models import Organisation
from app.security import limits
from app.spaces.models import Space
from app.web.calendars import bp
from app.web.helpers import load_booking

# How far back and ahead feeds reach; calendar apps poll them, so they stay bounded.
FEED_PAST = timedelta(days=90)
FEED_AHEAD = timedelta(days=400)


def _host() -> str:
    return request.host.split(":")[0] or "gonggan"


def _calendar_response(body: bytes, filename: str, *, last_modified=None,
                       cache: str = "private, max-age=300") -> Response:
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    response.headers["Cache-Control"] = cache
    response.set_etag(ics.etag(body))
    if last_modified is not None:
        response.last_modified = last_modified
    response.make_conditional(request)
    return response


def _last_change(query) -> object:
    ids = query.with_only_columns(Booking.id).order_by(None).subquery()
    return db.session.scalar(
        select(func.max(BookingTransition.at)).where(BookingTransition.booking_id.in_(
            select(ids.c.id)))
    )


@bp.get("/bookings/<int:booking_id>/calendar.ics")
@login_required
def booking_file(booking_id: int):
    booking = load_booking(booking_id)
    method = "CANCEL" if ics.ics_status(booking.status) == "CANCELLED" else "PUBLISH"
    body = ics.calendar_of(booking.space.name, [booking], _host(), method=method)
    return _calendar_response(body, f"booking-{booking.id}.ics",
                              last_modified=booking.transitions[-1].at)


@bp.get("/spaces/<int:space_id>/busy.ics")
@limits.feed_per_ip
def space_busy(space_id: int):
    space = db.session.get(Space, space_id)
    if space is None or not space.published:
        abort(404)
    now = utcnow()
    query = select(Booking).where(
        Booking.space_id == space.id, Booking.status.in_(ACTIVE),
        Booking.end_at > now - FEED_PAST, Booking.start_at < now + FEED_AHEAD,
    ).order_by(Booking.start_at)
    bookings = db.session.scalars(query).all()
    for booking in bookings:
        booking.space = space  # one space: no load per booking
    body = ics.calendar_of(_("%(space)s — busy times", space=space.name), bookings, _host(),
                           detail="busy")
    return _calendar_response(body, f"space-{space.id}-busy.ics",
                              cache="public, max-age=300")


@bp.get("/calendars/<token>.ics")
@limits.feed_per_ip
def feed(token: str):
    row = feeds.find_feed(token)
    if row is None or not row.user.is_active:
        abort(404)
    now = utcnow()
    window = (Booking.end_at > now - FEED_PAST, Booking.start_at < now + FEED_AHEAD)
    if row.kind == "personal":
        query = select(Booking).where(Booking.user_id == row.user_id, *window)
        name = _("My bookings (Gonggan)")
    else:
        if not _manages(row.user, row.organisation):
            abort(404)  # no longer a manager there: the address stops working
        query = select(Booking).join(Space).where(
            Space.owner_id == row.organisation_id, *window)
        name = _("Bookings of %(org)s", org=row.organisation.name)
    # Calendar apps poll feeds: answer "not modified" from one aggregate query, before
    # building what may be thousands of events.
    tag = _fingerprint(query, f"{row.id}|{name}|{_host()}|{get_locale()}")
    if request.if_none_match.contains_weak(tag):
        response = Response(status=304)
        response.set_etag(tag, weak=True)
        return response
    bookings = db.session.scalars(
        query.options(joinedload(Booking.space), joinedload(Booking.user),
                      joinedload(Booking.series))
        .order_by(Booking.start_at, Booking.id)
    ).all()
    body = ics.calendar_of(name, bookings, _host(), series=True)
    response = _calendar_response(body, "gonggan.ics", last_modified=_last_change(query))
    response.set_etag(tag, weak=True)
    return response


PAYMENT_CODES = {state: i for i, state in enumerate(PAYMENT_STATES)}


def _fingerprint(query, context: str) -> str:
    """Changes whenever the feed's content can: bookings entering or leaving it, any state
    change (SEQUENCE), payment state, the spaces' details; names and language via `context`."""
    rows = query.with_only_columns(
        Booking.id, Booking.ics_sequence, Booking.payment_status, Booking.space_id
    ).order_by(None).subquery()
    payment = case(PAYMENT_CODES, value=rows.c.payment_status, else_=99)
    found = db.session.execute(
        select(func.count(), func.coalesce(func.sum(rows.c.id), 0),
               func.coalesce(func.sum(rows.c.ics_sequence), 0),
               func.coalesce(func.sum(rows.c.id * payment), 0), func.max(Space.updated_at))
        .select_from(rows).outerjoin(Space, Space.id == rows.c.space_id)
    ).one()
    return hashlib.sha256(f"{context}|{tuple(found)}".encode()).hexdigest()[:32]


def _manages(user, organisation) -> bool:
    return organisation.id in user.managed_org_ids


# --------------------------------------------------------------------------- the settings page
def _my_orgs() -> list[Organisation]:
    return [m.organisation for m in current_user.org_memberships]


@bp.route("/account/calendars", methods=["GET", "POST"])
@login_required
def settings():
    user = current_user._get_current_object()
    made = None
    status = 200
    if request.method == "POST":
        action = request.form.get("action")
        org_id = request.form.get("organisation", type=int)
        if org_id is not None and org_id not in {o.id for o in _my_orgs()}:
            abort(404)
        if action == "create":
            _row, plain = feeds.make_feed(user, org_id)
            db.session.commit()
            # Rendered, not redirected: the address must never travel in a URL, a flash
            # message or a cookie. It is shown this once; only its hash is kept.
            made = {"organisation_id": org_id, "https": _feed_url(plain),
                    "webcal": _feed_url(plain, "webcal")}
            status = 201
        elif action == "revoke":
            feeds.stop_feed(user, org_id)
            db.session.commit()
            flash(_("The calendar address no longer works."), "success")
            return redirect(url_for(".settings"))
        else:
            abort(400)
    rows = feeds.active_feeds(user)
    personal = next((f for f in rows if f.kind == "personal"), None)
    by_org = {f.organisation_id: f for f in rows if f.kind == "organisation"}
    return render_template("calendars/settings.html", personal=personal, by_org=by_org,
                           orgs=_my_orgs(), made=made), status


def _feed_url(token: str, scheme: str = "https") -> str:
    url = url_for("calendars.feed", token=token, _external=True)
    if scheme == "webcal":
        return "webcal://" + url.split("://", 1)[1]
    return url
