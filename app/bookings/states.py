"""The states of a booking, of its approval stages and of what it owes, with their named sets and
the one table of allowed transitions.

Every state is a `StrEnum`: a member is the string stored in the database (`BookingStatus.
APPROVED == "approved"`), so rows, JSON and templates see the same text as before. The database
CHECK constraints are generated from these enums (`app.db.one_of`), in definition order, so the
order of the members here is the order in the migrations: add a member at the end, with a
migration that widens the constraint.
"""

from __future__ import annotations

from enum import StrEnum

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l


class BookingStatus(StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    COMPLETED = "completed"
    NO_SHOW = "no_show"
    RETURNED = "returned"  # sent back to the resident for changes; keeps its slot
    ENTERED = "entered"  # a lottery entry; holds nothing until drawn
    LOST = "lost"  # not drawn in the lottery
    AWAITING_PAYMENT = "awaiting_payment"  # holds the slot while the resident pays


S = BookingStatus

STATUS_LABELS: dict[str, LazyString] = {
    S.REQUESTED: _l("Requested"),
    S.APPROVED: _l("Approved"),
    S.CONFIRMED: _l("Confirmed"),
    S.REJECTED: _l("Rejected"),
    S.CANCELLED: _l("Cancelled"),
    S.EXPIRED: _l("Expired"),
    S.COMPLETED: _l("Completed"),
    S.NO_SHOW: _l("No-show"),
    S.RETURNED: _l("Returned for changes"),
    S.ENTERED: _l("In the lottery"),
    S.LOST: _l("Not drawn"),
    S.AWAITING_PAYMENT: _l("Awaiting payment"),
}

# The one table of allowed transitions. `None` is the state before the booking exists.
TRANSITIONS: dict[str | None, frozenset[BookingStatus]] = {
    None: frozenset({S.REQUESTED, S.CONFIRMED, S.APPROVED, S.ENTERED, S.AWAITING_PAYMENT}),
    # The slot is held while the resident pays (instant spaces) or has the card authorised
    # (card holds at request); then it is confirmed, requested or approved, or it lapses.
    S.AWAITING_PAYMENT: frozenset({S.CONFIRMED, S.REQUESTED, S.APPROVED, S.EXPIRED, S.CANCELLED}),
    S.REQUESTED: frozenset({S.APPROVED, S.REJECTED, S.CANCELLED, S.EXPIRED, S.RETURNED}),
    S.RETURNED: frozenset({S.REQUESTED, S.CANCELLED, S.EXPIRED}),
    S.ENTERED: frozenset({S.REQUESTED, S.APPROVED, S.LOST, S.CANCELLED}),
    S.LOST: frozenset(),
    # An approved booking that is not paid by its payment deadline expires.
    S.APPROVED: frozenset({S.COMPLETED, S.NO_SHOW, S.CANCELLED, S.EXPIRED}),
    S.CONFIRMED: frozenset({S.COMPLETED, S.NO_SHOW, S.CANCELLED}),
    S.REJECTED: frozenset(),
    S.CANCELLED: frozenset(),
    S.EXPIRED: frozenset(),
    S.COMPLETED: frozenset(),
    S.NO_SHOW: frozenset(),
}

# States in which a booking holds its slot; the database exclusion constraint covers exactly these.
ACTIVE = (S.REQUESTED, S.APPROVED, S.CONFIRMED, S.RETURNED, S.AWAITING_PAYMENT)
# Waiting for an approver's decision (or for the resident's changes, which go back to one).
UNDECIDED = (S.REQUESTED, S.RETURNED)
# Booked time: what the statistics count as used (or no-show) time.
BOOKED = (S.APPROVED, S.CONFIRMED, S.COMPLETED, S.NO_SHOW)
# Granted and not yet over: the booking will take place.
GRANTED = (S.APPROVED, S.CONFIRMED)
# Ended without taking place; the approval stages still open are closed.
CALLED_OFF = (S.REJECTED, S.CANCELLED, S.EXPIRED, S.LOST)
# Decided by an approver (who and when are recorded on the booking).
DECIDED = (S.APPROVED, S.REJECTED)
# What counts against a person's quota: asked for or had, and not called off.
COUNTED = (S.REQUESTED, S.APPROVED, S.CONFIRMED, S.RETURNED, S.COMPLETED, S.NO_SHOW)
# No way out.
TERMINAL = tuple(s for s in BookingStatus if not TRANSITIONS[s])


class StageState(StrEnum):
    """The state of one approval stage of a request."""

    WAITING = "waiting"
    PENDING = "pending"  # deciding now
    APPROVED = "approved"
    REJECTED = "rejected"
    RETURNED = "returned"
    ESCALATED = "escalated"
    AUTO_APPROVED = "auto_approved"
    NOTIFIED = "notified"
    EXPIRED = "expired"
    SKIPPED = "skipped"


STAGE_STATE_LABELS: dict[str, LazyString] = {
    StageState.WAITING: _l("Waiting"),
    StageState.PENDING: _l("Deciding now"),
    StageState.APPROVED: _l("Approved"),
    StageState.REJECTED: _l("Rejected"),
    StageState.RETURNED: _l("Returned for changes"),
    StageState.ESCALATED: _l("Passed on after the deadline"),
    StageState.AUTO_APPROVED: _l("Approved automatically"),
    StageState.NOTIFIED: _l("Notified"),
    StageState.EXPIRED: _l("Expired"),
    StageState.SKIPPED: _l("Not reached"),
}

# A stage that has passed: the request moves on to the next one.
STAGE_PASSED = (
    StageState.APPROVED,
    StageState.AUTO_APPROVED,
    StageState.NOTIFIED,
    StageState.ESCALATED,
)
# A stage that ended the request.
STAGE_ENDED = (StageState.REJECTED, StageState.EXPIRED)
# A stage someone is deciding now (or waiting on the resident's changes for).
STAGE_OPEN = (StageState.PENDING, StageState.RETURNED)


class PaymentState(StrEnum):
    """What a booking owes, kept on the booking for the queue, the calendar and the sweep."""

    NONE = "none"
    AFTER_APPROVAL = "after_approval"
    HOLD_PENDING = "hold_pending"
    AUTHORIZED = "authorized"
    DUE = "due"
    PAID = "paid"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    VOID = "void"


PAYMENT_STATES: dict[str, LazyString] = {
    PaymentState.NONE: _l("Nothing to pay"),
    PaymentState.AFTER_APPROVAL: _l("Payable after approval"),
    PaymentState.HOLD_PENDING: _l("Card hold to be authorised"),
    PaymentState.AUTHORIZED: _l("Card authorised (held)"),
    PaymentState.DUE: _l("Payment due"),
    PaymentState.PAID: _l("Paid"),
    PaymentState.PARTIALLY_REFUNDED: _l("Partly refunded"),
    PaymentState.REFUNDED: _l("Refunded"),
    PaymentState.VOID: _l("Not charged"),
}
# The payment badge of a booking called off after it was paid: where its refund stands
# (Booking.payment_badge), instead of a "paid" beside "cancelled".
REFUND_BADGES: dict[str, LazyString] = {
    "refund-pending": _l("Refund in progress"),
    "refund-done": _l("Refund done"),
    "not-refunded": _l("Not refunded"),
}
# Owed and not paid yet: a manager may record it paid offline.
PAYABLE = (PaymentState.AFTER_APPROVAL, PaymentState.DUE, PaymentState.HOLD_PENDING)
# Paid, whatever was refunded since.
SETTLED = (PaymentState.PAID, PaymentState.PARTIALLY_REFUNDED, PaymentState.REFUNDED)
# Nothing to collect.
NOTHING_OWED = (PaymentState.NONE, PaymentState.VOID)


class DrawOutcome(StrEnum):
    """A lottery entry's outcome in a draw's published result."""

    WON = "won"
    LOST = "lost"


del S


class WaiverState(StrEnum):
    """Where a booking's claimed fee waiver stands (Booking.waiver_state)."""

    VERIFIED = "verified"  # verified on the person's profile: priced in from the start
    CLAIMED = "claimed"  # claimed on this request only: full price until an approver saw proof
    CONFIRMED = "confirmed"  # an approver saw the evidence: priced in (difference refunded)
    NOT_APPLIED = "not_applied"  # approved without the evidence: full price


WAIVER_STATE_LABELS: dict[str, LazyString] = {
    WaiverState.VERIFIED: _l("Verified on the profile"),
    WaiverState.CLAIMED: _l("Claimed, not yet checked"),
    WaiverState.CONFIRMED: _l("Evidence seen by the approver"),
    WaiverState.NOT_APPLIED: _l("Not applied (no evidence seen)"),
}
