"""The booking verbs: create, approve, reject, cancel, complete, mark no-show, sweep.

Services take the acting user explicitly, flush but never commit, and raise domain errors
(`ValidationFailed`, `SlotTaken`, `NotAllowed`, `InvalidTransition`) for the edges to translate.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError

from app.accounts.groups import user_group_ids
from app.accounts.services import require_verified
from app.bookings import approvals, judging, signals, waivers
from app.bookings.models import Booking, BookingStage, BookingTransition
from app.bookings.states import (
    ACTIVE,
    CALLED_OFF,
    DECIDED,
    TRANSITIONS,
    BookingStatus,
    StageState,
)
from app.db import utcnow
from app.errors import InvalidTransition, NotAllowed, RuleViolation, SlotTaken, ValidationFailed
from app.extensions import db
from app.formatting import money
from app.orgs.states import OrgStatus
from app.rules.messages import quote_dict, reason_dict
from app.rules.schema import PURPOSES, WAIVER_CATEGORIES
from app.spaces.availability import Availability, WeeklyHours, compute_availability
from app.spaces.models import Closure, Space

OVERLAP_CONSTRAINT = "ex_bookings_no_overlap"
DEADLOCK_DETECTED = "40P01"
MAX_PURPOSE_LENGTH = 2000
MAX_DAYS_AHEAD = 366
# The most one card payment can take: Stripe takes at most 8 digits (₩99,999,999).
MAX_PRICE_AMOUNT = 99_999_999


def space_availability(
    space: Space,
    window_start: datetime,
    window_end: datetime,
    *,
    now: datetime | None = None,
) -> Availability:
    """Availability of `space` in a window, from three queries (hours, closures, bookings)."""
    closures = db.session.execute(
        select(Closure.start_at, Closure.end_at).where(
            Closure.space_id == space.id,
            Closure.start_at < window_end,
            Closure.end_at > window_start,
        )
    ).all()
    pad = timedelta(minutes=space.buffer_minutes)
    bookings = db.session.execute(
        select(Booking.start_at, Booking.end_at).where(
            Booking.space_id == space.id,
            Booking.status.in_(ACTIVE),
            Booking.hold_start < window_end + pad,
            Booking.hold_end > window_start - pad,
        )
    ).all()
    return compute_availability(
        hours=[WeeklyHours(h.weekday, h.open_minute, h.close_minute) for h in space.opening_hours],
        zone=space.zone,
        window_start=window_start,
        window_end=window_end,
        closures=[(c.start_at, c.end_at) for c in closures],
        bookings=[(b.start_at, b.end_at) for b in bookings],
        buffer_minutes=space.buffer_minutes,
        not_before=now,
    )


def validate_request(
    space: Space,
    user,
    start: datetime,
    end: datetime,
    purpose: str,
    attendees: int,
    now: datetime,
    *,
    check_start: bool = True,
) -> None:
    """The space's own limits on a request (time, length, capacity, purpose text); the rule
    sets are judged separately. `check_start=False` skips the start-in-the-past checks."""
    errors: dict[str | None, list[str]] = {}

    def add(field: str | None, message: str) -> None:
        errors.setdefault(field, []).append(message)

    if not space.published and not space.can_manage(user):
        raise NotAllowed(_("This space is not open for booking."))
    if start.tzinfo is None or end.tzinfo is None:
        add("start", _("Times must include a time zone."))
        raise ValidationFailed(errors)
    if end <= start:
        add("end", _("The end must be after the start."))
    if check_start and start < now:
        add("start", _("The start is in the past."))
    elif check_start and start > now + timedelta(days=MAX_DAYS_AHEAD):
        add("start", _("Bookings can be made at most %(days)d days ahead.", days=MAX_DAYS_AHEAD))
    minutes = (end - start).total_seconds() / 60
    if end > start:
        if minutes < space.min_minutes:
            add("end", _("The booking must last at least %(n)d minutes.", n=space.min_minutes))
        elif minutes > space.max_minutes:
            add("end", _("The booking may last at most %(n)d minutes.", n=space.max_minutes))
    if attendees < 1:
        add("attendees", _("At least one person must attend."))
    elif attendees > space.capacity:
        add(
            "attendees",
            _("This space holds at most %(n)d people.", n=space.capacity),
        )
    purpose = purpose.strip()
    if not purpose:
        add("purpose", _("Please describe the purpose of the booking."))
    elif len(purpose) > MAX_PURPOSE_LENGTH:
        add("purpose", _("The purpose may be at most %(n)d characters.", n=MAX_PURPOSE_LENGTH))
    if errors:
        raise ValidationFailed(errors)


def _check_slot(space: Space, start: datetime, end: datetime, user) -> None:
    """Opening hours, closures and other bookings, with a message that says which one failed
    (a closure's reason as `user` may read it)."""
    availability = space_availability(space, start - timedelta(days=1), end + timedelta(days=1))
    closure = db.session.scalars(
        select(Closure)
        .where(Closure.space_id == space.id, Closure.start_at < end, Closure.end_at > start)
        .limit(1)
    ).first()
    if closure is not None:
        reason = closure.reason_for(space.can_manage(user)) or _("closed")
        raise ValidationFailed.single(
            _("The space is closed at that time (%(reason)s).", reason=reason), "start"
        )
    if not availability.is_open(start, end):
        raise ValidationFailed.single(_("The space is not open for the whole time."), "start")
    if not availability.is_free(start, end):
        raise SlotTaken(_("This time was just taken. Please choose another time."))


def hold_range(space: Space, start: datetime, end: datetime) -> tuple[datetime, datetime]:
    half = timedelta(seconds=space.buffer_minutes * 30)
    return start - half, end + half


def _check_request_facts(user, purpose_category: str, waiver: str | None, group_id) -> None:
    errors: dict[str | None, list[str]] = {}
    if purpose_category not in PURPOSES:
        errors["purpose_category"] = [_("Choose the kind of use.")]
    if waiver is not None and waiver not in WAIVER_CATEGORIES:
        errors["waiver"] = [_("Choose a fee waiver from the list, or none.")]
    if group_id is not None and group_id not in user_group_ids(user):
        errors["group_id"] = [_("You can only book for a group you belong to.")]
    if errors:
        raise ValidationFailed(errors)


def judge_request(space: Space, user, **kw) -> judging.Judgement:
    """Judge a request by the rules in force; raise `RuleViolation` citing every rule broken,
    or `ValidationFailed` when the price is more than one payment can take."""
    judgement = judging.judge(space, user, **kw)
    if judgement.decision.reasons:
        raise RuleViolation([reason_dict(r) for r in judgement.decision.reasons])
    if judgement.decision.quote.total > MAX_PRICE_AMOUNT:
        raise ValidationFailed.single(
            _(
                "This booking would cost %(price)s, more than one payment can take (at most "
                "%(max)s). Please book a shorter time, or several bookings.",
                price=money(judgement.decision.quote.total, space.currency),
                max=money(MAX_PRICE_AMOUNT, space.currency),
            ),
            "end",
        )
    return judgement


def check_request(
    space: Space,
    user,
    *,
    start: datetime,
    end: datetime,
    purpose: str,
    attendees: int,
    purpose_category: str = "community",
    waiver: str | None = None,
    group_id: int | None = None,
    now: datetime | None = None,
) -> judging.Judgement:
    """Every check a request goes through before it is stored, and nothing written: the
    account, the owner's listing, the space's own limits (time, length, capacity), the facts of
    the form, the rules in force, opening hours, closures, other bookings and a second lottery
    entry. The form's "check" runs exactly this, so it never says yes where sending says no.

    Raises what `create_booking` raises; returns the judgement (price, mode, stages)."""
    now = now or utcnow()
    require_verified(user)
    if space.owner.status != OrgStatus.ACTIVE:
        raise NotAllowed(
            _("%(owner)s is not taking bookings at the moment: its listing is suspended.",
              owner=space.owner.name)
        )
    validate_request(space, user, start, end, purpose, attendees, now)
    _check_request_facts(user, purpose_category, waiver, group_id)
    # Only a waiver verified on the profile is priced in now; one claimed here waits for an
    # approver to see the evidence (app.bookings.waivers).
    priced = waivers.priced_waiver(user, waiver)[0]
    judgement = judge_request(
        space,
        user,
        start=start,
        end=end,
        purpose=purpose_category,
        attendees=attendees,
        waiver=priced,
        group_id=group_id,
        now=now,
    )
    _check_slot(space, start, end, user)
    if judgement.decision.mode == "lottery":
        _refuse_second_entry(space, user, judgement.decision.draw_at)
    return judgement


def create_booking(
    space: Space,
    user,
    *,
    start: datetime,
    end: datetime,
    purpose: str,
    attendees: int,
    purpose_category: str = "community",
    waiver: str | None = None,
    group_id: int | None = None,
    now: datetime | None = None,
) -> Booking:
    """Request, enter the lottery for, or (instant spaces) confirm `space` for `user`.

    The rules in force are applied first (every refusal cites its rule set); the approval chain
    and the price quote are frozen on the booking. The database guarantees no overlap: on
    PostgreSQL an exclusion constraint, on SQLite a serialized write transaction around the
    check and the insert (see `app.db`).
    """
    now = now or utcnow()
    judgement = check_request(
        space, user, start=start, end=end, purpose=purpose, attendees=attendees,
        purpose_category=purpose_category, waiver=waiver, group_id=group_id, now=now,
    )
    decision = judgement.decision
    waiver_state = waivers.priced_waiver(user, waiver)[1]
    hold_start, hold_end = hold_range(space, start, end)
    booking = Booking(
        space=space,
        user=user,
        start_at=start,
        end_at=end,
        hold_start=hold_start,
        hold_end=hold_end,
        purpose=purpose.strip(),
        purpose_category=purpose_category,
        waiver_category=waiver,
        waiver_state=waiver_state,
        group_id=group_id,
        attendees=attendees,
        status=BookingStatus.REQUESTED,
        price_amount=decision.quote.total,
        price_breakdown=quote_dict(decision.quote, space.currency),
        rule_version_ids=judgement.version_ids,
        currency=space.currency,
        created_at=now,
        draw_at=decision.draw_at,
    )
    approvals.build_stages(booking, decision)
    to: str
    if decision.mode == "lottery":
        to, reason = BookingStatus.ENTERED, None
    elif decision.mode == "instant":
        approvals.advance(booking, now)  # no stage decides; notification-only ones are notified
        to, reason = BookingStatus.CONFIRMED, None
    elif approvals.advance(booking, now) is None:
        to, reason = BookingStatus.APPROVED, _("Approved automatically by the rules.")
        booking.decided_at = now
    else:
        to, reason = BookingStatus.REQUESTED, None
    to = signals.starting_state(booking, to, now)
    if to == BookingStatus.AWAITING_PAYMENT:
        reason = None
        booking.decided_at = None
    booking.status = to
    first = BookingTransition(from_status=None, to_status=to, actor=user, at=now, reason=reason)
    booking.transitions.append(first)
    try:
        with db.session.begin_nested():
            db.session.add(booking)
            signals.booking_created.send(booking, transition=first, now=now)
    except OperationalError as exc:
        # Two inserts racing for overlapping times can deadlock inside PostgreSQL's exclusion
        # index; the database lets one through and aborts the other, which lost the race.
        if getattr(exc.orig, "sqlstate", None) == DEADLOCK_DETECTED:
            raise SlotTaken(_("This time was just taken. Please choose another time.")) from exc
        raise
    except IntegrityError as exc:
        if OVERLAP_CONSTRAINT in str(exc.orig):
            raise SlotTaken(_("This time was just taken. Please choose another time.")) from exc
        if ONE_ENTRY_INDEX in str(exc.orig) or "bookings.draw_at" in str(exc.orig):
            raise ValidationFailed.single(_second_entry_message(), "start") from exc
        raise
    return booking


ONE_ENTRY_INDEX = "uq_bookings_one_entry"


def _second_entry_message() -> str:
    return _("You have already entered this draw. Each person may enter once.")


def _refuse_second_entry(space: Space, user, draw_at: datetime | None) -> None:
    taken = db.session.scalar(
        select(Booking.id).where(
            Booking.space_id == space.id,
            Booking.user_id == user.id,
            Booking.status == BookingStatus.ENTERED,
            Booking.draw_at == draw_at,
        )
    )
    if taken is not None:
        raise ValidationFailed.single(_second_entry_message(), "start")


def transition(
    booking: Booking, to: str, actor, *, reason: str | None = None, now: datetime | None = None
) -> Booking:
    """Move `booking` to state `to` if the transition table allows it, and record it."""
    now = now or utcnow()
    if to not in TRANSITIONS.get(booking.status, frozenset()):
        raise InvalidTransition(
            _(
                "A booking that is %(status)s cannot be changed that way.",
                status=booking.status_label,
            )
        )
    row = BookingTransition(
        from_status=booking.status, to_status=to, actor=actor, at=now, reason=reason
    )
    booking.transitions.append(row)
    if to in DECIDED:
        booking.decided_at = now
        booking.decided_by = actor
    if to in CALLED_OFF:
        closed = StageState.EXPIRED if to == BookingStatus.EXPIRED else StageState.SKIPPED
        approvals.close_open_stages(booking, closed)
    if reason:
        booking.reason = reason
    before = booking.status
    booking.status = to
    signals.booking_transitioned.send(
        booking, from_status=before, to=to, actor=actor, now=now, transition=row
    )
    db.session.flush()
    return booking


def _require(condition: bool) -> None:
    if not condition:
        raise NotAllowed(_("You are not allowed to do this."))


def _decide_stage(booking: Booking, actor) -> BookingStage | None:
    """The stage `actor` decides now (None for requests made before approval chains)."""
    if booking.status != BookingStatus.REQUESTED:
        raise InvalidTransition(
            _(
                "A booking that is %(status)s cannot be changed that way.",
                status=booking.status_label,
            )
        )
    stage = booking.current_stage
    if booking.stages and stage is None:
        raise InvalidTransition(_("This request has no stage waiting for a decision."))
    _require(booking.can_decide_now(actor))
    return stage


def _finish_stage(stage: BookingStage | None, state: str, actor, reason, now) -> None:
    if stage is not None:
        stage.state = state
        stage.decided_at = now
        stage.decided_by = actor
        stage.reason = reason
        signals.stage_moved.send(stage, state=state, booking=stage.booking)


def approve(
    booking: Booking,
    actor,
    *,
    reason: str | None = None,
    evidence_seen: bool = False,
    now: datetime | None = None,
) -> Booking:
    """Approve the request's current stage; the last stage's approval approves the booking.

    A fee waiver claimed on the request (not verified on the profile) is priced in when the
    approver says they saw its evidence (`evidence_seen`); approved by the last stage without
    it, the booking stays at the full price. A request whose time has begun is left for the
    sweep to expire.
    """
    now = now or utcnow()
    stage = _decide_stage(booking, actor)
    if booking.start_at <= now:
        raise InvalidTransition(
            _("The requested time has already begun, so the request can no longer be approved.")
        )
    reason = (reason or "").strip() or None
    if evidence_seen:
        waivers.apply_confirmed(booking, actor, now)
    _finish_stage(stage, StageState.APPROVED, actor, reason, now)
    if stage is not None and approvals.advance(booking, now) is not None:
        db.session.flush()
        return booking
    waivers.not_applied(booking)
    return transition(booking, BookingStatus.APPROVED, actor, reason=reason, now=now)


def reject(booking: Booking, actor, *, reason: str, now: datetime | None = None) -> Booking:
    now = now or utcnow()
    stage = _decide_stage(booking, actor)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed.single(_("Please give a reason for the rejection."), "reason")
    _finish_stage(stage, StageState.REJECTED, actor, reason, now)
    return transition(booking, BookingStatus.REJECTED, actor, reason=reason, now=now)


RETURN_WORKING_DAYS = 3


def return_to_resident(
    booking: Booking, actor, *, reason: str, now: datetime | None = None
) -> Booking:
    """Send the request back to the resident asking for a change; it keeps its slot until the
    resident resubmits or the answer is overdue (then the sweep expires it)."""
    now = now or utcnow()
    stage = _decide_stage(booking, actor)
    if stage is None:
        raise InvalidTransition(_("This request has no stage waiting for a decision."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed.single(_("Please say what the resident should change."), "reason")
    _finish_stage(stage, StageState.RETURNED, actor, reason, now)
    stage.due_at = min(
        approvals.add_working_days(now, RETURN_WORKING_DAYS, booking.space.zone), booking.start_at
    )
    return transition(booking, BookingStatus.RETURNED, actor, reason=reason, now=now)


def resubmit(
    booking: Booking,
    actor,
    *,
    purpose: str,
    attendees: int,
    purpose_category: str,
    waiver: str | None = None,
    group_id: int | None = None,
    now: datetime | None = None,
) -> Booking:
    """The resident answers a returned request with changes; the same stage decides again.

    The request is judged again by the rule-set versions it was first judged by.
    """
    now = now or utcnow()
    if booking.user_id != getattr(actor, "id", None):
        raise NotAllowed(_("You are not allowed to do this."))
    if booking.status != BookingStatus.RETURNED:
        raise InvalidTransition(_("Only a request returned to you can be changed and resent."))
    if booking.start_at <= now:
        raise InvalidTransition(_("The requested time has already begun."))
    space = booking.space
    validate_request(space, actor, booking.start_at, booking.end_at, purpose, attendees, now,
                      check_start=False)  # fmt: skip
    _check_request_facts(actor, purpose_category, waiver, group_id)
    priced, waiver_state = waivers.priced_waiver(actor, waiver)
    judgement = judge_request(
        space,
        actor,
        start=booking.start_at,
        end=booking.end_at,
        purpose=purpose_category,
        attendees=attendees,
        waiver=priced,
        group_id=group_id,
        now=booking.created_at,
        version_ids=list(booking.rule_version_ids or []),
        exclude_booking_id=booking.id,
    )
    booking.purpose = purpose.strip()
    booking.attendees = attendees
    booking.purpose_category = purpose_category
    booking.waiver_category = waiver
    booking.waiver_state = waiver_state
    booking.group_id = group_id
    booking.price_amount = judgement.decision.quote.total
    booking.price_breakdown = quote_dict(judgement.decision.quote, space.currency)
    stage = booking.current_stage
    if stage is not None:
        # The stage decides afresh; the return and its reason stay in the booking's history.
        stage.state = StageState.WAITING
        stage.decided_at = stage.decided_by = stage.reason = None
    transition(
        booking, BookingStatus.REQUESTED, actor, reason=_("Changed and sent again."), now=now
    )
    if approvals.advance(booking, now) is None:
        return transition(booking, BookingStatus.APPROVED, None, now=now)
    db.session.flush()
    return booking


def cancel(booking: Booking, actor, *, reason: str | None = None, now=None) -> Booking:
    now = now or utcnow()
    _require(booking.can_cancel(actor))
    is_manager = booking.can_decide(actor)
    if booking.end_at <= now or (not is_manager and booking.start_at <= now):
        raise InvalidTransition(_("A booking that has already started cannot be cancelled."))
    reason = (reason or "").strip() or None
    if reason is None and booking.user_id != getattr(actor, "id", None):
        # The owner cancelling someone else's booking owes them an explanation.
        raise ValidationFailed.single(
            _("Please tell the resident why the booking is cancelled."), "reason"
        )
    return transition(booking, BookingStatus.CANCELLED, actor, reason=reason, now=now)


def mark_attendance(booking: Booking, actor, *, showed_up: bool, now=None) -> Booking:
    """After the start, a manager records whether the booking was used (completed) or not."""
    now = now or utcnow()
    _require(booking.can_decide(actor))
    if booking.start_at > now:
        raise InvalidTransition(_("Attendance can be recorded once the booking has started."))
    to = BookingStatus.COMPLETED if showed_up else BookingStatus.NO_SHOW
    return transition(booking, to, actor, now=now)


