"""Organisations in the API: applying to list spaces, an application's state, its review
(administrators and the officers of its jurisdictions), and team invitations."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import selectinload

from app import access
from app.api import bp
from app.api.auth import token_required
from app.api.document import errors
from app.api.schemas.answers import InvitationSchema, MembershipSchema, OrganisationSchema
from app.api.schemas.dumping import iso
from app.api.schemas.requests import (
    ORGANISATION_REQUEST_EXAMPLE,
    AcceptInvitationSchema,
    EmptySchema,
    InvitationRequestSchema,
    OrganisationRequestSchema,
    RejectRequestSchema,
)
from app.errors import ValidationFailed
from app.extensions import db
from app.orgs import applications, team
from app.orgs.models import Organisation
from app.security import limits

SEOUL = ZoneInfo("Asia/Seoul")


def organisation_json(org: Organisation, user) -> dict:
    return {
        "id": org.id,
        "status": org.status,
        "kind": org.kind,
        "name": org.name,
        "legal_name": org.legal_name,
        "representative": org.representative,
        "contact_email": org.contact_email,
        "contact_phone": org.contact_phone,
        "address": org.address,
        "registration_number": org.registration_number,
        "jurisdictions": list(org.jurisdictions),
        "submitted_at": iso(org.submitted_at, SEOUL),
        "reviewed_at": iso(org.reviewed_at, SEOUL),
        "review_note": org.review_note,
        "has_evidence": bool(org.evidence_key),
        "my_role": org.role_of(user),
    }


def _load(org_id: int, can: str = "can_view", message: str | None = None) -> Organisation:
    options = (selectinload(Organisation.jurisdictions),)
    return access.load(Organisation, org_id, can, options=options, message=message)


@bp.post("/organisations", tags=["organisations"])
@token_required
@limits.org_apply_per_account
@bp.arguments(OrganisationRequestSchema, example=ORGANISATION_REQUEST_EXAMPLE)
@bp.response(201, OrganisationSchema, description="The application, pending review.")
@bp.doc(tags=["organisations"], responses=errors(400, 422))
def apply_organisation(body: dict):
    """Apply to list spaces as an owner

    The application waits for its reviewers: platform administrators and the officers of its
    jurisdictions (found from the address's district when `jurisdiction_ids` is left out). A
    registration number that fails its check digit answers 422 naming `registration_number`."""
    fields = {**body, "legal_name": body.get("legal_name") or body.get("name")}
    org = applications.apply(current_user, fields, evidence=None, require_evidence=False)
    db.session.commit()
    return organisation_json(org, current_user), 201, {
        "Location": url_for("api.organisation", org_id=org.id)}


@bp.get("/organisations/<int:org_id>", tags=["organisations"])
@token_required
@bp.response(200, OrganisationSchema, description="The organisation or application.")
@bp.doc(tags=["organisations"], responses=errors(404))
def organisation(org_id: int):
    """An organisation or application

    For its applicant, its members and its reviewers; 404 for everyone else."""
    return organisation_json(_load(org_id), current_user)


def _review_only() -> str:
    return _("Only administrators and the officers of its jurisdiction review this application.")


@bp.post("/organisations/<int:org_id>/approve", tags=["organisations"])
@token_required
@limits.admin_change_per_account
@bp.arguments(EmptySchema, required=False, example={})
@bp.response(200, OrganisationSchema, description="The organisation, now active.")
@bp.doc(tags=["organisations"], responses=errors(403, 404, 422))
def approve_organisation(_body: dict, org_id: int):
    """Approve an application

    Administrators and the officers of its jurisdictions. The organisation becomes `active`
    and its applicant its manager."""
    org = _load(org_id, "can_review", message=_review_only())
    applications.decide(org, current_user, "approve")
    db.session.commit()
    return organisation_json(org, current_user)


@bp.post("/organisations/<int:org_id>/reject", tags=["organisations"])
@token_required
@limits.admin_change_per_account
@bp.arguments(RejectRequestSchema, example={"reason": "사업자등록증의 상호가 다릅니다."})
@bp.response(200, OrganisationSchema, description="The application, now rejected.")
@bp.doc(tags=["organisations"], responses=errors(403, 404, 422))
def reject_organisation(body: dict, org_id: int):
    """Reject an application

    With a reason the applicant reads."""
    org = _load(org_id, "can_review", message=_review_only())
    applications.decide(org, current_user, "reject", body["reason"])
    db.session.commit()
    return organisation_json(org, current_user)


@bp.post("/organisations/<int:org_id>/invitations", tags=["organisations"])
@token_required
@limits.invitation_per_account
@bp.arguments(InvitationRequestSchema, example={"email": "colleague@example.kr", "role": "staff"})
@bp.response(201, InvitationSchema, description="The invitation (its link goes by email).")
@bp.doc(tags=["organisations"], responses=errors(403, 404, 422))
def invite_to_organisation(body: dict, org_id: int):
    """Invite someone to the team

    The organisation's managers. The link is emailed to the address, works once and lasts
    7 days; the answer is the same whether or not the address has an account."""
    org = _load(org_id, "can_manage_team",
                message=_("Only the organisation's managers can change its team."))
    invitation, _token = team.invite(org, current_user, body["email"], body["role"])
    db.session.commit()
    return {"id": invitation.id, "organisation_id": org.id, "email": invitation.email,
            "role": invitation.role, "expires_at": iso(invitation.expires_at, SEOUL)}, 201


@bp.post("/invitations/accept", tags=["organisations"])
@token_required
@limits.invitation_accept_per_ip
@bp.arguments(AcceptInvitationSchema, example={"token": "the-token-from-the-link"})
@bp.response(200, MembershipSchema, description="Your membership.")
@bp.doc(tags=["organisations"], responses=errors(422))
def accept_invitation(body: dict):
    """Accept a team invitation

    With the token of the emailed link: you join the team with its role (a member keeps the
    role they have). A used, withdrawn, expired or unknown token answers 422."""
    invitation = team.find(body["token"])
    if invitation is None:
        raise ValidationFailed.single(str(team.CLOSED), "token")
    member = team.accept(invitation, current_user)
    db.session.commit()
    return {"organisation_id": member.organisation_id, "role": member.role}
