"""Lottery draws: who gets a contested time, published so that anyone can check it.

Algorithm "gonggan-1" (`draw`), a pure function of its inputs and a seed:

1. Sort the entries by booking id.
2. `rng = random.Random(seed)`, seeded with the published seed string (32 hex digits; Python's
   Mersenne Twister, string seeding version 2). Draw one key per entry, in booking-id order,
   with `rng.random()`.
3. Rank the entries by (tier, key, booking id): tier 0 (priority: residents of the space's
   district when the lottery window gives them priority) before tier 1 (everybody else).
   Ranks count from 1.
4. Walk the ranking, accepting each entry unless
   - its time overlaps a time that was already busy at the draw (an active booking or a
     closure): lost, "taken";
   - the person's wins this month at this space (wins from earlier draws plus wins in this
     draw) have reached the window's cap: lost, "cap";
   - its time overlaps an entry accepted before it: lost, "overlap".
   The first reason that applies, in that order, is the one recorded (the two that no rank
   could have avoided come first).

Times are the ranges a booking holds (its time widened by half the space's buffer on each side)
and overlap means `a.start < b.end and b.start < a.end`, as in the database constraint.

Every input is stored with the draw (`LotteryDraw.result`, one item per entry), so `verify`
re-runs the draw and compares. `run_due_draws` is the service the sweep calls; `fairness`
reports who enters and who wins at a space over a period.
"""

from __future__ import annotations

import random
import secrets
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from itertools import groupby

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from app.accounts.models import User
from app.bookings import approvals, signals
from app.bookings.models import Booking, LotteryDraw
from app.bookings.services import OVERLAP_CONSTRAINT, hold_range, transition
from app.bookings.states import ACTIVE, COUNTED, BookingStatus, DrawOutcome
from app.db import utcnow
from app.errors import ValidationFailed
from app.extensions import db
from app.orgs.models import jurisdiction_tree, with_descendants
from app.rules.engine import lottery_window_for, period_bounds
from app.rules.models import RuleSet
from app.rules.schema import LotteryWindow, parse_rules
from app.spaces.models import Closure, Space

ALGORITHM = "gonggan-1"
PRIORITY, GENERAL = 0, 1
WON, LOST = DrawOutcome.WON, DrawOutcome.LOST


# --- The pure draw -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Entry:
    booking: int
    user: int
    start: datetime  # the range the booking would hold
    end: datetime
    tier: int = GENERAL


@dataclass(frozen=True)
class Outcome:
    booking: int
    user: int
    tier: int
    key: float
    rank: int
    outcome: str  # won | lost
    why: str | None = None  # taken | overlap | cap (lost only)


def _overlaps(a_start, a_end, b_start, b_end) -> bool:
    return a_start < b_end and b_start < a_end


def draw(
    entries: Iterable[Entry],
    seed: str,
    *,
    caps: Mapping[int, int | None],
    prior_wins: Mapping[int, int],
    busy: Iterable[tuple[datetime, datetime]],
) -> list[Outcome]:
    """Run algorithm gonggan-1 (see the module docstring). Outcomes come in rank order.

    `caps` and `prior_wins` are per user id; a user missing from `caps` has no cap.
    """
    ordered = sorted(entries, key=lambda e: e.booking)
    if len({e.booking for e in ordered}) != len(ordered):
        raise ValueError("each booking enters a draw once")
    rng = random.Random(seed)
    keys = {e.booking: rng.random() for e in ordered}
    ranked = sorted(ordered, key=lambda e: (e.tier, keys[e.booking], e.booking))
    busy = list(busy)
    wins = Counter({user: n for user, n in prior_wins.items()})
    accepted: list[Entry] = []
    out = []
    for rank, e in enumerate(ranked, start=1):
        cap = caps.get(e.user)
        why = None
        if any(_overlaps(e.start, e.end, lo, hi) for lo, hi in busy):
            why = "taken"
        elif cap is not None and wins[e.user] >= cap:
            why = "cap"
        elif any(_overlaps(e.start, e.end, a.start, a.end) for a in accepted):
            why = "overlap"
        else:
            accepted.append(e)
            wins[e.user] += 1
        out.append(Outcome(e.booking, e.user, e.tier, keys[e.booking], rank,
                           LOST if why else WON, why))  # fmt: skip
    return out


