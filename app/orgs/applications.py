"""Applying to list spaces as an owner, and the review of applications.

Any signed-in person applies: the organisation's kind, names, representative, contacts,
address (geocoded like a space's), the jurisdictions it falls under (suggested from the address,
corrected by the applicant), its registration number where its kind has one, and an evidence
document. The application is an Organisation row with status `pending`; its reviewers (platform
administrators and the officers of its jurisdictions) approve it (it becomes `active` and the
applicant its manager), reject it with a reason, or ask for more information (the applicant
edits and sends it again). Administrators suspend an approved organisation and reinstate it.

Every step is written to the security event log (the audit trail) and announced
(app.orgs.signals) for the notifications. Services flush, never commit, and record the event
about the current request, so they run inside one.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import func, select

from app.db import utcnow
from app.errors import NotAllowed, ValidationFailed
from app.extensions import db
from app.geo import geocode_address
from app.orgs import evidence as evidence_files
from app.orgs import registration, signals
from app.orgs.models import (
    APPLICATION_KINDS,
    Jurisdiction,
    Organisation,
    OrgMembership,
    org_jurisdictions,
)
from app.orgs.states import UNDER_REVIEW, OrgStatus
from app.security import events
from app.security.models import (
    ORG_APPLIED,
    ORG_APPROVED,
    ORG_INFO_REQUESTED,
    ORG_REINSTATED,
    ORG_REJECTED,
    ORG_RESUBMITTED,
    ORG_SUSPENDED,
)

EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
PHONE = re.compile(r"^\+?[0-9][0-9 ()-]{6,19}$")
# Applications one person may have under review at once.
MAX_OPEN_APPLICATIONS = 5
MAX_JURISDICTIONS = 5
LIMITS = {"legal_name": 160, "name": 160, "representative": 80, "address": 300}

DECISIONS = ("approve", "reject", "request_info")


def _audit(kind: str, actor, org: Organisation, **detail) -> None:
    events.record(kind, user=actor, detail={"organisation_id": org.id, "organisation": org.name,
                                            **detail})


def suggest_jurisdictions(kind: str, address: str) -> list[Jurisdiction]:
    """The district(s) named in `address` and, for a school, the education office of the same
    city (or any education office when the city is not known)."""
    address = (address or "").replace(" ", "")
    if not address:
        return []
    rows = list(db.session.scalars(select(Jurisdiction).order_by(Jurisdiction.id)))
    districts = [j for j in rows if j.kind == "district" and j.name.replace(" ", "") in address]
    found = list(districts)
    if kind == "school":
        cities = {d.parent_id for d in districts}
        offices = [j for j in rows if j.kind == "education_office"]
        near = [o for o in offices if o.parent_id in cities] or (offices if not districts else [])
        found += near
    return found


def _clean(fields: dict) -> dict:
    errors: dict[str | None, list[str]] = {}

    def add(name: str, message) -> None:
        errors.setdefault(name, []).append(str(message))

    clean: dict = {}
    kind = (fields.get("kind") or "").strip()
    if kind not in APPLICATION_KINDS:
        add("kind", _("Choose what kind of organisation you are."))
    clean["kind"] = kind
    for name, limit in LIMITS.items():
        value = " ".join(str(fields.get(name) or "").split())
        if not value:
            add(name, _("This field is required."))
        elif len(value) > limit:
            add(name, _("At most %(n)d characters.", n=limit))
        clean[name] = value
    email = str(fields.get("contact_email") or "").strip().lower()
    if not EMAIL.match(email) or len(email) > 254:
        add("contact_email", _("Enter a valid email address."))
    clean["contact_email"] = email
    phone = str(fields.get("contact_phone") or "").strip()
    if not PHONE.match(phone):
        add("contact_phone", _("Enter a phone number, e.g. 02-123-4567."))
    clean["contact_phone"] = phone
    number, problem = registration.check(kind, fields.get("registration_number"))
    if problem:
        add("registration_number", registration.MESSAGES[problem])
    clean["registration_number"] = number
    ids = fields.get("jurisdiction_ids")
    if ids is None:
        clean["jurisdictions"] = suggest_jurisdictions(kind, clean.get("address", ""))
    else:
        try:
            wanted = {int(i) for i in ids}
        except (TypeError, ValueError):
            wanted = {-1}
        found = list(db.session.scalars(
            select(Jurisdiction).where(Jurisdiction.id.in_(wanted)).order_by(Jurisdiction.id)
        )) if wanted and len(wanted) <= MAX_JURISDICTIONS else []
        if len(found) != len(wanted):
            add("jurisdiction_ids", _("Choose up to %(n)d jurisdictions from the list.",
                                      n=MAX_JURISDICTIONS))
        clean["jurisdictions"] = found
    if not errors and not clean["jurisdictions"]:
        add("jurisdiction_ids",
            _("Choose the district your organisation is in, so its officers can review it."))
    if errors:
        raise ValidationFailed(errors)
    return clean


def _set(org: Organisation, clean: dict) -> None:
    previous = org.address
    org.kind = clean["kind"]
    org.legal_name = clean["legal_name"]
    org.name = clean["name"]
    org.representative = clean["representative"]
    org.contact_email = clean["contact_email"]
    org.contact_phone = clean["contact_phone"]
    org.registration_number = clean["registration_number"]
    org.address = clean["address"]
    org.jurisdictions = clean["jurisdictions"]
    if org.address != previous:
        point = geocode_address(org.address)
        org.latitude, org.longitude = point if point else (None, None)


def _store_evidence(org: Organisation, data: bytes | None, filename: str | None) -> None:
    try:
        document = evidence_files.check(data or b"")
    except evidence_files.EvidenceRefused as exc:
        raise ValidationFailed.single(exc.message, "evidence") from None
    org.evidence_key = evidence_files.store(document)
    org.evidence_type = document.content_type
    org.evidence_name = (filename or "").strip()[:200] or f"evidence.{document.ext}"


def apply(actor, fields: dict, *, evidence: bytes | None, filename: str | None = None,
          require_evidence: bool = True, now: datetime | None = None) -> Organisation:
    """`actor` applies to list spaces for an organisation: a pending Organisation. The API
    applies without the document (`require_evidence=False`); its reviewers ask for one."""
    now = now or utcnow()
    open_count = db.session.scalar(
        select(func.count(Organisation.id)).where(Organisation.applicant_id == actor.id,
                                                   Organisation.status.in_(UNDER_REVIEW))
    ) or 0
    if open_count >= MAX_OPEN_APPLICATIONS:
        raise ValidationFailed.single(
            _("You have %(n)d applications under review. Wait for their answer first.",
              n=MAX_OPEN_APPLICATIONS)
        )
    clean = _clean(fields)
    org = Organisation(slug=f"org-{secrets.token_hex(6)}", status=OrgStatus.PENDING,
                       applicant_id=actor.id, submitted_at=now, created_at=now,
                       card_holds=False, platform_fee_bps=None)
    if evidence or require_evidence:
        _store_evidence(org, evidence, filename)
    _set(org, clean)
    db.session.add(org)
    db.session.flush()
    _audit(ORG_APPLIED, actor, org)
    signals.application_submitted.send(org, now=now)
    return org


def resubmit(org: Organisation, actor, fields: dict, *, evidence: bytes | None = None,
             filename: str | None = None, now: datetime | None = None) -> Organisation:
    """The applicant sends the application again after being asked for more information; a new
    evidence file replaces the old one, none keeps it."""
    if not org.can_edit_application(actor):
        raise NotAllowed(_("This application cannot be changed now."))
    now = now or utcnow()
    clean = _clean(fields)
    if evidence:
        _store_evidence(org, evidence, filename)
    _set(org, clean)
    org.status = OrgStatus.PENDING
    org.submitted_at = now
    db.session.flush()
    _audit(ORG_RESUBMITTED, actor, org)
    signals.application_submitted.send(org, now=now)
    return org


def decide(org: Organisation, actor, decision: str, reason: str = "", *,
           now: datetime | None = None) -> Organisation:
    """A reviewer approves, rejects (with a reason) or asks for more information (saying
    what)."""
    if not org.can_review(actor):
        raise NotAllowed(_("Only administrators and the officers of its jurisdiction review "
                           "this application."))
    if org.applicant_id == actor.id and not actor.is_admin:
        # An officer who applied in their own district: another reviewer decides.
        raise NotAllowed(_("You cannot decide your own application: another reviewer of its "
                           "jurisdiction or an administrator decides it."))
    if decision not in DECISIONS:
        raise ValidationFailed.single(_("Choose approve, reject or ask for more information."),
                                      "decision")
    _lock(org)
    if org.status not in UNDER_REVIEW:
        raise ValidationFailed.single(_("This application was already decided."))
    reason = (reason or "").strip()[:2000]
    if decision != "approve" and not reason:
        field = "reason"
        raise ValidationFailed.single(
            _("Say why it is rejected.") if decision == "reject"
            else _("Say what the applicant should add or correct."), field)
    if decision == "request_info" and org.status == OrgStatus.INFO_REQUESTED:
        raise ValidationFailed.single(_("The applicant has not answered yet."))
    now = now or utcnow()
    org.reviewed_at = now
    org.reviewed_by_id = actor.id
    org.review_note = reason or None
    if decision == "approve":
        org.status = OrgStatus.ACTIVE
        if org.applicant_id is not None and not db.session.scalar(
            select(OrgMembership.id).where(OrgMembership.organisation_id == org.id,
                                           OrgMembership.user_id == org.applicant_id)
        ):
            db.session.add(OrgMembership(organisation_id=org.id, user_id=org.applicant_id,
                                         role="manager"))
            if org.applicant is not None:  # roles are cached per user object
                org.applicant.__dict__.pop("org_roles", None)
        _audit(ORG_APPROVED, actor, org)
    elif decision == "reject":
        org.status = OrgStatus.REJECTED
        _audit(ORG_REJECTED, actor, org, reason=reason)
    else:
        org.status = OrgStatus.INFO_REQUESTED
        _audit(ORG_INFO_REQUESTED, actor, org, reason=reason)
    db.session.flush()
    signals.application_decided.send(org, decision=decision, actor=actor, now=now)
    return org


def _lock(org: Organisation) -> None:
    db.session.execute(
        select(Organisation.id).where(Organisation.id == org.id).with_for_update()
    )
    db.session.refresh(org, attribute_names=["status"])


def suspend(org: Organisation, actor, reason: str = "", *,
            now: datetime | None = None) -> Organisation:
    """An administrator suspends an active organisation: its spaces leave search and new
    requests to them are refused. Nothing is deleted."""
    if not getattr(actor, "is_admin", False):
        raise NotAllowed(_("Only administrators suspend organisations."))
    _lock(org)
    if org.status != OrgStatus.ACTIVE:
        raise ValidationFailed.single(_("Only an active organisation can be suspended."))
    now = now or utcnow()
    org.status = OrgStatus.SUSPENDED
    org.suspended_at = now
    org.review_note = (reason or "").strip()[:2000] or None
    db.session.flush()
    _audit(ORG_SUSPENDED, actor, org, reason=org.review_note or "")
    signals.status_changed.send(org, suspended=True, now=now)
    return org


def reinstate(org: Organisation, actor, *, now: datetime | None = None) -> Organisation:
    if not getattr(actor, "is_admin", False):
        raise NotAllowed(_("Only administrators reinstate organisations."))
    _lock(org)
    if org.status != OrgStatus.SUSPENDED:
        raise ValidationFailed.single(_("This organisation is not suspended."))
    now = now or utcnow()
    org.status = OrgStatus.ACTIVE
    org.suspended_at = None
    db.session.flush()
    _audit(ORG_REINSTATED, actor, org)
    signals.status_changed.send(org, suspended=False, now=now)
    return org


# --- What the pages show ---------------------------------------------------------------------
def review_query(user):
    """The select of applications under review that `user` reviews, oldest first."""
    query = select(Organisation).where(Organisation.status.in_(UNDER_REVIEW))
    if not user.is_admin:
        ids = user.officer_jurisdiction_ids
        query = query.where(Organisation.id.in_(
            select(org_jurisdictions.c.organisation_id)
            .where(org_jurisdictions.c.jurisdiction_id.in_(ids or {-1}))
        ))
    return query.order_by(Organisation.submitted_at, Organisation.id)


def is_reviewer(user) -> bool:
    return bool(getattr(user, "is_authenticated", False)
                and (user.is_admin or user.officer_jurisdiction_ids))


def my_applications(user) -> list[Organisation]:
    return list(db.session.scalars(
        select(Organisation).where(Organisation.applicant_id == user.id)
        .order_by(Organisation.created_at.desc(), Organisation.id.desc()).limit(50)
    ))

