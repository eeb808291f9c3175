"""The suspicious-activity page: what the security log shows of macro programs and abuse, for
facility managers, officers and admins, each within their scope (app.web.security.activity)."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, current_app, render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from app.db import db_int, utcnow
from app.extensions import db
from app.security.challenge import EXPIRED, INVALID, MISSING, REUSED
from app.web.security import activity as evidence

bp = Blueprint("security", __name__)

# The limits (Flask-Limiter scopes, app.security.limits) in words.
LIMIT_LABELS = {
    "login-account": _l("Log-in attempts for one email address"),
    "login-ip": _l("Log-in attempts from one address"),
    "register": _l("Sign-ups from one address"),
    "booking-account": _l("Booking requests of one account"),
    "booking-ip": _l("Booking requests from one address"),
    "challenge-account": _l("Anti-macro checks fetched by one account"),
    "challenge-ip": _l("Anti-macro checks fetched from one address"),
    "invitation": _l("Invitations"),
    "admin": _l("Changes in the admin console"),
    "feeds": _l("Calendar feeds"),
    "api": _l("API calls"),
}
CHECK_FAILURES = {
    MISSING: _l("sent without the check"),
    INVALID: _l("check not valid"),
    EXPIRED: _l("check expired"),
    REUSED: _l("check used again"),
}


@bp.get("/activity")
@login_required
def activity():
    if not (current_user.is_admin or current_user.is_manager or current_user.is_officer):
        abort(403)
    days = request.args.get("days", type=db_int)
    if days not in evidence.PERIODS:
        days = evidence.DEFAULT_PERIOD
    found = evidence.activity(current_user, db.session, since=utcnow() - timedelta(days=days))
    return render_template(
        "security/activity.html",
        found=found,
        days=days,
        periods=evidence.PERIODS,
        retention_days=current_app.config["SECURITY_EVENT_RETENTION_DAYS"],
        least=current_app.config["SUSPICIOUS_ACCOUNTS_PER_ADDRESS"],
        gap=current_app.config["SUSPICIOUS_SIGNUP_GAP_MINUTES"],
        address_label=evidence.address_label,
        address_tag=evidence.address_tag,
        limit_labels=LIMIT_LABELS,
        check_failures=CHECK_FAILURES,
    )
