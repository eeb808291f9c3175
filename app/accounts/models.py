"""Users, their roles and API tokens."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import datetime
from functools import cached_property

from flask import current_app, has_app_context
from flask_login import UserMixin
from sqlalchemy import Boolean, ForeignKey, Integer, String, select
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from app.db import utcnow
from app.extensions import Model, db
from app.orgs.models import (
    Jurisdiction,
    JurisdictionMembership,
    OrgMembership,
    jurisdiction_tree,
    with_descendants,
)


class User(UserMixin, Model):
    """A person. Signed-in browsers hold a LoginSession's key, not the id (see get_id)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(256))
    locale: Mapped[str] = mapped_column(String(5), default="ko")
    phone: Mapped[str | None] = mapped_column(String(40))
    # Self-declared district of residence. Residency-based rules (resident fees, resident-first
    # windows, lottery priority, resident-group quotas) count it only once an officer of that
    # district verified it (app.accounts.verification); changing it makes it unverified again.
    home_district_id: Mapped[int | None] = mapped_column(
        ForeignKey("jurisdictions.id", ondelete="SET NULL")
    )
    home_district_verified_at: Mapped[datetime | None]
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    # Hours before a booking's start when its reminder goes out (0: no reminder).
    reminder_hours: Mapped[int] = mapped_column(Integer, default=24, server_default="24")
    is_active_account: Mapped[bool] = mapped_column(Boolean, default=True)
    # When the person proved the address is theirs (the link in the sign-up email). Accounts
    # made by an administrator or the CLI are created verified.
    email_verified_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Privacy (app.privacy): the last log-in or API call, which the retention job measures
    # inactivity from; when it warned of the coming anonymisation; when the account was erased
    # (deleted by its owner or anonymised for inactivity: the row stays as a tombstone).
    last_active_at: Mapped[datetime | None] = mapped_column(index=True)
    retention_warned_at: Mapped[datetime | None]
    anonymised_at: Mapped[datetime | None]

    home_district: Mapped[Jurisdiction | None] = relationship()
    org_memberships: Mapped[list[OrgMembership]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )
    jurisdiction_memberships: Mapped[list[JurisdictionMembership]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )

    # The key of the LoginSession this request was signed in with (set by the user loader and
    # at log-in): what Flask-Login keeps in the session cookie and the remember-me cookie, so
    # ending that row ends the cookie, wherever it was copied to.
    login_key = None  # type: str | None
    login_session_id = None  # type: int | None

    # Flask-Login's UserMixin compares users by get_id(), the key of a browser's log-in; two
    # rows are the same user when they are the same row (the session's identity map).
    __eq__ = object.__eq__
    __ne__ = object.__ne__
    __hash__ = object.__hash__

    def get_id(self) -> str:  # Flask-Login
        if not self.login_key:
            raise RuntimeError("start a LoginSession (accounts.sessions.log_in) to sign in")
        return self.login_key

    def set_password(self, password: str) -> None:
        # Werkzeug's default (scrypt) unless the configuration names another method; the test
        # suite uses a cheap one because it creates thousands of accounts.
        method = "scrypt"
        if has_app_context():
            method = current_app.config.get("PASSWORD_HASH_METHOD", method)
        self.password_hash = generate_password_hash(password, method=method)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def verified_home_district_id(self) -> int | None:
        """The home district the rules count: the claimed one, once verified."""
        if self.home_district_verified_at is None:
            return None
        return self.home_district_id

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.is_active_account

    # --- Roles. Computed once per request (the user object lives for one request). ---
    @cached_property
    def org_roles(self) -> dict[int, str]:
        """Organisation id -> this user's role there (manager, principal or staff)."""
        rows = db.session.execute(
            select(OrgMembership.organisation_id, OrgMembership.role).where(
                OrgMembership.user_id == self.id
            )
        )
        return {row.organisation_id: row.role for row in rows}

    @property
    def managed_org_ids(self) -> frozenset[int]:
        """Organisations whose spaces and requests this user manages (any role)."""
        return frozenset(self.org_roles)

    @cached_property
    def officer_jurisdiction_ids(self) -> frozenset[int]:
        """Jurisdictions this user oversees, including every jurisdiction nested below them."""
        roots = set(
            db.session.scalars(
                select(JurisdictionMembership.jurisdiction_id).where(
                    JurisdictionMembership.user_id == self.id
                )
            )
        )
        if not roots:
            return frozenset()
        return frozenset(with_descendants(roots, jurisdiction_tree()))

    @property
    def is_manager(self) -> bool:
        return bool(self.managed_org_ids)

    @property
    def is_officer(self) -> bool:
        return bool(self.officer_jurisdiction_ids)

    @property
    def role_names(self) -> list[str]:
        roles = ["resident"]
        if self.is_manager:
            roles.append("manager")
        if "principal" in self.org_roles.values():
            roles.append("principal")
        if self.is_officer:
            roles.append("officer")
        if self.is_admin:
            roles.append("admin")
        return roles

    def __repr__(self) -> str:
        return f"<User {self.email}>"


class ApiToken(Model):
    """A bearer token for the JSON API. Only its SHA-256 is stored; the token is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()

    @staticmethod
    def hash(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    @classmethod
    def issue(cls, user: User, name: str) -> tuple[ApiToken, str]:
        """Create a token for `user`; returns the row and the plain token (shown once)."""
        plain = "ggn_" + secrets.token_urlsafe(32)
        row = cls(user=user, name=name, token_hash=cls.hash(plain), prefix=plain[:10])
        db.session.add(row)
        return row, plain


class LoginSession(Model):
    """One signed-in browser. The cookie carries the key; only its SHA-256 is stored. Log-out
    ends it; a password change ends the others; "log out everywhere" and deactivation end all."""

    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    remember: Mapped[bool] = mapped_column(Boolean, default=False)
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(200))
    ended_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()

    @staticmethod
    def hash(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()


RESET_HOURS = 1


class PasswordReset(Model):
    """A "forgot password" link sent to an account's address: single use, valid RESET_HOURS.

    As with group invitations, the link's token is never stored: it is derived from
    `token_seed` with the secret key (`link_token`), so the email can be written after the
    commit, on a worker, and only its SHA-256 (`token_hash`) finds the row from the link. Reading
    the database alone is not enough to use a link.
    """

    __tablename__ = "password_resets"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    token_seed: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    # Set when the link set a new password, or when a newer reset or log-in made it pointless.
    used_at: Mapped[datetime | None]
    ip: Mapped[str | None] = mapped_column(String(45))

    user: Mapped[User] = relationship()

    @staticmethod
    def hash(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    def link_token(self) -> str:
        """The token of the link in the email, derived from the seed."""
        key = current_app.config["SECRET_KEY"].encode()
        mac = hmac.new(key, f"password-reset:{self.token_seed}".encode(), hashlib.sha256)
        return base64.urlsafe_b64encode(mac.digest()).rstrip(b"=").decode()

    def seed(self) -> None:
        self.token_seed = secrets.token_hex(16)
        self.token_hash = self.hash(self.link_token())

    def usable(self, now: datetime) -> bool:
        return self.used_at is None and now < self.expires_at
