"""A person's residency and fee-waiver claims: where they stand, and sending one with its
evidence for the officers of their home district (app.accounts.verification)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.accounts import verification as claims
from app.accounts.verification_models import VerificationKind, VerificationState
from app.errors import ValidationFailed
from app.extensions import db
from app.media.evidence import MAX_BYTES
from app.rules.schema import WAIVER_CATEGORIES
from app.security import limits
from app.web.accounts import bp
from app.web.accounts.forms import VerificationForm
from app.web.accounts.routes import apply_errors


def _evidence_bytes(form: VerificationForm) -> bytes | None:
    upload = form.evidence.data
    if upload is None or not getattr(upload, "filename", ""):
        return None
    # One byte more than allowed is enough to know it is too large.
    return upload.stream.read(MAX_BYTES + 1)


@bp.route("/account/verification", methods=["GET", "POST"])
@login_required
@limits.evidence_per_account
def verification():
    user = current_user._get_current_object()
    form = VerificationForm()
    form.category.choices = [("", _("— Choose —")), *WAIVER_CATEGORIES.items()]
    status = 200
    if form.validate_on_submit():
        try:
            claims.submit(user, form.kind.data or "", category=form.category.data or None,
                          data=_evidence_bytes(form), categories=WAIVER_CATEGORIES)
        except ValidationFailed as exc:
            db.session.rollback()
            apply_errors(form, exc, aliases={"kind": "kind"})
            status = 422
        else:
            db.session.commit()
            flash(_("Your claim was sent to the officers of your district."), "success")
            return redirect(url_for("accounts.verification"))
    elif request.method == "POST":
        status = 400
    rows = claims.claims_of(user)
    return render_template(
        "accounts/verification.html",
        form=form,
        claims=rows,
        verified_waivers=sorted(claims.verified_waivers(user)),
        pending_residency=any(r.kind == VerificationKind.RESIDENCY
                              and r.state == VerificationState.PENDING for r in rows),
        waiver_labels=WAIVER_CATEGORIES,
        VerificationState=VerificationState,
    ), status
