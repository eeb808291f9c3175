"""Verifying what a person claims about themself: their home district (residency) and their
fee-waiver categories. See verification_models.py.

- `submit` files a claim with an optional evidence file (checked and cleaned by
  app.media.evidence, stored privately); a newer claim of the same kind (and waiver category)
  replaces a pending one.
- `decide` verifies or rejects a pending claim (a reason is required to reject), deletes its
  evidence, records the decision in the audit log (app.security.events) and, for residency,
  marks the home district verified. The caller notifies the person (the notifications layer
  sits above this one); a new claim is announced (accounts.signals.verification_submitted)
  and the officers who may decide it (`officers_of`) are told.
- `home_district_changed` is called when a person moves: the residency counts no more and a
  pending residency claim is withdrawn (its evidence deleted).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.accounts import signals
from app.accounts.models import User
from app.accounts.verification_models import (
    Verification,
    VerificationKind,
    VerificationState,
)
from app.db import utcnow
from app.errors import InvalidTransition, ValidationFailed
from app.extensions import db
from app.media import evidence
from app.media.storage import storage
from app.orgs.models import JurisdictionMembership, jurisdiction_tree
from app.security import events
from app.security.models import (
    RESIDENCY_REJECTED,
    RESIDENCY_VERIFIED,
    WAIVER_REJECTED,
    WAIVER_VERIFIED,
)

MAX_REASON = 500


def verified_waivers(user) -> frozenset[str]:
    """The waiver categories verified on `user`'s profile (one query)."""
    user_id = getattr(user, "id", None)
    if user_id is None:
        return frozenset()
    return frozenset(
        c for c in db.session.scalars(
            select(Verification.category).where(
                Verification.user_id == user_id,
                Verification.kind == VerificationKind.WAIVER,
                Verification.state == VerificationState.VERIFIED,
            )
        ) if c
    )


def claims_of(user: User) -> list[Verification]:
    """The person's claims, newest first (their account page)."""
    return list(db.session.scalars(
        select(Verification).where(Verification.user_id == user.id)
        .options(joinedload(Verification.jurisdiction))
        .order_by(Verification.created_at.desc(), Verification.id.desc())
    ))


def _drop_evidence(row: Verification) -> None:
    if row.evidence_key:
        storage().delete(row.evidence_key)
        row.evidence_key = None


def _store_evidence(data: bytes | None) -> str | None:
    if not data:
        return None
    try:
        cleaned, ext = evidence.process(data)
    except evidence.EvidenceRefused as exc:
        raise ValidationFailed.single(exc.message, "evidence") from None
    key = evidence.new_key(ext)
    storage().put(key, cleaned)
    return key


def submit(user: User, kind: str, *, category: str | None = None, data: bytes | None = None,
           categories: Collection[str] = (), now: datetime | None = None) -> Verification:
    """File a claim for the officers of the person's home district. `categories` are the
    waiver categories there are (app.rules.schema.WAIVER_CATEGORIES, a layer above)."""
    now = now or utcnow()
    if kind not in tuple(VerificationKind):
        raise ValidationFailed.single(_("Choose what to verify."), "kind")
    if user.home_district_id is None:
        raise ValidationFailed.single(
            _("Choose your home district on your profile first."), "kind")
    if kind == VerificationKind.RESIDENCY:
        category = None
        if user.home_district_verified_at is not None:
            raise ValidationFailed.single(_("Your home district is already verified."), "kind")
    else:
        if category not in categories:
            raise ValidationFailed.single(_("Choose a fee waiver from the list."), "category")
        if category in verified_waivers(user):
            raise ValidationFailed.single(_("This fee waiver is already verified."), "category")
    key = _store_evidence(data)
    for old in db.session.scalars(select(Verification).where(
        Verification.user_id == user.id, Verification.kind == kind,
        Verification.state == VerificationState.PENDING,
        Verification.category.is_(None) if category is None
        else Verification.category == category,
    )):
        _drop_evidence(old)
        old.state = VerificationState.WITHDRAWN
        old.decided_at = now
    row = Verification(user=user, kind=kind, category=category,
                       jurisdiction_id=user.home_district_id, evidence_key=key,
                       state=VerificationState.PENDING, created_at=now)
    db.session.add(row)
    db.session.flush()
    signals.verification_submitted.send(row, now=now)
    return row


