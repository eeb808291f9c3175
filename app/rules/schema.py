"""What a rule set can say, as plain frozen data, and its JSON document form.

A rule set is stored as a JSON document (`RuleSet.body`). `parse_rules` turns a document into a
`Rules` value and refuses malformed or contradictory documents with one message per field;
`rules_to_doc` is its inverse. Every part is optional: an empty document says nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l

from app.errors import ValidationFailed

PURPOSES = {
    "education": _l("Education"),
    "culture": _l("Culture and arts"),
    "sports": _l("Sports"),
    "community": _l("Community meeting"),
    "private_event": _l("Private event"),
    "commercial": _l("Commercial"),
    "religious": _l("Religious"),
    "political": _l("Political"),
}

ELIGIBILITY = {
    "anyone": _l("Anyone"),
    "residents_first": _l("Residents first"),
    "residents": _l("Residents only"),
}

FEE_CATEGORIES = {
    "resident": _l("Resident"),
    "non_resident": _l("Non-resident"),
    "commercial": _l("Commercial use"),
}

WAIVER_CATEGORIES = {
    "nonprofit": _l("Registered nonprofit"),
    "senior": _l("Senior (65+)"),
    "disabled": _l("Person with a disability"),
    "national_merit": _l("National merit"),
    "low_income": _l("Basic livelihood recipient"),
    "multi_child": _l("Multi-child family"),
    "youth": _l("Youth (under 19)"),
}

APPROVERS = {
    "owner_manager": _l("Facility managers and staff of the owner"),
    "owner_principal": _l("Head of the owner organisation"),
    "jurisdiction": _l("Officers of the jurisdiction"),
}

STAGE_MODES = {"decide": _l("Decides"), "notify": _l("Is notified only")}

ON_DEADLINE = {
    "escalate": _l("Pass to the next stage"),
    "approve": _l("Approve automatically"),
    "expire": _l("Expire the request and release the time"),
}

ALLOCATION_MODES = {
    "instant": _l("Instant booking"),
    "request": _l("Request and approval"),
    "lottery": _l("Lottery"),
}
# Stricter modes come later: combining rule sets keeps the strictest.
ALLOCATION_ORDER = ("instant", "request", "lottery")

QUOTA_PER = {"user": _l("per person"), "group": _l("per resident group")}
QUOTA_PERIODS = {"week": _l("per week"), "month": _l("per month")}

MAX_MINUTES_IN_DAY = 1440
MAX_RATE = 10_000_000  # ₩10,000,000 an hour is far past any public space

# The bounds of every whole number a document holds, by its path (a list's items by the list's
# name: "quotas.max_hours"; a map's values by the map's: "waivers"). `parse_rules` checks them
# and the API's JSON Schema of a document (`app.api.rule_document`) is generated from them, so
# the two cannot disagree (tests/rules/test_rule_document.py).
MINUTE = (0, MAX_MINUTES_IN_DAY)
BOUNDS: dict[str, tuple[int, int]] = {
    "residents_first_days": (1, 365),
    "min_notice_hours": (0, 24 * 365),
    "max_days_ahead": (1, 366),
    "min_minutes": (1, MAX_MINUTES_IN_DAY),
    "max_minutes": (1, MAX_MINUTES_IN_DAY),
    "allowed_hours": MINUTE,
    "quotas.max_hours": (1, 744),
    "quotas.max_bookings": (1, 1000),
    "max_attendees": (1, 100_000),
    "fees.rates": (0, MAX_RATE),
    "fees.weekend_percent": (0, 500),
    "fees.night_percent": (0, 500),
    "fees.night_start": MINUTE,
    "fees.night_end": MINUTE,
    "waivers": (1, 100),
    "refund_tiers.days_before": (0, 366),
    "refund_tiers.percent": (0, 100),
    "no_show.count": (1, 20),
    "no_show.within_days": (1, 730),
    "no_show.ban_days": (1, 365),
    "stages.deadline_days": (1, 60),
    "lottery.weekdays": (0, 6),
    "lottery.start": MINUTE,
    "lottery.end": MINUTE,
    "lottery.draw_days_before": (1, 60),
    "lottery.draw_minute": MINUTE,
    "lottery.cap_per_month": (1, 31),
}
MAX_ITEMS = 20  # in every list of a document
HOURS_NOTE_LENGTH = 200
STAGE_LABEL_LENGTH = 80
# Every rule a document may hold.
RULE_KEYS = (
    "eligibility", "residents_first_days", "allowed_purposes", "refused_purposes",
    "min_notice_hours", "max_days_ahead", "min_minutes", "max_minutes", "allowed_hours",
    "hours_note", "quotas", "max_attendees", "fees", "waivers", "refund_tiers", "no_show",
    "stages", "auto_approve", "allocation", "lottery",
)  # fmt: skip


@dataclass(frozen=True)
class Stage:
    approver: str
    mode: str = "decide"
    deadline_days: int | None = None  # working days; None = until the booking starts
    on_deadline: str = "expire"
    label: str = ""


@dataclass(frozen=True)
class Quota:
    per: str  # user | group
    period: str  # week | month
    max_hours: int | None = None
    max_bookings: int | None = None


@dataclass(frozen=True)
class RefundTier:
    days_before: int
    percent: int


@dataclass(frozen=True)
class NoShowPenalty:
    count: int
    within_days: int
    ban_days: int


@dataclass(frozen=True)
class Fees:
    rates: tuple[tuple[str, int], ...]  # (category, minor units per hour), sorted
    weekend_percent: int = 0
    night_percent: int = 0
    night_start: int = 22 * 60
    night_end: int = 6 * 60

    def rate_for(self, category: str) -> int | None:
        return dict(self.rates).get(category)


@dataclass(frozen=True)
class AutoApprove:
    residents_only: bool = False
    purposes: frozenset[str] = frozenset()  # empty: any purpose


@dataclass(frozen=True)
class LotteryWindow:
    weekdays: frozenset[int]
    start: int  # minutes from local midnight
    end: int
    draw_days_before: int = 7
    draw_minute: int = 10 * 60  # local time of day of the draw
    cap_per_month: int | None = None  # wins per person per month at this space; None: no cap
    resident_priority: bool = True


Hours = tuple[tuple[tuple[int, int], ...], ...]  # seven weekdays (Monday first), ranges each


@dataclass(frozen=True)
class Rules:
    eligibility: str | None = None
    residents_first_days: int | None = None
    allowed_purposes: frozenset[str] | None = None
    refused_purposes: frozenset[str] = frozenset()
    min_notice_hours: int | None = None
    max_days_ahead: int | None = None
    min_minutes: int | None = None
    max_minutes: int | None = None
    allowed_hours: Hours | None = None
    hours_note: str = ""
    quotas: tuple[Quota, ...] = ()
    max_attendees: int | None = None
    fees: Fees | None = None
    waivers: tuple[tuple[str, int], ...] = ()  # (category, percent), sorted
    refund_tiers: tuple[RefundTier, ...] | None = None  # days_before descending
    no_show: NoShowPenalty | None = None
    stages: tuple[Stage, ...] = ()
    auto_approve: tuple[AutoApprove, ...] = ()
    allocation: str | None = None
    lottery: tuple[LotteryWindow, ...] = field(default=())

    def is_empty(self) -> bool:
        return self == Rules()


# --- Reading a document ----------------------------------------------------------------------
class _Reader:
    """Collects field errors while reading a document; raises them all at the end."""

    def __init__(self, doc: Any):
        self.doc = doc if isinstance(doc, dict) else {}
        self.errors: dict[str | None, list[str]] = {}
        if not isinstance(doc, dict):
            self.add(None, str(_l("A rule set must be an object.")))

    def add(self, key: str | None, message: str) -> None:
        self.errors.setdefault(key, []).append(str(message))

    def int(self, obj: dict, key: str, where: str, lo: int, hi: int) -> int | None:
        value = obj.get(key)
        if value is None or value == "":
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.add(where, _l("Enter a whole number."))
            return None
        if not lo <= value <= hi:
            self.add(where, _l("Enter a number from %(lo)d to %(hi)d.", lo=lo, hi=hi))
            return None
        return value

    def choice(self, obj: dict, key: str, where: str, choices) -> str | None:
        value = obj.get(key)
        if value is None or value == "":
            return None
        if not isinstance(value, str) or value not in choices:
            self.add(where, _l("Choose one of the listed options."))
            return None
        return value

    def choices(self, obj: dict, key: str, where: str, choices) -> frozenset[str] | None:
        value = obj.get(key)
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.add(where, _l("Choose from the listed options."))
            return None
        unknown = [v for v in value if v not in choices]
        if unknown:
            self.add(where, _l("Unknown option: %(value)s.", value=", ".join(unknown)))
            return None
        return frozenset(value)

    def items(self, key: str) -> list[dict]:
        value = self.doc.get(key)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            self.add(key, _l("Expected a list."))
            return []
        if len(value) > MAX_ITEMS:
            self.add(key, _l("At most %(n)d entries.", n=MAX_ITEMS))
            return []
        return value


def _read_hours(r: _Reader) -> Hours | None:
    raw = r.doc.get("allowed_hours")
    if raw is None:
        return None
    if not isinstance(raw, dict) or not all(k in {str(d) for d in range(7)} for k in raw):
        r.add("allowed_hours", _l("Allowed hours are given per weekday 0 (Monday) to 6 (Sunday)."))
        return None
    days: list[tuple[tuple[int, int], ...]] = []
    for day in range(7):
        ranges = raw.get(str(day), [])
        ok: list[tuple[int, int]] = []
        if not isinstance(ranges, list):
            r.add("allowed_hours", _l("Allowed hours are lists of [from, to] minutes."))
            return None
        for item in ranges:
            if (
                not isinstance(item, list | tuple)
                or len(item) != 2
                or not all(isinstance(v, int) and not isinstance(v, bool) for v in item)
            ):
                r.add("allowed_hours", _l("Allowed hours are lists of [from, to] minutes."))
                return None
            lo, hi = item
            if not B["allowed_hours"][0] <= lo < hi <= B["allowed_hours"][1]:
                r.add("allowed_hours", _l("Each range must end after it starts, within the day."))
                return None
            ok.append((lo, hi))
        ok.sort()
        if any(a[1] > b[0] for a, b in zip(ok, ok[1:], strict=False)):
            r.add("allowed_hours", _l("The ranges of one day overlap."))
            return None
        days.append(tuple(ok))
    return tuple(days)


B = BOUNDS


def parse_rules(doc: Any, *, level: str = "space") -> Rules:
    """Read and check a rule-set document. `level` is jurisdiction, owner or space.

    Raises `ValidationFailed` with every problem found; nothing about a refused document is kept.
    """
    r = _Reader(doc)
    d = r.doc
    for key in d:
        if key not in RULE_KEYS:
            r.add(None, _l("Unknown rule: %(key)s.", key=str(key)[:40]))

    eligibility = r.choice(d, "eligibility", "eligibility", ELIGIBILITY)
    first_days = r.int(
        d, "residents_first_days", "residents_first_days", *B["residents_first_days"]
    )
    if eligibility == "residents_first" and first_days is None:
        r.add("residents_first_days", _l("Say how many days before the start others may book."))
    if eligibility != "residents_first":
        first_days = None

    allowed = r.choices(d, "allowed_purposes", "allowed_purposes", PURPOSES)
    refused = r.choices(d, "refused_purposes", "refused_purposes", PURPOSES) or frozenset()
    if allowed is not None and not allowed:
        r.add("allowed_purposes", _l("Allow at least one purpose, or leave the list out."))
    if allowed and refused and allowed & refused:
        r.add(
            "refused_purposes",
            _l("A purpose cannot be both allowed and refused: %(p)s.",
               p=", ".join(str(PURPOSES[p]) for p in sorted(allowed & refused))),
        )  # fmt: skip

    notice = r.int(d, "min_notice_hours", "min_notice_hours", *B["min_notice_hours"])
    ahead = r.int(d, "max_days_ahead", "max_days_ahead", *B["max_days_ahead"])
    if notice is not None and ahead is not None and notice >= ahead * 24:
        r.add("min_notice_hours", _l("The minimum notice must be shorter than the booking window."))
    min_m = r.int(d, "min_minutes", "min_minutes", *B["min_minutes"])
    max_m = r.int(d, "max_minutes", "max_minutes", *B["max_minutes"])
    if min_m is not None and max_m is not None and min_m > max_m:
        r.add("max_minutes", _l("The maximum length must not be shorter than the minimum."))
    hours = _read_hours(r)
    note = d.get("hours_note")
    note = "" if note is None else note
    if not isinstance(note, str) or len(note) > HOURS_NOTE_LENGTH:
        r.add("hours_note", _l("The note may be at most %(n)d characters.", n=HOURS_NOTE_LENGTH))
        note = ""

    quotas = []
    for i, q in enumerate(r.items("quotas")):
        where = f"quotas.{i}"
        per = r.choice(q, "per", where, QUOTA_PER)
        period = r.choice(q, "period", where, QUOTA_PERIODS)
        max_h = r.int(q, "max_hours", where, *B["quotas.max_hours"])
        max_b = r.int(q, "max_bookings", where, *B["quotas.max_bookings"])
        if per is None or period is None:
            r.add(where, _l("A quota needs whom it counts and a period."))
        elif max_h is None and max_b is None:
            r.add(where, _l("A quota needs a maximum number of hours or bookings."))
        else:
            quotas.append(Quota(per, period, max_h, max_b))

    attendees = r.int(d, "max_attendees", "max_attendees", *B["max_attendees"])

    fees = None
    raw_fees = d.get("fees")
    if raw_fees is not None:
        if not isinstance(raw_fees, dict):
            r.add("fees", _l("Expected an object."))
        else:
            raw_rates = raw_fees.get("rates") or {}
            rates = []
            if not isinstance(raw_rates, dict):
                r.add("fees", _l("Rates are given per user category."))
            else:
                for cat in raw_rates:
                    if cat not in FEE_CATEGORIES:
                        r.add("fees", _l("Unknown option: %(value)s.", value=str(cat)[:40]))
                        continue
                    rate = r.int(raw_rates, cat, f"fees.{cat}", *B["fees.rates"])
                    if rate is not None:
                        rates.append((cat, rate))
            if not any(cat == "resident" for cat, _ in rates):
                r.add("fees.resident", _l("A fee schedule needs at least the resident rate."))
            weekend = r.int(
                raw_fees, "weekend_percent", "fees.weekend_percent", *B["fees.weekend_percent"]
            ) or 0
            night = r.int(
                raw_fees, "night_percent", "fees.night_percent", *B["fees.night_percent"]
            ) or 0
            n_start = r.int(raw_fees, "night_start", "fees.night_start", *B["fees.night_start"])
            n_end = r.int(raw_fees, "night_end", "fees.night_end", *B["fees.night_end"])
            n_start = 22 * 60 if n_start is None else n_start
            n_end = 6 * 60 if n_end is None else n_end
            if night and n_start % 1440 == n_end % 1440:
                r.add("fees.night_start", _l("Night time must start and end at different times."))
            fees = Fees(tuple(sorted(rates)), weekend, night, n_start, n_end)

    waivers = []
    raw_waivers = d.get("waivers")
    if raw_waivers is not None:
        if not isinstance(raw_waivers, dict):
            r.add("waivers", _l("Expected an object."))
        else:
            for cat in raw_waivers:
                if cat not in WAIVER_CATEGORIES:
                    r.add("waivers", _l("Unknown option: %(value)s.", value=str(cat)[:40]))
                    continue
                pct = r.int(raw_waivers, cat, f"waivers.{cat}", *B["waivers"])
                if pct is not None:
                    waivers.append((cat, pct))

    tiers: tuple[RefundTier, ...] | None = None
    if d.get("refund_tiers") is not None:
        listed: list[RefundTier] = []
        for i, t in enumerate(r.items("refund_tiers")):
            days = r.int(t, "days_before", f"refund_tiers.{i}", *B["refund_tiers.days_before"])
            pct = r.int(t, "percent", f"refund_tiers.{i}", *B["refund_tiers.percent"])
            if days is None or pct is None:
                r.add(f"refund_tiers.{i}", _l("A refund tier needs days before and a percentage."))
            else:
                listed.append(RefundTier(days, pct))
        listed.sort(key=lambda t: -t.days_before)
        if len({t.days_before for t in listed}) != len(listed):
            r.add("refund_tiers", _l("Two refund tiers have the same number of days."))
        if any(a.percent < b.percent for a, b in zip(listed, listed[1:], strict=False)):
            r.add("refund_tiers", _l("Cancelling earlier must never refund less than later."))
        tiers = tuple(listed)

    no_show = None
    raw_ns = d.get("no_show")
    if raw_ns is not None:
        if not isinstance(raw_ns, dict):
            r.add("no_show", _l("Expected an object."))
        else:
            count = r.int(raw_ns, "count", "no_show.count", *B["no_show.count"])
            within = r.int(raw_ns, "within_days", "no_show.within_days", *B["no_show.within_days"])
            ban = r.int(raw_ns, "ban_days", "no_show.ban_days", *B["no_show.ban_days"])
            if count is None or ban is None:
                r.add("no_show", _l("A no-show penalty needs a count and a number of days."))
            else:
                no_show = NoShowPenalty(count, within or 365, ban)

    stages = []
    for i, s in enumerate(r.items("stages")):
        where = f"stages.{i}"
        approver = r.choice(s, "approver", where, APPROVERS)
        mode = r.choice(s, "mode", where, STAGE_MODES) or "decide"
        days = r.int(s, "deadline_days", where, *B["stages.deadline_days"])
        on = r.choice(s, "on_deadline", where, ON_DEADLINE) or "expire"
        label = s.get("label")
        label = "" if label is None else label
        if not isinstance(label, str) or len(label) > STAGE_LABEL_LENGTH:
            r.add(
                where,
                _l("The stage name may be at most %(n)d characters.", n=STAGE_LABEL_LENGTH),
            )
            label = ""
        if approver is None:
            r.add(where, _l("Say who decides at this stage."))
            continue
        if approver == "jurisdiction" and level != "jurisdiction":
            r.add(where, _l("Only a jurisdiction's rule set can name its officers as approvers."))
            continue
        if mode == "notify":
            days, on = None, "escalate"
        elif on == "escalate" and days is None:
            r.add(where, _l("A stage that passes the request on needs a deadline."))
            continue
        stages.append(Stage(approver, mode, days, on, label.strip()))
    autos = []
    for i, a in enumerate(r.items("auto_approve")):
        residents_only = a.get("residents_only", False)
        if not isinstance(residents_only, bool):
            r.add(f"auto_approve.{i}", _l("Expected yes or no."))
            continue
        purposes = r.choices(a, "purposes", f"auto_approve.{i}", PURPOSES) or frozenset()
        autos.append(AutoApprove(residents_only, purposes))
    if autos and not stages:
        r.add("auto_approve", _l("Automatic approval needs approval stages of this rule set."))

    allocation = r.choice(d, "allocation", "allocation", ALLOCATION_MODES)

    windows: list[LotteryWindow] = []
    for i, w in enumerate(r.items("lottery")):
        where = f"lottery.{i}"
        wd = w.get("weekdays")
        first, last = B["lottery.weekdays"]
        if (
            isinstance(wd, list)
            and wd
            and all(
                isinstance(x, int) and not isinstance(x, bool) and first <= x <= last
                for x in wd
            )
        ):
            weekdays = frozenset(wd)
        else:
            r.add(where, _l("Choose the weekdays of the lottery."))
            continue
        start = r.int(w, "start", where, *B["lottery.start"])
        end = r.int(w, "end", where, *B["lottery.end"])
        before = r.int(w, "draw_days_before", where, *B["lottery.draw_days_before"])
        draw_minute = r.int(w, "draw_minute", where, *B["lottery.draw_minute"])
        cap = r.int(w, "cap_per_month", where, *B["lottery.cap_per_month"])
        priority = w.get("resident_priority", True)
        if start is None or end is None or start >= end:
            r.add(where, _l("A lottery window needs a start before its end."))
            continue
        if not isinstance(priority, bool):
            r.add(where, _l("Expected yes or no."))
            continue
        windows.append(
            LotteryWindow(
                weekdays, start, end, before or 7,
                600 if draw_minute is None else min(draw_minute, 1439), cap, priority,
            )
        )  # fmt: skip
    if windows and level != "space":
        r.add("lottery", _l("Lottery windows belong to a single space's rule set."))

    if r.errors:
        raise ValidationFailed(r.errors)
    return Rules(
        eligibility=eligibility,
        residents_first_days=first_days,
        allowed_purposes=allowed,
        refused_purposes=refused,
        min_notice_hours=notice,
        max_days_ahead=ahead,
        min_minutes=min_m,
        max_minutes=max_m,
        allowed_hours=hours,
        hours_note=note.strip(),
        quotas=tuple(quotas),
        max_attendees=attendees,
        fees=fees,
        waivers=tuple(sorted(waivers)),
        refund_tiers=tiers,
        no_show=no_show,
        stages=tuple(stages),
        auto_approve=tuple(autos),
        allocation=allocation,
        lottery=tuple(windows),
    )


def rules_to_doc(rules: Rules) -> dict:
    """The JSON document of `rules`; `parse_rules(rules_to_doc(r)) == r` for every valid `r`."""
    doc: dict[str, Any] = {}
    if rules.eligibility:
        doc["eligibility"] = rules.eligibility
    if rules.residents_first_days is not None:
        doc["residents_first_days"] = rules.residents_first_days
    if rules.allowed_purposes is not None:
        doc["allowed_purposes"] = sorted(rules.allowed_purposes)
    if rules.refused_purposes:
        doc["refused_purposes"] = sorted(rules.refused_purposes)
    for key in ("min_notice_hours", "max_days_ahead", "min_minutes", "max_minutes",
                "max_attendees", "allocation"):  # fmt: skip
        value = getattr(rules, key)
        if value is not None:
            doc[key] = value
    if rules.allowed_hours is not None:
        doc["allowed_hours"] = {
            str(day): [list(r) for r in ranges] for day, ranges in enumerate(rules.allowed_hours)
        }
    if rules.hours_note:
        doc["hours_note"] = rules.hours_note
    if rules.quotas:
        doc["quotas"] = [
            {k: v for k, v in vars(q).items() if v is not None} for q in rules.quotas
        ]
    if rules.fees is not None:
        f = rules.fees
        doc["fees"] = {
            "rates": dict(f.rates),
            "weekend_percent": f.weekend_percent,
            "night_percent": f.night_percent,
            "night_start": f.night_start,
            "night_end": f.night_end,
        }
    if rules.waivers:
        doc["waivers"] = dict(rules.waivers)
    if rules.refund_tiers is not None:
        doc["refund_tiers"] = [vars(t).copy() for t in rules.refund_tiers]
    if rules.no_show is not None:
        doc["no_show"] = vars(rules.no_show).copy()
    if rules.stages:
        doc["stages"] = [
            {k: v for k, v in vars(s).items() if v not in (None, "")} for s in rules.stages
        ]
    if rules.auto_approve:
        doc["auto_approve"] = [
            {"residents_only": a.residents_only, "purposes": sorted(a.purposes)}
            for a in rules.auto_approve
        ]
    if rules.lottery:
        doc["lottery"] = [
            {
                "weekdays": sorted(w.weekdays),
                "start": w.start,
                "end": w.end,
                "draw_days_before": w.draw_days_before,
                "draw_minute": w.draw_minute,
                "cap_per_month": w.cap_per_month,
                "resident_priority": w.resident_priority,
            }
            for w in rules.lottery
        ]
    return doc
