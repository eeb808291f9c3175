"""The approval queue: every request whose current stage the user decides — a facility
manager's, a principal's or a jurisdiction officer's — with filters, bulk decisions and
the actions on one request (approve, reject, return to the resident)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import aliased, contains_eager, selectinload

from app.accounts.routes import safe_next
from app.bookings import approvals
from app.bookings import services as booking_services
from app.bookings.models import Booking
from app.db import db_int, paginate, utcnow
from app.errors import DomainError
from app.extensions import db
from app.manage import bp
from app.manage.routes import PER_PAGE, _decide, _describe
from app.rules.models import BookingStage
from app.rules.schema import APPROVERS, PURPOSES, WAIVER_CATEGORIES
from app.spaces.availability import local_instant
from app.spaces.models import Space

SORTS = ("requested", "start", "due")
QUEUE_ZONE = ZoneInfo("Asia/Seoul")  # date filters span spaces; they are read in Korean time


@dataclass
class QueueFilters:
    space_id: int | None = None
    approver: str | None = None
    purpose: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    overdue: bool = False
    sort: str = "requested"

    @classmethod
    def from_args(cls, args) -> QueueFilters:
        """Filters from the query string; anything unreadable is ignored, never an error."""

        def day(name: str) -> date | None:
            try:
                value = date.fromisoformat(args.get(name, ""))
            except ValueError:
                return None
            return value if 2000 <= value.year <= 2200 else None

        approver = args.get("approver")
        purpose = args.get("purpose")
        sort = args.get("sort")
        return cls(
            space_id=args.get("space", type=db_int),
            approver=approver if approver in APPROVERS else None,
            purpose=purpose if purpose in PURPOSES else None,
            date_from=day("from"),
            date_to=day("to"),
            overdue=args.get("overdue") == "1",
            sort=sort if sort in SORTS else "requested",
        )

    def apply(self, query, current):
        if self.space_id:
            query = query.where(Booking.space_id == self.space_id)
        if self.approver:
            query = query.where(current.approver == self.approver)
        if self.purpose:
            query = query.where(Booking.purpose_category == self.purpose)
        if self.date_from:
            query = query.where(Booking.start_at >= local_instant(self.date_from, 0, QUEUE_ZONE))
        if self.date_to:
            query = query.where(
                Booking.start_at < local_instant(self.date_to + timedelta(days=1), 0, QUEUE_ZONE)
            )
        if self.overdue:
            query = query.where(current.due_at <= utcnow() + timedelta(days=1))
        self._current = current
        return query

    def order(self, query):
        current = self._current
        if self.sort == "start":
            return query.order_by(Booking.start_at, Booking.id)
        if self.sort == "due":
            return query.order_by(current.due_at.is_(None), current.due_at, Booking.id)
        return query.order_by(Booking.created_at, Booking.id)

    def is_active(self) -> bool:
        return self != QueueFilters(sort=self.sort)


def _require_approver() -> None:
    if not (current_user.is_manager or current_user.is_officer or current_user.is_admin):
        abort(403)


def _decidable_booking(booking_id: int) -> Booking:
    booking = db.get_or_404(Booking, booking_id)
    if not booking.can_decide_now(current_user):
        abort(403 if booking.can_view(current_user) else 404)
    return booking


def _queue_query(filters: QueueFilters):
    return queue_query(current_user, filters)


def queue_query(user, filters: QueueFilters):
    """Requests whose current stage `user` decides, across everything in their scope, with the
    filters applied (order them with `filters.order`). Shared by this page and the API.

    Requests made before approval chains existed (no stages) go to the space's managers.
    """
    current = aliased(BookingStage)
    legacy = and_(Booking.stage_position.is_(None), Booking.status == "requested")
    if not user.is_admin:
        legacy = and_(legacy, Space.owner_id.in_(user.managed_org_ids))
    query = (
        select(Booking)
        .join(Booking.space)
        .outerjoin(
            current,
            and_(current.booking_id == Booking.id, current.position == Booking.stage_position),
        )
        .where(
            Booking.status == "requested",
            or_(
                and_(current.state == "pending", approvals.decidable_by(user, current)),
                legacy,
            ),
        )
        .options(
            contains_eager(Booking.space),
            selectinload(Booking.user),
            selectinload(Booking.stages).selectinload(BookingStage.jurisdiction),
            selectinload(Booking.group),
        )
    )
    return filters.apply(query, current)


@bp.get("/queue")
def queue():
    _require_approver()
    filters = QueueFilters.from_args(request.args)
    page = paginate(filters.order(_queue_query(filters)), per_page=PER_PAGE)
    spaces = db.session.execute(
        _queue_query(QueueFilters())
        .with_only_columns(Space.id, Space.name)
        .distinct()
        .order_by(Space.name, Space.id)
    ).all()
    return render_template(
        "manage/queue.html",
        page=page,
        my_spaces=spaces,
        filters=filters,
        space_id=filters.space_id,
        now=utcnow(),
        purposes=PURPOSES,
        waivers=WAIVER_CATEGORIES,
    )


@bp.post("/queue/bulk")
def bulk_decide():
    """Approve or reject several requests at once; each is decided on its own, so one that
    cannot be decided (taken over by someone else, time begun) does not stop the others."""
    _require_approver()
    action = request.form.get("action")
    reason = request.form.get("reason", "")
    ids = []
    for raw in request.form.getlist("ids")[:PER_PAGE * 5]:
        try:
            ids.append(db_int(raw))
        except ValueError:
            continue
    target = safe_next(request.form.get("next")) or url_for(".queue")
    if action not in ("approve", "reject") or not ids:
        flash(_("Choose requests and whether to approve or reject them."), "error")
        return redirect(target)
    if action == "reject" and not reason.strip():
        flash(_("Please give a reason for the rejection."), "error")
        return redirect(target)
    bookings = db.session.scalars(
        select(Booking).where(Booking.id.in_(ids)).options(selectinload(Booking.stages))
        .order_by(Booking.id)  # decided (and reported) in a stable order
    ).all()
    done, failed = 0, []
    for booking in bookings:
        try:
            with db.session.begin_nested():
                if action == "approve":
                    booking_services.approve(booking, current_user)
                else:
                    booking_services.reject(booking, current_user, reason=reason)
        except DomainError as exc:
            failed.append(f"#{booking.id}: {exc.message}")
        else:
            done += 1
    db.session.commit()
    if done:
        message = (
            ngettext("Approved %(num)d request.", "Approved %(num)d requests.", done)
            if action == "approve"
            else ngettext("Rejected %(num)d request.", "Rejected %(num)d requests.", done)
        )
        flash(message, "success")
    if failed or len(bookings) < len(ids):
        missing = len(ids) - len(bookings)
        details = failed + ([_("%(n)d not found", n=missing)] if missing else [])
        flash(_("Not changed: %(list)s", list="; ".join(details)), "error")
    return redirect(target)


@bp.post("/bookings/<int:booking_id>/approve")
def approve(booking_id: int):
    booking = _decidable_booking(booking_id)
    note = request.form.get("note", "")

    return _decide(
        booking,
        lambda: booking_services.approve(booking, current_user, reason=note),
        _("Approved: %(name)s, %(space)s, %(when)s.", **_describe(booking)),
    )


@bp.post("/bookings/<int:booking_id>/reject")
def reject(booking_id: int):
    booking = _decidable_booking(booking_id)
    reason = request.form.get("reason", "")
    return _decide(
        booking,
        lambda: booking_services.reject(booking, current_user, reason=reason),
        _("Rejected: %(name)s, %(space)s, %(when)s.", **_describe(booking)),
    )


@bp.post("/bookings/<int:booking_id>/return")
def return_request(booking_id: int):
    booking = _decidable_booking(booking_id)
    reason = request.form.get("reason", "")
    return _decide(
        booking,
        lambda: booking_services.return_to_resident(booking, current_user, reason=reason),
        _("Returned to the resident for changes: %(name)s, %(space)s, %(when)s.",
          **_describe(booking)),
    )  # fmt: skip


