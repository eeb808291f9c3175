"""Multi-stage approval: the chain a request goes through, who decides each stage, deadlines.

The chain is frozen on the booking when the request is made (`BookingStage` rows, from the
rule-set versions in force then). Exactly one deciding stage is `pending` while the booking is
`requested`; `booking.stage_position` points at it. Notification-only stages are marked
`notified` as the request passes them; stages whose rule set auto-approved the request are
`auto_approved` from the start.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache

import holidays
from flask_babel import gettext as _
from sqlalchemy import and_, or_

from app.bookings import signals
from app.bookings.models import BookingStage
from app.bookings.states import STAGE_ENDED, STAGE_OPEN, STAGE_PASSED, StageState
from app.bookings.states import STAGE_STATE_LABELS as STAGE_STATE_LABELS  # for the API
from app.rules.engine import Decision, PlannedStage
from app.rules.schema import APPROVERS


@lru_cache(maxsize=16)
def _holidays(year: int):
    return holidays.country_holidays("KR", years=[year - 1, year, year + 1])


def add_working_days(start: datetime, days: int, zone) -> datetime:
    """`start` plus `days` working days in `zone` (weekends and Korean public holidays skipped).

    The deadline is the end (local midnight) of the last working day, so "3 working days"
    requested on a Friday afternoon runs until the end of the following Wednesday.
    """
    day = start.astimezone(zone).date()
    left = days
    while left > 0:
        day += timedelta(days=1)
        if day.weekday() < 5 and day not in _holidays(day.year):
            left -= 1
    return datetime.combine(day + timedelta(days=1), datetime.min.time(), zone)


def build_stages(booking, decision: Decision) -> list[BookingStage]:
    """The booking's stage rows from the judged decision (not yet started)."""
    rows = []
    for position, planned in enumerate(decision.stages):
        rows.append(_stage_row(booking, position, planned))
    booking.stages = rows
    for row in rows:
        if row.state == StageState.AUTO_APPROVED:
            signals.stage_moved.send(row, state=row.state, booking=booking)
    return rows


def _stage_row(booking, position: int, planned: PlannedStage) -> BookingStage:
    stage, source = planned.stage, planned.source
    jurisdiction_id = None
    organisation_id = None
    if stage.approver == "jurisdiction" and source is not None:
        jurisdiction_id = int(source.key.partition(":")[2])
    else:
        organisation_id = booking.space.owner_id
    return BookingStage(
        position=position,
        approver=stage.approver,
        organisation_id=organisation_id,
        jurisdiction_id=jurisdiction_id,
        mode=stage.mode,
        deadline_days=stage.deadline_days,
        on_deadline=stage.on_deadline,
        label=stage.label,
        source_name=source.name if source is not None else booking.space.owner.name,
        state="auto_approved" if planned.auto_approved else "waiting",
    )


def current_stage(booking) -> BookingStage | None:
    return booking.current_stage


def advance(booking, now: datetime) -> BookingStage | None:
    """Move the request to its next deciding stage; None when every stage has passed.

    Notification-only stages on the way are marked notified.
    """
    for stage in booking.stages:
        if stage.state in STAGE_PASSED or stage.state in STAGE_ENDED:
            continue
        if stage.mode == "notify":
            stage.state = StageState.NOTIFIED
            stage.decided_at = now
            signals.stage_moved.send(stage, state=stage.state, booking=booking)
            continue
        stage.state = StageState.PENDING
        stage.started_at = now
        stage.due_at = _due(booking, stage, now)
        booking.stage_position = stage.position
        signals.stage_moved.send(stage, state=stage.state, booking=booking)
        return stage
    booking.stage_position = None
    return None


def _due(booking, stage: BookingStage, now: datetime) -> datetime:
    """The stage's deadline, never later than the booking's start."""
    if stage.deadline_days is None:
        return booking.start_at
    return min(add_working_days(now, stage.deadline_days, booking.space.zone), booking.start_at)


def close_open_stages(booking, state: StageState = StageState.SKIPPED) -> None:
    """Close the chain: the stage deciding now (or returned) becomes `state`; stages the
    request never reached are skipped."""
    for stage in booking.stages:
        if stage.state in STAGE_OPEN:
            stage.state = state
        elif stage.state == StageState.WAITING:
            stage.state = StageState.SKIPPED
    booking.stage_position = None


def can_decide_stage(user, stage: BookingStage | None) -> bool:
    """Whether `user` decides `stage` (see BookingStage.can_decide; the SQL twin is
    `decidable_by`)."""
    return stage is not None and stage.can_decide(user)


def decidable_by(user, stage=BookingStage):
    """SQL condition on `stage` (BookingStage or an alias): the stages `user` decides."""
    BookingStage = stage  # noqa: N806 - the same columns, possibly aliased
    if user.is_admin:
        return BookingStage.id.isnot(None)
    clauses = []
    roles = user.org_roles
    staff_orgs = [org for org, role in roles.items() if role in ("manager", "staff")]
    head_orgs = [org for org, role in roles.items() if role == "principal"]
    if staff_orgs:
        clauses.append(
            and_(
                BookingStage.approver == "owner_manager",
                BookingStage.organisation_id.in_(staff_orgs),
            )
        )
    if head_orgs:
        clauses.append(
            and_(
                BookingStage.approver == "owner_principal",
                BookingStage.organisation_id.in_(head_orgs),
            )
        )
    if user.officer_jurisdiction_ids:
        clauses.append(
            and_(
                BookingStage.approver == "jurisdiction",
                BookingStage.jurisdiction_id.in_(list(user.officer_jurisdiction_ids)),
            )
        )
    return or_(*clauses) if clauses else BookingStage.id.is_(None)


def stage_who(stage: BookingStage) -> str:
    """Who decides a stage, in words."""

    if stage.label:
        return f"{stage.label} ({stage.source_name})"
    if stage.approver == "jurisdiction" and stage.jurisdiction is not None:
        return _("Officers of %(name)s", name=stage.jurisdiction.name)
    return f"{APPROVERS[stage.approver]} ({stage.source_name})"
