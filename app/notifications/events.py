"""What causes a notification: watched in the session, so every path that changes a booking
(requests, the queue, bulk decisions, series, the API, the sweep, lottery draws, payments,
imports) tells people the same way without each remembering to.

A `before_flush` listener looks at what is about to be written — new booking transitions,
approval stages that start or pass, payments that succeed, refunds made, closures added — and
adds the notifications to the same flush. They are therefore part of the same transaction (and
of the same savepoint): a rolled-back change leaves no notification and sends no email.
"""

from __future__ import annotations

from sqlalchemy import event, inspect, select

from app.accounts.models import User
from app.bookings import signals as booking_signals
from app.bookings.models import BookingStage, BookingTransition
from app.extensions import db
from app.notifications import announce, audience
from app.notifications.services import PREFS_CACHE, prefetch
from app.payments.models import Payment, Refund
from app.spaces.models import Closure

SEEN_KEY = "notifications.seen"  # (what, object) already announced in this transaction


def _changed_to(obj, attr: str):
    """The new value of `attr` when this flush changes it (or the object is new), else None."""
    state = inspect(obj)
    hist = state.attrs[attr].history
    if state.pending or not state.has_identity:
        return getattr(obj, attr)
    if hist.added and (not hist.deleted or hist.added[0] != hist.deleted[0]):
        return hist.added[0]
    return None


_listening = False


def register() -> None:
    global _listening
    if _listening:  # the session is shared by every app this process makes
        return
    _listening = True

    booking_signals.lottery_drawing.connect(_drawing)

    @event.listens_for(db.session, "before_flush")
    def _before_flush(session, _ctx, _instances):
        if session.info.get("notifications.off"):
            return
        _collect(session)

    @event.listens_for(db.session, "after_commit")
    def _committed(session):
        if not session.in_nested_transaction():
            _forget(session)

    @event.listens_for(db.session, "after_rollback")
    def _rolled_back(session):
        _forget(session)


def _drawing(_draw, *, user_ids, **_extra) -> None:
    # Every entrant hears the result: their preferences in one query, not one per entrant.

    prefetch(user_ids)


def _forget(session) -> None:

    for key in (SEEN_KEY, PREFS_CACHE, audience.AUDIENCE_CACHE):
        session.info.pop(key, None)


def _once(session, key) -> bool:
    seen = session.info.setdefault(SEEN_KEY, set())
    if key in seen:
        return False
    seen.add(key)
    return True


def _collect(session) -> None:

    transitions, stages, paid, refunds, closures = [], [], [], [], []
    for obj in list(session.new) + list(session.dirty):
        if isinstance(obj, BookingTransition):
            if obj in session.new:
                transitions.append(obj)
        elif isinstance(obj, BookingStage):
            stages.append(obj)
        elif isinstance(obj, Payment):
            if _changed_to(obj, "status") == "succeeded":
                paid.append(obj)
        elif isinstance(obj, Refund):
            if _changed_to(obj, "status") == "succeeded":
                refunds.append(obj)
        elif isinstance(obj, Closure) and obj in session.new:
            closures.append(obj)
    if not (transitions or stages or paid or refunds or closures):
        return

    # Everyone the bookings below belong to, with their preferences, in two queries.
    involved = {tr.booking.user_id for tr in transitions if tr.booking is not None}
    involved |= {p.booking.user_id for p in paid if p.booking is not None}
    involved.discard(None)
    if len(involved) > 1:

        db.session.scalars(select(User).where(User.id.in_(sorted(involved)))).all()
    prefetch(involved)

    decided_now = set()  # bookings that reached a final decision in this flush
    for tr in sorted(transitions, key=lambda t: (t.at, id(t))):
        booking = tr.booking
        if booking is None:
            continue
        if tr.to_status in ("approved", "confirmed", "rejected", "cancelled", "expired", "lost"):
            decided_now.add(id(booking))
        if _once(session, ("transition", tr)):
            announce.transition(booking, tr)
    for stage in stages:
        new_state = _changed_to(stage, "state")
        booking = stage.booking
        if new_state is None or booking is None:
            continue
        if new_state == "pending" and booking.status == "requested":
            if _once(session, ("stage", stage)):
                announce.stage_started(booking, stage)
        elif new_state == "notified" and booking.status in ("requested", "approved", "confirmed"):
            if _once(session, ("notice", stage)):
                announce.stage_notice(booking, stage)
        elif (
            new_state in ("approved", "auto_approved")
            and id(booking) not in decided_now
            and booking.status == "requested"
            # only once the next stage has started (a flush can come between the two)
            and any(s.state == "pending" for s in booking.stages)
            and _once(session, ("passed", stage))
        ):
            announce.stage_passed(booking, stage)
    for payment in paid:
        if _once(session, ("paid", payment)):
            announce.payment_received(payment, quiet=id(payment.booking) in decided_now)
    for refund in refunds:
        if _once(session, ("refund", refund)):
            announce.refunded(refund)
    if closures:
        announce.closures(closures)


