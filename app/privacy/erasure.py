"""Erasing an account: its future bookings cancelled by the normal rules (refunds by the
rules), then the personal data erased, while the records others need stay without identity.

The user row stays as a tombstone (bookings, payments and their logs point at it): its email
becomes `deleted-<id>@deleted.invalid`, so the address is free for a new sign-up; the name a
fixed label; phone, district, password, sessions, API tokens, calendar feeds, notifications,
the outbox, preferences, group memberships, invitations, password-reset links and roles are
erased; pending residency and waiver claims are withdrawn and their evidence files deleted.
Bookings stay (statistics, the owners' accounting) with their free-text purpose erased;
payments and refunds stay for the five years 전자상거래법 (Act on Consumer Protection in
Electronic Commerce, Art. 6) requires records of payment to be kept. The audit entry names no
one: the tombstone's id, how, counts.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import delete, select, update

from app.accounts import consents, verification
from app.accounts.group_models import GroupInvitation, ResidentGroupMember
from app.accounts.models import ApiToken, LoginSession, PasswordReset, User
from app.bookings import services as booking_services
from app.bookings.models import Booking
from app.bookings.states import TRANSITIONS, BookingStatus
from app.calendars.models import CalendarFeed
from app.db import utcnow
from app.errors import DomainError
from app.extensions import db
from app.notifications.models import EmailDelivery, Notification, NotificationPreference
from app.orgs.models import JurisdictionMembership, OrgInvitation, OrgMembership
from app.security.models import ACCOUNT_ERASED, SecurityEvent

TOMBSTONE_DOMAIN = "deleted.invalid"
TOMBSTONE_NAME = "탈퇴한 회원"

# Why an account was erased, in the audit entry.
BY_OWNER, BY_RETENTION = "owner", "retention"

# Bookings that can still be cancelled: every state from which "cancelled" may follow.
CANCELLABLE = tuple(s for s, after in TRANSITIONS.items() if BookingStatus.CANCELLED in after)


def tombstone_email(user_id: int) -> str:
    return f"deleted-{user_id}@{TOMBSTONE_DOMAIN}"


def is_erased(user: User) -> bool:
    return user.anonymised_at is not None


def cancel_future_bookings(user: User, now: datetime) -> int:
    """Cancel `user`'s bookings that have not started, as if they cancelled each themselves
    (the rules' refund tiers apply). Returns how many were cancelled."""
    bookings = db.session.scalars(
        select(Booking).where(
            Booking.user_id == user.id, Booking.start_at > now,
            Booking.status.in_(CANCELLABLE),
        ).order_by(Booking.start_at)
    ).all()
    cancelled = 0
    for booking in bookings:
        try:
            with db.session.begin_nested():
                booking_services.cancel(booking, user, reason=None, now=now)
        except DomainError:
            continue  # it can no longer be cancelled (it changed meanwhile): it stays as it is
        cancelled += 1
    return cancelled


def erase(user: User, *, how: str, now: datetime | None = None) -> dict[str, int]:
    """Erase `user` (see the module's text). Idempotent; the caller commits."""
    now = now or utcnow()
    if is_erased(user):
        return {"cancelled": 0}
    cancelled = cancel_future_bookings(user, now)
    uid = user.id
    # Whatever the person typed into their bookings; the bookings themselves stay.
    db.session.execute(update(Booking).where(Booking.user_id == uid).values(purpose=""))
    old_email = user.email
    for model in (LoginSession, ApiToken, CalendarFeed, Notification, NotificationPreference,
                  ResidentGroupMember, OrgMembership, JurisdictionMembership, PasswordReset):
        db.session.execute(delete(model).where(model.user_id == uid))
    # Pending residency and waiver claims: withdrawn, their evidence files deleted.
    verification.withdraw_all(user, now)
    # The outbox holds the address and what each email said.
    db.session.execute(delete(EmailDelivery).where(EmailDelivery.user_id == uid))
    db.session.execute(delete(GroupInvitation).where(GroupInvitation.email == old_email))
    db.session.execute(delete(OrgInvitation).where(OrgInvitation.email == old_email))
    # The security log keeps its rows until its own retention, no longer tied to the person.
    db.session.execute(
        update(SecurityEvent).where(SecurityEvent.user_id == uid).values(user_id=None, ip=None)
    )
    consents.withdraw_all(uid, now)
    user.email = tombstone_email(uid)
    user.name = TOMBSTONE_NAME
    user.phone = None
    user.home_district_id = None
    user.is_admin = False
    user.is_active_account = False
    user.email_verified_at = None
    user.reminder_hours = 0
    user.set_password(secrets.token_urlsafe(32))  # unknown to anyone: no log-in ever again
    user.anonymised_at = now
    user.retention_warned_at = None
    db.session.add(SecurityEvent(
        at=now, kind=ACCOUNT_ERASED, ip=None, user_id=uid,
        detail={"how": how, "cancelled_bookings": cancelled},
    ))
    db.session.flush()
    return {"cancelled": cancelled}

