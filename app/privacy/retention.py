"""Inactive accounts are not kept for ever (개인정보 보호법 Art. 21: personal data no longer
needed is destroyed): an account inactive for ACCOUNT_RETENTION_DAYS (default 1095, three
years) is erased as its owner's deletion would (app.privacy.erasure), after an email
ACCOUNT_RETENTION_WARNING_DAYS (default 30) before. Logging in (or any API write) is activity;
it lifts the warning.

Administrators and members of organisations or jurisdictions (staff accounts, whose removal is
their organisation's business) are left alone. The job (`privacy.retention`, daily; also
`flask privacy retention`) is idempotent: each account is warned once per inactive spell and
erased once; each run handles at most ACCOUNT_RETENTION_BATCH accounts per step, in a constant
number of queries per account.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import ColumnElement, exists, func, or_, select, update

from app.accounts.models import User
from app.db import utcnow
from app.extensions import db
from app.jobs import exclusive, job
from app.notifications.services import notify
from app.orgs.models import JurisdictionMembership, OrgMembership
from app.privacy import erasure

WARNING_KIND = "account_retention"


def _last_active():
    return func.coalesce(User.last_active_at, User.created_at)


def _kept_alone() -> list[ColumnElement[bool]]:
    return [
        User.anonymised_at.is_(None),
        User.is_admin.is_(False),
        ~exists().where(OrgMembership.user_id == User.id),
        ~exists().where(JurisdictionMembership.user_id == User.id),
    ]


def sweep(now: datetime | None = None) -> dict[str, int]:
    """Erase the accounts whose warning went out long enough ago, then warn the next ones.
    Commits after each step."""
    now = now or utcnow()
    config = current_app.config
    keep = timedelta(days=config["ACCOUNT_RETENTION_DAYS"])
    notice = timedelta(days=config["ACCOUNT_RETENTION_WARNING_DAYS"])
    batch = config["ACCOUNT_RETENTION_BATCH"]

    due = db.session.scalars(
        select(User).where(
            *_kept_alone(),
            _last_active() <= now - keep,
            User.retention_warned_at.isnot(None),
            User.retention_warned_at <= now - notice,
            # No activity since the warning (an API write does not lift it by itself).
            _last_active() <= User.retention_warned_at,
        ).order_by(User.id).limit(batch)
    ).all()
    for user in due:
        erasure.erase(user, how=erasure.BY_RETENTION, now=now)
    db.session.commit()

    to_warn = db.session.scalars(
        select(User).where(
            *_kept_alone(),
            _last_active() <= now - keep + notice,
            or_(User.retention_warned_at.is_(None), User.retention_warned_at < _last_active()),
        ).order_by(User.id).limit(batch)
    ).all()
    deadline = (now + notice).date().isoformat()
    for user in to_warn:
        # One notify per person: the dedupe key names the inactive spell, so a second run (or
        # a crash between the email and the stamp) never writes the warning twice.
        spell = (user.last_active_at or user.created_at).date().isoformat()
        notify([user], WARNING_KIND, params={"deadline": deadline, "email": user.email},
               dedupe_key=f"retention:{spell}", now=now)
    if to_warn:
        db.session.execute(
            update(User).where(User.id.in_([u.id for u in to_warn]))
            .values(retention_warned_at=now)
        )
    db.session.commit()
    return {"erased": len(due), "warned": len(to_warn)}


@job("privacy.retention")
def retention_job() -> dict:
    """Warn, then erase, accounts inactive beyond ACCOUNT_RETENTION_DAYS."""
    with exclusive("privacy.retention") as mine:
        if not mine:
            return {"skipped": 1}
        return sweep()
