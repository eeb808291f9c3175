"""One's own data (개인정보 보호법 Art. 35): GET /api/v1/me/export, the same copy as the
account's "Download my data" (app.privacy.export), as JSON."""

from __future__ import annotations

from flask_login import current_user

from app.api import bp
from app.api.auth import token_required
from app.api.schemas.answers import MyDataSchema
from app.privacy import export
from app.security import limits


@bp.get("/me/export", tags=["account"])
@token_required
@limits.api_export_per_client
@bp.response(200, MyDataSchema, description="Everything Gonggan holds about you.")
def my_data():
    """Download my data

    Your profile, consents, bookings, payments and refunds, notifications and resident
    groups: only your own. Each section holds at most its newest 5,000 rows (`truncated`
    names the sections that were cut). Limited to a few calls an hour."""
    return export.collect(current_user._get_current_object())
