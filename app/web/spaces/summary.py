"""The summary beside the request form: the time, the people, the total, the cancellation policy
in plain words and what happens after sending. Rendered with the form and again, as a fragment,
whenever the form changes (static/js/book-summary.js), from the same rules and pricing code the
request itself goes through."""

from __future__ import annotations

from datetime import datetime, timedelta
from types import SimpleNamespace

from flask import current_app
from flask_babel import gettext as _
from flask_babel import ngettext

from app.bookings import judging
from app.payments import gateway
from app.payments import services as payment_services


def policy_lines(effective, total: int) -> list[str]:
    """The cancellation policy as short sentences a resident reads at a glance."""
    if total <= 0:
        return [_("Free of charge: cancel any time before the start.")]
    tiers = effective.refund_tiers[1] if effective.refund_tiers else None
    lines = []
    if not tiers:
        lines.append(_("Cancel any time before the start: everything is refunded."))
    else:
        for tier in tiers:  # days_before descending
            if tier.days_before > 0:
                lines.append(ngettext(
                    "Cancel %(num)d day or more before: %(p)d%% back.",
                    "Cancel %(num)d days or more before: %(p)d%% back.",
                    tier.days_before, p=tier.percent,
                ))
            else:
                lines.append(_("Cancel later, before the start: %(p)d%% back.", p=tier.percent))
        if tiers[-1].days_before > 0:
            lines.append(_("Later: no refund."))
    lines.append(_("If the owner cancels or closes the space, you get everything back."))
    return lines


def payment_flow(space, judgement: judging.Judgement, start: datetime, now: datetime) -> str:
    """How the money goes: free, pay_now (online, confirms at once), pay_manager (offline),
    hold (card authorised now, charged on approval) or after_approval."""
    decision = judgement.decision
    if decision.quote.total <= 0:
        return "free"
    online = gateway.configured()
    if decision.mode == "instant":
        return "pay_now" if online else "pay_manager"
    if decision.mode == "request" and decision.needs_decision:
        probe = SimpleNamespace(space=space, start_at=start)
        return "hold" if payment_services.card_hold_applies(probe, now) else "after_approval"
    return "after_approval"


def booking_summary(space, judgement: judging.Judgement | None, *, start, end, attendees,
                    problems=(), now: datetime) -> dict:
    """What the summary panel shows (the template puts it into words)."""
    if judgement is None or start is None or end is None:
        return {"ready": False, "problems": list(problems)}
    decision = judgement.decision
    total = decision.quote.total
    hours = current_app.config["PAYMENT_DUE_HOURS"]
    return {
        "ready": True,
        "start": start,
        "end": end,
        "minutes": int((end - start) / timedelta(minutes=1)),
        "attendees": attendees,
        "total": total,
        "allowed": decision.allowed and not problems,
        "problems": list(problems),
        "decision": decision,
        "policy": policy_lines(judgement.effective, total),
        "flow": payment_flow(space, judgement, start, now),
        "due": min(now + timedelta(hours=hours), start),
        "due_hours": hours,
        "hold_minutes": current_app.config["CHECKOUT_HOLD_MINUTES"],
    }
