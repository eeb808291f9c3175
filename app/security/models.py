"""The security event log: what the abuse views and the audit read.

Rows hold network addresses, which are personal data: they are kept for
SECURITY_EVENT_RETENTION_DAYS (the sweep deletes older ones) and shown only to administrators
and to the officers and managers whose spaces an event concerns.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import utcnow
from app.extensions import Model

# What happened. Kept short and stable: the abuse page groups by them.
THROTTLED = "throttled"  # a rate limit answered 429
LOGIN_FAILED = "login_failed"
LOGIN = "login"
ACCOUNT_CREATED = "account_created"
CHALLENGE_FAILED = "challenge_failed"  # a booking sent without a valid proof of work
BOOKING_REQUESTED = "booking_requested"

EVENT_KINDS = (THROTTLED, LOGIN_FAILED, LOGIN, ACCOUNT_CREATED, CHALLENGE_FAILED,
               BOOKING_REQUESTED)

# What platform administrators did in the admin console (app.accounts.admin): the audit trail
# of roles, accounts and the jurisdiction hierarchy. `user_id` is the administrator; `detail`
# names the person or jurisdiction acted on.
ADMIN_GRANTED = "admin_granted"
ADMIN_REVOKED = "admin_revoked"
OFFICER_GRANTED = "officer_granted"
OFFICER_REVOKED = "officer_revoked"
ACCOUNT_DEACTIVATED = "account_deactivated"
ACCOUNT_REACTIVATED = "account_reactivated"
JURISDICTION_ADDED = "jurisdiction_added"
JURISDICTION_RENAMED = "jurisdiction_renamed"
JURISDICTION_MOVED = "jurisdiction_moved"
# An account was erased, by its owner or for inactivity (app.privacy.erasure): `user_id` is the
# tombstone left behind, `detail` says how; no personal data.
ACCOUNT_ERASED = "account_erased"

# Owner organisations (app.orgs): applications and their review, suspension, and the team.
# `user_id` is who acted; `detail` names the organisation (and the member or address).
ORG_APPLIED = "org_applied"
ORG_RESUBMITTED = "org_resubmitted"
ORG_APPROVED = "org_approved"
ORG_REJECTED = "org_rejected"
ORG_INFO_REQUESTED = "org_info_requested"
ORG_SUSPENDED = "org_suspended"
ORG_REINSTATED = "org_reinstated"
ORG_INVITED = "org_invited"
ORG_INVITATION_ACCEPTED = "org_invitation_accepted"
ORG_ROLE_CHANGED = "org_role_changed"
ORG_MEMBER_REMOVED = "org_member_removed"

ORG_AUDIT_KINDS = (ORG_APPLIED, ORG_RESUBMITTED, ORG_APPROVED, ORG_REJECTED, ORG_INFO_REQUESTED,
                   ORG_SUSPENDED, ORG_REINSTATED, ORG_INVITED, ORG_INVITATION_ACCEPTED,
                   ORG_ROLE_CHANGED, ORG_MEMBER_REMOVED)

# What officers decided about residents' claims (app.accounts.verification): `user_id` is the
# officer; `detail` names the person, the district and the waiver category.
RESIDENCY_VERIFIED = "residency_verified"
RESIDENCY_REJECTED = "residency_rejected"
WAIVER_VERIFIED = "waiver_verified"
WAIVER_REJECTED = "waiver_rejected"

AUDIT_KINDS = (ADMIN_GRANTED, ADMIN_REVOKED, OFFICER_GRANTED, OFFICER_REVOKED,
               ACCOUNT_DEACTIVATED, ACCOUNT_REACTIVATED, JURISDICTION_ADDED,
               JURISDICTION_RENAMED, JURISDICTION_MOVED, ACCOUNT_ERASED, *ORG_AUDIT_KINDS,
               RESIDENCY_VERIFIED, RESIDENCY_REJECTED, WAIVER_VERIFIED, WAIVER_REJECTED)


class SecurityEvent(Model):
    __tablename__ = "security_events"
    __table_args__ = (
        Index("ix_security_events_ip_at", "ip", "at"),
        Index("ix_security_events_kind_at", "kind", "at"),
        Index("ix_security_events_space_id_at", "space_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    kind: Mapped[str] = mapped_column(String(30))
    ip: Mapped[str | None] = mapped_column(String(45))
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    # Indexed with `at`: the surge check counts a space's requests of the last minute.
    space_id: Mapped[int | None] = mapped_column(ForeignKey("spaces.id", ondelete="SET NULL"))
    # What the event is about in words a reviewer reads: the limit, the path, the user agent.
    detail: Mapped[dict] = mapped_column(JSON, default=dict)

    user = relationship("User")
    space = relationship("Space")


class SpentChallenge(Model):
    """A proof-of-work solution that was accepted, kept until its challenge expires so the same
    solution is refused the second time (in the database, so every worker sees it)."""

    __tablename__ = "spent_challenges"

    # SHA-256 of the challenge's signature: the signature is unique to one challenge.
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(index=True)