# --- Stored form and verification --------------------------------------------------------------
def _iso(dt: datetime) -> str:
    return dt.isoformat()


def _result(entries, caps, prior, busy, outcomes: list[Outcome]) -> list[dict]:
    """One item per entry, in rank order: every input of the draw and its outcome."""
    by_id = {e.booking: e for e in entries}
    items = []
    for o in outcomes:
        e = by_id[o.booking]
        items.append({
            "booking": o.booking, "user": o.user, "start": _iso(e.start), "end": _iso(e.end),
            "tier": o.tier, "cap": caps.get(o.user), "prior": prior.get(o.user, 0),
            "busy": [[_iso(lo), _iso(hi)] for lo, hi in busy
                     if _overlaps(e.start, e.end, lo, hi)],
            "key": o.key, "rank": o.rank, "outcome": o.outcome, "why": o.why,
        })  # fmt: skip
    return items


def verify(lottery_draw: LotteryDraw) -> bool:
    """Whether re-running the draw from its stored inputs and seed gives its stored result."""
    if lottery_draw.algorithm != ALGORITHM or not isinstance(lottery_draw.result, list):
        return False
    try:
        items = lottery_draw.result
        parse = datetime.fromisoformat
        entries = [
            Entry(int(i["booking"]), int(i["user"]), parse(i["start"]), parse(i["end"]),
                  int(i["tier"]))
            for i in items
        ]  # fmt: skip
        caps = {int(i["user"]): i["cap"] for i in items if i.get("cap") is not None}
        prior = {int(i["user"]): int(i.get("prior") or 0) for i in items}
        busy = {(parse(lo), parse(hi)) for i in items for lo, hi in i.get("busy") or []}
        again = draw(entries, lottery_draw.seed, caps=caps, prior_wins=prior, busy=sorted(busy))
        stored = [(i["booking"], i["tier"], i["key"], i["rank"], i["outcome"], i["why"])
                  for i in items]  # fmt: skip
    except (KeyError, TypeError, ValueError, AttributeError):
        return False
    return stored == [(o.booking, o.tier, o.key, o.rank, o.outcome, o.why) for o in again]


# --- Running the draws that are due ------------------------------------------------------------
def run_due_draws(now: datetime | None = None) -> int:
    """Draw every lottery whose draw time has passed; returns the number of draws made.

    Entries are grouped by (space, draw time). A group is drawn once: the `LotteryDraw` row is
    unique per group and is inserted in a savepoint before anything moves, so a second run or a
    second worker finds it taken and leaves the group alone. Winners become requests (their
    approval chain starts) or, when no stage has to decide, approved bookings; losers become
    lost. A winner the database still refuses (someone took the time meanwhile) is drawn again
    with that time marked busy, so the stored result stays verifiable. Flushes, never commits.
    """

    now = now or utcnow()
    due = db.session.scalars(
        select(Booking)
        .where(Booking.status == BookingStatus.ENTERED, Booking.draw_at <= now)
        .options(
            joinedload(Booking.user),
            selectinload(Booking.space).selectinload(Space.jurisdictions),
            selectinload(Booking.stages),
            selectinload(Booking.transitions),
        )
        .order_by(Booking.space_id, Booking.draw_at, Booking.id)
    ).all()
    if not due:
        return 0
    done = set(
        db.session.execute(
            select(LotteryDraw.space_id, LotteryDraw.draw_at).where(
                LotteryDraw.space_id.in_({b.space_id for b in due}),
                LotteryDraw.draw_at.in_({b.draw_at for b in due}),
            )
        ).tuples()
    )
    windows = _windows_by_version({v for b in due for v in b.rule_version_ids or []})
    tree = None
    drawn = 0
    for (space_id, draw_at), grouped in groupby(due, key=lambda b: (b.space_id, b.draw_at)):
        group = list(grouped)
        begun = [b for b in group if b.start_at <= now]
        for b in begun:  # the sweep ran late: a slot already under way is no one's to win
            _transition(b, BookingStatus.LOST, _("The booked time had begun before the draw."), now)
        group = [b for b in group if b.start_at > now]
        if not group:
            continue
        if (space_id, draw_at) in done:
            for b in group:  # entered after the draw had already been made
                _transition(b, BookingStatus.LOST, _("The draw had already taken place."), now)
            continue
        if tree is None:
            tree = jurisdiction_tree()
        drawn += _draw_group(group[0].space, draw_at, group, windows, tree, now)
    return drawn


