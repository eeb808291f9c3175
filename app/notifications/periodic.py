"""Scheduled notifications: reminders before bookings, approval deadlines about to pass, the
approvers' daily digest, the officers' weekly summary.

Each runs alone (`exclusive`) and writes each message once (`dedupe_key`, unique per person),
so several schedulers or workers never send one twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import and_, func, select

from app.accounts.models import User
from app.bookings.models import Booking, BookingStage, BookingTransition
from app.bookings.states import GRANTED, BookingStatus, StageState
from app.db import utcnow
from app.extensions import db
from app.jobs import enqueue_after_commit, exclusive, job
from app.notifications.announce import booking_params
from app.notifications.audience import stage_audience, when_iso
from app.notifications.models import EmailDelivery, Notification
from app.notifications.services import _message_id, channels_for, notify
from app.orgs.models import (
    Jurisdiction,
    JurisdictionMembership,
    jurisdiction_tree,
    with_descendants,
)
from app.spaces.models import Space, space_jurisdictions

# The moves the weekly digest counts, and the bookings that took (or will take) place.
DIGEST_MOVES = (
    *GRANTED, BookingStatus.REJECTED, BookingStatus.CANCELLED, BookingStatus.EXPIRED,
    BookingStatus.NO_SHOW,
)
TOOK_PLACE = (*GRANTED, BookingStatus.COMPLETED)


def _zone() -> ZoneInfo:
    return ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE", "Asia/Seoul"))


# --------------------------------------------------------------------------- reminders
@job("notifications.reminders")
def reminders(now: datetime | None = None) -> int:
    """Remind residents of approved/confirmed bookings `reminder_hours` before the start.

    A booking made after its reminder time gets none (the resident has just booked it)."""

    now = now or utcnow()
    horizon = now + timedelta(hours=48)
    with exclusive("notifications.reminders") as mine:
        if not mine:
            return 0
        rows = db.session.execute(
            select(Booking, User.reminder_hours)
            .join(User, User.id == Booking.user_id)
            .where(
                Booking.status.in_(GRANTED),
                Booking.start_at > now,
                Booking.start_at <= horizon,
                User.reminder_hours > 0,
            )
            .order_by(Booking.start_at, Booking.id)
        ).all()
        due = [
            b for b, hours in rows
            if b.start_at - timedelta(hours=hours) <= now
            and b.created_at < b.start_at - timedelta(hours=hours)
        ]
        sent = 0
        for booking in due:
            params = booking_params(booking)
            params["hours"] = booking.user.reminder_hours
            sent += len(notify([booking.user], "booking_reminder", booking=booking,
                               params=params, now=now,
                               dedupe_key=f"reminder-{booking.id}-{when_iso(booking.start_at)}"))
        db.session.commit()
        return sent


# --------------------------------------------------------------------------- deadlines
@job("notifications.approval_deadlines")
def approval_deadlines(now: datetime | None = None) -> int:
    """Warn a stage's approvers once when its deadline is less than APPROVAL_WARNING_HOURS
    away (and not the deadline that the start of the booking itself sets)."""

    now = now or utcnow()
    hours = int(current_app.config.get("APPROVAL_WARNING_HOURS", 24))
    with exclusive("notifications.approval_deadlines") as mine:
        if not mine:
            return 0
        rows = db.session.execute(
            select(BookingStage, Booking)
            .join(Booking, and_(Booking.id == BookingStage.booking_id,
                                Booking.stage_position == BookingStage.position))
            .where(
                Booking.status == BookingStatus.REQUESTED,
                BookingStage.state == StageState.PENDING,
                BookingStage.due_at > now,
                BookingStage.due_at <= now + timedelta(hours=hours),
            )
            .order_by(BookingStage.due_at, BookingStage.id)
        ).all()
        sent = 0
        for stage, booking in rows:
            params = booking_params(booking)
            params["stage"] = {
                "position": stage.position + 1, "count": len(booking.stages),
                "due": when_iso(stage.due_at), "on_deadline": stage.on_deadline,
            }
            sent += len(notify(stage_audience(stage), "approval_deadline", booking=booking,
                               params=params, now=now, dedupe_key=f"deadline-stage-{stage.id}",
                               exclude=booking.user))
        db.session.commit()
        return sent


# --------------------------------------------------------------------------- digests
@job("notifications.digests")
def digests(now: datetime | None = None) -> int:
    """Once a day, from DIGEST_HOUR (local time), one email per person gathering the
    notifications they chose to receive as a digest."""

    now = now or utcnow()
    local = now.astimezone(_zone())
    if local.hour < int(current_app.config.get("DIGEST_HOUR", 8)):
        return 0
    day_key = f"digest-{local.date().isoformat()}"
    with exclusive("notifications.digests") as mine:
        if not mine:
            return 0
        waiting = db.session.execute(
            select(Notification.user_id, Notification.id)
            .where(Notification.channel == "digest", Notification.digested_at.is_(None),
                   Notification.created_at <= now)
            .order_by(Notification.user_id, Notification.id)
        ).all()
        by_user: dict[int, list[int]] = {}
        for uid, nid in waiting:
            by_user.setdefault(uid, []).append(nid)
        if not by_user:
            return 0
        done_today = set(db.session.scalars(
            select(EmailDelivery.user_id).where(EmailDelivery.dedupe_key == day_key,
                                                EmailDelivery.user_id.in_(list(by_user)))
        ))
        users = {u.id: u for u in db.session.scalars(
            select(User).where(User.id.in_(list(by_user)))
        )}
        made = 0
        for uid, ids in by_user.items():
            user = users.get(uid)
            if uid in done_today or user is None or not user.is_active_account:
                continue
            outbox = EmailDelivery(
                user=user, kind="digest", to_address=user.email,
                locale=user.locale if user.locale in ("ko", "en") else "ko",
                params={"ids": ids}, dedupe_key=day_key, next_attempt_at=now, created_at=now,
                message_id=_message_id(),
            )
            db.session.add(outbox)
            enqueue_after_commit("notifications.deliver", outbox)
            made += 1
            db.session.execute(
                Notification.__table__.update()
                .where(Notification.id.in_(ids))
                .values(digested_at=now)
            )
        db.session.commit()
        return made


# --------------------------------------------------------------------------- weekly summary
@job("notifications.weekly_summaries")
def weekly_summaries(now: datetime | None = None) -> int:
    """Mondays from 08:00 local time: each officer who asked for it gets last week's figures
    for each jurisdiction they oversee (including the jurisdictions below it)."""

    now = now or utcnow()
    zone = _zone()
    local = now.astimezone(zone)
    if local.weekday() != 0 or local.hour < 8:
        return 0
    week_start = datetime.combine(local.date() - timedelta(days=7), datetime.min.time(), zone)
    week_end = week_start + timedelta(days=7)
    iso = week_start.isocalendar()
    with exclusive("notifications.weekly_summaries") as mine:
        if not mine:
            return 0
        rows = db.session.execute(
            select(JurisdictionMembership.jurisdiction_id, User)
            .join(User, User.id == JurisdictionMembership.user_id)
            .order_by(JurisdictionMembership.jurisdiction_id, User.id)
        ).all()
        wanted = channels_for({u.id for _j, u in rows}, "weekly_summary")
        names = dict(db.session.execute(select(Jurisdiction.id, Jurisdiction.name)).tuples().all())
        sent = 0
        figures_cache: dict[int, dict] = {}
        for jid, user in rows:
            if wanted.get(user.id, "off") == "off":
                continue
            if jid not in figures_cache:
                figures_cache[jid] = summary_figures(jid, week_start, week_end, now)
            params = {
                "jurisdiction": names.get(jid, ""),
                "week": f"{iso.year}-W{iso.week:02d}",
                "from": when_iso(week_start), "to": when_iso(week_end - timedelta(seconds=1)),
                **figures_cache[jid],
            }
            sent += len(notify([user], "weekly_summary", params=params, now=now,
                               dedupe_key=f"weekly-{jid}-{iso.year}-W{iso.week:02d}"))
        db.session.commit()
        return sent


def summary_figures(jurisdiction_id: int, start: datetime, end: datetime,
                    now: datetime) -> dict:
    """Last week's numbers for a jurisdiction and everything below it, by SQL aggregation:
    requests made, decisions, cancellations, expiries, booked hours, requests waiting now
    (and overdue), the busiest spaces. No personal data."""

    ids = with_descendants({jurisdiction_id}, jurisdiction_tree())
    spaces = select(space_jurisdictions.c.space_id).where(
        space_jurisdictions.c.jurisdiction_id.in_(ids)
    ).scalar_subquery()
    made = db.session.scalar(
        select(func.count(Booking.id)).where(
            Booking.space_id.in_(spaces), Booking.created_at >= start, Booking.created_at < end
        )
    )
    moves = dict(db.session.execute(
        select(BookingTransition.to_status, func.count(BookingTransition.id))
        .join(Booking, Booking.id == BookingTransition.booking_id)
        .where(Booking.space_id.in_(spaces), BookingTransition.at >= start,
               BookingTransition.at < end,
               BookingTransition.to_status.in_(DIGEST_MOVES))
        .group_by(BookingTransition.to_status)
    ).tuples().all())
    used = db.session.execute(
        select(Space.id, Space.name,
               func.count(Booking.id).label("n"))
        .join(Booking, Booking.space_id == Space.id)
        .where(Space.id.in_(spaces), Booking.status.in_(TOOK_PLACE),
               Booking.start_at >= start, Booking.start_at < end)
        .group_by(Space.id, Space.name)
        .order_by(func.count(Booking.id).desc(), Space.name)
    ).all()
    seconds = db.session.scalar(
        select(func.coalesce(func.sum(_duration_seconds()), 0)).where(
            Booking.space_id.in_(spaces),
            Booking.status.in_(TOOK_PLACE),
            Booking.start_at >= start, Booking.start_at < end)
    )
    waiting = db.session.execute(
        select(func.count(Booking.id),
               func.count(Booking.id).filter(BookingStage.due_at < now))
        .join(BookingStage, and_(BookingStage.booking_id == Booking.id,
                                 BookingStage.position == Booking.stage_position))
        .where(Booking.space_id.in_(spaces), Booking.status == BookingStatus.REQUESTED)
    ).one()
    return {
        "requests": made or 0,
        "approved": moves.get(BookingStatus.APPROVED, 0) + moves.get(BookingStatus.CONFIRMED, 0),
        "rejected": moves.get(BookingStatus.REJECTED, 0),
        "cancelled": moves.get(BookingStatus.CANCELLED, 0),
        "expired": moves.get(BookingStatus.EXPIRED, 0),
        "no_show": moves.get(BookingStatus.NO_SHOW, 0),
        "hours": round(float(seconds or 0) / 3600, 1),
        "waiting": waiting[0] or 0,
        "overdue": waiting[1] or 0,
        "top_spaces": [{"name": r.name, "bookings": r.n} for r in used[:5]],
    }


def _duration_seconds():
    """A booking's length in seconds, as SQL for the database in use."""

    if db.engine.dialect.name == "postgresql":
        return func.extract("epoch", Booking.end_at - Booking.start_at)
    return (func.julianday(Booking.end_at) - func.julianday(Booking.start_at)) * 86400
