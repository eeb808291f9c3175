"""The organisation pages: applying to list spaces, an application's page (its applicant edits
it when asked, its reviewers decide it), the review queue, the team, and the invitation link.

Who may see an organisation (its applicant, its members, its reviewers) sees its page; anyone
else gets 404. The evidence document is served only to reviewers, through this access check,
never from /media/.
"""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from app import access
from app.bookings.owner import upcoming_bookings
from app.db import utcnow
from app.errors import DomainError, ValidationFailed
from app.extensions import db
from app.media.storage import storage, valid_private_key
from app.orgs import applications, team
from app.orgs.evidence import MAX_BYTES
from app.orgs.models import (
    APPLICATION_KIND_LABELS,
    ORG_KINDS,
    ORG_ROLES,
    Jurisdiction,
    Organisation,
    OrgMembership,
)
from app.orgs.registration import formatted
from app.orgs.states import OrgStatus
from app.security import limits
from app.web.accounts.routes import apply_errors
from app.web.helpers import paginate
from app.web.orgs import bp
from app.web.orgs.forms import ApplicationForm, DecisionForm, InviteForm

REVIEW_PER_PAGE = 30

def _status_labels() -> dict[str, str]:
    return {
        OrgStatus.PENDING: _("Under review"),
        OrgStatus.INFO_REQUESTED: _("More information requested"),
        OrgStatus.REJECTED: _("Rejected"),
        OrgStatus.ACTIVE: _("Approved"),
        OrgStatus.SUSPENDED: _("Suspended"),
    }


@bp.app_context_processor
def _labels() -> dict:
    return {"org_status_labels": _status_labels, "org_kinds": ORG_KINDS,
            "org_roles": ORG_ROLES, "registration_formatted": formatted}


ORG_OPTIONS = (
    selectinload(Organisation.jurisdictions),
    joinedload(Organisation.applicant),
)


def _load(org_id: int, can: str = "can_view", visible: str | None = "can_view") -> Organisation:
    return access.load(Organisation, org_id, can, options=ORG_OPTIONS, visible=visible)


def _jurisdiction_choices() -> list[tuple[int, str]]:
    rows = db.session.scalars(
        select(Jurisdiction).where(Jurisdiction.kind.in_(("district", "education_office")))
        .order_by(Jurisdiction.kind, Jurisdiction.name).limit(500)
    )
    return [(j.id, j.display_name) for j in rows]


def _fields(form: ApplicationForm) -> dict:
    ids = form.jurisdiction_ids.data or None
    return {
        "kind": form.kind.data, "legal_name": form.legal_name.data, "name": form.name.data,
        "representative": form.representative.data, "contact_email": form.contact_email.data,
        "contact_phone": form.contact_phone.data, "address": form.address.data,
        "registration_number": form.registration_number.data, "jurisdiction_ids": ids,
    }


def _upload() -> tuple[bytes | None, str | None]:
    upload = request.files.get("evidence")
    if upload is None or not upload.filename:
        return None, None
    return upload.stream.read(MAX_BYTES + 1), upload.filename


# --- My organisations and applying ---------------------------------------------------------
@bp.get("/")
@login_required
def index():
    memberships = db.session.scalars(
        select(OrgMembership).where(OrgMembership.user_id == current_user.id)
        .options(joinedload(OrgMembership.organisation)).order_by(OrgMembership.id).limit(100)
    ).all()
    return render_template(
        "orgs/index.html", memberships=memberships,
        applications=applications.my_applications(current_user),
        reviewer=applications.is_reviewer(current_user),
    )


@bp.route("/apply", methods=["GET", "POST"])
@login_required
@limits.org_apply_per_account
def apply():
    form = ApplicationForm()
    form.jurisdiction_ids.choices = _jurisdiction_choices()
    if request.method == "GET":
        form.contact_email.data = current_user.email
        form.representative.data = current_user.name
    if form.validate_on_submit():
        data, filename = _upload()
        try:
            org = applications.apply(current_user, _fields(form), evidence=data,
                                     filename=filename)
        except ValidationFailed as exc:
            db.session.rollback()
            apply_errors(form, exc)
        else:
            db.session.commit()
            flash(_("Your application was sent. Its reviewers will answer by email."),
                  "success")
            return redirect(url_for("orgs.application", org_id=org.id))
    status = 422 if request.method == "POST" else 200
    return render_template("orgs/apply.html", form=form, org=None,
                           kinds=APPLICATION_KIND_LABELS), status


