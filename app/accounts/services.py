"""Account verbs: register, authenticate, change profile, grant roles."""

from __future__ import annotations

import hashlib
import secrets

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from app.accounts import sessions, signals, verification
from app.accounts.models import ApiToken, User
from app.db import MAX_DB_INT, utcnow
from app.errors import EmailUnverified, ValidationFailed
from app.extensions import db
from app.orgs.models import (
    ORG_ROLES,
    Jurisdiction,
    JurisdictionMembership,
    Organisation,
    OrgMembership,
)

MIN_PASSWORD = 8


def normalise_email(email: str) -> str:
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise ValidationFailed.single(_("Please enter a valid email address."), "email") from exc


def create_user(
    *,
    email: str,
    name: str,
    password: str,
    locale: str = "ko",
    phone: str | None = None,
    home_district: Jurisdiction | None = None,
    verified: bool = True,
) -> User:
    """An account made by an administrator, the CLI or the demo (verified unless told
    otherwise). Says so when the address is taken: only sign-up must not tell."""
    email = normalise_email(email)
    _check_new_account(name, password)
    exists = db.session.scalar(select(func.count(User.id)).where(User.email == email))
    if exists:
        raise ValidationFailed.single(
            _("An account with this email address already exists."), "email"
        )
    user = User(
        email=email,
        name=name.strip(),
        locale=locale if locale in ("ko", "en") else "ko",
        phone=(phone or "").strip() or None,
        home_district=home_district,
        email_verified_at=utcnow() if verified else None,
    )
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user


_dummy_hashes: dict[str, str] = {}


def _dummy_hash() -> str:
    """A hash made the way new passwords are, to check against when there is no account: a
    log-in then costs the same time whether or not the address has one."""
    method = _hash_method()
    if method not in _dummy_hashes:
        _dummy_hashes[method] = generate_password_hash(secrets.token_hex(16), method=method)
    return _dummy_hashes[method]


VERIFY_SALT = "gonggan-verify-email"
VERIFY_MAX_AGE = 7 * 24 * 3600


def password_policy_message() -> str:
    return _("The password must have at least %(n)d characters.", n=MIN_PASSWORD)


def check_password_policy(password: str, field: str = "password") -> None:
    """The one password policy (sign-up, change, reset): at least MIN_PASSWORD characters."""
    if len(password) < MIN_PASSWORD:
        raise ValidationFailed.single(password_policy_message(), field)


def _check_new_account(name: str, password: str) -> None:
    errors: dict[str | None, list[str]] = {}
    if not name.strip():
        errors["name"] = [_("Please enter your name.")]
    if len(password) < MIN_PASSWORD:
        errors["password"] = [password_policy_message()]
    if errors:
        raise ValidationFailed(errors)


def register(
    *,
    email: str,
    name: str,
    password: str,
    locale: str = "ko",
    phone: str | None = None,
    home_district: Jurisdiction | None = None,
) -> User | None:
    """Sign-up that answers the same whether or not the address has an account.

    A new address gets an unverified account and an email with a confirmation link; an address
    that has an account gets an email telling its owner (log in, or reset the password), and
    nothing else changes. Both cost one password hash. Returns the new user, or None."""
    email = normalise_email(email)
    _check_new_account(name, password)
    existing = db.session.scalars(select(User).where(User.email == email)).first()
    if existing is not None:
        generate_password_hash(password, method=_hash_method())
        signals.signup_attempted.send(existing)
        return None
    user = create_user(email=email, name=name, password=password, locale=locale, phone=phone,
                       home_district=home_district, verified=False)
    signals.verification_requested.send(user, token=verification_token(user))
    return user


def resend_verification(user: User) -> bool:
    """Send the confirmation link again; False when the address is confirmed already."""
    if user.email_verified_at is not None:
        return False
    signals.verification_requested.send(user, token=verification_token(user))
    return True


def verification_token(user: User) -> str:
    """A signed link token proving `user` received mail at their current address."""
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=VERIFY_SALT).dumps(
        [user.id, user.email]
    )


def verify_email(token: str) -> User | None:
    """Mark the address of the token's account verified; None if the token is forged, expired,
    or for an address the account no longer has."""
    serializer = URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=VERIFY_SALT)
    try:
        user_id, email = serializer.loads(token, max_age=VERIFY_MAX_AGE)
    except (BadSignature, ValueError, TypeError):
        return None
    user = db.session.get(User, user_id) if isinstance(user_id, int) else None
    if user is None or user.email != email or not user.is_active_account:
        return None
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()
        db.session.flush()
    return user


def _hash_method() -> str:
    return current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")


def authenticate(email: str, password: str) -> User | None:
    """The active account with this address and password, or None. Always checks a password
    hash, so the time taken does not tell whether the address has an account."""
    user = db.session.scalars(select(User).where(User.email == email.strip().lower())).first()
    if user is None:
        check_password_hash(_dummy_hash(), password)
        return None
    if not user.check_password(password) or not user.is_active:
        return None
    return user


