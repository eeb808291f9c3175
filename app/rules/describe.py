"""Rule sets as readable text for the editor and its history: one line per rule, and what a
new version changed from the one it replaces (old -> new)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.formatting import money
from app.rules.editing import stored_rules
from app.rules.messages import clock, ranges_text, refund_text, stage_text
from app.rules.models import RuleSet
from app.rules.schema import (
    ALLOCATION_MODES,
    ELIGIBILITY,
    FEE_CATEGORIES,
    PURPOSES,
    QUOTA_PER,
    QUOTA_PERIODS,
    WAIVER_CATEGORIES,
    Rules,
)
from app.spaces.models import WEEKDAYS

RULE_LABELS = {
    "eligibility": _l("Who may book"),
    "residents_first_days": _l("Others may book from"),
    "allowed_purposes": _l("Allowed purposes"),
    "refused_purposes": _l("Refused purposes"),
    "min_notice_hours": _l("Minimum notice"),
    "max_days_ahead": _l("Booking window"),
    "min_minutes": _l("Shortest booking"),
    "max_minutes": _l("Longest booking"),
    "allowed_hours": _l("Bookable hours"),
    "hours_note": _l("Note on the hours"),
    "quotas": _l("Quotas"),
    "max_attendees": _l("Maximum attendees"),
    "fees": _l("Fees"),
    "waivers": _l("Fee waivers"),
    "refund_tiers": _l("Refunds"),
    "no_show": _l("No-show penalty"),
    "stages": _l("Approval stages"),
    "auto_approve": _l("Automatic approval"),
    "allocation": _l("Allocation"),
    "lottery": _l("Lottery windows"),
}


def _labels(options, codes) -> str:
    return ", ".join(str(options[c]) for c in sorted(codes))


def _fees_text(fees) -> str:
    parts = [
        _("%(category)s %(rate)s an hour", category=FEE_CATEGORIES[c], rate=money(r))
        for c, r in fees.rates
    ]
    if fees.weekend_percent:
        parts.append(_("weekends +%(p)d%%", p=fees.weekend_percent))
    if fees.night_percent:
        parts.append(
            _("nights (%(start)s–%(end)s) +%(p)d%%", p=fees.night_percent,
              start=clock(fees.night_start), end=clock(fees.night_end))
        )  # fmt: skip
    return ", ".join(parts)


def _auto_text(auto) -> str:
    who = _("Residents") if auto.residents_only else _("Anyone")
    if auto.purposes:
        return _("%(who)s, for %(list)s", who=who, list=_labels(PURPOSES, auto.purposes))
    return _("%(who)s, for any purpose", who=who)


def _window_text(w) -> str:
    days = ", ".join(str(WEEKDAYS[d]) for d in sorted(w.weekdays))
    text = _(
        "%(days)s %(start)s–%(end)s, drawn %(n)d days before at %(time)s",
        days=days, start=clock(w.start), end=clock(w.end), n=w.draw_days_before,
        time=clock(w.draw_minute),
    )  # fmt: skip
    if w.cap_per_month:
        text += "; " + _("at most %(n)d wins per person a month", n=w.cap_per_month)
    if w.resident_priority:
        text += "; " + _("residents drawn first")
    return text


def describe(rules: Rules) -> dict[str, str]:
    """Each rule that `rules` sets, by document key, as a line of plain text."""
    out: dict[str, str] = {}
    if rules.eligibility:
        out["eligibility"] = str(ELIGIBILITY[rules.eligibility])
    if rules.residents_first_days is not None:
        out["residents_first_days"] = _("%(n)d days before the start", n=rules.residents_first_days)
    if rules.allowed_purposes is not None:
        out["allowed_purposes"] = _labels(PURPOSES, rules.allowed_purposes)
    if rules.refused_purposes:
        out["refused_purposes"] = _labels(PURPOSES, rules.refused_purposes)
    if rules.min_notice_hours is not None:
        out["min_notice_hours"] = _("%(n)d hours before the start", n=rules.min_notice_hours)
    if rules.max_days_ahead is not None:
        out["max_days_ahead"] = _("up to %(n)d days ahead", n=rules.max_days_ahead)
    for key in ("min_minutes", "max_minutes"):
        if getattr(rules, key) is not None:
            out[key] = _("%(n)d minutes", n=getattr(rules, key))
    if rules.allowed_hours is not None:
        out["allowed_hours"] = "; ".join(
            f"{WEEKDAYS[day]} {ranges_text(ranges) if ranges else _('none')}"
            for day, ranges in enumerate(rules.allowed_hours)
        )
    if rules.hours_note:
        out["hours_note"] = rules.hours_note
    if rules.quotas:
        lines = []
        for q in rules.quotas:
            limits = []
            if q.max_hours:
                limits.append(_("%(n)d hours", n=q.max_hours))
            if q.max_bookings:
                limits.append(_("%(n)d bookings", n=q.max_bookings))
            lines.append(
                _("At most %(limits)s %(per)s %(period)s.", limits=" / ".join(limits),
                  per=str(QUOTA_PER[q.per]), period=str(QUOTA_PERIODS[q.period]))
            )  # fmt: skip
        out["quotas"] = " ".join(lines)
    if rules.max_attendees is not None:
        out["max_attendees"] = _("%(n)d people", n=rules.max_attendees)
    if rules.fees is not None:
        out["fees"] = _fees_text(rules.fees)
    if rules.waivers:
        out["waivers"] = ", ".join(f"{WAIVER_CATEGORIES[c]} {p}%" for c, p in rules.waivers)
    if rules.refund_tiers is not None:
        out["refund_tiers"] = refund_text(rules.refund_tiers)
    if rules.no_show is not None:
        out["no_show"] = _(
            "After %(count)d no-shows within %(within)d days, no bookings for %(ban)d days.",
            count=rules.no_show.count, within=rules.no_show.within_days,
            ban=rules.no_show.ban_days,
        )  # fmt: skip
    if rules.stages:
        out["stages"] = " ".join(
            f"{i}. {stage_text(s)}" for i, s in enumerate(rules.stages, start=1)
        )
    if rules.auto_approve:
        out["auto_approve"] = "; ".join(_auto_text(a) for a in rules.auto_approve)
    if rules.allocation:
        out["allocation"] = str(ALLOCATION_MODES[rules.allocation])
    if rules.lottery:
        out["lottery"] = " / ".join(_window_text(w) for w in rules.lottery)
    return out


def rule_lines(rules: Rules | None) -> list[tuple[str, str]]:
    """(label, text) for each rule set, in the editor's order."""
    text = describe(rules) if rules is not None else {}
    return [(str(label), text[key]) for key, label in RULE_LABELS.items() if key in text]


@dataclass(frozen=True)
class Change:
    label: str
    old: str
    new: str


def changes(old: RuleSet | None, new: RuleSet) -> list[Change]:
    """What `new` changed from `old`, rule by rule (top-level keys of the document)."""
    old_doc = old.body if old is not None else {}
    new_doc = new.body or {}
    old_text = _readable(old)
    new_text = _readable(new)
    out = []
    for key in [*RULE_LABELS, *sorted(set(old_doc) | set(new_doc) - set(RULE_LABELS))]:
        if old_doc.get(key) == new_doc.get(key):
            continue
        out.append(
            Change(
                str(RULE_LABELS.get(key, key)),
                old_text.get(key, _json(old_doc.get(key))),
                new_text.get(key, _json(new_doc.get(key))),
            )
        )
    return out


def _readable(version: RuleSet | None) -> dict[str, str]:
    rules = stored_rules(version)
    return describe(rules) if rules is not None else {}


def _json(value) -> str:
    return "—" if value is None else json.dumps(value, ensure_ascii=False)[:300]
