"""Resident groups (a club, a parents' association): create one, add members, leave.

A group books together: a booking may be made "for" a group its maker belongs to, and rule
sets can cap a group's use per week or month. The leader (who created it) adds and removes
members; anyone may leave; a group whose last member leaves is deleted.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.accounts import bp
from app.accounts.models import User
from app.accounts.services import normalise_email
from app.errors import DomainError, NotAllowed, ValidationFailed
from app.extensions import db
from app.rules.models import ResidentGroup, ResidentGroupMember
from app.security import limits

MAX_GROUPS = 20
MAX_MEMBERS = 200


# --- Services ---------------------------------------------------------------------------------
def create_group(actor: User, name: str) -> ResidentGroup:
    name = (name or "").strip()
    if not name or len(name) > 120:
        raise ValidationFailed.single(_("Give the group a name of 1 to 120 characters."), "name")
    count = len(
        db.session.scalars(
            select(ResidentGroupMember.group_id).where(ResidentGroupMember.user_id == actor.id)
        ).all()
    )
    if count >= MAX_GROUPS:
        raise ValidationFailed.single(
            _("You can belong to at most %(n)d groups.", n=MAX_GROUPS), "name"
        )
    group = ResidentGroup(name=name, created_by=actor)
    group.members.append(ResidentGroupMember(user=actor, is_leader=True))
    db.session.add(group)
    db.session.flush()
    return group


def _membership(group: ResidentGroup, user_id: int) -> ResidentGroupMember | None:
    return next((m for m in group.members if m.user_id == user_id), None)


def add_member(group: ResidentGroup, actor: User, email: str) -> User:
    mine = _membership(group, actor.id)
    if mine is None or not mine.is_leader:
        raise NotAllowed(_("Only the group's leader can add members."))
    user = db.session.scalar(select(User).where(User.email == normalise_email(email or "")))
    if user is None or not user.is_active_account:
        raise ValidationFailed.single(
            _("No one has an account with that email address. Ask them to register first."),
            "email",
        )
    if _membership(group, user.id) is not None:
        raise ValidationFailed.single(_("%(name)s is already a member.", name=user.name), "email")
    if len(group.members) >= MAX_MEMBERS:
        raise ValidationFailed.single(_("A group has at most %(n)d members.", n=MAX_MEMBERS))
    group.members.append(ResidentGroupMember(user=user))
    db.session.flush()
    return user


def remove_member(group: ResidentGroup, actor: User, user_id: int) -> None:
    """The leader removes a member, or a member leaves (user_id == actor.id)."""
    mine = _membership(group, actor.id)
    target = _membership(group, user_id)
    if mine is None or target is None or (user_id != actor.id and not mine.is_leader):
        raise NotAllowed(_("You are not allowed to do this."))
    group.members.remove(target)
    if not group.members:
        db.session.delete(group)
    elif target.is_leader and not any(m.is_leader for m in group.members):
        group.members[0].is_leader = True  # the group always has a leader
    db.session.flush()


# --- Pages ------------------------------------------------------------------------------------
def _my_group(group_id: int) -> ResidentGroup:
    group = db.session.scalars(
        select(ResidentGroup)
        .where(ResidentGroup.id == group_id)
        .options(selectinload(ResidentGroup.members).selectinload(ResidentGroupMember.user))
    ).first()
    if group is None or _membership(group, current_user.id) is None:
        abort(404)
    return group


@bp.get("/account/groups")
@login_required
def groups():
    mine = db.session.scalars(
        select(ResidentGroup)
        .join(ResidentGroupMember)
        .where(ResidentGroupMember.user_id == current_user.id)
        .options(selectinload(ResidentGroup.members).selectinload(ResidentGroupMember.user))
        .order_by(ResidentGroup.name, ResidentGroup.id)
    ).all()
    return render_template("accounts/groups.html", groups=mine)


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
        lambda: create_group(current_user, name),
        _("The group %(name)s was created.", name=name.strip()[:120]),
    )


@bp.post("/account/groups/<int:group_id>/members")
@login_required
@limits.invitation_per_account
def add_group_member(group_id: int):
    group = _my_group(group_id)
    email = request.form.get("email", "")
    return _done(lambda: add_member(group, current_user, email), _("The member was added."))


@bp.post("/account/groups/<int:group_id>/members/<int:user_id>/remove")
@login_required
def remove_group_member(group_id: int, user_id: int):
    group = _my_group(group_id)
    message = (
        _("You left the group.") if user_id == current_user.id else _("The member was removed.")
    )
    return _done(lambda: remove_member(group, current_user, user_id), message)
