"""Who is told what when a booking, a stage, a payment or a closure changes (called from
`events`, inside the flush that writes the change).

Every message's facts are captured in `params` now, as JSON: the inbox and the email say what
happened at that moment, in the reader's language, without reading the booking again.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from app.accounts.models import User
from app.bookings.models import Booking
from app.bookings.states import ACTIVE, GRANTED, SETTLED, BookingStatus, StageState
from app.extensions import db
from app.notifications.audience import stage_audience, when_iso
from app.notifications.services import notify
from app.orgs.models import OrgMembership
from app.payments import services as payment_services


def booking_params(booking) -> dict:
    space = booking.space
    owner = space.owner if space is not None else None
    return {
        "booking": {
            "space": space.name if space is not None else "",
            "space_id": booking.space_id,
            "owner": owner.name if owner is not None else "",
            "address": space.address if space is not None else "",
            "start": when_iso(booking.start_at),
            "end": when_iso(booking.end_at),
            "tz": space.timezone if space is not None else "Asia/Seoul",
            "purpose": booking.purpose,
            "attendees": booking.attendees,
            "amount": booking.price_amount or 0,
            "currency": booking.currency or "KRW",
            "status": booking.status,
            "resident": booking.user.name if booking.user is not None else "",
            "series_id": booking.series_id,
        }
    }


def who_parts(stage) -> dict:
    """Who decides a stage, as parts the reader's language puts into words (render.who_text)."""
    jurisdiction = stage.jurisdiction if stage.approver == "jurisdiction" else None
    return {
        "approver": stage.approver,
        "label": stage.label or "",
        "source": stage.source_name or "",
        "jurisdiction": jurisdiction.name if jurisdiction is not None else None,
    }


def _stage_params(stage) -> dict:
    return {
        "position": stage.position + 1,
        "count": len(stage.booking.stages),
        "who": who_parts(stage),
        "due": when_iso(stage.due_at),
        "reason": stage.reason,
    }


def _next_stage(booking) -> dict | None:
    """The stage deciding now. (Read from the stages' states: an autoflush can run while
    `approvals.advance` has started a stage but not yet moved `stage_position`.)"""
    stage = next((s for s in booking.stages if s.state == StageState.PENDING), None)
    return _stage_params(stage) if stage is not None else None


# --------------------------------------------------------------------------- bookings
def transition(booking, tr) -> None:
    to, before = tr.to_status, tr.from_status
    resident = booking.user
    params = booking_params(booking)
    params.update(reason=tr.reason, from_status=before, to_status=to)
    by_resident = tr.actor is not None and tr.actor.id == booking.user_id
    first_request = before in (None, BookingStatus.AWAITING_PAYMENT, BookingStatus.ENTERED)
    if to == BookingStatus.REQUESTED and first_request:
        if before == BookingStatus.ENTERED:
            notify([resident], "lottery_result", booking=booking,
                   params={**params, "won": True, "next": _next_stage(booking)})
            return
        notify([resident], "booking_received", booking=booking,
               params={**params, "next": _next_stage(booking)})
    elif to == BookingStatus.ENTERED:
        params["draw_at"] = when_iso(booking.draw_at)
        notify([resident], "booking_received", booking=booking, params=params)
    elif to in GRANTED:
        if before == BookingStatus.ENTERED:
            notify([resident], "lottery_result", booking=booking,
                   params={**params, "won": True, "approved": True})
        _approved(booking, params)
    elif to == BookingStatus.REJECTED:
        stage = _last_decided(booking, StageState.REJECTED)
        params["stage"] = _stage_params(stage) if stage is not None else None
        notify([resident], "booking_rejected", booking=booking, params=params)
    elif to == BookingStatus.RETURNED:
        stage = booking.current_stage
        params["answer_by"] = when_iso(stage.due_at) if stage is not None else None
        notify([resident], "booking_returned", booking=booking, params=params)
    elif to == BookingStatus.CANCELLED:
        params["refund"] = _cancel_refund(booking, tr, by_resident)
        if by_resident:
            notify([resident], "cancellation_confirmed", booking=booking, params=params)
        else:
            params["by"] = tr.actor.name if tr.actor is not None else None
            notify([resident], "booking_cancelled", booking=booking, params=params)
    elif to == BookingStatus.EXPIRED:
        params["was"] = before
        notify([resident], "booking_expired", booking=booking, params=params)
    elif to == BookingStatus.LOST:
        notify([resident], "lottery_result", booking=booking, params={**params, "won": False})


