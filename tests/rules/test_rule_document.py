"""The API's JSON Schema of a rule-set document (`app.api.rule_document.RULE_DOCUMENT`) and the
validator (`app.rules.schema.parse_rules`) agree: the same rules, the same choices, and every
whole number accepted and refused at the same bounds, by both."""

from __future__ import annotations

from collections.abc import Callable

import jsonschema
import pytest

from app.api.rule_document import RULE_DOCUMENT
from app.errors import ValidationFailed
from app.rules.schema import (
    ALLOCATION_MODES,
    APPROVERS,
    BOUNDS,
    ELIGIBILITY,
    MAX_ITEMS,
    ON_DEADLINE,
    PURPOSES,
    QUOTA_PER,
    QUOTA_PERIODS,
    RULE_KEYS,
    STAGE_MODES,
    WAIVER_CATEGORIES,
    parse_rules,
)

VALIDATOR = jsonschema.Draft202012Validator(RULE_DOCUMENT)


def schema_accepts(doc: dict) -> bool:
    return VALIDATOR.is_valid(doc)


def parser_accepts(doc: dict) -> bool:
    try:
        parse_rules(doc)
    except ValidationFailed:
        return False
    return True


# A document holding `v` at each bounded path, valid in every other respect.
WAIVER = next(iter(WAIVER_CATEGORIES))
LOTTERY = {"weekdays": [0], "start": 600, "end": 720}
DOCS: dict[str, Callable[[int], dict]] = {
    "residents_first_days": lambda v: {"eligibility": "residents_first",
                                       "residents_first_days": v},
    "min_notice_hours": lambda v: {"min_notice_hours": v},
    "max_days_ahead": lambda v: {"max_days_ahead": v},
    "min_minutes": lambda v: {"min_minutes": v},
    "max_minutes": lambda v: {"max_minutes": v},
    "allowed_hours": lambda v: {"allowed_hours": {"0": [[v, v + 1] if v < 1 else [v - 1, v]]}},
    "quotas.max_hours": lambda v: {"quotas": [{"per": "user", "period": "week", "max_hours": v}]},
    "quotas.max_bookings": lambda v: {
        "quotas": [{"per": "user", "period": "week", "max_bookings": v}]},
    "max_attendees": lambda v: {"max_attendees": v},
    "fees.rates": lambda v: {"fees": {"rates": {"resident": v}}},
    "fees.weekend_percent": lambda v: {"fees": {"rates": {"resident": 1}, "weekend_percent": v}},
    "fees.night_percent": lambda v: {"fees": {"rates": {"resident": 1}, "night_percent": v}},
    "fees.night_start": lambda v: {"fees": {"rates": {"resident": 1}, "night_start": v}},
    "fees.night_end": lambda v: {"fees": {"rates": {"resident": 1}, "night_end": v}},
    "waivers": lambda v: {"waivers": {WAIVER: v}},
    "refund_tiers.days_before": lambda v: {"refund_tiers": [{"days_before": v, "percent": 50}]},
    "refund_tiers.percent": lambda v: {"refund_tiers": [{"days_before": 1, "percent": v}]},
    "no_show.count": lambda v: {"no_show": {"count": v, "ban_days": 1}},
    "no_show.within_days": lambda v: {"no_show": {"count": 1, "ban_days": 1, "within_days": v}},
    "no_show.ban_days": lambda v: {"no_show": {"count": 1, "ban_days": v}},
    "stages.deadline_days": lambda v: {"stages": [{"approver": "owner_manager",
                                                   "deadline_days": v}]},
    "lottery.weekdays": lambda v: {"lottery": [{**LOTTERY, "weekdays": [v]}]},
    # A window starts before it ends: the other end is put where the bound can be reached.
    "lottery.start": lambda v: {"lottery": [{**LOTTERY, "start": v, "end": min(v + 1, 1440)}]},
    "lottery.end": lambda v: {"lottery": [{**LOTTERY, "start": max(v - 1, 0), "end": v}]},
    "lottery.draw_days_before": lambda v: {"lottery": [{**LOTTERY, "draw_days_before": v}]},
    "lottery.draw_minute": lambda v: {"lottery": [{**LOTTERY, "draw_minute": v}]},
    "lottery.cap_per_month": lambda v: {"lottery": [{**LOTTERY, "cap_per_month": v}]},
}  # fmt: skip
# Beyond what a JSON Schema says: a window cannot start at the end of the day (it must end
# after), nor end at its start.
CROSS_FIELD = {("lottery.start", 1440), ("lottery.end", 0)}


