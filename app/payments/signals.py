"""What happens to money, announced for the packages above payments (notifications).
Receivers run inside the change's transaction and never commit (see app/bookings/signals.py).
"""

from blinker import Namespace

_signals = Namespace()

# A payment moved between states (sender: the payment; from_status (None for a payment recorded
# as already paid, e.g. cash), to, now).
payment_moved = _signals.signal("payment-moved")

# A refund was made or failed (sender: the refund; to=RefundStatus.SUCCEEDED or FAILED, now).
refund_moved = _signals.signal("refund-moved")

# Stripe closed a dispute on a payment (sender: the payment; outcome="won" or "lost", amount,
# now).
dispute_closed = _signals.signal("dispute-closed")
