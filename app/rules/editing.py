"""Editing rule sets: who may change which, appending versions and history (the preview of the
bookings a draft would break is app.bookings.rule_preview).

A rule set belongs to one scope: a jurisdiction, an owner organisation or a single space.
Versions are never changed; saving appends one that replaces the latest, from a chosen day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from app.db import utcnow
from app.errors import NotAllowed, ValidationFailed
from app.extensions import db
from app.orgs.models import Jurisdiction, Organisation
from app.rules import services
from app.rules.models import RuleSet
from app.rules.schema import (
    Rules,
    parse_rules,
    rules_to_doc,
)
from app.spaces.availability import local_instant
from app.spaces.models import Space

SEOUL = ZoneInfo("Asia/Seoul")
MAX_AHEAD_DAYS = 731  # a change may be scheduled up to two years ahead
MAX_NOTE = 300

ScopeObject = Jurisdiction | Organisation | Space
KINDS: dict[str, type[ScopeObject]] = {
    "jurisdiction": Jurisdiction,
    "organisation": Organisation,
    "space": Space,
}
LEVEL_OF_KIND = {"jurisdiction": "jurisdiction", "organisation": "owner", "space": "space"}
KIND_LABELS = {
    "jurisdiction": _l("Jurisdiction"),
    "organisation": _l("Organisation"),
    "space": _l("Space"),
}


# --- Scopes and who may edit them ------------------------------------------------------------
@dataclass(frozen=True)
class Scope:
    """The owner of a rule set: `kind` is jurisdiction, organisation or space."""

    kind: str
    obj: ScopeObject

    @property
    def id(self) -> int:
        return self.obj.id

    @property
    def level(self) -> str:
        """The level `parse_rules` checks a document at (jurisdiction, owner or space)."""
        return LEVEL_OF_KIND[self.kind]

    @property
    def key(self) -> str:
        """The same key as `RuleSet.scope_key` and `Source.key`: j:3, o:5, s:7."""
        return f"{self.kind[0]}:{self.obj.id}"

    @property
    def name(self) -> str:
        return self.obj.display_name if isinstance(self.obj, Jurisdiction) else self.obj.name

    @property
    def kind_label(self) -> str:
        return str(KIND_LABELS[self.kind])

    @property
    def zone(self) -> ZoneInfo:
        return self.obj.zone if isinstance(self.obj, Space) else SEOUL

    @property
    def column(self):
        return {
            "jurisdiction": RuleSet.jurisdiction_id,
            "organisation": RuleSet.organisation_id,
            "space": RuleSet.space_id,
        }[self.kind]

    @property
    def owner_fk(self) -> dict[str, int]:
        return {self.column.key: self.obj.id}


def load_scope(kind: str, scope_id: int) -> Scope | None:
    """The scope, or None when it does not exist (including ids no column can hold)."""
    model = KINDS.get(kind)
    if model is None or not 0 < scope_id < 2**31:
        return None
    # An instance of `model`; a type checker only sees the three classes' common base.
    obj = cast("ScopeObject | None", db.session.get(model, scope_id))
    return Scope(kind, obj) if obj is not None else None


def can_edit(user, scope: Scope) -> bool:
    """The one rule of who may change a rule set.

    Officers: their jurisdictions and those below. Members of an organisation (any role): the
    organisation's rule set and those of its spaces. Admins: everything.
    """
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_admin:
        return True
    if isinstance(scope.obj, Jurisdiction):
        return scope.id in user.officer_jurisdiction_ids
    if isinstance(scope.obj, Organisation):
        return scope.id in user.managed_org_ids
    return scope.obj.owner_id in user.managed_org_ids


def can_see(user, scope: Scope) -> bool:
    """Whether `user` may know the rule set exists (403 rather than 404 when not editable):
    officers overseeing a space, and officers of a district below a jurisdiction whose rules
    bind them."""
    if can_edit(user, scope):
        return True
    if not getattr(user, "is_authenticated", False):
        return False
    if isinstance(scope.obj, Space):
        return scope.obj.can_oversee(user)
    if scope.kind == "jurisdiction" and user.officer_jurisdiction_ids:
        tree = services.jurisdictions_by_id()
        return any(
            scope.id in services.ancestors(jid, tree) for jid in user.officer_jurisdiction_ids
        )
    return False


@dataclass
class EditableScopes:
    jurisdictions: list[Scope]
    organisations: list[Scope]
    spaces: Pagination  # of Space rows


def editable_scopes(user, paginate) -> EditableScopes:
    """Every scope `user` may edit; the spaces come as a page (`paginate(query)`)."""
    jq = select(Jurisdiction).order_by(Jurisdiction.name, Jurisdiction.id)
    oq = select(Organisation).order_by(Organisation.name, Organisation.id)
    sq = select(Space).options(selectinload(Space.owner)).order_by(Space.name, Space.id)
    if not user.is_admin:
        jq = jq.where(Jurisdiction.id.in_(user.officer_jurisdiction_ids or [-1]))
        oq = oq.where(Organisation.id.in_(user.managed_org_ids or [-1]))
        sq = sq.where(Space.owner_id.in_(user.managed_org_ids or [-1]))
    return EditableScopes(
        [Scope("jurisdiction", j) for j in db.session.scalars(jq)],
        [Scope("organisation", o) for o in db.session.scalars(oq)],
        paginate(sq),
    )


# --- Versions --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Timeline:
    # The versions are RuleSets (versions_of) or rows of their columns (timelines).
    current: Any  # the version in force now, or None
    scheduled: list[Any]  # versions that take effect later, soonest first


def timeline(versions, now: datetime) -> Timeline:
    """Which of a scope's versions is in force at `now` and which are still to come."""
    ordered = sorted(versions, key=lambda v: (v.effective_from, v.version))
    past = [v for v in ordered if v.effective_from <= now]
    return Timeline(past[-1] if past else None, [v for v in ordered if v.effective_from > now])


