"""Plain-language text for rule decisions, price lines and effective rules, in the viewer's
language. Reasons are stored as codes and parameters and rendered here when shown, so a
resident reading in English and a manager reading in Korean each see their own language."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.rules.engine import Effective, Quote, QuoteLine, Reason, Source
from app.rules.schema import (
    APPROVERS,
    ON_DEADLINE,
    PURPOSES,
    QUOTA_PER,
    QUOTA_PERIODS,
    WAIVER_CATEGORIES,
)
from app.spaces.models import WEEKDAYS


def clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def ranges_text(ranges) -> str:
    return ", ".join(f"{clock(lo)}–{clock(hi)}" for lo, hi in ranges)


def source_name(source: Source | None) -> str:
    return source.name if source is not None else _("Owner")


def _weekday(day: int) -> str:
    # Imported here: app.spaces imports its routes, which import this module.

    return str(WEEKDAYS[day])


def _rule_text(reason: Reason) -> str:
    p: dict[str, Any] = dict(reason.params)
    code = reason.code
    if code == "residents_only":
        return _("Only residents may book.")
    if code == "residents_first":
        return _(
            "Non-residents may book only %(days)d days before the start (from %(date)s).",
            days=p["days"],
            date=p["date"],
        )
    if code == "purpose_not_allowed":
        return _(
            "Bookings for %(purpose)s are not allowed.",
            purpose=str(PURPOSES.get(p["purpose"], p["purpose"])),
        )
    if code == "purpose_refused":
        return _(
            "Bookings for %(purpose)s are refused.",
            purpose=str(PURPOSES.get(p["purpose"], p["purpose"])),
        )
    if code == "min_notice":
        return _(
            "Requests must be made at least %(hours)d hours before the start.", hours=p["hours"]
        )
    if code == "max_ahead":
        return _("Bookings can be made at most %(days)d days ahead.", days=p["days"])
    if code == "min_length":
        return _("A booking must last at least %(minutes)d minutes.", minutes=p["minutes"])
    if code == "max_length":
        return _("A booking may last at most %(minutes)d minutes.", minutes=p["minutes"])
    if code == "max_attendees":
        return _("At most %(n)d people may attend.", n=p["n"])
    if code == "hours":
        day = _weekday(p["weekday"])
        if p["ranges"]:
            text = _(
                "On %(weekday)s bookings are possible only %(ranges)s.",
                weekday=day,
                ranges=ranges_text(p["ranges"]),
            )
        else:
            text = _("No bookings on %(weekday)s.", weekday=day)
        return f"{text} ({p['note']})" if p.get("note") else text
    if code == "quota_hours":
        return _(
            "At most %(n)d hours %(per)s %(period)s; %(used)s hours are already booked.",
            n=p["n"],
            per=str(QUOTA_PER[p["per"]]),
            period=str(QUOTA_PERIODS[p["period"]]),
            used=p["used"],
        )
    if code == "quota_bookings":
        return _(
            "At most %(n)d bookings %(per)s %(period)s; %(used)d already made.",
            n=p["n"],
            per=str(QUOTA_PER[p["per"]]),
            period=str(QUOTA_PERIODS[p["period"]]),
            used=p["used"],
        )
    if code == "no_show":
        return _(
            "After %(count)d no-shows, booking is suspended until %(date)s.",
            count=p["count"],
            date=p["until"],
        )
    return code


def reason_text(reason: Reason) -> str:
    """E.g. "서울특별시교육청 규정: 월요일에는 18:00–22:00에만 예약할 수 있습니다."."""
    return _("%(source)s rules: %(rule)s", source=reason.source.name, rule=_rule_text(reason))


def reason_dict(reason: Reason) -> dict:
    """A stored or API form of a reason: code, source and the text in the current language."""
    return {
        "code": reason.code,
        "source": reason.source.name,
        "source_level": reason.source.level,
        "message": reason_text(reason),
    }


def line_text(line: QuoteLine, currency_fmt) -> str:
    p: dict[str, Any] = dict(line.params)
    if line.code == "base":
        hours = p["minutes"] / 60
        return _(
            "%(rate)s per hour × %(hours)s h",
            rate=currency_fmt(p["rate"]),
            hours=f"{hours:g}",
        )
    if line.code == "weekend":
        return _("Weekend surcharge %(percent)d%% (%(minutes)d min)", percent=p["percent"],
                 minutes=p["minutes"])  # fmt: skip
    if line.code == "night":
        return _("Night surcharge %(percent)d%% (%(minutes)d min)", percent=p["percent"],
                 minutes=p["minutes"])  # fmt: skip
    if line.code == "waiver":
        return _(
            "Waiver: %(category)s %(percent)d%%",
            category=str(WAIVER_CATEGORIES.get(p["category"], p["category"])),
            percent=p["percent"],
        )
    return line.code


def quote_dict(quote: Quote, currency: str) -> dict:
    """The stored price breakdown of a booking (and the API's view of a quote)."""
    return {
        "currency": currency,
        "category": quote.category,
        "rate_per_hour": quote.rate,
        "source": quote.source.name if quote.source else None,
        "lines": [
            {"code": line.code, "amount": line.amount, "params": dict(line.params)}
            for line in quote.lines
        ],
        "total": quote.total,
    }


def stored_line_text(line: dict, currency_fmt) -> str:
    params = tuple((k, v) for k, v in (line.get("params") or {}).items())
    return line_text(QuoteLine(line["code"], line["amount"], params), currency_fmt)


FEE_CATEGORY_TEXT = {
    "resident": _l("resident rate"),
    "non_resident": _l("non-resident rate"),
    "commercial": _l("commercial rate"),
}


def summary(effective: Effective) -> list[tuple[str, str]]:
    """The effective rules as (rule, explanation with its source) lines for the request form."""
    out: list[tuple[str, str]] = []

    def cite(source: Source, text: str) -> None:
        out.append((source.name, text))

    for source, rules in effective.parts:
        if rules.eligibility == "residents":
            cite(source, _("Only residents may book."))
        elif rules.eligibility == "residents_first":
            cite(
                source,
                _(
                    "Residents first: others may book from %(days)d days before the start.",
                    days=rules.residents_first_days,
                ),
            )
        if rules.allowed_purposes is not None:
            cite(
                source,
                _(
                    "Allowed purposes: %(list)s.",
                    list=", ".join(str(PURPOSES[p]) for p in sorted(rules.allowed_purposes)),
                ),
            )
        if rules.refused_purposes:
            cite(
                source,
                _(
                    "Refused purposes: %(list)s.",
                    list=", ".join(str(PURPOSES[p]) for p in sorted(rules.refused_purposes)),
                ),
            )
        if rules.allowed_hours is not None:
            days = []
            for day, ranges in enumerate(rules.allowed_hours):
                days.append(f"{_weekday(day)} {ranges_text(ranges) if ranges else '—'}")
            text = _("Bookable hours: %(list)s.", list="; ".join(days))
            cite(source, f"{text} ({rules.hours_note})" if rules.hours_note else text)
        for quota in rules.quotas:
            parts = []
            if quota.max_hours:
                parts.append(_("%(n)d hours", n=quota.max_hours))
            if quota.max_bookings:
                parts.append(_("%(n)d bookings", n=quota.max_bookings))
            cite(
                source,
                _(
                    "At most %(limits)s %(per)s %(period)s.",
                    limits=" / ".join(parts),
                    per=str(QUOTA_PER[quota.per]),
                    period=str(QUOTA_PERIODS[quota.period]),
                ),
            )
        if rules.no_show:
            cite(
                source,
                _(
                    "After %(count)d no-shows within %(within)d days, "
                    "no bookings for %(ban)d days.",
                    count=rules.no_show.count,
                    within=rules.no_show.within_days,
                    ban=rules.no_show.ban_days,
                ),
            )
    limits = (
        ("min_notice_hours", _l("Request at least %(v)d hours ahead.")),
        ("max_days_ahead", _l("Book at most %(v)d days ahead.")),
        ("min_minutes", _l("At least %(v)d minutes per booking.")),
        ("max_minutes", _l("At most %(v)d minutes per booking.")),
        ("max_attendees", _l("At most %(v)d people.")),
    )
    for attr, template in limits:
        limit = getattr(effective, attr)
        if limit is not None:
            cite(limit.source, str(template) % {"v": limit.value})
    if effective.waivers:
        source, waivers = effective.waivers
        cite(
            source,
            _(
                "Fee waivers: %(list)s.",
                list=", ".join(f"{WAIVER_CATEGORIES[c]} {p}%" for c, p in waivers),
            ),
        )
    if effective.refund_tiers:
        source, tiers = effective.refund_tiers
        parts = [
            _("%(p)d%% up to %(d)d days before", p=t.percent, d=t.days_before) for t in tiers
        ]
        cite(source, _("Refunds on cancellation: %(list)s.", list=", ".join(parts)))
    for source, stage in effective.stages:
        who = stage.label or str(APPROVERS[stage.approver])
        if stage.mode == "notify":
            cite(source, _("%(who)s is notified.", who=who))
        elif stage.deadline_days:
            cite(
                source,
                _(
                    "%(who)s decides within %(days)d working days; then: %(then)s.",
                    who=who,
                    days=stage.deadline_days,
                    then=str(ON_DEADLINE[stage.on_deadline]).lower(),
                ),
            )
        else:
            cite(source, _("%(who)s decides.", who=who))
    return out