def _cancel_refund(booking, tr, by_resident: bool) -> dict | None:
    """What the cancellation gives back, as the payments package refunds it; None when nothing
    was paid."""
    if booking.payment_status not in SETTLED:
        return None
    percent, amount = payment_services.refund_on_cancel(booking, tr.at, by_resident=by_resident)
    return {"percent": percent, "amount": amount,
            "card": payment_services.card_paid(booking)}


def _approved(booking, params: dict) -> None:
    """Approved or confirmed: one message. When payment is now due it is the (mandatory)
    payment-due message that carries the approval and the calendar file."""
    status = booking.payment_status
    if status == "due":
        params.update(approved=True, due=when_iso(booking.payment_due_at),
                      amount=booking.price_amount)
        notify([booking.user], "payment_due", booking=booking, params=params)
        return
    params["paid"] = status == "paid"
    notify([booking.user], "booking_approved", booking=booking, params=params)


def _last_decided(booking, state: StageState):
    for stage in sorted(booking.stages, key=lambda s: s.position, reverse=True):
        if stage.state == state:
            return stage
    return None


def stage_started(booking, stage) -> None:
    """A deciding stage waits: its approvers hear of it (escalated when the stage before it
    passed it on at its deadline)."""
    escalated = any(s.state == StageState.ESCALATED and s.position < stage.position
                    for s in booking.stages)
    params = booking_params(booking)
    params["stage"] = _stage_params(stage)
    kind = "approval_escalated" if escalated else "approval_requested"
    notify(stage_audience(stage), kind, booking=booking, params=params, exclude=booking.user)


def stage_notice(booking, stage) -> None:
    params = booking_params(booking)
    params["stage"] = _stage_params(stage)
    notify(stage_audience(stage), "approval_notice", booking=booking, params=params,
           exclude=booking.user)


def stage_passed(booking, stage) -> None:
    """A stage approved while later stages remain: the resident follows along."""
    params = booking_params(booking)
    params["stage"] = _stage_params(stage)
    params["next"] = _next_stage(booking)
    notify([booking.user], "stage_decided", booking=booking, params=params)


# --------------------------------------------------------------------------- money
def payment_received(payment, *, quiet: bool = False) -> None:
    """Money arrived. `quiet`: the same flush confirms the booking, whose message says so."""
    booking = payment.booking
    if booking is None or quiet:
        return
    params = booking_params(booking)
    params.update(paid=payment.amount, currency=payment.currency,
                  method=payment.wallet or payment.method,
                  reference=payment.reference, card_last4=payment.card_last4)
    notify([booking.user], "payment_received", booking=booking, params=params)
    # The space's team hears when a resident pays online for an approved booking (a payment
    # one of them recorded by hand they know of already).
    if payment.recorded_by_id is None and payment.recorded_by is None and booking.space:
        notify(_space_team(booking.space.owner_id), "booking_paid", booking=booking,
               params=params, dedupe_key=f"paid-{payment.id}" if payment.id else None,
               exclude=booking.user)


def refunded(refund) -> None:
    payment = refund.payment
    booking = payment.booking if payment is not None else None
    if booking is None:
        return
    params = booking_params(booking)
    params.update(refunded=refund.amount, currency=payment.currency,
                  method=payment.wallet or payment.method,
                  reason=refund.reason, reference=refund.reference)
    notify([booking.user], "payment_refunded", booking=booking, params=params,
           dedupe_key=f"refund-{refund.id}" if refund.id else None)


def _money_params(payment, **extra) -> dict:
    booking = payment.booking
    params = booking_params(booking)
    params.update(currency=payment.currency, method=payment.wallet or payment.method, **extra)
    return params


def refund_failed(refund) -> None:
    """Stripe could not give the money back: the resident hears that it is being looked into,
    the owner's managers that they must refund again or hand the money back another way."""
    payment = refund.payment
    booking = payment.booking if payment is not None else None
    if booking is None:
        return
    params = _money_params(payment, refunded=refund.amount, reason=refund.last_error)
    key = f"refund-{refund.id}-failed" if refund.id else None
    notify([booking.user], "refund_failed", booking=booking, params=params, dedupe_key=key)
    space = booking.space
    if space is not None:
        notify(_owner_managers(space.owner_id), "refund_failed_owner", booking=booking,
               params=params, dedupe_key=key, exclude=booking.user)


