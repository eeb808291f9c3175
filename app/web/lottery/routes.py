"""Lottery pages: the public result of a draw, the draws of a space, and the fairness report.

Results are public so that anyone can check a draw (names are masked to "김**"); a space that
is not published answers 404 to those who may not see it. The fairness report is for the
space's managers and the officers overseeing it: anyone else gets 403 (the space is public) or
404 (it is not).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from flask import abort, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select

from app.bookings import lottery, lottery_report
from app.bookings.models import LotteryDraw
from app.db import MAX_DB_INT
from app.extensions import db
from app.spaces.availability import local_instant
from app.spaces.models import Space
from app.web.helpers import paginate
from app.web.lottery import bp

PER_PAGE = 20
DEFAULT_DAYS_BACK = 365
DEFAULT_DAYS_AHEAD = 60
MAX_PERIOD_DAYS = 731
MIN_YEAR, MAX_YEAR = 2000, 2100

WHY_LABELS = {
    "taken": _l("The time was already taken"),
    "cap": _l("Monthly limit of wins reached"),
    "overlap": _l("The time went to an entry ranked higher"),
}


def _get_or_404(model, ident: int):
    if ident > MAX_DB_INT:  # no such row, and the database would refuse the number
        abort(404)
    return db.get_or_404(model, ident)


def _visible_space(space_id: int) -> Space:
    space = _get_or_404(Space, space_id)
    if not space.can_view(current_user):
        abort(404)
    return space


@bp.get("/draws/<int:draw_id>")
def draw(draw_id: int):
    record = _get_or_404(LotteryDraw, draw_id)
    space = _visible_space(record.space_id)
    rows = lottery.result_rows(record)
    return render_template(
        "lottery/draw.html",
        draw=record,
        space=space,
        rows=rows,
        verified=lottery.verify(record),
        why_labels=WHY_LABELS,
        can_report=space.can_manage(current_user) or space.can_oversee(current_user),
    )


@bp.get("/spaces/<int:space_id>/draws")
def draws(space_id: int):
    space = _visible_space(space_id)
    page = paginate(
        select(LotteryDraw)
        .where(LotteryDraw.space_id == space.id)
        .order_by(LotteryDraw.draw_at.desc(), LotteryDraw.id.desc()),
        per_page=PER_PAGE,
    )
    counts = {
        d.id: (
            len(d.result or []),
            sum(1 for i in d.result or [] if isinstance(i, dict) and i.get("outcome") == "won"),
        )
        for d in page.items
    }
    return render_template(
        "lottery/draws.html",
        space=space,
        page=page,
        counts=counts,
        can_report=space.can_manage(current_user) or space.can_oversee(current_user),
    )


def _parse_period(zone) -> tuple[date, date, dict[str, str]]:
    """The report's first and last day from ?start= and ?end= (both inclusive) and the errors
    found; when the dates cannot be used the default period is reported instead."""
    today = datetime.now(zone).date()
    default = today - timedelta(days=DEFAULT_DAYS_BACK), today + timedelta(days=DEFAULT_DAYS_AHEAD)
    errors: dict[str, str] = {}
    given: dict[str, date] = {}
    for name in ("start", "end"):
        raw = (request.args.get(name) or "").strip()
        if not raw:
            continue
        try:
            given[name] = date.fromisoformat(raw)
        except ValueError:
            errors[name] = _("Enter a date such as %(example)s.", example=today.isoformat())
            continue
        if not MIN_YEAR <= given[name].year <= MAX_YEAR:
            errors[name] = _(
                "Enter a date between %(first)d and %(last)d.", first=MIN_YEAR, last=MAX_YEAR
            )
    if errors:
        return *default, errors
    first, last = given.get("start", default[0]), given.get("end", default[1])
    if last < first:
        errors["end"] = _("The end of the period cannot be before its start.")
    elif (last - first).days > MAX_PERIOD_DAYS:
        errors["end"] = _("Choose a period of at most two years.")
    return (*default, errors) if errors else (first, last, errors)


@bp.get("/spaces/<int:space_id>/fairness")
@login_required
def fairness(space_id: int):
    space = _get_or_404(Space, space_id)
    if not (space.can_manage(current_user) or space.can_oversee(current_user)):
        abort(403 if space.can_view(current_user) else 404)
    first, last, errors = _parse_period(space.zone)
    report = lottery_report.fairness(
        space,
        local_instant(first, 0, space.zone),
        local_instant(last + timedelta(days=1), 0, space.zone),
    )
    return render_template(
        "lottery/fairness.html",
        space=space,
        report=report,
        first=first,
        last=last,
        errors=errors,
    )
