"""The pages of resident groups: one's groups and invitations, inviting, answering, leaving.

An invitation's own page (the link in its email) is reached by its token. It answers the person
invited (signed in with the invited address) in full; a visitor who is not signed in is asked
to log in or register and comes back; anyone signed in with another address is told only that
the invitation is for another address.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.accounts import groups as services
from app.accounts.group_models import (
    GroupInvitation,
    InvitationState,
    ResidentGroup,
    ResidentGroupMember,
)
from app.db import utcnow
from app.errors import DomainError
from app.extensions import db
from app.security import limits
from app.web.accounts import bp


def _my_group(group_id: int) -> ResidentGroup:
    group = db.session.scalars(
        select(ResidentGroup)
        .where(ResidentGroup.id == group_id)
        .options(selectinload(ResidentGroup.members).selectinload(ResidentGroupMember.user))
    ).first()
    if group is None or services.membership(group, current_user.id) is None:
        abort(404)
    return group


def _addressed_to_me(invitation_id: int) -> GroupInvitation:
    """An invitation sent to the signed-in person's address; any other is not found."""
    invitation = db.session.get(GroupInvitation, invitation_id)
    if invitation is None or invitation.email != current_user.email:
        abort(404)
    return invitation


@bp.get("/account/groups")
@login_required
def groups():
    now = utcnow()
    mine = db.session.scalars(
        select(ResidentGroup)
        .join(ResidentGroupMember)
        .where(ResidentGroupMember.user_id == current_user.id)
        .options(selectinload(ResidentGroup.members).selectinload(ResidentGroupMember.user))
        .order_by(ResidentGroup.name, ResidentGroup.id)
    ).all()
    led = [g for g in mine if services.is_leader(g, current_user)]
    return render_template(
        "accounts/groups.html",
        groups=mine,
        led={g.id for g in led},
        waiting=services.waiting_invitations(led, now),
        received=services.invitations_for(current_user, now),
    )


def _done(action, message: str):
    try:
        action()
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        db.session.commit()
        flash(message, "success")
    return redirect(url_for("accounts.groups"))


@bp.post("/account/groups")
@login_required
def new_group():
    name = request.form.get("name", "")
    return _done(
        lambda: services.create_group(current_user, name),
        _("The group %(name)s was created.", name=name.strip()[:120]),
    )


@bp.post("/account/groups/<int:group_id>/invitations")
@login_required
@limits.invitation_per_account
def invite_to_group(group_id: int):
    group = _my_group(group_id)
    email = request.form.get("email", "")
    # The same words whether or not the address has an account.
    return _done(
        lambda: services.invite(group, current_user, email),
        _("An invitation was sent to %(email)s.", email=email.strip()[:254]),
    )


@bp.post("/account/groups/<int:group_id>/invitations/<int:invitation_id>/cancel")
@login_required
def cancel_invitation(group_id: int, invitation_id: int):
    group = _my_group(group_id)
    invitation = db.session.get(GroupInvitation, invitation_id)
    # Only the leader may know which addresses were invited.
    if (invitation is None or invitation.group_id != group.id
            or not services.is_leader(group, current_user)):
        abort(404)
    return _done(
        lambda: services.cancel_invitation(group, current_user, invitation),
        _("The invitation to %(email)s was withdrawn.", email=invitation.email),
    )


@bp.post("/account/groups/invitations/<int:invitation_id>/accept")
@login_required
def accept_invitation(invitation_id: int):
    invitation = _addressed_to_me(invitation_id)
    return _done(
        lambda: services.accept(invitation, current_user),
        _("You joined %(group)s.", group=invitation.group.name),
    )


@bp.post("/account/groups/invitations/<int:invitation_id>/decline")
@login_required
def decline_invitation(invitation_id: int):
    invitation = _addressed_to_me(invitation_id)
    return _done(
        lambda: services.decline(invitation, current_user),
        _("You declined the invitation to %(group)s.", group=invitation.group.name),
    )


@bp.get("/groups/invitations/<token>")
def invitation(token: str):
    found = services.by_token(token)
    if found is None:
        return render_template("accounts/invitation.html", view="unknown"), 404
    state = found.state(utcnow())
    if not current_user.is_authenticated:
        # Nothing about the group until the visitor shows they own the address.
        return render_template("accounts/invitation.html", view="visitor", state=state,
                               here=request.path)
    if found.email != current_user.email:
        return render_template("accounts/invitation.html", view="elsewhere"), 403
    return render_template(
        "accounts/invitation.html", view="invitee", state=state, invitation=found,
        closed=services.CLOSED_MESSAGES.get(state), pending=state == InvitationState.PENDING,
    )


@bp.post("/account/groups/<int:group_id>/members/<int:user_id>/remove")
@login_required
def remove_group_member(group_id: int, user_id: int):
    group = _my_group(group_id)
    message = (
        _("You left the group.") if user_id == current_user.id else _("The member was removed.")
    )
    return _done(lambda: services.remove_member(group, current_user, user_id), message)
