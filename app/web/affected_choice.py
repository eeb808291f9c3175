"""The manager's choice for bookings a change would affect (new hours, a closure, new rules):
shown before saving, confirmed for exactly the bookings listed, then kept and told or cancelled
by the owner (a full refund) in the same transaction as the change."""

from __future__ import annotations

from flask import flash
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from app.bookings import affected
from app.bookings.models import Booking
from app.notifications import announce

MAX_NOTE = 500


def ids(bookings: list[Booking]) -> str:
    return ",".join(str(b.id) for b in bookings)


def read(values, bookings: list[Booking]) -> tuple[str | None, str, list[str]]:
    """The manager's choice for the listed bookings: ("notify" | "cancel", note, errors)."""
    action = values.get("affected_action")
    note = (values.get("affected_note") or "").strip()
    errors = []
    if action not in ("notify", "cancel"):
        errors.append(_("Choose what happens to the affected bookings."))
        action = None
    elif action == "cancel" and not note:
        errors.append(_("Give the residents a reason for the cancellation."))
    elif len(note) > MAX_NOTE:
        errors.append(_("The message may be at most %(n)d characters.", n=MAX_NOTE))
    return (None if errors else action), note, errors


def confirmed(values, bookings: list[Booking]) -> bool:
    """The manager confirmed after seeing exactly these bookings (none added since)."""
    if values.get("confirm") != "1":
        return False
    if values.get("affected_ids", "") != ids(bookings):
        flash(
            _("The affected bookings changed since the preview. Please check the list again."),
            "warning",
        )
        return False
    return True


def settle(bookings, action: str, note: str, change: str, effective, now) -> None:
    """Cancel (full refund, through the owner's cancellation) or keep and tell each resident."""
    if action == "cancel":
        affected.cancel_all(bookings, current_user, note, now)
    else:
        for booking in bookings:
            announce.booking_affected(booking, change=change, effective=effective, note=note)


def flash_settled(n: int, action: str | None) -> None:
    if not n:
        return
    if action == "cancel":
        flash(ngettext("%(num)d booking was cancelled and will be refunded in full.",
                       "%(num)d bookings were cancelled and will be refunded in full.", n),
              "success")
    else:
        flash(ngettext("%(num)d booking was kept; its resident has been told.",
                       "%(num)d bookings were kept; their residents have been told.", n),
              "success")