def _windows_by_version(ids: set[int]) -> dict[int, tuple[LotteryWindow, ...]]:
    """The lottery windows of the rule-set versions the entries were judged by (one query)."""
    if not ids:
        return {}
    out = {}
    for rs in db.session.scalars(select(RuleSet).where(RuleSet.id.in_(ids))):
        try:
            out[rs.id] = parse_rules(rs.body, level=rs.level).lottery
        except ValidationFailed:  # a stored version that no longer parses has no windows
            out[rs.id] = ()
    return out


def _space_residents(space: Space, tree: dict[int, int | None]) -> set[int]:
    """Home districts whose people are residents of the space's district (as in
    `app.rules.services.resident_keys`: the district itself and anything nested below it).
    Only a verified home district counts (User.verified_home_district_id)."""
    local = {j.id for j in space.jurisdictions if j.kind == "district"}
    return with_descendants(local, tree) if local else set()


def _draw_group(space, draw_at, group, windows, tree, now) -> int:

    zone = space.zone
    residents = _space_residents(space, tree)
    caps: dict[int, int | None] = {}
    entries = []
    for b in group:
        window = lottery_window_for(
            tuple(w for v in b.rule_version_ids or [] for w in windows.get(v, ())),
            b.start_at, b.end_at, zone,
        )  # fmt: skip
        priority = window is not None and window.resident_priority
        resident = b.user.verified_home_district_id in residents
        tier = PRIORITY if priority and resident else GENERAL
        caps[b.user_id] = window.cap_per_month if window is not None else None
        entries.append(Entry(b.id, b.user_id, b.hold_start, b.hold_end, tier))
    prior = _prior_wins(space, group)
    lo, hi = min(e.start for e in entries), max(e.end for e in entries)
    busy = _busy(space, lo, hi)
    seed = secrets.token_hex(16)
    outcomes = draw(entries, seed, caps=caps, prior_wins=prior, busy=busy)
    record = LotteryDraw(
        space_id=space.id,
        draw_at=draw_at,
        drawn_at=now,
        seed=seed,
        algorithm=ALGORITHM,
        result=_result(entries, caps, prior, busy, outcomes),
    )
    try:
        with db.session.begin_nested():
            db.session.add(record)
    except IntegrityError:
        return 0  # drawn by another run meanwhile
    by_id: dict[int, Booking] = {b.id: b for b in group}
    for b in group:
        b.lottery_draw_id = record.id
    db.session.flush()  # before the winners' savepoints, so a rolled-back one cannot undo it
    # Every entrant is about to hear the result (notifications load their preferences at once).
    signals.lottery_drawing.send(record, user_ids={b.user_id for b in group})
    placed: set[int] = set()
    while True:
        collided = None
        for o in outcomes:
            if o.outcome == WON and o.booking not in placed:
                if not _place(by_id[o.booking], now):
                    collided = by_id[o.booking]
                    break
                placed.add(o.booking)
        if collided is None:
            break
        # Someone holds the time now: draw again with what is busy now. The keys are the same,
        # so every entry placed before the collided one keeps its place.
        fresh = [iv for iv in _busy(space, lo, hi, besides=placed) if iv not in busy]
        busy = busy + (fresh or [(collided.hold_start, collided.hold_end)])
        outcomes = draw(entries, seed, caps=caps, prior_wins=prior, busy=busy)
        record.result = _result(entries, caps, prior, busy, outcomes)
    for o in outcomes:
        if o.outcome == LOST:
            _transition(by_id[o.booking], BookingStatus.LOST, _lost_reason(o.why), now)
    db.session.flush()
    return 1


def _lost_reason(why: str | None) -> str:
    return {
        "taken": _("Not drawn in the lottery: the time was already taken."),
        "overlap": _("Not drawn in the lottery: the time went to an entry ranked higher."),
        "cap": _("Not drawn in the lottery: you reached this month's limit of wins here."),
    }.get(why or "", _("Not drawn in the lottery."))


def _transition(booking, to: str, reason: str, now: datetime) -> None:

    transition(booking, to, None, reason=reason, now=now)