def versions_of(scope: Scope) -> list[RuleSet]:
    """Every version of the scope's rule set, newest first, with their authors (two queries)."""
    return list(
        db.session.scalars(
            select(RuleSet)
            .where(scope.column == scope.id)
            .options(selectinload(RuleSet.created_by))
            .order_by(RuleSet.version.desc())
        )
    )


def timelines(scopes: list[Scope], now: datetime) -> dict[str, Timeline]:
    """The timeline of each scope, from one query that leaves the documents in the database."""
    ids: dict[str, list[int]] = {"jurisdiction": [], "organisation": [], "space": []}
    for scope in scopes:
        ids[scope.kind].append(scope.id)
    if not scopes:
        return {}
    rows = db.session.execute(
        select(
            RuleSet.id,
            RuleSet.jurisdiction_id,
            RuleSet.organisation_id,
            RuleSet.space_id,
            RuleSet.version,
            RuleSet.effective_from,
        ).where(
            or_(
                RuleSet.jurisdiction_id.in_(ids["jurisdiction"] or [-1]),
                RuleSet.organisation_id.in_(ids["organisation"] or [-1]),
                RuleSet.space_id.in_(ids["space"] or [-1]),
            )
        )
    ).all()
    by_key: dict[str, list] = {}
    for row in rows:
        if row.jurisdiction_id is not None:
            key = f"j:{row.jurisdiction_id}"
        elif row.organisation_id is not None:
            key = f"o:{row.organisation_id}"
        else:
            key = f"s:{row.space_id}"
        by_key.setdefault(key, []).append(row)
    return {s.key: timeline(by_key.get(s.key, []), now) for s in scopes}


def stored_rules(version: RuleSet | None) -> Rules | None:
    """The rules of a stored version; None when there is none or it no longer parses."""
    if version is None:
        return None
    try:
        return parse_rules(version.body, level=version.level)
    except ValidationFailed:
        return None


# --- Checking and saving ---------------------------------------------------------------------
def effective_instant(scope: Scope, day: date | None, now: datetime) -> datetime:
    """Today means from `now`; a later day from local midnight. Past days are refused."""
    today = now.astimezone(scope.zone).date()
    if day is None:
        raise ValidationFailed.single(_("Enter the day the rules take effect."), "effective_from")
    if day < today:
        raise ValidationFailed.single(
            _("The rules cannot take effect in the past. Choose today or a later day."),
            "effective_from",
        )
    if day > today + timedelta(days=MAX_AHEAD_DAYS):
        raise ValidationFailed.single(_("Choose a day within two years."), "effective_from")
    return now if day == today else local_instant(day, 0, scope.zone)


def check_draft(
    scope: Scope, doc: dict, day: date | None, note: str = "", *, now: datetime | None = None
) -> tuple[Rules, datetime]:
    """The rules of a draft and the instant it takes effect, or every problem at once."""
    errors: dict[str | None, list[str]] = {}
    rules = at = None
    try:
        rules = parse_rules(doc, level=scope.level)
    except ValidationFailed as exc:
        errors.update(exc.errors)
    try:
        at = effective_instant(scope, day, now or utcnow())
    except ValidationFailed as exc:
        errors.update(exc.errors)
    if len(note or "") > MAX_NOTE:
        errors["note"] = [_("The note may be at most %(n)d characters.", n=MAX_NOTE)]
    if errors:
        raise ValidationFailed(errors)
    assert rules is not None and at is not None  # both were read without an error
    return rules, at


def save_rule_set(
    actor, scope: Scope, doc: dict, day: date | None, note: str = "", *,
    now: datetime | None = None,
) -> RuleSet:  # fmt: skip
    """Append a version of the scope's rules, taking effect on `day`, replacing the latest.

    The version records who made it, when, and which version it replaces, so the history shows
    every change as old -> new. An unchanged document is refused. Flushes, never commits.
    """
    if not can_edit(actor, scope):
        raise NotAllowed(_("You may not change these rules."))
    now = now or utcnow()
    rules, at = check_draft(scope, doc, day, note, now=now)
    latest = db.session.scalars(
        select(RuleSet).where(scope.column == scope.id).order_by(RuleSet.version.desc()).limit(1)
    ).first()
    if rules == (stored_rules(latest) if latest is not None else Rules()):
        raise ValidationFailed.single(
            _("Nothing changed: the rules are the same as in the latest version. Nothing was "
              "saved.")
        )  # fmt: skip
    version = RuleSet(
        **scope.owner_fk,
        version=latest.version + 1 if latest else 1,
        effective_from=at,
        body=rules_to_doc(rules),
        note=(note or "").strip(),
        created_at=now,
        created_by_id=actor.id,
        replaces_id=latest.id if latest else None,
    )
    try:
        with db.session.begin_nested():
            db.session.add(version)
    except IntegrityError as exc:  # two editors saved the same scope at the same moment
        raise ValidationFailed.single(
            _("Someone else saved these rules a moment ago. Reload the page and try again.")
        ) from exc
    return version


def later_versions(version: RuleSet) -> list[RuleSet]:
    """Versions of the same scope scheduled after `version` takes effect: they will still
    replace it on their day."""
    column = {"j": RuleSet.jurisdiction_id, "o": RuleSet.organisation_id, "s": RuleSet.space_id}[
        version.scope_key[0]
    ]
    return list(
        db.session.scalars(
            select(RuleSet)
            .where(
                column == int(version.scope_key[2:]),
                RuleSet.id != version.id,
                RuleSet.effective_from > version.effective_from,
            )
            .order_by(RuleSet.effective_from)
        )
    )


