"""Expanding recurrence rules (dateutil's rrule) within a budget of work and of time.

dateutil searches a rule period by period from its DTSTART and only gives up at year 9999: a
rule that starts in 1970 walks every period since then before the first one anyone asked for,
and a rule whose BY… parts never match (the 30th of February, every day) walks to year 9999
without ever yielding. Neither COUNT nor UNTIL stops that search, and nothing outside the
generator can interrupt it between two results. So the budget is drawn *inside* the search:
`CountedRule` runs dateutil's own `_iter` unchanged, except that the helper it builds its
periods with (`_iterinfo`) is ours, and charges every period and every candidate date-time to a
`Budget` shared by every rule of one expansion. When the budget runs out — too many steps or
too much time — `BudgetExceeded` names the rule that was being searched.

A period costs PERIOD_COST steps plus one per candidate it looks at (days of the period times
times of the day): a search that yields nothing for a long while costs as much as one that does.
"""

from __future__ import annotations

import time
import types
from typing import Any, cast

from dateutil import rrule as _dateutil_rrule
from dateutil.rrule import rrule

PERIOD_COST = 10


class BudgetExceeded(Exception):
    """The expansion used up its budget; `label` names the rule being searched then."""

    def __init__(self, label: str):
        super().__init__(label)
        self.label = label


class Budget:
    """`steps` units of work and `seconds` of time, for all the rules of one expansion."""

    __slots__ = ("left", "deadline")

    def __init__(self, steps: int, seconds: float):
        self.left = steps
        self.deadline = time.monotonic() + seconds

    def spend(self, steps: int, label: str) -> None:
        self.left -= steps
        if self.left < 0 or time.monotonic() > self.deadline:
            raise BudgetExceeded(label)


class _CountingIterinfo(_dateutil_rrule._iterinfo):
    """dateutil's period helper; every period it hands out is charged to the rule's budget.
    (No __slots__ of its own: the parent's __init__ walks `self.__slots__`.)"""

    def _charged(self, dayset):
        rule = cast(CountedRule, self.rrule)
        days = dayset[2] - dayset[1]
        rule.budget.spend(PERIOD_COST + days * rule.times_per_day, rule.label)
        return dayset

    def ydayset(self, year, month, day):
        return self._charged(super().ydayset(year, month, day))

    def mdayset(self, year, month, day):
        return self._charged(super().mdayset(year, month, day))

    def wdayset(self, year, month, day):
        return self._charged(super().wdayset(year, month, day))

    def ddayset(self, year, month, day):
        return self._charged(super().ddayset(year, month, day))


# dateutil's search, word for word, resolving `_iterinfo` to the counting helper. (`_iter` and
# the other private attributes read below are not in dateutil's type stubs, hence `vars()`.)
_rrule_iter = vars(rrule)["_iter"]
_counted_iter = types.FunctionType(
    _rrule_iter.__code__,
    {**vars(_dateutil_rrule), "_iterinfo": _CountingIterinfo},
    "_iter",
    _rrule_iter.__defaults__,
    _rrule_iter.__closure__,
)


class CountedRule(rrule):
    """An rrule whose search draws on `budget`. Takes rrule's arguments."""

    _iter = _counted_iter
    # Set by rrule's __init__; private, so not in dateutil's type stubs.
    _timeset: list[Any] | None
    _byminute: tuple[int, ...] | None
    _bysecond: tuple[int, ...] | None

    def __init__(self, freq, *, budget: Budget, label: str = "", **kwargs):
        super().__init__(freq, **kwargs)
        self.budget = budget
        self.label = label
        if self._timeset is not None:  # yearly to daily: the same times every day
            self.times_per_day = max(1, len(self._timeset))
        else:  # hourly and finer: the times of one period
            self.times_per_day = max(1, len(self._byminute or ()) * len(self._bysecond or ()))

    @classmethod
    def like(cls, rule: rrule, *, budget: Budget, label: str = "") -> CountedRule:
        """A counted copy of `rule` (what `rrule.replace()` does, into this class)."""
        state = vars(rule)
        kwargs = {
            "interval": state["_interval"],
            "count": state["_count"],
            "dtstart": state["_dtstart"],
            "freq": state["_freq"],
            "until": state["_until"],
            "wkst": state["_wkst"],
            "cache": state["_cache"] is not None,
            **state["_original_rule"],
        }
        return cls(kwargs.pop("freq"), budget=budget, label=label, **kwargs)
