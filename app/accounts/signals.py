"""What happens to accounts, announced for whoever reacts (notifications send the emails).

Accounts sit low in the layers: they announce, packages above subscribe (blinker, as Flask
does), so nothing here imports them.
"""

from blinker import Namespace

_signals = Namespace()

# An account's address needs confirming: at sign-up, or asked again (sender: the user;
# token=the confirmation token).
verification_requested = _signals.signal("verification-requested")
# Someone signed up with the address of an existing account (sender: that account's user).
signup_attempted = _signals.signal("signup-attempted")

# An invitation to a resident group was sent or renewed (sender: the invitation; account=the
# account of its address or None, params=what the email says, locale, now).
group_invitation_sent = _signals.signal("group-invitation-sent")
