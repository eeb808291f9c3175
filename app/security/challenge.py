"""Proof of work before a booking request: ALTCHA challenges made and checked by this server,
no third-party service.

The booking form fetches a challenge (`new_challenge`) for its space; the browser's widget
(app/static/vendor/altcha, started by app/static/js/challenge.js) searches for the counter that
the server drew, which costs it CHALLENGE_COST PBKDF2 iterations per try, and sends the
solution with the form. `spend` accepts a solution once: it must carry our signature (an HMAC
with a key derived from SECRET_KEY), belong to this space and account, not be expired, and not
have been accepted before. Accepted solutions are kept in `spent_challenges` until they expire,
so every worker refuses a second use.

When a space asks for the check is app.spaces.surge's business.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta

import altcha
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from app.db import rowcount, utcnow
from app.extensions import db
from app.security.models import SpentChallenge

ALGORITHM = "PBKDF2/SHA-256"
# A solution is a few hundred bytes of base64; anything much longer is not one.
MAX_PAYLOAD = 4000

# Why a solution was refused: kept in the CHALLENGE_FAILED event, and what the person reads.
MISSING, INVALID, EXPIRED, REUSED = "missing", "invalid", "expired", "reused"
REFUSALS = {
    MISSING: _l(
        "This space asks for a short automatic check against macro programs before a request "
        "is sent, and it had not finished. Wait until the box below says it is done, then send "
        "the request again. Nothing was sent."
    ),
    INVALID: _l(
        "The automatic check against macro programs did not pass. Let it run again below, then "
        "send the request again. Nothing was sent."
    ),
    EXPIRED: _l(
        "The automatic check against macro programs expired. Let it run again below, then send "
        "the request again. Nothing was sent."
    ),
    REUSED: _l(
        "This automatic check was already used for another request. Let it run again below, "
        "then send the request again. Nothing was sent."
    ),
}


def _hmac_secret() -> str:
    # Its own key, so a signature made here can never stand for anything else signed with
    # SECRET_KEY (sessions, tokens).
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, b"gonggan/booking-challenge", hashlib.sha256).hexdigest()


def _bound_to(space_id: int, user_id: int) -> dict:
    return {"space": space_id, "user": user_id}


def new_challenge(*, space_id: int, user_id: int, now: datetime | None = None) -> dict:
    """A signed challenge (ALTCHA's JSON) for this account's request to this space."""
    config = current_app.config
    now = now or utcnow()
    expires = now + timedelta(minutes=config["CHALLENGE_EXPIRY_MINUTES"])
    challenge = altcha.create_challenge(
        ALGORITHM,
        config["CHALLENGE_COST"],
        # The counter to find is drawn from the whole range: a solver cannot skip any of it.
        counter=secrets.randbelow(max(1, config["CHALLENGE_MAX_NUMBER"])),
        expires_at=int(expires.timestamp()),
        data=_bound_to(space_id, user_id),
        hmac_secret=_hmac_secret(),
    )
    return challenge.to_dict()


def spend(payload: str | None, *, space_id: int, user_id: int) -> str | None:
    """Accept the solution `payload` (the widget's base64 text) for this account's request to
    this space, once: None when accepted (it is then spent), else why not (MISSING, INVALID,
    EXPIRED or REUSED). Adds a row to the session inside a savepoint; the caller commits."""
    if not payload or not payload.strip():
        return MISSING
    if len(payload) > MAX_PAYLOAD:
        return INVALID
    try:
        result = altcha.verify_solution(payload.strip(), _hmac_secret())
        if result.expired:
            return EXPIRED
        if not result.verified:
            return INVALID
        challenge = altcha.Payload.from_base64(payload.strip()).challenge
    except Exception:  # noqa: BLE001 - whatever someone sends, the answer is "not a solution"
        return INVALID
    parameters = challenge.parameters
    if not challenge.signature:  # a verified solution always carries one
        return INVALID
    if parameters.data != _bound_to(space_id, user_id) or not parameters.expires_at:
        return INVALID
    expires_at = datetime.fromtimestamp(parameters.expires_at, UTC)
    if expires_at <= utcnow():
        return EXPIRED
    key = hashlib.sha256(challenge.signature.encode()).hexdigest()
    try:
        with db.session.begin_nested():
            db.session.add(SpentChallenge(key=key, expires_at=expires_at))
    except IntegrityError:
        return REUSED
    return None


def forget_expired(now: datetime | None = None) -> int:
    """Delete the spent solutions whose challenges have expired (they are refused as expired
    anyway). Returns how many; the caller commits."""
    now = now or utcnow()
    result = db.session.execute(delete(SpentChallenge).where(SpentChallenge.expires_at <= now))
    return rowcount(result)