# --- An application's page ---------------------------------------------------------------
def _edit_form(org: Organisation) -> ApplicationForm:
    form = ApplicationForm()
    form.jurisdiction_ids.choices = _jurisdiction_choices()
    if request.method == "GET":
        form.process(data={
            "kind": org.kind, "legal_name": org.legal_name, "name": org.name,
            "representative": org.representative, "contact_email": org.contact_email,
            "contact_phone": org.contact_phone, "address": org.address,
            "registration_number": formatted(org.registration_number),
            "jurisdiction_ids": [j.id for j in org.jurisdictions],
        })
    return form


def _render_application(org: Organisation, *, form=None, decision=None, status: int = 200):
    now = utcnow()
    upcoming = []
    if org.status == OrgStatus.SUSPENDED and (org.role_of(current_user) or current_user.is_admin):
        upcoming = upcoming_bookings(org.id, now)
    if form is None and org.can_edit_application(current_user):
        form = _edit_form(org)
    if decision is None and org.can_review(current_user) and org.under_review:
        decision = DecisionForm()
    return render_template(
        "orgs/application.html", org=org, form=form, decision=decision, upcoming=upcoming,
        kinds=APPLICATION_KIND_LABELS, reviewer=org.can_review(current_user),
    ), status


@bp.get("/<int:org_id>")
@login_required
def application(org_id: int):
    return _render_application(_load(org_id, visible=None))


@bp.post("/<int:org_id>")
@login_required
@limits.org_apply_per_account
def resubmit(org_id: int):
    org = _load(org_id, "can_edit_application")
    form = _edit_form(org)
    if form.validate_on_submit():
        data, filename = _upload()
        try:
            applications.resubmit(org, current_user, _fields(form), evidence=data,
                                  filename=filename)
        except ValidationFailed as exc:
            db.session.rollback()
            apply_errors(form, exc)
        else:
            db.session.commit()
            flash(_("Your application was sent again."), "success")
            return redirect(url_for("orgs.application", org_id=org.id))
    return _render_application(org, form=form, status=422)


@bp.get("/<int:org_id>/evidence")
@login_required
def evidence(org_id: int):
    org = _load(org_id, "can_review")
    key = org.evidence_key or ""
    stored = storage().get(key) if valid_private_key(key) else None
    if stored is None:
        abort(404)
    ext = key.rsplit(".", 1)[-1]
    response = Response(stored.chunks, mimetype=stored.content_type)
    if stored.length is not None:
        response.content_length = stored.length
    response.headers["Content-Disposition"] = f'inline; filename="evidence-{org.id}.{ext}"'
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@bp.post("/<int:org_id>/decide")
@login_required
@limits.admin_change_per_account
def decide(org_id: int):
    org = _load(org_id, "can_review")
    form = DecisionForm()
    if form.validate_on_submit():
        try:
            applications.decide(org, current_user, form.decision.data or "",
                                form.reason.data or "")
        except DomainError as exc:
            db.session.rollback()
            org = _load(org_id, "can_review")
            if isinstance(exc, ValidationFailed):
                apply_errors(form, exc)
            else:
                form.form_errors.append(exc.message)
            return _render_application(org, decision=form, status=422)
        db.session.commit()
        flash({"approve": _("The organisation is approved."),
               "reject": _("The application is rejected."),
               "request_info": _("The applicant was asked for more information.")}
              [form.decision.data or ""], "success")
        return redirect(url_for("orgs.review"))
    return _render_application(org, decision=form, status=422)


# --- The review queue --------------------------------------------------------------------
@bp.get("/review")
@login_required
def review():
    if not applications.is_reviewer(current_user):
        abort(403)
    query = applications.review_query(current_user).options(*ORG_OPTIONS)
    pagination = paginate(query, per_page=REVIEW_PER_PAGE)
    return render_template("orgs/review.html", pagination=pagination,
                           kinds=APPLICATION_KIND_LABELS)


# --- The team ----------------------------------------------------------------------------
def _team_page(org: Organisation, form: InviteForm | None = None, status: int = 200):
    manages = org.can_manage_team(current_user)
    if form is None and manages:
        form = InviteForm()
    if form is not None:
        form.role.choices = [(r, ORG_ROLES[r]) for r in team.roles_for(org)]
    return render_template(
        "orgs/team.html", org=org, members=team.members(org), form=form, manages=manages,
        roles=team.roles_for(org),
        invitations=team.waiting(org, utcnow()) if manages else [],
    ), status


@bp.get("/<int:org_id>/team")
@login_required
def team_page(org_id: int):
    return _team_page(_load(org_id, "can_see_team"))


