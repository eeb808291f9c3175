"""What platform administrators do in the admin console: people's roles and accounts, and the
jurisdiction hierarchy. Every change is written to the security event log (the audit trail,
app.security.models.AUDIT_KINDS) with the administrator as its user.

The services flush and never commit; they raise ValidationFailed (with a field) or NotAllowed
with a message the console shows. They record the event about the current request, so they
run inside one (the console's pages).
"""

from __future__ import annotations

import re

from flask_babel import gettext as _
from sqlalchemy import delete, func, or_, select

from app.accounts import sessions, signals
from app.accounts.models import User
from app.db import rowcount, utcnow
from app.errors import NotAllowed, ValidationFailed
from app.extensions import db
from app.orgs.models import (
    JURISDICTION_KINDS,
    Jurisdiction,
    JurisdictionMembership,
    jurisdiction_tree,
    with_descendants,
)
from app.security import events
from app.security.models import (
    ACCOUNT_DEACTIVATED,
    ACCOUNT_REACTIVATED,
    ADMIN_GRANTED,
    ADMIN_REVOKED,
    JURISDICTION_ADDED,
    JURISDICTION_MOVED,
    JURISDICTION_RENAMED,
    OFFICER_GRANTED,
    OFFICER_REVOKED,
)

MAX_QUERY = 100
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


def search_users(text: str):
    """The select of users whose name or email contains `text` (all when empty), newest first;
    the caller pages it."""
    query = select(User).order_by(User.created_at.desc(), User.id.desc())
    text = (text or "").strip()[:MAX_QUERY]
    if text:
        pattern = _like(text)
        query = query.where(or_(func.lower(User.name).like(pattern, escape="\\"),
                                func.lower(User.email).like(pattern, escape="\\")))
    return query


def _audit(kind: str, actor: User, **detail) -> None:
    events.record(kind, user=actor, detail=detail)


def _active_admins() -> int:
    return db.session.scalar(
        select(func.count(User.id)).where(User.is_admin.is_(True),
                                          User.is_active_account.is_(True))
    ) or 0


def set_admin(target: User, value: bool, *, actor: User) -> None:
    """Grant or revoke the platform administrator role. The last active administrator stays."""
    if target.is_admin == value:
        return
    if not value and target.is_active_account and _active_admins() <= 1:
        raise NotAllowed(_("The platform needs at least one active administrator."))
    target.is_admin = value
    _audit(ADMIN_GRANTED if value else ADMIN_REVOKED, actor, target_id=target.id,
           target=target.email)
    db.session.flush()


def grant_officer(target: User, jurisdiction: Jurisdiction, *, actor: User) -> None:
    """Make `target` an officer of `jurisdiction` (and so of everything below it)."""
    exists = db.session.scalar(
        select(JurisdictionMembership.id).where(
            JurisdictionMembership.user_id == target.id,
            JurisdictionMembership.jurisdiction_id == jurisdiction.id,
        )
    )
    if exists:
        return
    db.session.add(JurisdictionMembership(user_id=target.id, jurisdiction_id=jurisdiction.id))
    _audit(OFFICER_GRANTED, actor, target_id=target.id, target=target.email,
           jurisdiction_id=jurisdiction.id, jurisdiction=jurisdiction.name)
    db.session.flush()


def revoke_officer(target: User, jurisdiction: Jurisdiction, *, actor: User) -> bool:
    """End `target`'s officer role in `jurisdiction`. False if they had none there."""
    result = db.session.execute(
        delete(JurisdictionMembership).where(
            JurisdictionMembership.user_id == target.id,
            JurisdictionMembership.jurisdiction_id == jurisdiction.id,
        )
    )
    if not rowcount(result):
        return False
    _audit(OFFICER_REVOKED, actor, target_id=target.id, target=target.email,
           jurisdiction_id=jurisdiction.id, jurisdiction=jurisdiction.name)
    db.session.flush()
    return True


def deactivate(target: User, *, actor: User) -> None:
    """Close an account (every browser and API token signed out, app.accounts.sessions).
    Administrators cannot close their own, nor the last active administrator's."""
    if target.id == actor.id:
        raise NotAllowed(_("You cannot deactivate your own account."))
    if not target.is_active_account:
        return
    if target.is_admin and _active_admins() <= 1:
        raise NotAllowed(_("The platform needs at least one active administrator."))
    sessions.deactivate(target)
    # Its bookings still to come are cancelled by the bookings package (app.bookings.closing).
    signals.account_deactivated.send(target, actor=actor, now=utcnow())
    _audit(ACCOUNT_DEACTIVATED, actor, target_id=target.id, target=target.email)
    db.session.flush()


def reactivate(target: User, *, actor: User) -> None:
    """Open a closed account again (its owner logs in anew; old sessions stay ended)."""
    if target.is_active_account:
        return
    target.is_active_account = True
    _audit(ACCOUNT_REACTIVATED, actor, target_id=target.id, target=target.email)
    db.session.flush()


# --- The jurisdiction hierarchy -----------------------------------------------------------------
def _check_name(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > 120:
        raise ValidationFailed.single(_("Enter a name of at most 120 characters."), "name")
    return name


def _parent(parent_id: int | None) -> Jurisdiction | None:
    if parent_id is None:
        return None
    parent = db.session.get(Jurisdiction, parent_id)
    if parent is None:
        raise ValidationFailed.single(_("Unknown jurisdiction."), "parent_id")
    return parent


def add_jurisdiction(*, slug: str, name: str, name_en: str | None, kind: str,
                     parent_id: int | None, actor: User) -> Jurisdiction:
    """A new jurisdiction under `parent_id` (or at the top)."""
    slug = (slug or "").strip().lower()
    if not SLUG.match(slug):
        raise ValidationFailed.single(
            _("Use lower-case letters, digits and hyphens (at most 64)."), "slug")
    if db.session.scalar(select(Jurisdiction.id).where(Jurisdiction.slug == slug)):
        raise ValidationFailed.single(_("This short name is taken."), "slug")
    if kind not in JURISDICTION_KINDS:
        raise ValidationFailed.single(_("Choose a kind from the list."), "kind")
    row = Jurisdiction(slug=slug, name=_check_name(name), name_en=(name_en or "").strip() or None,
                       kind=kind, parent=_parent(parent_id))
    db.session.add(row)
    db.session.flush()
    _audit(JURISDICTION_ADDED, actor, jurisdiction_id=row.id, jurisdiction=row.name,
           parent_id=row.parent_id)
    return row


def rename_jurisdiction(row: Jurisdiction, *, name: str, name_en: str | None,
                        actor: User) -> None:
    name = _check_name(name)
    name_en = (name_en or "").strip() or None
    if (name, name_en) == (row.name, row.name_en):
        return
    _audit(JURISDICTION_RENAMED, actor, jurisdiction_id=row.id, old=row.name, new=name)
    row.name, row.name_en = name, name_en
    db.session.flush()


def move_jurisdiction(row: Jurisdiction, parent_id: int | None, *, actor: User) -> None:
    """Put `row` (with everything below it) under another parent, or at the top. Refuses to put
    it under itself or one of its own descendants."""
    if parent_id == row.parent_id:
        return
    parent = _parent(parent_id)
    if parent is not None and parent.id in with_descendants({row.id}, jurisdiction_tree()):
        raise ValidationFailed.single(
            _("A jurisdiction cannot be moved under itself or one below it."), "parent_id")
    _audit(JURISDICTION_MOVED, actor, jurisdiction_id=row.id, jurisdiction=row.name,
           old_parent_id=row.parent_id, new_parent_id=parent_id)
    row.parent = parent
    db.session.flush()
