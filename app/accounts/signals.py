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

# Someone asked for a "forgot password" link (sender: the normalised address typed; user=its
# active account or None, reset=the PasswordReset row or None, locale). Sent whether or not the
# address has an account, so the same work (an email in the outbox) follows either way.
password_reset_requested = _signals.signal("password-reset-requested")
# A password was set from a reset link (sender: the user).
password_reset_done = _signals.signal("password-reset-done")

# A signed-in person asked to move their account to another address (sender: the user;
# new_email, token=the confirmation token for the new address).
email_change_requested = _signals.signal("email-change-requested")
# The new address was confirmed and the account moved to it (sender: the user; old_email).
email_changed = _signals.signal("email-changed")

# An administrator closed an account (sender: the user; actor=the administrator, now): its
# bookings still to come are cancelled by whoever owns bookings.
account_deactivated = _signals.signal("account-deactivated")

# Someone withdrew optional purposes of processing (sender: the user's id; purposes=the
# purposes withdrawn): the statistics forget what they keep about the person.
consent_withdrawn = _signals.signal("consent-withdrawn")

# A person sent a residency or fee-waiver claim (sender: the Verification row; now): the
# officers of its district are told.
verification_submitted = _signals.signal("verification-submitted")
