"""Privacy pages: the notice (/privacy), one's consents, "Download my data" and "Delete my
account" (see docs/privacy.md)."""

from __future__ import annotations

import json

from flask import Response, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, logout_user

from app.accounts import consents
from app.bookings.models import Booking
from app.db import utcnow
from app.extensions import db
from app.notifications import services as notification_services
from app.notifications.kinds import KINDS
from app.privacy import erasure, export
from app.security import limits
from app.web.accounts import bp
from app.web.accounts.forms import ConsentForm, DeleteAccountForm
from app.web.helpers import required

# Set at log-in for an account without consent under the current notice; base.html then shows
# a notice asking for it (without a query on every page).
ASK_KEY = "privacy_ask"


@bp.get("/privacy")
def privacy_notice():
    return render_template(
        "accounts/privacy_notice.html",
        retention_days=_config("ACCOUNT_RETENTION_DAYS"),
        warning_days=_config("ACCOUNT_RETENTION_WARNING_DAYS"),
        security_days=_config("SECURITY_EVENT_RETENTION_DAYS"),
        version=consents.NOTICE_VERSION,
    )


def _config(name: str) -> int:
    from flask import current_app

    return int(current_app.config[name])


@bp.route("/account/privacy", methods=["GET", "POST"])
@login_required
def privacy():
    user = current_user._get_current_object()
    live = consents.current(user.id)
    form = ConsentForm()
    if request.method == "GET":
        form.booking.data = consents.BOOKING in live
        form.notifications.data = consents.NOTIFICATIONS in live
        form.statistics.data = consents.STATISTICS in live
    if form.validate_on_submit():
        chosen = {consents.BOOKING}
        if form.notifications.data:
            chosen.add(consents.NOTIFICATIONS)
        if form.statistics.data:
            chosen.add(consents.STATISTICS)
        if consents.NOTIFICATIONS in live and consents.NOTIFICATIONS not in chosen:
            _stop_optional_emails(user)
        consents.record(user.id, chosen)
        db.session.commit()
        session.pop(ASK_KEY, None)
        flash(_("Your choices were saved."), "success")
        return redirect(url_for("accounts.privacy"))
    status = 422 if request.method == "POST" else 200
    return render_template(
        "accounts/privacy.html", form=form, live=live, labels=consents.PURPOSE_LABELS,
        purposes=consents.PURPOSES, version=consents.NOTICE_VERSION,
    ), status


def _stop_optional_emails(user) -> None:
    """Withdrawing the notifications consent: every kind that may be turned off and now goes
    by email (or digest) goes to the inbox only. Messages about the account, payments and
    cancellations (the mandatory kinds) still reach the inbox and, as chosen, email."""
    current = notification_services.preferences_of(user)
    notification_services.set_preferences(user, {
        kind: "in_app" for kind, channel in current.items()
        if channel in ("email", "digest") and not KINDS[kind].mandatory
    })


def _filename(ext: str) -> str:
    return f"gonggan-my-data-{utcnow().date().isoformat()}.{ext}"


@bp.get("/account/export.json")
@login_required
@limits.export_per_account
def export_json():
    document = export.collect(current_user._get_current_object())
    body = json.dumps(document, ensure_ascii=False, indent=2)
    return Response(body, mimetype="application/json", headers={
        "Content-Disposition": f'attachment; filename="{_filename("json")}"',
        "Cache-Control": "no-store",
    })


@bp.get("/account/export.zip")
@login_required
@limits.export_per_account
def export_zip():
    document = export.collect(current_user._get_current_object())
    return Response(export.to_zip(document), mimetype="application/zip", headers={
        "Content-Disposition": f'attachment; filename="{_filename("zip")}"',
        "Cache-Control": "no-store",
    })


def _future_bookings(user_id: int) -> int:
    from sqlalchemy import func, select

    return db.session.scalar(
        select(func.count(Booking.id)).where(
            Booking.user_id == user_id, Booking.start_at > utcnow(),
            Booking.status.in_(erasure.CANCELLABLE),
        )
    ) or 0


@bp.route("/account/delete", methods=["GET", "POST"])
@login_required
@limits.delete_per_account
def delete_account():
    user = current_user._get_current_object()
    form = DeleteAccountForm()
    if form.validate_on_submit():
        if not user.check_password(required(form.password.data)):
            form.password.errors = [_("The password is not correct.")]
        else:
            erasure.erase(user, how=erasure.BY_OWNER)
            db.session.commit()
            logout_user()
            session.clear()
            flash(_("Your account was deleted. Thank you for using Gonggan."), "info")
            return redirect(url_for("main.index"))
    status = 422 if request.method == "POST" else 200
    return render_template(
        "accounts/delete.html", form=form, future=_future_bookings(user.id),
    ), status