def test_every_bound_has_a_document():
    assert set(DOCS) == set(BOUNDS)


def test_the_same_rules():
    assert set(RULE_DOCUMENT["properties"]) == set(RULE_KEYS)
    assert not schema_accepts({"nonsense": 1})
    assert not parser_accepts({"nonsense": 1})


@pytest.mark.parametrize("path", sorted(BOUNDS))
def test_whole_numbers_are_bounded_alike(path):
    lo, hi = BOUNDS[path]
    make = DOCS[path]
    for value in (lo, hi):
        if (path, value) in CROSS_FIELD:
            assert schema_accepts(make(value))
            continue
        assert schema_accepts(make(value)), (path, value)
        assert parser_accepts(make(value)), (path, value)
    for value in (lo - 1, hi + 1):
        assert not schema_accepts(make(value)), (path, value)
        assert not parser_accepts(make(value)), (path, value)


CHOICES = [  # (a document with `v` where a choice goes, the choices)
    (lambda v: {"eligibility": v, "residents_first_days": 1}, ELIGIBILITY),
    (lambda v: {"allowed_purposes": [v]}, PURPOSES),
    (lambda v: {"quotas": [{"per": v, "period": "week", "max_hours": 1}]}, QUOTA_PER),
    (lambda v: {"quotas": [{"per": "user", "period": v, "max_hours": 1}]}, QUOTA_PERIODS),
    (lambda v: {"waivers": {v: 50}}, WAIVER_CATEGORIES),
    (lambda v: {"stages": [{"approver": "owner_manager", "mode": v}]}, STAGE_MODES),
    (lambda v: {"stages": [{"approver": "owner_manager", "on_deadline": v,
                            "deadline_days": 3}]}, ON_DEADLINE),
    (lambda v: {"allocation": v}, ALLOCATION_MODES),
]  # fmt: skip


@pytest.mark.parametrize(("make", "choices"), CHOICES)
def test_choices_are_alike(make, choices):
    for value in choices:
        assert schema_accepts(make(value)), value
        assert parser_accepts(make(value)), value
    assert not schema_accepts(make("nonsense"))
    assert not parser_accepts(make("nonsense"))


def test_approvers_are_alike():
    """The officers of a jurisdiction decide only in a jurisdiction's rule set, which a JSON
    Schema cannot tell; the names are the same."""
    stage = RULE_DOCUMENT["properties"]["stages"]["items"]["properties"]["approver"]
    assert stage["enum"] == list(APPROVERS)
    assert not parser_accepts({"stages": [{"approver": "nonsense"}]})


@pytest.mark.parametrize("key", ["quotas", "refund_tiers", "stages", "auto_approve", "lottery"])
def test_lists_are_as_long_alike(key):
    item = {
        "quotas": {"per": "user", "period": "week", "max_hours": 1},
        "refund_tiers": None,
        "stages": {"approver": "owner_manager"},
        "auto_approve": {"residents_only": True},
        "lottery": LOTTERY,
    }[key]
    too_many = [item] * (MAX_ITEMS + 1)
    if key == "refund_tiers":
        too_many = [{"days_before": d, "percent": 50} for d in range(MAX_ITEMS + 1)]
    assert not schema_accepts({key: too_many})
    assert not parser_accepts({key: too_many})