def officers_of(row: Verification, limit: int = 100) -> list[User]:
    """Who may decide the claim: the officers of its district or of any district above it
    (`pending_for` shows it to them), not the claimant; one query."""
    tree = jurisdiction_tree()
    ids: set[int] = set()
    current: int | None = row.jurisdiction_id
    while current is not None and current not in ids:
        ids.add(current)
        current = tree.get(current)
    return list(db.session.scalars(
        select(User).where(
            User.id.in_(select(JurisdictionMembership.user_id).where(
                JurisdictionMembership.jurisdiction_id.in_(ids))),
            User.id != row.user_id, User.is_active_account.is_(True))
        .order_by(User.id).limit(limit)))


AUDIT = {
    (VerificationKind.RESIDENCY, True): RESIDENCY_VERIFIED,
    (VerificationKind.RESIDENCY, False): RESIDENCY_REJECTED,
    (VerificationKind.WAIVER, True): WAIVER_VERIFIED,
    (VerificationKind.WAIVER, False): WAIVER_REJECTED,
}


def decide(row: Verification, officer: User, *, verify: bool, reason: str | None = None,
           now: datetime | None = None) -> Verification:
    """Verify or reject a pending claim (the caller checked `row.can_decide(officer)`)."""
    now = now or utcnow()
    if row.state != VerificationState.PENDING:
        raise InvalidTransition(_("This claim was already decided."))
    reason = (reason or "").strip()
    if not verify and not reason:
        raise ValidationFailed.single(_("Please give a reason for the rejection."), "reason")
    if len(reason) > MAX_REASON:
        raise ValidationFailed.single(
            _("The reason may be at most %(n)d characters.", n=MAX_REASON), "reason")
    person = row.user
    if (verify and row.kind == VerificationKind.RESIDENCY
            and person.home_district_id != row.jurisdiction_id):
        raise InvalidTransition(_("The person has moved to another district since."))
    _drop_evidence(row)
    row.state = VerificationState.VERIFIED if verify else VerificationState.REJECTED
    row.decided_at = now
    row.decided_by = officer
    row.reason = reason or None
    if verify and row.kind == VerificationKind.RESIDENCY:
        person.home_district_verified_at = now
    events.record(AUDIT[(VerificationKind(row.kind), verify)], user=officer, detail={
        "target_id": person.id, "target": person.name, "jurisdiction": row.jurisdiction.name,
        "category": row.category, "verification_id": row.id,
    })
    db.session.flush()
    return row


def home_district_changed(user: User, now: datetime | None = None) -> None:
    """The person moved: residency is unverified again; a pending residency claim goes."""
    now = now or utcnow()
    user.home_district_verified_at = None
    for row in db.session.scalars(select(Verification).where(
        Verification.user_id == user.id, Verification.kind == VerificationKind.RESIDENCY,
        Verification.state == VerificationState.PENDING,
    )):
        _drop_evidence(row)
        row.state = VerificationState.WITHDRAWN
        row.decided_at = now


def withdraw_all(user: User, now: datetime | None = None) -> None:
    """The account is being erased: its pending claims are withdrawn and their evidence (scans
    of identity documents) deleted, so no officer sees them again."""
    now = now or utcnow()
    for row in db.session.scalars(select(Verification).where(
        Verification.user_id == user.id, Verification.state == VerificationState.PENDING,
    )):
        _drop_evidence(row)
        row.state = VerificationState.WITHDRAWN
        row.decided_at = now


def pending_for(officer: User):
    """The select of pending claims the officer may decide, oldest first (the queue pages
    it; the person and district are loaded with it)."""
    scope = officer.officer_jurisdiction_ids
    return (
        select(Verification)
        .where(Verification.state == VerificationState.PENDING,
               Verification.jurisdiction_id.in_(scope or [-1]),
               Verification.user_id != officer.id)
        .options(joinedload(Verification.user), joinedload(Verification.jurisdiction))
        .order_by(Verification.created_at, Verification.id)
    )
