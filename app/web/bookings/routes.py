"""A resident's bookings: the list, one booking with its history, cancelling."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.accounts.groups import user_groups
from app.bookings import services as booking_services
from app.bookings.models import Booking
from app.bookings.states import (
    STATUS_LABELS,
    TERMINAL,
    TRANSITIONS,
    BookingStatus,
    PaymentState,
    WaiverState,
)
from app.db import utcnow
from app.errors import DomainError, InvalidTransition, ValidationFailed
from app.extensions import db
from app.payments import gateway
from app.payments import services as payment_services
from app.payments.states import PaymentStatus
from app.rules.schema import PURPOSES, WAIVER_CATEGORIES
from app.web.accounts.routes import safe_next
from app.web.bookings import bp, todo
from app.web.bookings.forms import CancelForm, ResubmitForm
from app.web.helpers import load_booking, paginate, required
from app.web.payments.views import booking_payment_context


@bp.get("/", strict_slashes=False)
@login_required
def mine():
    """My bookings as cards: what needs action, then what is coming; or what is over."""
    now = utcnow()
    when = "past" if request.args.get("when") == "past" else "upcoming"
    per_page = current_app.config["SEARCH_PER_PAGE"]
    user = current_user._get_current_object()
    if when == "past":
        actions: list[Booking] = []
        page = paginate(todo.past_query(user, now), per_page=per_page)
    else:
        pending = todo.action_list(user, now)
        page = paginate(todo.upcoming_query(user, now, pending), per_page=per_page)
        actions = list(pending) if page.page == 1 else []  # the to-do stays on the first page
    return render_template("bookings/mine.html", page=page, when=when, actions=actions,
                           closures=todo.closures_meeting(actions), pay_online=gateway.configured())


def offers_cancel(booking: Booking, user, now) -> bool:
    """Whether to show the cancel form; the service has the final word."""
    if not booking.can_cancel(user) or BookingStatus.CANCELLED not in TRANSITIONS[booking.status]:
        return False
    return booking.start_at > now or (booking.can_decide(user) and booking.end_at > now)


def offers_waiver_confirmation(booking: Booking, user) -> bool:
    """Whether to show a manager the form confirming a claimed waiver after the booking was
    made (requests in the queue are confirmed when approving); the service has the final word."""
    return (
        booking.waiver_state in (WaiverState.CLAIMED, WaiverState.NOT_APPLIED)
        and booking.status not in TERMINAL
        and booking.status not in (BookingStatus.REQUESTED, BookingStatus.ENTERED)
        and booking.can_decide(user)
    )


def _resubmit_form(booking: Booking, formdata=None) -> ResubmitForm | None:
    """The change form of a request returned to its resident, prefilled with the request."""
    if booking.status != BookingStatus.RETURNED or booking.user_id != current_user.id:
        return None
    form = ResubmitForm(
        formdata=formdata,
        data={
            "purpose": booking.purpose,
            "attendees": booking.attendees,
            "purpose_category": booking.purpose_category,
            "waiver": booking.waiver_category or "",
            "group_id": str(booking.group_id or ""),
        },
    )
    form.set_groups(user_groups(current_user))
    return form


def _render_detail(booking: Booking, resubmit_form=None, status: int = 200):
    return (
        render_template(
            "bookings/detail.html",
            booking=booking,
            zone=booking.space.zone,
            status_labels=STATUS_LABELS,
            purposes=PURPOSES,
            waivers=WAIVER_CATEGORIES,
            cancel_form=CancelForm() if offers_cancel(booking, current_user, utcnow()) else None,
            resubmit_form=resubmit_form or _resubmit_form(booking),
            pay=booking_payment_context(booking, current_user),
            confirm_waiver=offers_waiver_confirmation(booking, current_user),
        ),
        status,
    )


@bp.get("/<int:booking_id>")
@login_required
def detail(booking_id: int):
    return _render_detail(load_booking(booking_id))


@bp.post("/<int:booking_id>/resubmit")
@login_required
def resubmit(booking_id: int):
    booking = load_booking(booking_id)
    form = _resubmit_form(booking, request.form)
    if form is None:
        abort(403 if booking.user_id != current_user.id else 409)
    if not form.validate():
        return _render_detail(booking, form, 422)
    try:
        booking_services.resubmit(
            booking,
            current_user,
            purpose=form.purpose.data or "",
            attendees=required(form.attendees.data),
            purpose_category=form.purpose_category.data,
            waiver=form.waiver.data or None,
            group_id=form.chosen_group_id,
        )
    except ValidationFailed as exc:
        db.session.rollback()
        booking = load_booking(booking_id)
        form = required(_resubmit_form(booking, request.form))  # rolled back: still returned
        form.form_errors.extend(m for messages in exc.errors.values() for m in messages)
        return _render_detail(booking, form, 422)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        db.session.commit()
        flash(_("Your changed request was sent."), "success")
    return redirect(url_for("bookings.detail", booking_id=booking_id))


def cancel_terms(booking: Booking, user, now) -> dict:
    """What cancelling now means for the money, for the confirmation step: what was paid, the
    share and amount given back, and how it goes back."""
    by_resident = getattr(user, "id", None) == booking.user_id
    percent, amount = payment_services.refund_on_cancel(booking, now, by_resident=by_resident)
    paid = sum(p.amount for p in booking.payments if p.status == PaymentStatus.SUCCEEDED)
    return {
        "paid": paid,
        "percent": percent,
        "amount": amount,
        "card": payment_services.card_paid(booking),
        "by_resident": by_resident,
        "closed": paid > 0 and by_resident and payment_services.closed_during(booking),
        "held": booking.payment_status == PaymentState.AUTHORIZED,
    }


def _confirm_cancel(booking: Booking, form: CancelForm, status: int = 200):
    now = utcnow()
    if not booking.can_cancel(current_user):
        abort(403)
    if not offers_cancel(booking, current_user, now):
        flash(_("This booking can no longer be cancelled."), "error")
        return redirect(url_for("bookings.detail", booking_id=booking.id))
    return render_template(
        "bookings/cancel.html",
        booking=booking,
        zone=booking.space.zone,
        form=form,
        terms=cancel_terms(booking, current_user, now),
        next=safe_next(request.values.get("next")),
    ), status


@bp.get("/<int:booking_id>/cancel")
@login_required
def confirm_cancel(booking_id: int):
    """The confirmation step: what cancelling gives back and when, before anything changes."""
    return _confirm_cancel(load_booking(booking_id), CancelForm(formdata=None))


@bp.post("/<int:booking_id>/cancel")
@login_required
def cancel(booking_id: int):
    booking = load_booking(booking_id)
    form = CancelForm()
    if not form.validate_on_submit():
        flash(" ".join(e for errors in form.errors.values() for e in errors), "error")
        return redirect(url_for("bookings.detail", booking_id=booking.id))
    if request.form.get("confirm") != "1":
        # A cancel button elsewhere (the series page) leads here first: nothing is cancelled
        # before the person saw what they get back.
        return _confirm_cancel(booking, form)
    try:
        booking_services.cancel(booking, current_user, reason=form.reason.data)
    except ValidationFailed as exc:
        db.session.rollback()
        booking = load_booking(booking_id)
        form.reason.errors = [*form.reason.errors, *exc.errors.get("reason", [])]
        form.form_errors.extend(
            m for key, messages in exc.errors.items() if key != "reason" for m in messages
        )
        return _confirm_cancel(booking, form, 422)
    except InvalidTransition as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        db.session.commit()
        flash(_("The booking was cancelled."), "success")
    back = safe_next(request.form.get("next"))  # e.g. the page of its series
    return redirect(back or url_for("bookings.detail", booking_id=booking_id))
