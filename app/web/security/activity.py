"""The suspicious-activity page's evidence, read from the security log: accounts that were
throttled, bursts of sign-ups from one address, one address sending booking requests for many
accounts, failed proof-of-work checks.

Who sees what:
- admins: every event, with full network addresses;
- facility managers: the events about their organisations' spaces, and those of the accounts
  that booked or sent requests to them (throttling and sign-ups carry no space);
- officers: the same for the spaces under their jurisdictions (and those nested below).
Managers and officers see addresses shortened to their network (203.0.113.x, a /48 for IPv6)
with a tag that tells two addresses apart without revealing them: an address is personal data
that locates a household, and what a manager needs is that many accounts share one, not which.

A fixed number of queries, whatever the number of events: one aggregate per section (its
largest groups first, at most GROUPS rows), one for the groups' details, one for the accounts'
names and one for the spaces' names.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import and_, func, or_, select, union
from sqlalchemy.orm import aliased
from sqlalchemy.sql import ColumnElement, CompoundSelect

from app.accounts.models import User
from app.bookings.models import Booking
from app.errors import NotAllowed
from app.security.models import (
    ACCOUNT_CREATED,
    BOOKING_REQUESTED,
    CHALLENGE_FAILED,
    THROTTLED,
    SecurityEvent,
)
from app.spaces.models import Space, space_jurisdictions

E = SecurityEvent
GROUPS = 50  # rows per section at most, the largest first
SIGNUP_ROWS = 5000  # sign-ups read to find the bursts in

PERIODS = (1, 7, 30, 90)  # days the page looks back
DEFAULT_PERIOD = 7


@dataclass
class Group:
    """One row of evidence: who, from where, on which spaces, how often, when."""

    count: int
    first: datetime
    last: datetime
    user_ids: list[int] = field(default_factory=list)
    ips: list[str] = field(default_factory=list)
    space_ids: list[int] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # limits hit, reasons refused
    per_user: dict[int, int] = field(default_factory=dict)  # requests per account
    ip: str | None = None  # the address the group is about


@dataclass
class Activity:
    throttled_accounts: list[Group]
    throttled_addresses: list[Group]  # without an account (admins only)
    signup_bursts: list[Group]
    shared_addresses: list[Group]
    failed_checks: list[Group]
    users: dict[int, User]
    spaces: dict[int, str]
    full_addresses: bool


# --- Scope --------------------------------------------------------------------------------
def space_scope(user):
    """A SELECT of the ids of the spaces `user` watches over; None for everything (admins);
    False for nothing (residents)."""
    if user.is_admin:
        return None
    parts = []
    if user.managed_org_ids:
        parts.append(select(Space.id).where(Space.owner_id.in_(user.managed_org_ids)))
    if user.officer_jurisdiction_ids:
        parts.append(
            select(space_jurisdictions.c.space_id).where(
                space_jurisdictions.c.jurisdiction_id.in_(user.officer_jurisdiction_ids)
            )
        )
    if not parts:
        return False
    return parts[0] if len(parts) == 1 else union(*parts)


def _visible(spaces):
    """The events about those spaces, and those without a space of the accounts that booked
    or sent requests to them."""
    if spaces is None:
        return None
    other = aliased(SecurityEvent)  # not correlated with the events being filtered
    accounts: CompoundSelect[tuple[int | None]] = union(
        select(Booking.user_id).where(Booking.space_id.in_(spaces)),
        select(other.user_id).where(other.space_id.in_(spaces), other.user_id.is_not(None)),
    )
    return or_(E.space_id.in_(spaces), and_(E.space_id.is_(None), E.user_id.in_(accounts)))


# --- Addresses ------------------------------------------------------------------------------
def address_label(ip: str | None, full: bool) -> str:
    """The address itself for admins; its network (203.0.113.x, 2001:db8:1::/48) otherwise."""
    if not ip:
        return "—"
    if full:
        return ip
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return "?"
    if address.version == 4:
        return ".".join(ip.split(".")[:3]) + ".x"
    return str(ipaddress.ip_network(f"{address}/48", strict=False))


def address_tag(ip: str | None) -> str:
    """A short keyed hash of the address: tells two addresses of one network apart and lets a
    manager name an address to an admin, without revealing it."""
    if not ip:
        return ""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, b"gonggan/address:" + ip.encode(), hashlib.sha256).hexdigest()[:6]


# --- Sections ---------------------------------------------------------------------------------
def _where(kind: str, since: datetime, visible):
    conditions = [E.kind == kind, E.at >= since]
    if visible is not None:
        conditions.append(visible)
    return conditions


def _sorted(values) -> list:
    return sorted({v for v in values if v is not None})


def _throttled(since, visible, session) -> list[Group]:
    count = func.count(E.id)
    rows = session.execute(
        select(E.user_id, count, func.min(E.at), func.max(E.at))
        .where(*_where(THROTTLED, since, visible), E.user_id.is_not(None))
        .group_by(E.user_id)
        .order_by(count.desc(), func.max(E.at).desc(), E.user_id)
        .limit(GROUPS)
    ).all()
    groups = {uid: Group(n, first, last, user_ids=[uid]) for uid, n, first, last in rows}
    if groups:
        limit_name = E.detail["scope"].as_string()
        for uid, ip, scope in session.execute(
            select(E.user_id, E.ip, limit_name)
            .where(*_where(THROTTLED, since, visible), E.user_id.in_(groups))
            .distinct()
        ):
            groups[uid].ips.append(ip)
            groups[uid].notes.append(scope)
    return [_tidy(g) for g in groups.values()]


def _throttled_anonymous(since, session) -> list[Group]:
    count = func.count(E.id)
    rows = session.execute(
        select(E.ip, count, func.min(E.at), func.max(E.at))
        .where(E.kind == THROTTLED, E.at >= since, E.user_id.is_(None))
        .group_by(E.ip)
        .order_by(count.desc(), func.max(E.at).desc(), E.ip)
        .limit(GROUPS)
    ).all()
    groups = {ip: Group(n, first, last, ips=[ip], ip=ip) for ip, n, first, last in rows}
    if groups:
        limit_name = E.detail["scope"].as_string()
        for ip, scope in session.execute(
            select(E.ip, limit_name)
            .where(E.kind == THROTTLED, E.at >= since, E.user_id.is_(None), E.ip.in_(groups))
            .distinct()
        ):
            groups[ip].notes.append(scope)
    return [_tidy(g) for g in groups.values()]


def _signup_bursts(since, visible, session, *, least: int, gap: timedelta) -> list[Group]:
    """Runs of at least `least` sign-ups from one address, each within `gap` of the previous."""
    candidates = session.scalars(
        select(E.ip)
        .where(*_where(ACCOUNT_CREATED, since, visible), E.ip.is_not(None))
        .group_by(E.ip)
        .having(func.count(E.id) >= least)
        .order_by(func.count(E.id).desc(), E.ip)
        .limit(GROUPS)
    ).all()
    if not candidates:
        return []
    rows = session.execute(
        select(E.ip, E.user_id, E.at)
        .where(*_where(ACCOUNT_CREATED, since, visible), E.ip.in_(candidates))
        .order_by(E.ip, E.at)
        .limit(SIGNUP_ROWS)
    ).all()
    bursts: list[Group] = []
    run: list = []

    def close() -> None:
        if len(run) >= least:
            bursts.append(Group(len(run), run[0].at, run[-1].at, ip=run[0].ip, ips=[run[0].ip],
                                user_ids=[r.user_id for r in run if r.user_id is not None]))

    for row in rows:
        if run and (row.ip != run[-1].ip or row.at - run[-1].at > gap):
            close()
            run = []
        run.append(row)
    close()
    bursts.sort(key=lambda g: (-g.count, -g.last.timestamp()))
    return bursts[:GROUPS]


def _shared_addresses(since, visible, session, *, least: int) -> list[Group]:
    """Addresses that sent booking requests for at least `least` accounts."""
    count = func.count(E.id)
    accounts = func.count(func.distinct(E.user_id))
    rows = session.execute(
        select(E.ip, count, func.min(E.at), func.max(E.at))
        .where(*_where(BOOKING_REQUESTED, since, visible), E.ip.is_not(None))
        .group_by(E.ip)
        .having(accounts >= least)
        .order_by(accounts.desc(), count.desc(), E.ip)
        .limit(GROUPS)
    ).all()
    groups = {ip: Group(n, first, last, ip=ip, ips=[ip]) for ip, n, first, last in rows}
    if groups:
        for ip, uid, space_id, n in session.execute(
            select(E.ip, E.user_id, E.space_id, func.count(E.id))
            .where(*_where(BOOKING_REQUESTED, since, visible), E.ip.in_(groups))
            .group_by(E.ip, E.user_id, E.space_id)
        ):
            group = groups[ip]
            group.space_ids.append(space_id)
            if uid is not None:
                group.user_ids.append(uid)
                group.per_user[uid] = group.per_user.get(uid, 0) + n
    return [_tidy(g) for g in groups.values()]


def _failed_checks(since, visible, session) -> list[Group]:
    count = func.count(E.id)
    rows = session.execute(
        select(E.user_id, count, func.min(E.at), func.max(E.at))
        .where(*_where(CHALLENGE_FAILED, since, visible))
        .group_by(E.user_id)
        .order_by(count.desc(), func.max(E.at).desc(), E.user_id)
        .limit(GROUPS)
    ).all()
    groups = {uid: Group(n, first, last, user_ids=[uid] if uid else [])
              for uid, n, first, last in rows}
    if groups:
        reason = E.detail["reason"].as_string()
        user_match: ColumnElement[bool] = E.user_id.in_([uid for uid in groups if uid is not None])
        if None in groups:
            user_match = or_(user_match, E.user_id.is_(None))
        for uid, space_id, ip, why in session.execute(
            select(E.user_id, E.space_id, E.ip, reason)
            .where(*_where(CHALLENGE_FAILED, since, visible), user_match)
            .distinct()
        ):
            group = groups[uid]
            group.space_ids.append(space_id)
            group.ips.append(ip)
            group.notes.append(why)
    return [_tidy(g) for g in groups.values()]


def _tidy(group: Group) -> Group:
    group.user_ids = _sorted(group.user_ids)
    group.ips = _sorted(group.ips)
    group.space_ids = _sorted(group.space_ids)
    group.notes = _sorted(group.notes)
    return group


def activity(viewer, session, *, since: datetime) -> Activity:
    """What `viewer` may see of the log since `since` (see the module's docstring)."""
    spaces = space_scope(viewer)
    if spaces is False:
        raise NotAllowed(_("Only facility managers, officers and administrators see this."))
    visible = _visible(spaces)
    config = current_app.config
    least = config["SUSPICIOUS_ACCOUNTS_PER_ADDRESS"]
    result = Activity(
        throttled_accounts=_throttled(since, visible, session),
        throttled_addresses=_throttled_anonymous(since, session) if viewer.is_admin else [],
        signup_bursts=_signup_bursts(
            since, visible, session, least=least,
            gap=timedelta(minutes=config["SUSPICIOUS_SIGNUP_GAP_MINUTES"]),
        ),
        shared_addresses=_shared_addresses(since, visible, session, least=least),
        failed_checks=_failed_checks(since, visible, session),
        users={},
        spaces={},
        full_addresses=bool(viewer.is_admin),
    )
    sections = (result.throttled_accounts, result.signup_bursts, result.shared_addresses,
                result.failed_checks)
    user_ids = {uid for groups in sections for g in groups for uid in g.user_ids}
    space_ids = {sid for groups in sections for g in groups for sid in g.space_ids}
    if user_ids:
        result.users = {u.id: u for u in session.scalars(select(User).where(User.id.in_(user_ids)))}
    if space_ids:
        result.spaces = dict(session.execute(
            select(Space.id, Space.name).where(Space.id.in_(space_ids))
        ).all())
    return result
