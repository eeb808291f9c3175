"""The officers' queue of residency and fee-waiver claims (app.accounts.verification).

Only officers of the claim's district (or of a jurisdiction above it) see a claim and its
evidence; everyone else gets 404 for a claim and 403 for the queue. Administrators who are not
officers are no exception: the evidence is personal data only the deciding officers need.
"""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import joinedload

from app import access
from app.accounts import verification as claims
from app.accounts.verification_models import Verification, VerificationState
from app.errors import InvalidTransition, ValidationFailed
from app.extensions import db
from app.media.storage import storage
from app.notifications.services import notify
from app.rules.schema import WAIVER_CATEGORIES
from app.security import limits
from app.web.helpers import paginate
from app.web.oversight import bp

PER_PAGE = 25


def _officer() -> None:
    if not current_user.officer_jurisdiction_ids:
        abort(403)


def _claim(verification_id: int) -> Verification:
    return access.load(Verification, verification_id, "can_decide", visible=None, options=(
        joinedload(Verification.user), joinedload(Verification.jurisdiction)))


@bp.get("/verifications")
def verifications():
    _officer()
    page = paginate(claims.pending_for(current_user), per_page=PER_PAGE)
    return render_template("oversight/verifications.html", page=page,
                           waiver_labels=WAIVER_CATEGORIES)


@bp.get("/verifications/<int:verification_id>")
def verification(verification_id: int):
    row = _claim(verification_id)
    return render_template("oversight/verification.html", claim=row,
                           waiver_labels=WAIVER_CATEGORIES, VerificationState=VerificationState)


@bp.get("/verifications/<int:verification_id>/evidence")
def evidence(verification_id: int):
    row = _claim(verification_id)
    if not row.evidence_key:
        abort(404)
    stored = storage().get(row.evidence_key)
    if stored is None:
        abort(404)
    response = Response(stored.chunks, mimetype=stored.content_type, direct_passthrough=True)
    if stored.length is not None:
        response.content_length = stored.length
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Content-Disposition"] = "inline"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.post("/verifications/<int:verification_id>/decide")
@limits.verification_decision_per_account
def decide(verification_id: int):
    row = _claim(verification_id)
    action = request.form.get("action")
    if action not in ("verify", "reject"):
        flash(_("Choose whether to verify or reject the claim."), "error")
        return redirect(url_for(".verification", verification_id=row.id))
    try:
        claims.decide(row, current_user, verify=action == "verify",
                      reason=request.form.get("reason", ""))
    except (ValidationFailed, InvalidTransition) as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for(".verification", verification_id=row.id))
    notify([row.user], "verification_decided", params={
        "kind": row.kind, "category": row.category, "district": row.jurisdiction.name,
        "verified": row.state == VerificationState.VERIFIED, "reason": row.reason or "",
    })
    db.session.commit()
    flash(_("Verified: %(name)s.", name=row.user.name) if action == "verify"
          else _("Rejected: %(name)s.", name=row.user.name), "success")
    return redirect(url_for(".verifications"))