def dispute_closed(payment) -> None:
    """Stripe closed a dispute: the owner's managers hear whether the money stays (won) or went
    back to the resident's bank (lost)."""
    booking = payment.booking
    if booking is None or booking.space is None:
        return
    params = _money_params(payment, paid=payment.amount, outcome=payment.dispute_status)
    notify(_owner_managers(booking.space.owner_id), "dispute_closed", booking=booking,
           params=params, dedupe_key=f"dispute-{payment.dispute_id}-{payment.dispute_status}")


# --------------------------------------------------------------------------- settlement
def _owner_managers(organisation_id: int) -> list:
    return list(db.session.scalars(
        select(User).join(OrgMembership, OrgMembership.user_id == User.id)
        .where(OrgMembership.organisation_id == organisation_id,
               OrgMembership.role.in_(("manager", "principal")))
        .order_by(User.id)
    ))


def _space_team(organisation_id: int) -> list:
    """The facility managers and staff of an organisation: who runs its spaces day to day."""
    return list(db.session.scalars(
        select(User).join(OrgMembership, OrgMembership.user_id == User.id)
        .where(OrgMembership.organisation_id == organisation_id,
               OrgMembership.role.in_(("manager", "staff")))
        .order_by(User.id)
    ))


def _statement_params(statement) -> dict:
    org = statement.organisation
    return {"org": statement.organisation_id, "owner": org.name if org is not None else "",
            "statement": statement.id, "month": f"{statement.month:%Y-%m}",
            "net": statement.net, "currency": statement.currency, "status": statement.status,
            "gross": statement.gross, "lines": statement.line_count}


def statement_issued(statement, *, now=None) -> None:
    """The owner's managers hear that a month's statement is out (and what will be sent)."""
    notify(_owner_managers(statement.organisation_id), "settlement_issued",
           params=_statement_params(statement), dedupe_key=f"settlement-{statement.id}-issued",
           now=now)


def statement_paid(statement, *, now=None) -> None:
    """...and that the money was transferred: the day, the account (masked), the reference."""
    params = _statement_params(statement)
    # The account as its last four digits: the bank's name is Korean whatever the language.
    last4 = (statement.paid_to or "").rpartition("*")[2]
    params.update(paid_on=statement.paid_on.isoformat() if statement.paid_on else None,
                  last4=last4, reference=statement.transfer_reference)
    notify(_owner_managers(statement.organisation_id), "settlement_paid", params=params,
           dedupe_key=f"settlement-{statement.id}-paid", now=now)


# --------------------------------------------------------------------------- closures
def closures(rows: list) -> None:
    """New closures: the residents whose active bookings fall in them are told (managers decide
    what happens to the booking; the closure never cancels it on its own)."""

    by_space: dict[int, list] = {}
    for closure in rows:
        space_id = closure.space_id or (closure.space.id if closure.space is not None else None)
        if space_id is not None:
            by_space.setdefault(space_id, []).append(closure)
    for space_id, items in by_space.items():
        lo = min(c.start_at for c in items)
        hi = max(c.end_at for c in items)
        bookings = db.session.scalars(
            select(Booking).where(
                Booking.space_id == space_id,
                Booking.status.in_(ACTIVE),
                Booking.start_at < hi,
                Booking.end_at > lo,
            )
        ).all()
        for booking in bookings:
            hit = next((c for c in items
                        if booking.start_at < c.end_at and booking.end_at > c.start_at), None)
            if hit is None:
                continue
            params = booking_params(booking)
            # Written to a resident: an imported event's title stays with the staff.
            params["closure"] = {"start": when_iso(hit.start_at), "end": when_iso(hit.end_at),
                                 "reason": hit.reason_for(manages=False) or None}
            key = f"closure-{booking.id}-{when_iso(hit.start_at)}-{when_iso(hit.end_at)}"
            notify([booking.user], "closure_conflict", booking=booking, params=params,
                   dedupe_key=key[:120])


# --------------------------------------------------------------------------- changed hours / rules
def booking_affected(booking, *, change: str, effective: datetime, note: str = "") -> None:
    """A booking kept although new opening hours (`change` "hours") or rules ("rules") no longer
    admit it: the resident is told it stands and who to ask."""
    params = booking_params(booking)
    params["change"] = {"kind": change, "from": when_iso(effective), "note": note[:500] or None}
    notify([booking.user], "booking_affected", booking=booking, params=params,
           dedupe_key=f"affected-{booking.id}-{change}-{when_iso(effective)}"[:120])
