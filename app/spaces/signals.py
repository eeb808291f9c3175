"""What happens to spaces, announced for the packages above (notifications tell the residents
whose bookings a new closure meets). Receivers run inside the change's transaction.
"""

from blinker import Namespace

_signals = Namespace()

# A closure was added to a space's calendar (sender: the closure; by hand or by a calendar
# import).
closure_added = _signals.signal("closure-added")
