"""What happens to bookings, announced for the packages above that react (blinker, as Flask and
Indico do): payments decide what a booking owes and move money, notifications tell people,
statistics and calendars follow. Receivers run inside the change's transaction, so what they
write commits or rolls back with it; they never commit, and anything external (Stripe, email)
they queue for after the commit (app.jobs).
"""

from blinker import Namespace

_signals = Namespace()

# A request is being made (sender: the new booking, not yet flushed; to=the state it would
# start in, now=…). A receiver may return another state to start in: payments answers
# "awaiting_payment" while the resident pays or has a card authorised.
booking_requested = _signals.signal("booking-requested")

# A booking was made, in the state it starts in (sender: the booking, just added to the session;
# transition=its first transition row, now). Whoever tells people hears of it here.
booking_created = _signals.signal("booking-created")

# A booking moved between states (sender: the booking; from_status, to, actor, now,
# transition=the row recorded for it).
booking_transitioned = _signals.signal("booking-transitioned")

# A lottery draw is deciding its entries (sender: the draw; user_ids=every entrant), before
# each entry moves: whoever tells entrants can prepare for all of them at once.
lottery_drawing = _signals.signal("lottery-drawing")

# An approval stage moved (sender: the stage; state=its new state, booking). Sent for the
# states people hear about: a stage starts (pending), is told (notified), or is decided
# (approved, auto_approved, rejected, returned, escalated, expired).
stage_moved = _signals.signal("stage-moved")


def starting_state(booking, to: str, now) -> str:
    """The state a new booking starts in, after the receivers of `booking_requested` spoke."""
    for _receiver, answer in booking_requested.send(booking, to=to, now=now):
        if answer:
            to = answer
    return to

# A booking's price went down after it was made: a fee waiver claimed on the request was
# confirmed by someone who saw the evidence (sender: the booking; by=the amount taken off,
# actor, now). Payments refunds the difference of what was already paid.
price_lowered = _signals.signal("price-lowered")
