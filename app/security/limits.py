"""Rate limits (Flask-Limiter): who may do what how often, and what a throttled person sees.

Every limit's value is a setting (`RATELIMIT_*` in config.py), read at each request, so a
deployment can tune them without code and the tests can narrow one. The counters live in
RATELIMIT_STORAGE_URI: memory by default (one process), Redis in production so every worker
shares them; when Redis fails the limiter falls back to per-process memory, never to no limit.

Keys:
- `client_ip`: the network address (behind a proxy, set PROXY_FIX_X_FOR so it is the visitor's).
- `login_account_key`: the address typed into the login form, hashed, so guessing one account's
  password is limited whichever addresses the guesses come from.
- `user_or_ip`: the signed-in account, else the address.
- `api_client_key`: the bearer token (its hash), else the address.
"""

from __future__ import annotations

import hashlib

from flask import current_app, request
from flask_login import current_user
from limits import parse_many

from app.extensions import limiter


def client_ip() -> str:
    return request.remote_addr or "unknown"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def login_account_key() -> str:
    email = (request.form.get("email") or "").strip().lower()
    return "acct:" + _digest(email)


def user_or_ip() -> str:
    if current_user and current_user.is_authenticated:
        return f"user:{current_user.id}"
    return "ip:" + client_ip()


def api_client_key() -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return "token:" + _digest(token.strip())
    return "ip:" + client_ip()


def setting(name: str):
    """A limit read from the configuration at each request."""
    return lambda: current_app.config[name]


def _failed_login(response) -> bool:
    # A refused log-in answers 401; a success redirects. Only failures count towards the
    # back-off, so a person who types their password right is never slowed down.
    return response.status_code == 401


