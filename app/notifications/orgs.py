"""Messages about owner organisations (app.orgs.signals): a new application for its reviewers,
the decision for its applicant, suspension and reinstatement for its team and the residents
with bookings to come, and team invitations (emailed to the address)."""

from __future__ import annotations

from sqlalchemy import select

from app.accounts.models import User
from app.bookings.owner import upcoming_bookings
from app.extensions import db
from app.notifications.services import email_address, notify
from app.orgs import signals
from app.orgs.models import JurisdictionMembership, OrgMembership, jurisdiction_tree

MAX_REVIEWERS = 100


def _reviewers(org) -> list[User]:
    """Administrators and the officers of the application's jurisdictions or any above them."""
    tree = jurisdiction_tree()
    ids: set[int] = set()
    for j in org.jurisdictions:
        current: int | None = j.id
        while current is not None and current not in ids:
            ids.add(current)
            current = tree.get(current)
    officers = select(JurisdictionMembership.user_id).where(
        JurisdictionMembership.jurisdiction_id.in_(ids or {-1}))
    return list(db.session.scalars(
        select(User).where((User.is_admin.is_(True)) | (User.id.in_(officers)))
        .order_by(User.id).limit(MAX_REVIEWERS)
    ))


def _team(org) -> list[User]:
    return list(db.session.scalars(
        select(User).join(OrgMembership, OrgMembership.user_id == User.id)
        .where(OrgMembership.organisation_id == org.id)
    ))


def _submitted(org, *, now, **_extra) -> None:
    notify(_reviewers(org), "org_application_received",
           params={"org": org.id, "name": org.name}, now=now)


def _decided(org, *, decision: str, actor, now, **_extra) -> None:
    applicant = db.session.get(User, org.applicant_id) if org.applicant_id else None
    notify([applicant], "org_application_decided",
           params={"org": org.id, "name": org.name, "decision": decision,
                   "reason": org.review_note or ""}, now=now)


def _status_changed(org, *, suspended: bool, now, **_extra) -> None:
    params = {"org": org.id, "name": org.name, "suspended": suspended}
    notify(_team(org), "org_suspended", params=params, now=now)
    if not suspended:
        return
    told: set[int] = set()
    for booking in upcoming_bookings(org.id, now):
        if booking.user_id in told:
            continue
        told.add(booking.user_id)
        notify([booking.user], "owner_suspended", booking=booking,
               params={**params, "space": booking.space.name}, now=now)


def _invited(invitation, *, token: str, inviter: str, locale: str, now, **_extra) -> None:
    org = invitation.organisation
    email_address(invitation.email, "org_invitation", locale=locale, now=now,
                  params={"token": token, "org": org.id, "name": org.name, "inviter": inviter,
                          "role": invitation.role, "email": invitation.email,
                          "expires": invitation.expires_at.isoformat()})


_listening = False


def register() -> None:
    global _listening
    if _listening:
        return
    _listening = True
    signals.application_submitted.connect(_submitted)
    signals.application_decided.connect(_decided)
    signals.status_changed.connect(_status_changed)
    signals.invitation_sent.connect(_invited)
