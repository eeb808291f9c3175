"""Resident groups (a club, a parents' association): create one, invite members, leave.

A group books together: a booking may be made "for" a group its maker belongs to, and rule
sets can cap a group's use per week or month. The leader (who created it) invites and removes
members; anyone may leave; a group whose last member leaves is deleted.

Nobody joins a group without saying yes. The leader invites an email address; the address gets
an email with a link (and, when it has an account, a notification), and its owner accepts or
declines, signed in with an account of that address. Until then the group sees only the
address the leader typed: what the leader is told never depends on whether the address has an
account, so inviting cannot be used to find out who is registered or what they are called.
The pages are in group_pages.py.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from app.accounts import signals
from app.accounts.group_models import (
    GroupInvitation,
    InvitationState,
    ResidentGroup,
    ResidentGroupMember,
)
from app.accounts.models import User
from app.accounts.services import normalise_email
from app.db import utcnow
from app.errors import NotAllowed, ValidationFailed
from app.extensions import db

MAX_GROUPS = 20
MAX_MEMBERS = 200
# Invitations waiting for an answer, per group: a leader who needs more waits for answers (or
# withdraws some) first.
MAX_PENDING_INVITATIONS = 50

# Why an invitation cannot be answered any more, as its invitee is told.
CLOSED_MESSAGES = {
    InvitationState.ACCEPTED: _l("You have already accepted this invitation."),
    InvitationState.DECLINED: _l(
        "You declined this invitation. If you change your mind, ask the person who invited "
        "you to invite you again."
    ),
    InvitationState.CANCELLED: _l("The group's leader withdrew this invitation."),
    InvitationState.EXPIRED: _l(
        "This invitation has expired. Ask the group's leader to invite you again."
    ),
}


def create_group(actor: User, name: str) -> ResidentGroup:
    name = (name or "").strip()
    if not name or len(name) > 120:
        raise ValidationFailed.single(_("Give the group a name of 1 to 120 characters."), "name")
    if _group_count(actor) >= MAX_GROUPS:
        raise ValidationFailed.single(
            _("You can belong to at most %(n)d groups.", n=MAX_GROUPS), "name"
        )
    group = ResidentGroup(name=name, created_by=actor)
    group.members.append(ResidentGroupMember(user=actor, is_leader=True))
    db.session.add(group)
    db.session.flush()
    return group


def _group_count(user: User) -> int:
    return db.session.execute(
        select(func.count()).select_from(ResidentGroupMember)
        .where(ResidentGroupMember.user_id == user.id)
    ).scalar_one()


def membership(group: ResidentGroup, user_id: int) -> ResidentGroupMember | None:
    return next((m for m in group.members if m.user_id == user_id), None)


def is_leader(group: ResidentGroup, user: User) -> bool:
    mine = membership(group, user.id)
    return mine is not None and mine.is_leader


def _lock(group: ResidentGroup) -> None:
    """Serialise changes to the group's members and invitations (two leaders' clicks, or an
    acceptance beside a cancellation): the counts and the one open invitation per address
    hold. SQLite already runs write requests one at a time."""
    db.session.execute(
        select(ResidentGroup.id).where(ResidentGroup.id == group.id).with_for_update()
    )


def _waiting_count(group: ResidentGroup, now: datetime) -> int:
    """Invitations the leader sees as waiting (open and not expired)."""
    return db.session.execute(
        select(func.count()).select_from(GroupInvitation).where(
            GroupInvitation.group_id == group.id,
            GroupInvitation.accepted_at.is_(None),
            GroupInvitation.cancelled_at.is_(None),
            GroupInvitation.expires_at > now,
        )
    ).scalar_one()


def invite(group: ResidentGroup, actor: User, email: str, *,
           now: datetime | None = None) -> GroupInvitation:
    """The leader invites the owner of address `email`: an invitation, emailed to the address,
    that they accept or decline. Inviting an address again renews its open invitation (a new
    link, a new expiry, another email) rather than adding one.

    Nothing here depends on whether the address has an account, except which channel carries
    the email: the leader gets the same answer either way. An address that is already a
    member's is invited all the same (saying so would tell the leader whose address it is);
    accepting then changes nothing."""
    if not is_leader(group, actor):
        raise NotAllowed(_("Only the group's leader can invite members."))
    address = normalise_email(email or "")
    now = now or utcnow()
    _lock(group)
    if len(group.members) >= MAX_MEMBERS:
        raise ValidationFailed.single(
            _("A group has at most %(n)d members.", n=MAX_MEMBERS), "email"
        )
    invitation = db.session.scalars(
        select(GroupInvitation).where(
            GroupInvitation.group_id == group.id,
            GroupInvitation.email == address,
            GroupInvitation.accepted_at.is_(None),
            GroupInvitation.cancelled_at.is_(None),
        )
    ).first()
    waiting = invitation is not None and invitation.expires_at > now
    if not waiting and _waiting_count(group, now) >= MAX_PENDING_INVITATIONS:
        raise ValidationFailed.single(
            _("A group can have at most %(n)d invitations waiting for an answer. Withdraw some, "
              "or wait for answers, before inviting more.", n=MAX_PENDING_INVITATIONS),
            "email",
        )
    if invitation is None:
        invitation = GroupInvitation(group_id=group.id, email=address, created_at=now)
        db.session.add(invitation)
    invitation.invited_by = actor
    invitation.renew(now)
    db.session.flush()
    _send(invitation, group, actor, now)
    return invitation


def _send(invitation: GroupInvitation, group: ResidentGroup, actor: User,
          now: datetime) -> None:
    # What the email says; the link is made when it is written (render.invitation_link).
    params = {
        "invitation": invitation.id,
        "group": group.name,
        "inviter": actor.name,
        "email": invitation.email,
        "expires": invitation.expires_at.isoformat(),
    }
    account = db.session.scalar(select(User).where(User.email == invitation.email))
    # Notifications write the inbox entry and the email (to the account, or to the bare
    # address in the inviter's language: the likeliest one they share).
    signals.group_invitation_sent.send(
        invitation, account=account, params=params, locale=str(get_locale() or "ko"), now=now
    )


def cancel_invitation(group: ResidentGroup, actor: User, invitation: GroupInvitation, *,
                      now: datetime | None = None) -> None:
    """The leader withdraws an invitation that has not been accepted; its link stops working."""
    if not is_leader(group, actor) or invitation.group_id != group.id:
        raise NotAllowed(_("Only the group's leader can withdraw invitations."))
    _lock(group)
    if not invitation.is_open:
        raise ValidationFailed.single(_("This invitation is no longer open."))
    invitation.cancelled_at = now or utcnow()
    db.session.flush()


def _answerable(invitation: GroupInvitation, actor: User, now: datetime) -> None:
    if invitation.email != actor.email:
        raise NotAllowed(_("This invitation was sent to another email address."))
    state = invitation.state(now)
    if state != InvitationState.PENDING:
        raise ValidationFailed.single(str(CLOSED_MESSAGES[state]))


def accept(invitation: GroupInvitation, actor: User, *, now: datetime | None = None) -> None:
    """The person invited (signed in with the invited address) joins the group."""
    now = now or utcnow()
    group = invitation.group
    _lock(group)
    db.session.refresh(invitation)  # a cancellation may have come first
    _answerable(invitation, actor, now)
    if membership(group, actor.id) is None:
        if len(group.members) >= MAX_MEMBERS:
            raise ValidationFailed.single(
                _("The group is full: it has %(n)d members.", n=MAX_MEMBERS)
            )
        if _group_count(actor) >= MAX_GROUPS:
            raise ValidationFailed.single(
                _("You can belong to at most %(n)d groups.", n=MAX_GROUPS)
            )
        group.members.append(ResidentGroupMember(user=actor))
    invitation.accepted_at = now
    db.session.flush()


def decline(invitation: GroupInvitation, actor: User, *, now: datetime | None = None) -> None:
    """The person invited says no. The leader is not told (see GroupInvitation)."""
    now = now or utcnow()
    _lock(invitation.group)
    db.session.refresh(invitation)
    _answerable(invitation, actor, now)
    invitation.declined_at = now
    db.session.flush()


def remove_member(group: ResidentGroup, actor: User, user_id: int) -> None:
    """The leader removes a member, or a member leaves (user_id == actor.id)."""
    mine = membership(group, actor.id)
    target = membership(group, user_id)
    if mine is None or target is None or (user_id != actor.id and not mine.is_leader):
        raise NotAllowed(_("You are not allowed to do this."))
    group.members.remove(target)
    if not group.members:
        db.session.delete(group)
    elif target.is_leader and not any(m.is_leader for m in group.members):
        group.members[0].is_leader = True  # the group always has a leader
    db.session.flush()


# --- What the pages show ----------------------------------------------------------------------
def waiting_invitations(groups: list[ResidentGroup], now: datetime
                        ) -> dict[int, list[GroupInvitation]]:
    """The invitations of `groups` (those the viewer leads) still waiting, by group id; one
    query. A declined one is among them until it expires: its leader is not told."""
    ids = [g.id for g in groups]
    out: dict[int, list[GroupInvitation]] = {i: [] for i in ids}
    if not ids:
        return out
    for invitation in db.session.scalars(
        select(GroupInvitation).where(
            GroupInvitation.group_id.in_(ids),
            GroupInvitation.accepted_at.is_(None),
            GroupInvitation.cancelled_at.is_(None),
            GroupInvitation.expires_at > now,
        ).order_by(GroupInvitation.email)
    ):
        out[invitation.group_id].append(invitation)
    return out


def invitations_for(user: User, now: datetime) -> list[GroupInvitation]:
    """The invitations `user` may answer (sent to their address, still pending); one query."""
    return list(
        db.session.scalars(
            select(GroupInvitation)
            .where(
                GroupInvitation.email == user.email,
                GroupInvitation.accepted_at.is_(None),
                GroupInvitation.cancelled_at.is_(None),
                GroupInvitation.declined_at.is_(None),
                GroupInvitation.expires_at > now,
            )
            .options(joinedload(GroupInvitation.group), joinedload(GroupInvitation.invited_by))
            .order_by(GroupInvitation.expires_at, GroupInvitation.id)
        )
    )


def by_token(token: str) -> GroupInvitation | None:
    """The invitation whose link carries `token` (its latest link), with its group and
    inviter; one query."""
    if not token or len(token) > 100:
        return None
    return db.session.scalars(
        select(GroupInvitation)
        .where(GroupInvitation.token_hash == GroupInvitation.hash(token))
        .options(joinedload(GroupInvitation.group), joinedload(GroupInvitation.invited_by))
    ).first()


def user_groups(user) -> list:
    """The resident groups `user` belongs to, by name."""
    if not getattr(user, "is_authenticated", False):
        return []
    return list(
        db.session.scalars(
            select(ResidentGroup)
            .join(ResidentGroupMember)
            .where(ResidentGroupMember.user_id == user.id)
            .order_by(ResidentGroup.name, ResidentGroup.id)
        )
    )


def user_group_ids(user) -> list[int]:
    if not getattr(user, "is_authenticated", False):
        return []
    return list(
        db.session.scalars(
            select(ResidentGroupMember.group_id).where(ResidentGroupMember.user_id == user.id)
        )
    )