# --- The limits, applied as decorators by the routes they protect. ---------------------------
# Guessing passwords: per typed address and per network address, failures only, in tiers that
# grow (a minute, a quarter of an hour, a day).
login_per_account = limiter.limit(
    setting("RATELIMIT_LOGIN_PER_ACCOUNT"), key_func=login_account_key, methods=["POST"],
    deduct_when=_failed_login, scope="login-account",
)
login_per_ip = limiter.limit(
    setting("RATELIMIT_LOGIN_PER_IP"), key_func=client_ip, methods=["POST"],
    deduct_when=_failed_login, scope="login-ip",
)
register_per_ip = limiter.limit(
    setting("RATELIMIT_REGISTER_PER_IP"), key_func=client_ip, methods=["POST"],
    scope="register",
)
# Sending booking requests (the form, a series, the API): per account and per network address.
booking_per_account = limiter.limit(
    setting("RATELIMIT_BOOKING_PER_ACCOUNT"), key_func=user_or_ip, methods=["POST"],
    scope="booking-account", exempt_when=lambda: "check" in request.form,
    override_defaults=False,
)
booking_per_ip = limiter.limit(
    setting("RATELIMIT_BOOKING_PER_IP"), key_func=client_ip, methods=["POST"],
    scope="booking-ip", exempt_when=lambda: "check" in request.form,
    override_defaults=False,
)
# Asking for the address confirmation email again.
verification_per_account = limiter.limit(
    setting("RATELIMIT_VERIFICATION_PER_ACCOUNT"), key_func=user_or_ip, methods=["POST"],
    scope="verification",
)
# "Forgot password": per network address and per address typed (hashed, as for log-ins), so
# nobody floods one mailbox or the outbox. Every request counts, known address or not.
password_reset_per_ip = limiter.limit(
    setting("RATELIMIT_PASSWORD_RESET_PER_IP"), key_func=client_ip, methods=["POST"],
    scope="password-reset-ip",
)
password_reset_per_address = limiter.limit(
    setting("RATELIMIT_PASSWORD_RESET_PER_ADDRESS"), key_func=login_account_key,
    methods=["POST"], scope="password-reset-address",
)
# Opening reset links and setting the new password (guessing tokens is hopeless, but cheap
# to bound).
password_reset_link_per_ip = limiter.limit(
    setting("RATELIMIT_PASSWORD_RESET_LINK_PER_IP"), key_func=client_ip,
    scope="password-reset-link",
)
# Asking to move an account to another address (an email to the new one and the old one).
email_change_per_account = limiter.limit(
    setting("RATELIMIT_EMAIL_CHANGE_PER_ACCOUNT"), key_func=user_or_ip, methods=["POST"],
    scope="email-change",
)
# Proof-of-work challenges for the booking form: one is needed per request sent.
challenge_per_account = limiter.limit(
    setting("RATELIMIT_CHALLENGE_PER_ACCOUNT"), key_func=user_or_ip, scope="challenge-account",
)
challenge_per_ip = limiter.limit(
    setting("RATELIMIT_CHALLENGE_PER_IP"), key_func=client_ip, scope="challenge-ip",
)
# Invitations and emails sent on someone's behalf.
invitation_per_account = limiter.limit(
    setting("RATELIMIT_INVITATION_PER_ACCOUNT"), key_func=user_or_ip, methods=["POST"],
    scope="invitation",
)
# Applications to list spaces as an organisation (and their corrected versions).
org_apply_per_account = limiter.limit(
    setting("RATELIMIT_ORG_APPLY_PER_ACCOUNT"), key_func=user_or_ip, methods=["POST"],
    scope="org-apply",
)
# Team invitation links: opened and accepted per network address (tokens are not guessable,
# but nobody gets to try).
invitation_accept_per_ip = limiter.limit(
    setting("RATELIMIT_INVITATION_ACCEPT_PER_IP"), key_func=client_ip, scope="invitation-accept",
)
# Photo uploads of the manager pages: decoding and re-encoding a picture costs the server.
photo_upload_per_account = limiter.limit(
    setting("RATELIMIT_PHOTO_UPLOAD_PER_ACCOUNT"), key_func=user_or_ip, methods=["POST"],
    scope="photo-upload",
)
# Residency and fee-waiver claims with their evidence files (parsed and re-encoded).
evidence_per_account = limiter.limit(
    setting("RATELIMIT_EVIDENCE_PER_ACCOUNT"), key_func=user_or_ip, methods=["POST"],
    scope="evidence",
)
# Officers deciding residency and fee-waiver claims.
verification_decision_per_account = limiter.limit(
    setting("RATELIMIT_VERIFICATION_DECISION_PER_ACCOUNT"), key_func=user_or_ip,
    methods=["POST"], scope="verification-decision",
)
# Changes made in the admin console.
admin_change_per_account = limiter.limit(
    setting("RATELIMIT_ADMIN_PER_ACCOUNT"), key_func=user_or_ip, methods=["POST"],
    scope="admin",
)
# Calendar apps poll feeds; a poll every few minutes is normal, hundreds a minute is not.
feed_per_ip = limiter.shared_limit(
    setting("RATELIMIT_FEED_PER_IP"), scope="feeds", key_func=client_ip,
)
# The request form's live summary (price and rules judged on each change): per account.
quote_per_account = limiter.limit(
    setting("RATELIMIT_QUOTE_PER_ACCOUNT"), key_func=user_or_ip, scope="quote",
)
# Every API call, per token (or per address without one).
api_per_client = limiter.limit(
    setting("RATELIMIT_API_PER_CLIENT"), key_func=api_client_key, scope="api",
)
# Settlement forms (bank accounts, verifications, transfers recorded): per account.
settlement_per_account = limiter.limit(
    setting("RATELIMIT_SETTLEMENT_PER_ACCOUNT"), key_func=user_or_ip, methods=["POST"],
    scope="settlement",
)
# "Download my data": a page or an API call builds a whole copy of a person's data.
export_per_account = limiter.shared_limit(
    setting("RATELIMIT_EXPORT_PER_ACCOUNT"), scope="export", key_func=user_or_ip,
)
api_export_per_client = limiter.limit(
    setting("RATELIMIT_EXPORT_PER_ACCOUNT"), key_func=api_client_key, scope="api-export",
)
# "Delete my account": each try checks the password.
delete_per_account = limiter.limit(
    setting("RATELIMIT_DELETE_PER_ACCOUNT"), key_func=user_or_ip, methods=["POST"],
    scope="delete-account",
)


# Place names looked up for search ("미아역"): per visitor, and for everyone together, since
# the public Nominatim asks for at most one request a second. A page that may not look one up
# says so and searches the words as text; it never answers 429.
def allow_geocoding() -> bool:
    """Count one place lookup; False when this visitor or the whole site has used its share."""
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return True
    config = current_app.config
    checks = [
        (item, ("geocode-client", user_or_ip()))
        for item in parse_many(config["RATELIMIT_GEOCODE_PER_CLIENT"])
    ] + [(item, ("geocode-site",)) for item in parse_many(config["RATELIMIT_GEOCODE_SITE"])]
    strategy = limiter.limiter
    if not all(strategy.test(item, *key) for item, key in checks):
        return False
    return all([strategy.hit(item, *key) for item, key in checks])
