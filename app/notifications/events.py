"""What causes a notification: the domain events of bookings, approval stages, payments and
closures (blinker signals; see app/bookings/signals.py, app/payments/signals.py,
app/spaces/signals.py). Every path that changes a booking — requests, the queue, bulk
decisions, series, the API, the sweep, lottery draws, payments, imports — sends the same events,
so people are told the same way without each path remembering to.

A receiver only notes the event; the messages are composed at the next flush (`before_flush`),
when the change is complete: a request's first stage has started by then, and payments has said
what the booking owes. They are therefore part of the same transaction and of the same savepoint:
a rolled-back change leaves no notification and sends no email, and events noted inside a
savepoint that rolls back are dropped with it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, inspect, select

from app.accounts.models import User
from app.bookings import signals as booking_signals
from app.bookings.states import CALLED_OFF, GRANTED, BookingStatus, StageState
from app.extensions import db
from app.notifications import announce, audience, resolve
from app.notifications.services import PREFS_CACHE, prefetch
from app.payments import settlement
from app.payments import signals as payment_signals
from app.payments.states import PaymentStatus, RefundStatus
from app.spaces import signals as space_signals

EVENTS_KEY = "notifications.events"  # [(transaction, what, object)] noted since the last flush
ANNOUNCED_STAGE_STATES = (
    StageState.PENDING, StageState.NOTIFIED, StageState.APPROVED, StageState.AUTO_APPROVED
)
SEEN_KEY = "notifications.seen"  # (what, object) already announced in this transaction

_listening = False


def register() -> None:
    global _listening
    if _listening:  # the session is shared by every app this process makes
        return
    _listening = True

    booking_signals.lottery_drawing.connect(_drawing)
    booking_signals.booking_created.connect(_transitioned)
    booking_signals.booking_transitioned.connect(_transitioned)
    booking_signals.stage_moved.connect(_stage_moved)
    payment_signals.payment_moved.connect(_payment_moved)
    payment_signals.refund_moved.connect(_refund_moved)
    payment_signals.dispute_closed.connect(_dispute_closed)
    # A statement is complete when it is announced: composed at once, not at the next flush.
    settlement.statement_issued.connect(announce.statement_issued)
    settlement.statement_paid.connect(announce.statement_paid)
    space_signals.closure_added.connect(_closure_added)

    @event.listens_for(db.session, "before_flush")
    def _before_flush(session, _ctx, _instances):
        events = session.info.pop(EVENTS_KEY, None)
        if events and not session.info.get("notifications.off"):
            _compose(session, events)

    @event.listens_for(db.session, "after_soft_rollback")
    def _rolled_back_to(session, previous_transaction):
        # A savepoint (or the whole transaction) rolled back: so did what it announced.
        events = session.info.get(EVENTS_KEY)
        if events:
            session.info[EVENTS_KEY] = [
                e for e in events if not _within(e[0], previous_transaction)
            ]

    @event.listens_for(db.session, "after_commit")
    def _committed(session):
        if not session.in_nested_transaction():
            _forget(session)

    @event.listens_for(db.session, "after_rollback")
    def _rolled_back(session):
        _forget(session)


def _within(transaction, ancestor) -> bool:
    while transaction is not None:
        if transaction is ancestor:
            return True
        transaction = transaction.parent
    return False


def _note(what: str, obj) -> None:
    session = db.session()
    transaction = session.get_nested_transaction() or session.get_transaction()
    session.info.setdefault(EVENTS_KEY, []).append((transaction, what, obj))


def _transitioned(_booking, *, transition, **_extra) -> None:
    _note("transition", transition)


def _stage_moved(stage, *, state, **_extra) -> None:
    # A stage that starts or passes; an escalated one is announced with the stage after it.
    if state in ANNOUNCED_STAGE_STATES:
        _note("stage", stage)


def _payment_moved(payment, *, to, **_extra) -> None:
    if to == PaymentStatus.SUCCEEDED:
        _note("paid", payment)


def _refund_moved(refund, *, to, **_extra) -> None:
    if to == RefundStatus.SUCCEEDED:
        _note("refund", refund)
    elif to == RefundStatus.FAILED:
        _note("refund_failed", refund)


def _dispute_closed(payment, **_extra) -> None:
    _note("dispute", payment)


def _closure_added(closure, **_extra) -> None:
    _note("closure", closure)


def _drawing(_draw, *, user_ids, **_extra) -> None:
    # Every entrant hears the result: their preferences in one query, not one per entrant.

    prefetch(user_ids)


def _forget(session) -> None:

    for key in (EVENTS_KEY, SEEN_KEY, PREFS_CACHE, audience.AUDIENCE_CACHE):
        session.info.pop(key, None)


def _once(session, key) -> bool:
    seen = session.info.setdefault(SEEN_KEY, set())
    if key in seen:
        return False
    seen.add(key)
    return True


def _compose(session, events) -> None:
    transitions: list[Any] = []
    stages: list[Any] = []
    paid: list[Any] = []
    refunds: list[Any] = []
    closures: list[Any] = []
    failed_refunds: list[Any] = []
    disputes: list[Any] = []
    lists = {"transition": transitions, "stage": stages, "paid": paid, "refund": refunds,
             "closure": closures, "refund_failed": failed_refunds, "dispute": disputes}
    noted, later = set(), []
    for noted_event in events:
        _transaction, what, obj = noted_event
        state = inspect(obj)
        if state.transient:
            # Not added to the session yet (a booking being built when a query autoflushed):
            # it is announced by the flush that writes it.
            later.append(noted_event)
            continue
        if (what, id(obj)) in noted or obj not in session or state.deleted or state.was_deleted:
            continue
        noted.add((what, id(obj)))
        lists[what].append(obj)
    if later:
        session.info.setdefault(EVENTS_KEY, []).extend(later)
    if not (transitions or stages or paid or refunds or closures or failed_refunds or disputes):
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
        if tr.to_status in GRANTED or tr.to_status in CALLED_OFF:
            decided_now.add(id(booking))
        if _once(session, ("transition", tr)):
            announce.transition(booking, tr)
    for stage in stages:
        new_state = stage.state
        booking = stage.booking
        if booking is None:
            continue
        if new_state == StageState.PENDING and booking.status == BookingStatus.REQUESTED:
            if _once(session, ("stage", stage)):
                announce.stage_started(booking, stage)
        elif new_state == StageState.NOTIFIED and booking.status in (
            BookingStatus.REQUESTED, *GRANTED
        ):
            if _once(session, ("notice", stage)):
                announce.stage_notice(booking, stage)
        elif (
            new_state in (StageState.APPROVED, StageState.AUTO_APPROVED)
            and id(booking) not in decided_now
            and booking.status == BookingStatus.REQUESTED
            # only once the next stage has started (a flush can come between the two)
            and any(s.state == StageState.PENDING for s in booking.stages)
            and _once(session, ("passed", stage))
        ):
            announce.stage_passed(booking, stage)
    for payment in paid:
        if _once(session, ("paid", payment)):
            announce.payment_received(payment, quiet=id(payment.booking) in decided_now)
    for refund in refunds:
        if _once(session, ("refund", refund)):
            announce.refunded(refund)
    for refund in failed_refunds:
        if _once(session, ("refund_failed", refund)):
            announce.refund_failed(refund)
    for payment in disputes:
        if _once(session, ("dispute", payment, payment.dispute_status)):
            announce.dispute_closed(payment)
    if closures:
        announce.closures(closures)
    _resolve(transitions, paid)


def _resolve(transitions, paid) -> None:
    """What the reader was asked to do and has done (or need not do any more) is marked read."""
    done: dict[int, set[str]] = {}
    for tr in transitions:
        kinds = resolve.resolved_by_transition(tr)
        if kinds and tr.booking is not None and tr.booking.id is not None:
            done.setdefault(tr.booking.id, set()).update(kinds)
    for payment in paid:
        booking = payment.booking
        if booking is not None and booking.id is not None:
            done.setdefault(booking.id, set()).add("payment_due")
    resolve.resolve(done)


