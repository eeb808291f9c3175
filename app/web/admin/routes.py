"""The admin console: people (search, roles, deactivation), the jurisdiction hierarchy and the
audit trail of both. Platform administrators only; anyone else signed in gets 403, as on the
other admin pages (the console's existence is no secret, its contents are)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from app import access
from app.accounts import admin as console
from app.accounts.models import User
from app.db import db_int
from app.errors import DomainError, ValidationFailed
from app.extensions import db
from app.orgs import applications
from app.orgs.models import (
    JURISDICTION_KINDS,
    ORG_ROLES,
    Jurisdiction,
    JurisdictionMembership,
    Organisation,
    OrgMembership,
)
from app.orgs.states import OrgStatus
from app.security import limits
from app.security.models import (
    ACCOUNT_DEACTIVATED,
    ACCOUNT_ERASED,
    ACCOUNT_REACTIVATED,
    ADMIN_GRANTED,
    ADMIN_REVOKED,
    AUDIT_KINDS,
    JURISDICTION_ADDED,
    JURISDICTION_MOVED,
    JURISDICTION_RENAMED,
    OFFICER_GRANTED,
    OFFICER_REVOKED,
    ORG_APPLIED,
    ORG_APPROVED,
    ORG_INFO_REQUESTED,
    ORG_INVITATION_ACCEPTED,
    ORG_INVITED,
    ORG_MEMBER_REMOVED,
    ORG_REINSTATED,
    ORG_REJECTED,
    ORG_RESUBMITTED,
    ORG_ROLE_CHANGED,
    ORG_SUSPENDED,
    RESIDENCY_REJECTED,
    RESIDENCY_VERIFIED,
    WAIVER_REJECTED,
    WAIVER_VERIFIED,
    SecurityEvent,
)
from app.web.admin import bp
from app.web.helpers import paginate

USERS_PER_PAGE = 30
AUDIT_PER_PAGE = 50

AUDIT_LABELS = {
    ADMIN_GRANTED: _l("Administrator role granted"),
    ADMIN_REVOKED: _l("Administrator role removed"),
    OFFICER_GRANTED: _l("Officer role granted"),
    OFFICER_REVOKED: _l("Officer role removed"),
    ACCOUNT_DEACTIVATED: _l("Account deactivated"),
    ACCOUNT_REACTIVATED: _l("Account reactivated"),
    JURISDICTION_ADDED: _l("Jurisdiction added"),
    JURISDICTION_RENAMED: _l("Jurisdiction renamed"),
    JURISDICTION_MOVED: _l("Jurisdiction moved"),
    ACCOUNT_ERASED: _l("Account erased"),
    ORG_APPLIED: _l("Organisation applied"),
    ORG_RESUBMITTED: _l("Application sent again"),
    ORG_APPROVED: _l("Organisation approved"),
    ORG_REJECTED: _l("Application rejected"),
    ORG_INFO_REQUESTED: _l("More information requested"),
    ORG_SUSPENDED: _l("Organisation suspended"),
    ORG_REINSTATED: _l("Organisation reinstated"),
    ORG_INVITED: _l("Team invitation sent"),
    ORG_INVITATION_ACCEPTED: _l("Team invitation accepted"),
    ORG_ROLE_CHANGED: _l("Team role changed"),
    ORG_MEMBER_REMOVED: _l("Team member removed"),
    RESIDENCY_VERIFIED: _l("Residency verified"),
    RESIDENCY_REJECTED: _l("Residency claim rejected"),
    WAIVER_VERIFIED: _l("Fee waiver verified"),
    WAIVER_REJECTED: _l("Fee waiver claim rejected"),
}
ORGS_PER_PAGE = 30


@bp.before_request
@login_required
def _admins_only() -> None:
    if not current_user.is_admin:
        abort(403)


@bp.get("/")
def index():
    return render_template("admin/index.html")


# --- People -------------------------------------------------------------------------------------
@bp.get("/users")
def users():
    q = (request.args.get("q") or "").strip()[: console.MAX_QUERY]
    query = console.search_users(q).options(
        selectinload(User.jurisdiction_memberships),
        selectinload(User.org_memberships),
    )
    pagination = paginate(query, per_page=USERS_PER_PAGE)
    return render_template("admin/users.html", pagination=pagination, q=q)


def _load_user(user_id: int) -> User:
    return access.load_or_404(User, user_id, options=(
        selectinload(User.jurisdiction_memberships).joinedload(
            JurisdictionMembership.jurisdiction),
        selectinload(User.org_memberships).joinedload(OrgMembership.organisation),
    ))


@bp.get("/users/<int:user_id>")
def user(user_id: int):
    person = _load_user(user_id)
    return render_template(
        "admin/user.html", person=person, org_roles=ORG_ROLES,
        jurisdictions=_tree_rows(_all_jurisdictions()),
    )


def _act(user_id: int, action) -> object:
    """Run a console action on a person, commit, and come back to their page with a message."""
    person = access.load_or_404(User, user_id)
    try:
        message = action(person)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        db.session.commit()
        flash(message, "success")
    return redirect(url_for("admin.user", user_id=user_id))


@bp.post("/users/<int:user_id>/admin")
@limits.admin_change_per_account
def set_admin(user_id: int):
    grant = request.form.get("value") == "1"

    def action(person: User):
        console.set_admin(person, grant, actor=current_user)
        return _("%(name)s is now an administrator.", name=person.name) if grant else \
            _("%(name)s is no longer an administrator.", name=person.name)

    return _act(user_id, action)


@bp.post("/users/<int:user_id>/officer")
@limits.admin_change_per_account
def grant_officer(user_id: int):
    chosen = request.form.get("jurisdiction_id", type=db_int)
    jurisdiction = db.session.get(Jurisdiction, chosen) if chosen else None

    def action(person: User):
        if jurisdiction is None:
            raise ValidationFailed.single(_("Choose a jurisdiction."), "jurisdiction_id")
        console.grant_officer(person, jurisdiction, actor=current_user)
        return _("%(name)s is now an officer of %(place)s.", name=person.name,
                 place=jurisdiction.display_name)

    return _act(user_id, action)


@bp.post("/users/<int:user_id>/officer/<int:jurisdiction_id>/revoke")
@limits.admin_change_per_account
def revoke_officer(user_id: int, jurisdiction_id: int):
    jurisdiction = access.load_or_404(Jurisdiction, jurisdiction_id)

    def action(person: User):
        console.revoke_officer(person, jurisdiction, actor=current_user)
        return _("%(name)s is no longer an officer of %(place)s.", name=person.name,
                 place=jurisdiction.display_name)

    return _act(user_id, action)


@bp.post("/users/<int:user_id>/deactivate")
@limits.admin_change_per_account
def deactivate(user_id: int):
    def action(person: User):
        console.deactivate(person, actor=current_user)
        return _("%(name)s's account is deactivated and signed out everywhere.",
                 name=person.name)

    return _act(user_id, action)


@bp.post("/users/<int:user_id>/reactivate")
@limits.admin_change_per_account
def reactivate(user_id: int):
    def action(person: User):
        console.reactivate(person, actor=current_user)
        return _("%(name)s's account is active again.", name=person.name)

    return _act(user_id, action)


# --- Jurisdictions ------------------------------------------------------------------------------
def _all_jurisdictions() -> list[Jurisdiction]:
    return list(db.session.scalars(select(Jurisdiction).order_by(Jurisdiction.name)))


def _tree_rows(rows: list[Jurisdiction]) -> list[tuple[Jurisdiction, int]]:
    """Every jurisdiction with its depth, each under its parent (siblings by name)."""
    children: dict[int | None, list[Jurisdiction]] = {}
    for row in rows:
        children.setdefault(row.parent_id, []).append(row)
    ordered: list[tuple[Jurisdiction, int]] = []
    stack = [(row, 0) for row in reversed(children.get(None, []))]
    while stack:
        row, depth = stack.pop()
        ordered.append((row, depth))
        stack.extend((child, depth + 1) for child in reversed(children.get(row.id, [])))
    return ordered


def _parent_id() -> int | None:
    """The chosen parent; none for the top; -1 (no such row: a message) for a value not a
    number."""
    if not request.form.get("parent_id"):
        return None
    return request.form.get("parent_id", -1, type=db_int)


@bp.get("/jurisdictions")
def jurisdictions(errors: dict | None = None, status: int = 200):
    rows = _tree_rows(_all_jurisdictions())
    return render_template("admin/jurisdictions.html", rows=rows, kinds=JURISDICTION_KINDS,
                           errors=errors or {}, form=request.form), status


@bp.post("/jurisdictions")
@limits.admin_change_per_account
def add_jurisdiction():
    try:
        row = console.add_jurisdiction(
            slug=request.form.get("slug", ""), name=request.form.get("name", ""),
            name_en=request.form.get("name_en"), kind=request.form.get("kind", ""),
            parent_id=_parent_id(), actor=current_user,
        )
    except ValidationFailed as exc:
        db.session.rollback()
        return jurisdictions(errors=exc.errors, status=422)
    db.session.commit()
    flash(_("%(name)s is added.", name=row.name), "success")
    return redirect(url_for("admin.jurisdictions") + f"#jurisdiction-{row.id}")


def _change_jurisdiction(jurisdiction_id: int, action):
    row = access.load_or_404(Jurisdiction, jurisdiction_id)
    try:
        action(row)
    except ValidationFailed as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        db.session.commit()
        flash(_("%(name)s is saved.", name=row.name), "success")
    return redirect(url_for("admin.jurisdictions") + f"#jurisdiction-{jurisdiction_id}")


@bp.post("/jurisdictions/<int:jurisdiction_id>/rename")
@limits.admin_change_per_account
def rename_jurisdiction(jurisdiction_id: int):
    return _change_jurisdiction(jurisdiction_id, lambda row: console.rename_jurisdiction(
        row, name=request.form.get("name", ""), name_en=request.form.get("name_en"),
        actor=current_user))


@bp.post("/jurisdictions/<int:jurisdiction_id>/move")
@limits.admin_change_per_account
def move_jurisdiction(jurisdiction_id: int):
    return _change_jurisdiction(jurisdiction_id, lambda row: console.move_jurisdiction(
        row, _parent_id(), actor=current_user))


# --- Organisations ------------------------------------------------------------------------------
@bp.get("/organisations")
def organisations():
    status = request.args.get("status") or ""
    q = (request.args.get("q") or "").strip()[: console.MAX_QUERY]
    query = select(Organisation).options(selectinload(Organisation.jurisdictions))
    if status in set(OrgStatus):
        query = query.where(Organisation.status == status)
    if q:
        query = query.where(func.lower(Organisation.name).like(console._like(q), escape="\\"))
    query = query.order_by(Organisation.created_at.desc(), Organisation.id.desc())
    pagination = paginate(query, per_page=ORGS_PER_PAGE)
    return render_template("admin/organisations.html", pagination=pagination, status=status,
                           q=q, statuses=list(OrgStatus))


def _org_action(org_id: int, action, message: str):
    org = access.load_or_404(Organisation, org_id)
    try:
        action(org)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        db.session.commit()
        flash(message, "success")
    return redirect(url_for("admin.organisations", status=request.args.get("status") or None))


@bp.post("/organisations/<int:org_id>/approve")
@limits.admin_change_per_account
def approve_organisation(org_id: int):
    return _org_action(org_id, lambda org: applications.decide(org, current_user, "approve"),
                       _("The organisation is approved."))


@bp.post("/organisations/<int:org_id>/suspend")
@limits.admin_change_per_account
def suspend_organisation(org_id: int):
    reason = (request.form.get("reason") or "")[:2000]
    return _org_action(org_id, lambda org: applications.suspend(org, current_user, reason),
                       _("The organisation is suspended: its spaces left search."))


@bp.post("/organisations/<int:org_id>/reinstate")
@limits.admin_change_per_account
def reinstate_organisation(org_id: int):
    return _org_action(org_id, lambda org: applications.reinstate(org, current_user),
                       _("The organisation is reinstated."))


# --- Audit --------------------------------------------------------------------------------------
@bp.get("/audit")
def audit():
    kind = request.args.get("kind") or ""
    kinds = [kind] if kind in AUDIT_KINDS else list(AUDIT_KINDS)
    query = (
        select(SecurityEvent)
        .where(SecurityEvent.kind.in_(kinds))
        .options(joinedload(SecurityEvent.user))
        .order_by(SecurityEvent.at.desc(), SecurityEvent.id.desc())
    )
    pagination = paginate(query, per_page=AUDIT_PER_PAGE)
    return render_template("admin/audit.html", pagination=pagination, kind=kind,
                           labels=AUDIT_LABELS)
