"""An organisation's team: its managers invite people by email to a role, list the members,
change their roles and remove them; members may leave. The last manager can neither leave nor
be demoted, so an approved organisation always has someone to run it.

An invitation is a single-use link that lasts INVITATION_DAYS; only the SHA-256 of its token is
stored. It is emailed to the address whether or not the address has an account, and the
manager is told the same either way, so inviting cannot be used to learn who is registered.
Whoever opens the link signed in (or after creating an account) joins with the role.
Every change is written to the audit trail.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta

from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from app.db import utcnow
from app.errors import NotAllowed, ValidationFailed
from app.extensions import db
from app.orgs import signals
from app.orgs.models import TEAM_MANAGERS, Organisation, OrgInvitation, OrgMembership
from app.security import events
from app.security.models import (
    ORG_INVITATION_ACCEPTED,
    ORG_INVITED,
    ORG_MEMBER_REMOVED,
    ORG_ROLE_CHANGED,
)

INVITATION_DAYS = 7
MAX_PENDING_INVITATIONS = 50
MAX_MEMBERS = 200
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")

CLOSED = _l("This invitation link is no longer valid: it was used, withdrawn or has expired. "
            "Ask the organisation's manager for a new one.")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def roles_for(org: Organisation) -> tuple[str, ...]:
    """The roles a member of `org` may have: heads of organisation only in schools."""
    return ("manager", "principal", "staff") if org.kind == "school" else ("manager", "staff")


def _audit(kind: str, actor, org: Organisation, **detail) -> None:
    events.record(kind, user=actor, detail={"organisation_id": org.id, "organisation": org.name,
                                            **detail})


def _require_team_manager(org: Organisation, actor) -> None:
    if not org.can_manage_team(actor):
        raise NotAllowed(_("Only the organisation's managers can change its team."))


def _role(org: Organisation, role: str) -> str:
    if role not in roles_for(org):
        raise ValidationFailed.single(_("Choose a role from the list."), "role")
    return role


def _lock(org: Organisation) -> None:
    db.session.execute(
        select(Organisation.id).where(Organisation.id == org.id).with_for_update()
    )


def invite(org: Organisation, actor, email: str, role: str, *,
           now: datetime | None = None) -> tuple[OrgInvitation, str]:
    """Invite `email` to `role`; the invitation and its token (emailed, not stored)."""
    _require_team_manager(org, actor)
    now = now or utcnow()
    address = (email or "").strip().lower()
    if not EMAIL.match(address) or len(address) > 254:
        raise ValidationFailed.single(_("Enter a valid email address."), "email")
    role = _role(org, role)
    _lock(org)
    waiting = db.session.scalar(
        select(func.count(OrgInvitation.id)).where(
            OrgInvitation.organisation_id == org.id, OrgInvitation.accepted_at.is_(None),
            OrgInvitation.cancelled_at.is_(None), OrgInvitation.expires_at > now)
    ) or 0
    if waiting >= MAX_PENDING_INVITATIONS:
        raise ValidationFailed.single(
            _("At most %(n)d invitations can wait for an answer. Withdraw some first.",
              n=MAX_PENDING_INVITATIONS), "email")
    token = secrets.token_urlsafe(32)
    invitation = OrgInvitation(organisation_id=org.id, email=address, role=role,
                               token_hash=hash_token(token), invited_by_id=actor.id,
                               created_at=now, expires_at=now + timedelta(days=INVITATION_DAYS))
    db.session.add(invitation)
    db.session.flush()
    _audit(ORG_INVITED, actor, org, email=address, role=role)
    signals.invitation_sent.send(invitation, token=token, inviter=actor.name,
                                 locale=str(get_locale() or "ko"), now=now)
    return invitation, token


def find(token: str) -> OrgInvitation | None:
    """The invitation of `token` (any state), or None."""
    if not token or len(token) > 100:
        return None
    return db.session.scalar(
        select(OrgInvitation).where(OrgInvitation.token_hash == hash_token(token))
    )


def cancel(org: Organisation, actor, invitation: OrgInvitation, *,
           now: datetime | None = None) -> None:
    _require_team_manager(org, actor)
    if invitation.organisation_id != org.id or not invitation.is_open(now or utcnow()):
        raise ValidationFailed.single(_("This invitation is no longer open."))
    invitation.cancelled_at = now or utcnow()
    db.session.flush()


def accept(invitation: OrgInvitation, actor, *, now: datetime | None = None) -> OrgMembership:
    """`actor` joins the organisation with the invitation's role (a member already keeps
    their role); the link stops working."""
    now = now or utcnow()
    org = invitation.organisation
    _lock(org)
    db.session.refresh(invitation)
    if not invitation.is_open(now) or not org.approved:
        raise ValidationFailed.single(str(CLOSED))
    member = db.session.scalar(
        select(OrgMembership).where(OrgMembership.organisation_id == org.id,
                                    OrgMembership.user_id == actor.id)
    )
    if member is None:
        count = db.session.scalar(
            select(func.count(OrgMembership.id)).where(OrgMembership.organisation_id == org.id)
        ) or 0
        if count >= MAX_MEMBERS:
            raise ValidationFailed.single(_("The team is full."))
        member = OrgMembership(organisation_id=org.id, user_id=actor.id, role=invitation.role)
        db.session.add(member)
    invitation.accepted_at = now
    invitation.accepted_by_id = actor.id
    db.session.flush()
    actor.__dict__.pop("org_roles", None)
    _audit(ORG_INVITATION_ACCEPTED, actor, org, role=member.role, invitation_id=invitation.id)
    return member


def _managers(org: Organisation) -> int:
    return db.session.scalar(
        select(func.count(OrgMembership.id)).where(OrgMembership.organisation_id == org.id,
                                                   OrgMembership.role.in_(TEAM_MANAGERS))
    ) or 0


def _last_manager(org: Organisation, member: OrgMembership) -> bool:
    return member.role in TEAM_MANAGERS and _managers(org) <= 1


def change_role(org: Organisation, actor, member: OrgMembership, role: str) -> None:
    _require_team_manager(org, actor)
    if member.organisation_id != org.id:
        raise NotAllowed(_("This person is not in the team."))
    role = _role(org, role)
    if role == member.role:
        return
    _lock(org)
    if role not in TEAM_MANAGERS and _last_manager(org, member):
        raise ValidationFailed.single(
            _("The organisation needs at least one manager. Make someone else a manager "
              "first."), "role")
    previous = member.role
    member.role = role
    db.session.flush()
    _audit(ORG_ROLE_CHANGED, actor, org, member_id=member.user_id, role=role, previous=previous)


def remove(org: Organisation, actor, member: OrgMembership) -> None:
    """A manager removes a member, or a member leaves (their own membership)."""
    if member.organisation_id != org.id:
        raise NotAllowed(_("This person is not in the team."))
    if member.user_id != actor.id:
        _require_team_manager(org, actor)
    _lock(org)
    if _last_manager(org, member):
        raise ValidationFailed.single(
            _("The organisation needs at least one manager. Make someone else a manager "
              "first."))
    user_id = member.user_id
    db.session.delete(member)
    db.session.flush()
    _audit(ORG_MEMBER_REMOVED, actor, org, member_id=user_id)


def members(org: Organisation) -> list[OrgMembership]:
    from sqlalchemy.orm import joinedload

    return list(db.session.scalars(
        select(OrgMembership).where(OrgMembership.organisation_id == org.id)
        .options(joinedload(OrgMembership.user)).order_by(OrgMembership.id)
        .limit(MAX_MEMBERS)
    ))


def waiting(org: Organisation, now: datetime) -> list[OrgInvitation]:
    return list(db.session.scalars(
        select(OrgInvitation).where(
            OrgInvitation.organisation_id == org.id, OrgInvitation.accepted_at.is_(None),
            OrgInvitation.cancelled_at.is_(None), OrgInvitation.expires_at > now)
        .order_by(OrgInvitation.created_at.desc()).limit(MAX_PENDING_INVITATIONS)
    ))
