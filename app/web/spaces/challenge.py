"""The proof-of-work challenge the booking form's widget fetches (see app.security.challenge;
when the form asks for it, app.spaces.surge; the widget, templates/spaces/_challenge.html)."""

from __future__ import annotations

from flask import jsonify
from flask_login import current_user, login_required

from app.security import challenge as security_challenge
from app.security import limits
from app.web.spaces import bp
from app.web.spaces.routes import load_space


@bp.get("/<int:space_id>/challenge")
@login_required
@limits.challenge_per_account
@limits.challenge_per_ip
def challenge(space_id: int):
    space = load_space(space_id)
    response = jsonify(
        security_challenge.new_challenge(space_id=space.id, user_id=current_user.id)
    )
    response.headers["Cache-Control"] = "no-store"
    return response

