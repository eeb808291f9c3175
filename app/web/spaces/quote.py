"""The request form's live summary: the same judgement as the form's check, as a fragment the
form's script swaps in while the person types (rate-limited; nothing is written)."""

from __future__ import annotations

from flask import render_template, request
from flask_login import current_user, login_required

from app.accounts.groups import user_groups
from app.bookings import judging, waivers
from app.bookings import services as booking_services
from app.db import utcnow
from app.errors import ValidationFailed
from app.security import limits
from app.web.spaces import bp
from app.web.spaces.forms import BookingRequestForm
from app.web.spaces.routes import load_space
from app.web.spaces.summary import booking_summary


@bp.get("/<int:space_id>/book/summary")
@login_required
@limits.quote_per_account
def book_summary(space_id: int):
    space = load_space(space_id)
    form = BookingRequestForm(formdata=request.args, meta={"csrf": False})
    form.set_groups(user_groups(current_user))
    form.validate()
    start, end = form.instants(space.zone)
    # Only what the person chose so far counts: an empty purpose or time is not a problem
    # yet (the panel asks for the times).
    problems = [*form.attendees.errors, *form.group_id.errors]
    attendees = form.attendees.data or 1
    now = utcnow()
    judgement = None
    if start is not None and end is not None:
        try:
            booking_services.validate_request(
                space, current_user, start, end, "-", attendees, now
            )
        except ValidationFailed as exc:
            problems.extend(m for messages in exc.errors.values() for m in messages)
        if start < end:
            judgement = judging.judge(
                space, current_user, start=start, end=end,
                purpose=form.purpose_category.data or "community", attendees=attendees,
                waiver=waivers.priced_waiver(current_user, form.waiver.data or None)[0],
                group_id=form.chosen_group_id, now=now,
            )
    summary = booking_summary(space, judgement, start=start, end=end, attendees=attendees,
                              problems=problems, now=now)
    return render_template("spaces/_book_summary.html", space=space, summary=summary)