def _place(booking, now: datetime) -> bool:
    """Make a winner a request (or approve it when no stage decides); False when the database
    refuses it because its time is held by another booking (PostgreSQL's constraint)."""

    try:
        with db.session.begin_nested():
            _transition(booking, BookingStatus.REQUESTED, _("Drawn in the lottery."), now)
            if approvals.advance(booking, now) is None:
                reason = _("Drawn in the lottery and approved by the rules.")
                _transition(booking, BookingStatus.APPROVED, reason, now)
            db.session.flush()
    except IntegrityError as exc:
        if OVERLAP_CONSTRAINT not in str(exc.orig):
            raise
        # The savepoint is gone but the objects still say what the failed flush tried to write.
        for stage in booking.stages:
            db.session.expire(stage)
        db.session.expire(booking)
        return False
    return True


def _prior_wins(space: Space, group) -> dict[int, int]:
    """Each person's wins at `space` in the local calendar month of their entry's time, from
    earlier draws (winners that hold or held their slot). One query per group."""

    months = {b.user_id: period_bounds(b.start_at, "month", space.zone) for b in group}
    rows = db.session.execute(
        select(Booking.user_id, Booking.start_at).where(
            Booking.space_id == space.id,
            Booking.user_id.in_(months),
            Booking.lottery_draw_id.isnot(None),
            Booking.status.in_(COUNTED),
            Booking.start_at >= min(lo for lo, _hi in months.values()),
            Booking.start_at < max(hi for _lo, hi in months.values()),
        )
    ).all()
    wins: Counter[int] = Counter()
    for user_id, start in rows:
        lo, hi = months[user_id]
        if lo <= start < hi:
            wins[user_id] += 1
    return dict(wins)


def _busy(
    space: Space, lo: datetime, hi: datetime, *, besides: Iterable[int] = ()
) -> list[tuple[datetime, datetime]]:
    """Held ranges of active bookings and closures (widened by half the buffer, like holds)
    overlapping [lo, hi), sorted; the bookings `besides` (this draw's own winners) are left
    out. Two queries."""

    held = db.session.execute(
        select(Booking.hold_start, Booking.hold_end).where(
            Booking.space_id == space.id,
            Booking.status.in_(ACTIVE),
            Booking.hold_start < hi,
            Booking.hold_end > lo,
            Booking.id.not_in(list(besides) or [-1]),
        )
    ).tuples()
    closed = db.session.execute(
        select(Closure.start_at, Closure.end_at).where(
            Closure.space_id == space.id, Closure.start_at < hi, Closure.end_at > lo
        )
    ).tuples()
    return sorted({*held, *(hold_range(space, s, e) for s, e in closed)})


# --- Showing a draw ----------------------------------------------------------------------------
def mask_name(name: str | None) -> str:
    """The first character and two stars ("김**" for 김민수): always two, so the length of the
    name is not given away either."""
    name = (name or "").strip()
    return (name[:1] or "") + "**"


@dataclass(frozen=True)
class ResultRow:
    # As stored in the draw's JSON results, where any of these may be missing.
    rank: int
    booking: int | None
    masked_name: str
    start: datetime | None
    end: datetime | None
    tier: int | None
    key: float | None
    outcome: str | None
    why: str | None


def result_rows(lottery_draw: LotteryDraw) -> list[ResultRow]:
    """The public ranking of a draw: masked names and booked times, no other personal data.
    One query."""

    items = lottery_draw.result if isinstance(lottery_draw.result, list) else []
    ids = [i.get("booking") for i in items if isinstance(i, dict)]
    found = {
        row.id: row
        for row in db.session.execute(
            select(Booking.id, Booking.start_at, Booking.end_at, User.name)
            .join(User, User.id == Booking.user_id)
            .where(Booking.id.in_([i for i in ids if isinstance(i, int)]))
        )
    }
    rows = []
    for i in items:
        if not isinstance(i, dict):
            continue
        b = found.get(i.get("booking"))
        rows.append(ResultRow(
            rank=i.get("rank", 0), booking=i.get("booking"),
            masked_name=mask_name(b.name if b else None),
            start=b.start_at if b else None, end=b.end_at if b else None,
            tier=i.get("tier"), key=i.get("key"), outcome=i.get("outcome"), why=i.get("why"),
        ))  # fmt: skip
    return sorted(rows, key=lambda r: r.rank if isinstance(r.rank, int) else 0)
