"""Plain-language text for rule decisions, price lines and effective rules, in the viewer's
language. Reasons are stored as codes and parameters and rendered here when shown, so a
resident reading in English and a manager reading in Korean each see their own language."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from app.formatting import money
from app.rules.engine import Effective, Quote, QuoteLine, Reason, Source
from app.rules.schema import (
    APPROVERS,
    ON_DEADLINE,
    PURPOSES,
    QUOTA_PER,
    QUOTA_PERIODS,
    WAIVER_CATEGORIES,
    RefundTier,
    Stage,
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
        cite(source, refund_text(tiers))
    for source, stage in effective.stages:
        cite(source, stage_text(stage))
    return out


def stage_text(stage: Stage) -> str:
    """One approval stage as a sentence: its name (the label a rule set gives it, else who
    decides) first, so no Korean particle ever follows a name typed by a manager."""
    approver = str(APPROVERS[stage.approver])
    if stage.mode == "notify":
        if stage.label:
            return _("%(stage)s: a notice to %(who)s, who have nothing to decide.",
                     stage=stage.label, who=approver)  # fmt: skip
        return _("%(who)s: told of the booking, with nothing to decide.", who=approver)
    name = f"{stage.label} ({approver})" if stage.label else approver
    if stage.deadline_days:
        return _(
            "%(who)s: decide within %(days)d working days; if they do not: %(then)s.",
            who=name,
            days=stage.deadline_days,
            then=str(ON_DEADLINE[stage.on_deadline]).lower(),
        )
    return _("%(who)s: approve or decline the request.", who=name)


def refund_text(tiers: tuple[RefundTier, ...] | None) -> str:
    """What a resident gets back on cancelling, in whole sentences: "Full refund up to 7 days
    before the start. 50% up to 2 days before. Later: no refund." (`tiers` by days_before,
    descending, as `engine.refund_percent` reads them; None: the rules say nothing, so
    everything is refunded until the start.)"""
    if tiers is None:
        return _("Cancel before the start for a full refund.")
    # Tiers of 0% after the last one that refunds say nothing more than "later: no refund".
    paying = [i for i, t in enumerate(tiers) if t.percent]
    sentences = []
    last_days = 0
    for tier in tiers[: paying[-1] + 1] if paying else ():
        last_days = tier.days_before
        if tier.percent == 0:
            sentences.append(
                ngettext("No refund when you cancel %(num)d day or more before the start.",
                         "No refund when you cancel %(num)d days or more before the start.",
                         tier.days_before)
            )  # fmt: skip
        elif tier.days_before == 0:
            sentences.append(
                _("Cancel before the start for a full refund.") if tier.percent == 100
                else _("Cancel before the start for a %(p)d%% refund.", p=tier.percent)
            )  # fmt: skip
        elif tier.percent == 100:
            sentences.append(
                ngettext("Cancel up to %(num)d day before the start for a full refund.",
                         "Cancel up to %(num)d days before the start for a full refund.",
                         tier.days_before)
            )  # fmt: skip
        else:
            sentences.append(
                ngettext("Cancel up to %(num)d day before the start for a %(p)d%% refund.",
                         "Cancel up to %(num)d days before the start for a %(p)d%% refund.",
                         tier.days_before, p=tier.percent)
            )  # fmt: skip
    if not sentences:
        return _("No refund when you cancel.")
    if last_days == 1:
        sentences.append(_("No refund when you cancel on the day of the booking."))
    elif last_days > 1:
        sentences.append(_("No refund when you cancel later than that."))
    return " ".join(sentences)


# A booking of this length shows the price a resident can expect (within the space's limits).
TYPICAL_MINUTES = 120


def typical_minutes(effective: Effective, space_min: int, space_max: int) -> int:
    """TYPICAL_MINUTES, moved into the shortest and longest booking the space and rules allow."""
    low = max(space_min, effective.min_minutes.value if effective.min_minutes else 0)
    high = min(space_max, effective.max_minutes.value if effective.max_minutes else space_max)
    return max(low, min(TYPICAL_MINUTES, high))


def key_facts(effective: Effective, space) -> list[tuple[str, str]]:
    """The three things a resident asks first, as (label, sentence): what a typical booking
    costs, who may book, and what cancelling gives back. `space` gives the default rate,
    currency and booking lengths."""

    def fmt(amount: int) -> str:
        return money(amount, space.currency)

    return [
        (_("Price"), _price_fact(effective, space, fmt)),
        (_("Who can book"), _eligibility_fact(effective)),
        (_("Cancellation"), _cancel_fact(effective, space)),
    ]


def _price_fact(effective: Effective, space, fmt) -> str:
    fees = effective.fees[1] if effective.fees else None
    rate = fees.rate_for("resident") if fees is not None else None
    rate = space.price_per_hour if rate is None else rate
    if not rate:
        return _("Free of charge.")
    minutes = typical_minutes(effective, space.min_minutes, space.max_minutes)
    text = _(
        "%(total)s for %(hours)s hours (%(rate)s an hour).",
        total=fmt(rate * minutes // 60),
        hours=f"{minutes / 60:g}",
        rate=fmt(rate),
    )
    other = fees.rate_for("non_resident") if fees is not None else None
    if fees is not None and other and other != rate:
        text = _(
            "Residents: %(resident)s Others: %(rate)s an hour.", resident=text, rate=fmt(other)
        )
    if fees is not None and (fees.weekend_percent or fees.night_percent):
        text += " " + _("More at weekends or at night.")
    return text


def _eligibility_fact(effective: Effective) -> str:
    strictest = None
    for source, rules in effective.parts:
        if rules.eligibility == "residents":
            strictest = (source, rules)
            break
        if rules.eligibility == "residents_first" and strictest is None:
            strictest = (source, rules)
    if strictest is None:
        return _("Anyone can book.")
    source, rules = strictest
    place = source.name if source.level == "jurisdiction" else None
    if rules.eligibility == "residents":
        if place:
            return _("Only residents of %(place)s can book.", place=place)
        return _("Only residents can book.")
    days = rules.residents_first_days or 0
    if place:
        return _(
            "Residents of %(place)s first; everyone else from %(days)d days before the date.",
            place=place,
            days=days,
        )
    return _("Residents first; everyone else from %(days)d days before the date.", days=days)


def _cancel_fact(effective: Effective, space) -> str:
    tiers = effective.refund_tiers[1] if effective.refund_tiers else None
    free = not space.price_per_hour and not (
        effective.fees and any(rate for _c, rate in effective.fees[1].rates)
    )
    if free:
        return _("Free to cancel before the start.")
    return refund_text(tiers)