@bp.post("/<int:org_id>/team/invite")
@login_required
@limits.invitation_per_account
def invite(org_id: int):
    org = _load(org_id, "can_manage_team", visible="can_see_team")
    form = InviteForm()
    form.role.choices = [(r, ORG_ROLES[r]) for r in team.roles_for(org)]
    if form.validate_on_submit():
        try:
            team.invite(org, current_user, form.email.data or "", form.role.data or "")
        except ValidationFailed as exc:
            db.session.rollback()
            apply_errors(form, exc)
            return _team_page(org, form, 422)
        db.session.commit()
        # The same words whether or not the address has an account.
        flash(_("The invitation was sent to %(email)s. The link works once, for 7 days.",
                email=(form.email.data or "").strip().lower()), "success")
        return redirect(url_for("orgs.team_page", org_id=org.id))
    return _team_page(org, form, 422)


def _member(org: Organisation, user_id: int) -> OrgMembership:
    member = db.session.scalar(
        select(OrgMembership).where(OrgMembership.organisation_id == org.id,
                                    OrgMembership.user_id == user_id)
    )
    if member is None:
        abort(404)
    return member


def _team_action(org: Organisation, action, message: str):
    try:
        action()
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        db.session.commit()
        flash(message, "success")
    return redirect(url_for("orgs.team_page", org_id=org.id))


@bp.post("/<int:org_id>/team/<int:user_id>/role")
@login_required
@limits.admin_change_per_account
def change_role(org_id: int, user_id: int):
    org = _load(org_id, "can_manage_team", visible="can_see_team")
    member = _member(org, user_id)
    role = request.form.get("role", "")
    return _team_action(org, lambda: team.change_role(org, current_user, member, role),
                        _("The role was changed."))


@bp.post("/<int:org_id>/team/<int:user_id>/remove")
@login_required
@limits.admin_change_per_account
def remove_member(org_id: int, user_id: int):
    org = _load(org_id, "can_manage_team", visible="can_see_team")
    member = _member(org, user_id)
    return _team_action(org, lambda: team.remove(org, current_user, member),
                        _("The member was removed from the team."))


@bp.post("/<int:org_id>/team/leave")
@login_required
@limits.admin_change_per_account
def leave(org_id: int):
    org = _load(org_id, "can_see_team")
    member = db.session.scalar(
        select(OrgMembership).where(OrgMembership.organisation_id == org.id,
                                    OrgMembership.user_id == current_user.id)
    )
    if member is None:
        abort(403)
    try:
        team.remove(org, current_user, member)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("orgs.team_page", org_id=org.id))
    db.session.commit()
    flash(_("You left the team of %(name)s.", name=org.name), "success")
    return redirect(url_for("orgs.index"))


@bp.post("/<int:org_id>/invitations/<int:invitation_id>/cancel")
@login_required
@limits.admin_change_per_account
def cancel_invitation(org_id: int, invitation_id: int):
    from app.orgs.models import OrgInvitation

    org = _load(org_id, "can_manage_team", visible="can_see_team")
    invitation = db.session.get(OrgInvitation, invitation_id) if invitation_id < 2**31 else None
    if invitation is None or invitation.organisation_id != org.id:
        abort(404)
    return _team_action(org, lambda: team.cancel(org, current_user, invitation),
                        _("The invitation was withdrawn; its link no longer works."))


# --- The invitation link ------------------------------------------------------------------
@bp.route("/invitations/<token>", methods=["GET", "POST"])
@limits.invitation_accept_per_ip
def invitation(token: str):
    found = team.find(token)
    now = utcnow()
    usable = found is not None and found.is_open(now) and found.organisation.approved
    if not current_user.is_authenticated:
        return render_template("orgs/invitation.html", invitation=found if usable else None,
                               visitor=True, here=request.path), 200 if usable else 404
    if request.method == "POST":
        if found is None:
            abort(404)
        try:
            team.accept(found, current_user, now=now)
        except ValidationFailed as exc:
            db.session.rollback()
            flash(exc.message, "error")
            return render_template("orgs/invitation.html", invitation=None, visitor=False,
                                   here=request.path), 409
        db.session.commit()
        flash(_("Welcome to the team of %(name)s.", name=found.organisation.name), "success")
        return redirect(url_for("orgs.team_page", org_id=found.organisation_id))
    return render_template("orgs/invitation.html", invitation=found if usable else None,
                           visitor=False, here=request.path), 200 if usable else 404
