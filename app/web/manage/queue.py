"""The approval queue page (app.bookings.queue), bulk decisions and the actions on one request
(approve, reject, return to the resident)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app import access
from app.accounts.verification_models import Verification, VerificationKind
from app.bookings import decisions, waivers
from app.bookings import queue as queue_lists
from app.bookings import services as booking_services
from app.bookings.models import Booking
from app.bookings.queue import QueueFilters, queue_query
from app.bookings.states import BookingStatus
from app.db import db_int, utcnow
from app.errors import InvalidTransition, NotAllowed
from app.extensions import db
from app.formatting import money
from app.rules.schema import PURPOSES, WAIVER_CATEGORIES
from app.spaces.models import Space
from app.web.accounts.routes import safe_next
from app.web.bookings.routes import offers_waiver_confirmation
from app.web.helpers import paginate
from app.web.manage import bp
from app.web.manage.routes import PER_PAGE, _decide, _describe


def _require_approver() -> None:
    if not (current_user.is_manager or current_user.is_officer or current_user.is_admin):
        abort(403)


def _decidable_booking(booking_id: int) -> Booking:
    return access.load(Booking, booking_id, "can_decide_now")


def _queue_query(filters: QueueFilters):
    return queue_query(current_user, filters)


@bp.get("/queue")
def queue():
    _require_approver()
    filters = QueueFilters.from_args(request.args)
    page = paginate(filters.order(_queue_query(filters)), per_page=PER_PAGE)
    conflicts = queue_lists.conflicts_for(page.items)
    closures = queue_lists.closures_for(page.items)
    spaces = db.session.execute(
        _queue_query(QueueFilters())
        .with_only_columns(Space.id, Space.name)
        .distinct()
        .order_by(Space.name, Space.id)
    ).all()
    return render_template(
        "manage/queue.html",
        page=page,
        my_spaces=spaces,
        filters=filters,
        space_id=filters.space_id,
        now=utcnow(),
        purposes=PURPOSES,
        waivers=WAIVER_CATEGORIES,
        conflicts=conflicts,
        closures=closures,
        counts=queue_lists.counts(current_user),
    )


@bp.get("/queue/unpaid")
def unpaid():
    """Approved bookings of the spaces one manages whose payment has not come yet, the nearest
    pay-by deadline first."""
    if not (current_user.is_manager or current_user.is_admin):
        abort(403)
    page = paginate(queue_lists.unpaid_query(current_user), per_page=PER_PAGE)
    return render_template("manage/unpaid.html", page=page, now=utcnow(),
                           counts=queue_lists.counts(current_user))


@bp.get("/bookings/<int:booking_id>")
def request_page(booking_id: int):
    """The approver's page of one request: the decision, what competes for the same time, the
    person's history at this organisation and their fee-waiver or residency claim."""
    booking = access.load(Booking, booking_id, "can_review")
    zone = booking.space.zone
    conflicts = queue_lists.conflicts_for([booking])[booking.id]
    closures = queue_lists.closures_for([booking])[booking.id]
    history = queue_lists.history_at(booking.user_id, booking.space.owner_id, exclude=booking.id)
    claim = None
    if booking.waiver_category:
        claim = db.session.scalars(
            select(Verification)
            .where(Verification.user_id == booking.user_id,
                   Verification.kind == VerificationKind.WAIVER,
                   Verification.category == booking.waiver_category)
            .order_by(Verification.created_at.desc(), Verification.id.desc())
            .limit(1)
        ).first()
    return render_template(
        "manage/request.html",
        b=booking,
        zone=zone,
        stage=booking.current_stage,
        deciding=booking.status == BookingStatus.REQUESTED and booking.can_decide_now(current_user),
        conflicts=conflicts,
        closures=closures,
        history=history,
        claim=claim,
        can_see_claim=claim is not None and claim.can_view(current_user),
        confirm_waiver=offers_waiver_confirmation(booking, current_user),
        now=utcnow(),
        purposes=PURPOSES,
        waivers=WAIVER_CATEGORIES,
        BookingStatus=BookingStatus,
    )


