"""Fee waivers (감면) on bookings: verified ones count from the start, claimed ones once seen.

A waiver verified on the person's profile (app.accounts.verification) is priced in when the
request is made. A waiver claimed on the request alone is not: the booking is priced in full
and its `waiver_state` is CLAIMED until an approver ticks "evidence seen" when approving (or, on
an instant-book or already approved booking, confirms it from the booking page). Confirming
takes the waiver's line off the stored price and announces `signals.price_lowered`, on which
payments refunds the difference of what was already paid. Approving the last stage without the
evidence leaves the price in full (NOT_APPLIED).
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _

from app.accounts.verification import verified_waivers
from app.bookings import signals
from app.bookings.models import Booking
from app.bookings.states import CALLED_OFF, TERMINAL, BookingStatus, WaiverState
from app.db import utcnow
from app.errors import InvalidTransition, NotAllowed
from app.rules import engine
from app.rules.services import rule_sets_by_ids


def priced_waiver(user, waiver: str | None) -> tuple[str | None, str | None]:
    """(the waiver to price in now, the booking's waiver state) for a claimed `waiver`."""
    if not waiver:
        return None, None
    if waiver in verified_waivers(user):
        return waiver, WaiverState.VERIFIED
    return None, WaiverState.CLAIMED


def needs_evidence(booking: Booking) -> bool:
    return booking.waiver_state == WaiverState.CLAIMED and bool(booking.waiver_category)


def _with_waiver(booking: Booking) -> dict:
    """The stored price breakdown with the booking's waiver line (by its stored rules)."""
    breakdown = dict(booking.price_breakdown or {})
    lines = [dict(line) for line in breakdown.get("lines") or [] if line.get("code") != "waiver"]
    subtotal = sum(int(line.get("amount") or 0) for line in lines)
    found = rule_sets_by_ids(booking.space, list(booking.rule_version_ids or []))
    effective = engine.combine([(source, rules) for source, rules, _ in found])
    line = engine.waiver_line(effective, str(breakdown.get("category") or "non_resident"),
                              booking.waiver_category, subtotal)
    if line is not None:
        lines.append({"code": line.code, "amount": line.amount, "params": dict(line.params)})
    breakdown["lines"] = lines
    breakdown["total"] = sum(int(x.get("amount") or 0) for x in lines)
    return breakdown


def apply_confirmed(booking: Booking, actor, now: datetime | None = None) -> int:
    """Price the claimed waiver in (the evidence was seen); returns the amount taken off."""
    now = now or utcnow()
    if not needs_evidence(booking):
        return 0
    breakdown = _with_waiver(booking)
    lowered = max(0, booking.price_amount - int(breakdown["total"]))
    booking.waiver_state = WaiverState.CONFIRMED
    if lowered:
        booking.price_breakdown = breakdown
        booking.price_amount = int(breakdown["total"])
        signals.price_lowered.send(booking, by=lowered, actor=actor, now=now)
    return lowered


def not_applied(booking: Booking) -> None:
    """The last stage approved without the evidence: the price stays in full."""
    if needs_evidence(booking):
        booking.waiver_state = WaiverState.NOT_APPLIED


def confirm(booking: Booking, actor, now: datetime | None = None) -> int:
    """A manager of the space confirms a claimed waiver after the booking was made (an
    instant booking, a lottery win, a request approved without the evidence)."""
    now = now or utcnow()
    if not booking.can_decide(actor):
        raise NotAllowed(_("You are not allowed to do this."))
    if booking.waiver_state not in (WaiverState.CLAIMED, WaiverState.NOT_APPLIED):
        raise InvalidTransition(_("This booking has no fee waiver waiting for its evidence."))
    if booking.status in TERMINAL or booking.status in CALLED_OFF or (
        booking.status == BookingStatus.ENTERED
    ):
        raise InvalidTransition(_("The fee waiver can no longer be confirmed."))
    booking.waiver_state = WaiverState.CLAIMED
    return apply_confirmed(booking, actor, now)