def create_user_with_role(
    *,
    email: str,
    name: str,
    password: str,
    role: str,
    org_slug: str | None = None,
    jurisdiction_slug: str | None = None,
    verified: bool = True,
) -> User:
    """Create a user with a role: a manager, principal or staff member needs an organisation,
    an officer a jurisdiction; an option that does not fit the role is refused, not ignored."""
    org = jurisdiction = None
    if org_slug and role not in ORG_ROLES:
        raise ValidationFailed.single(
            _("Only managers, principals and staff belong to an organisation.")
        )
    if jurisdiction_slug and role != "officer":
        raise ValidationFailed.single(_("Only officers belong to a jurisdiction."))
    if role in ORG_ROLES:
        org = db.session.scalars(select(Organisation).where(Organisation.slug == org_slug)).first()
        if org is None:
            raise ValidationFailed.single(_("A manager needs an existing organisation (--org)."))
    if role == "officer":
        jurisdiction = db.session.scalars(
            select(Jurisdiction).where(Jurisdiction.slug == jurisdiction_slug)
        ).first()
        if jurisdiction is None:
            raise ValidationFailed.single(
                _("An officer needs an existing jurisdiction (--jurisdiction).")
            )
    user = create_user(email=email, name=name, password=password, verified=verified)
    if org is not None:
        db.session.add(OrgMembership(user=user, organisation=org, role=role))
    if jurisdiction is not None:
        db.session.add(JurisdictionMembership(user=user, jurisdiction=jurisdiction))
    if role == "admin":
        user.is_admin = True
    db.session.flush()
    return user


def update_profile(
    user: User,
    *,
    name: str,
    locale: str,
    phone: str | None = None,
    home_district: Jurisdiction | None = None,
) -> User:
    """Change a user's own name, language, phone and declared district."""
    if not name.strip():
        raise ValidationFailed.single(_("Please enter your name."), "name")
    user.name = name.strip()
    user.locale = locale if locale in ("ko", "en") else user.locale
    user.phone = (phone or "").strip() or None
    new_id = home_district.id if home_district is not None else None
    if new_id != user.home_district_id:
        # Moving house: the residency-based rules count the new district only once its
        # officers verified it.
        verification.home_district_changed(user)
    user.home_district = home_district
    db.session.flush()
    return user


def change_password(user: User, *, current: str, new: str) -> User:
    """Set a new password after checking the current one."""
    if not user.check_password(current):
        raise ValidationFailed.single(_("The current password is not correct."), "current_password")
    check_password_policy(new, "new_password")
    user.set_password(new)
    # Whoever else knew the old password is signed out everywhere; this browser stays in.
    sessions.end_sessions(user, keep_current=True)
    db.session.flush()
    return user


def issue_token(user: User, name: str) -> tuple[ApiToken, str]:
    """A new API token for `user`; returns the row and the plain token, which is shown once."""
    name = name.strip()
    if not name:
        raise ValidationFailed.single(_("Please name the token."), "name")
    row, plain = ApiToken.issue(user, name[:80])
    db.session.flush()
    return row, plain


def revoke_token(user: User, token_id: int) -> ApiToken | None:
    """Revoke one of `user`'s own active tokens. None if there is no such token of theirs."""
    if not 0 < token_id <= MAX_DB_INT:
        return None
    row = db.session.get(ApiToken, token_id)
    if row is None or row.user_id != user.id or row.revoked_at is not None:
        return None
    row.revoked_at = utcnow()
    db.session.flush()
    return row


# --- Changing the address ---------------------------------------------------------------------
# The account keeps its confirmed address until the new one is confirmed from the link sent to
# it: a typo never locks the person out, and someone using a session left open cannot move the
# account away without the password and without the old address being told (twice: when the
# change is asked, and when it is done). Changing the password cancels a pending change.
CHANGE_SALT = "gonggan-change-email"
CHANGE_MAX_AGE = 24 * 3600


def _password_mark(user: User) -> str:
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def request_email_change(user: User, *, new_email: str, password: str) -> str:
    """Send a confirmation link to `new_email` and tell the current address. Returns the
    normalised new address. Whether the new address has an account is not said here (the link
    says so to whoever opens it, who owns that mailbox)."""
    if not user.check_password(password):
        raise ValidationFailed.single(_("The current password is not correct."), "password")
    address = normalise_email(new_email)
    if address == user.email:
        raise ValidationFailed.single(_("This is already your address."), "email")
    token = URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=CHANGE_SALT).dumps(
        [user.id, user.email, address, _password_mark(user)]
    )
    signals.email_change_requested.send(user, new_email=address, token=token)
    return address


def confirm_email_change(token: str) -> User:
    """Move the account to the address the link was sent to (it is then confirmed) and tell
    the old address. Refuses a forged, expired or used link, one made before the password
    changed, and an address another account took meanwhile."""
    serializer = URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=CHANGE_SALT)
    invalid = ValidationFailed.single(
        _("This link to change your email address does not work any more. Ask for a new one "
          "from your account page."), "token")
    try:
        user_id, old, new, mark = serializer.loads(token, max_age=CHANGE_MAX_AGE)
    except (BadSignature, ValueError, TypeError) as exc:
        raise invalid from exc
    user = db.session.get(User, user_id) if isinstance(user_id, int) else None
    if (user is None or not user.is_active_account or user.email != old
            or mark != _password_mark(user) or not isinstance(new, str)):
        raise invalid
    taken = db.session.scalar(select(func.count(User.id)).where(User.email == new))
    if taken:
        raise ValidationFailed.single(
            _("Another account uses this address now. Your address was not changed."), "email")
    user.email = new
    user.email_verified_at = utcnow()
    db.session.flush()
    signals.email_changed.send(user, old_email=old)
    return user


def unverified_message() -> str:
    return _("Confirm your email address before you send a booking request or enter a lottery: "
             "open the link we emailed you, or ask for a new one.")


def require_verified(user) -> None:
    """Refuse (EmailUnverified) what only a confirmed address may do: booking requests and
    lottery entries, in every form (single, series, group, instant, the API)."""
    if getattr(user, "email_verified_at", None) is None:
        raise EmailUnverified(unverified_message())
