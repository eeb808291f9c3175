"""What happens to owner organisations, announced for whoever reacts (notifications send the
emails and inbox entries; see app.notifications.orgs). Orgs sit low in the layers, so nothing
here imports the packages that listen."""

from blinker import Namespace

_signals = Namespace()

# An application was sent or sent again (sender: the organisation; now).
application_submitted = _signals.signal("org-application-submitted")
# A reviewer approved, rejected or asked for more (sender: the organisation; decision, actor,
# now).
application_decided = _signals.signal("org-application-decided")
# An administrator suspended or reinstated an approved organisation (sender: the organisation;
# suspended=True/False, now).
status_changed = _signals.signal("org-status-changed")
# A team invitation was sent (sender: the invitation; token, inviter, locale, now).
invitation_sent = _signals.signal("org-invitation-sent")