@bp.post("/queue/bulk")
def bulk_decide():
    """Approve or reject several requests at once; each is decided on its own, so one that
    cannot be decided (taken over by someone else, time begun) does not stop the others."""
    _require_approver()
    action = request.form.get("action")
    reason = request.form.get("reason", "")
    ids = []
    for raw in request.form.getlist("ids")[:PER_PAGE * 5]:
        try:
            ids.append(db_int(raw))
        except ValueError:
            continue
    target = safe_next(request.form.get("next")) or url_for(".queue")
    if action not in ("approve", "reject") or not ids:
        flash(_("Choose requests and whether to approve or reject them."), "error")
        return redirect(target)
    if action == "reject" and not reason.strip():
        flash(_("Please give a reason for the rejection."), "error")
        return redirect(target)
    bookings = db.session.scalars(
        select(Booking).where(Booking.id.in_(ids)).options(selectinload(Booking.stages))
        .order_by(Booking.id)  # decided (and reported) in a stable order
    ).all()
    outcomes = decisions.decide_many(bookings, current_user, approve=action == "approve",
                                     reason=reason or None)
    done = sum(o.ok for o in outcomes)
    failed = [f"#{o.booking.id}: {o.error.message}" for o in outcomes if o.error is not None]
    db.session.commit()
    if done:
        message = (
            ngettext("Approved %(num)d request.", "Approved %(num)d requests.", done)
            if action == "approve"
            else ngettext("Rejected %(num)d request.", "Rejected %(num)d requests.", done)
        )
        flash(message, "success")
    if failed or len(bookings) < len(ids):
        missing = len(ids) - len(bookings)
        details = failed + ([_("%(n)d not found", n=missing)] if missing else [])
        flash(_("Not changed: %(list)s", list="; ".join(details)), "error")
    return redirect(target)


@bp.post("/bookings/<int:booking_id>/approve")
def approve(booking_id: int):
    booking = _decidable_booking(booking_id)
    note = request.form.get("note", "")
    evidence_seen = request.form.get("evidence_seen") == "1"
    return _decide(
        booking,
        lambda: booking_services.approve(booking, current_user, reason=note,
                                         evidence_seen=evidence_seen),
        _("Approved: %(name)s, %(space)s, %(when)s.", **_describe(booking)),
    )


@bp.post("/bookings/<int:booking_id>/waiver")
def confirm_waiver(booking_id: int):
    """A manager saw the evidence of a waiver claimed on a booking made already (instant
    book, a lottery win, a request approved at the full price): the waiver is priced in and
    what was paid beyond the new price is refunded."""
    booking = access.load(Booking, booking_id, "can_decide")
    target = safe_next(request.form.get("next")) or url_for("bookings.detail",
                                                            booking_id=booking.id)
    if request.form.get("evidence_seen") != "1":
        flash(_("Tick “evidence seen” to apply the fee waiver."), "error")
        return redirect(target)
    try:
        lowered = waivers.confirm(booking, current_user)
    except (InvalidTransition, NotAllowed) as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(target)
    db.session.commit()
    flash(_("The fee waiver is applied: %(amount)s off.",
            amount=money(lowered, booking.currency)), "success")
    return redirect(target)


@bp.post("/bookings/<int:booking_id>/reject")
def reject(booking_id: int):
    booking = _decidable_booking(booking_id)
    reason = request.form.get("reason", "")
    return _decide(
        booking,
        lambda: booking_services.reject(booking, current_user, reason=reason),
        _("Rejected: %(name)s, %(space)s, %(when)s.", **_describe(booking)),
    )


@bp.post("/bookings/<int:booking_id>/return")
def return_request(booking_id: int):
    booking = _decidable_booking(booking_id)
    reason = request.form.get("reason", "")
    return _decide(
        booking,
        lambda: booking_services.return_to_resident(booking, current_user, reason=reason),
        _("Returned to the resident for changes: %(name)s, %(space)s, %(when)s.",
          **_describe(booking)),
    )  # fmt: skip


