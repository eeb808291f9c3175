"""What happens to money, announced for the packages above payments (notifications).
Receivers run inside the change's transaction and never commit (see app/bookings/signals.py).
"""

from blinker import Namespace

_signals = Namespace()

# A payment moved between states (sender: the payment; from_status (None for a payment recorded
# as already paid, e.g. cash), to, now).
payment_moved = _signals.signal("payment-moved")

# A refund was made (sender: the refund; to="succeeded", now).
refund_moved = _signals.signal("refund-moved")
