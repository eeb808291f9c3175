"""The occurrences of an imported calendar's events inside the import window, worked out within
a budget: a calendar file is anyone's input, and one rule can keep a worker busy for hours.

- Rules repeating more often than hourly (FREQ=SECONDLY, MINUTELY) are refused, naming the
  event: no closure calendar needs them, and they are the cheapest way to ask for billions.
- Every rule is searched by `app.recurrence.CountedRule`, all of one file's rules drawing on
  one `Budget` of MAX_STEPS steps and MAX_SECONDS seconds. The search counts the periods before
  the window too (an HOURLY rule from 1970 walks half a million hours to get there) and those
  that never match, so such a file is refused with a message instead of expanded for ever.
- Listed dates (RDATE, EXDATE) are charged to the same budget before anything is expanded.
- At most MAX_OCCURRENCES occurrences inside the window.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import recurring_ical_events
from dateutil.rrule import MINUTELY
from flask_babel import gettext as _
from icalendar import Calendar
from recurring_ical_events.selection.name import ComponentsWithName
from recurring_ical_events.series import Series

from app.errors import ValidationFailed
from app.recurrence import Budget, BudgetExceeded, CountedRule

MAX_OCCURRENCES = 5_000
WINDOW_PAST = timedelta(days=30)
WINDOW_AHEAD = timedelta(days=400)
MAX_STEPS = 1_000_000
MAX_SECONDS = 3.0
# A listed date is converted, sorted and compared with every occurrence's recurrence ids.
DATE_COST = 10
FREQUENCIES = ("YEARLY", "MONTHLY", "WEEKLY", "DAILY", "HOURLY", "MINUTELY", "SECONDLY")


def window(now: datetime) -> tuple[datetime, datetime]:
    return now - WINDOW_PAST, now + WINDOW_AHEAD


def event_label(component) -> str:
    """How a message names an event: its summary, else its UID."""
    return " ".join(str(component.get("SUMMARY", "")).split())[:80] or str(
        component.get("UID", "")
    )[:80]


def _invalid(message: str) -> ValidationFailed:
    return ValidationFailed.single(message)


def _short(exc: Exception) -> str:
    text = str(exc) or exc.__class__.__name__
    return text if len(text) <= 200 else text[:199] + "…"


def _too_much_work(label: str) -> ValidationFailed:
    return _invalid(
        _(
            "The repeat rule of the event “%(event)s” takes too long to work out: it starts "
            "long before today or repeats on dates that hardly ever come. Give it a later "
            "start or an end (UNTIL or COUNT).",
            event=label,
        )
    )


def _counted_series(budget: Budget) -> type[Series]:
    """recurring_ical_events' Series, its rules counted against `budget`."""

    class Rules(Series.RecurrenceRules):
        def rrulestr(self, rule_string):
            rule = super().rrulestr(rule_string)
            label = event_label(self.core._component)
            if rule._freq >= MINUTELY:
                raise _invalid(
                    _(
                        "The event “%(event)s” repeats more often than every hour "
                        "(FREQ=%(freq)s); such events cannot be imported as closures.",
                        event=label,
                        freq=FREQUENCIES[rule._freq],
                    )
                )
            # recurring_ical_events reads these two off the rule it gets back.
            counted: Any = CountedRule.like(rule, budget=budget, label=label)
            counted.string, counted.until = rule.string, rule.until
            return counted

    class CountedSeries(Series):
        RecurrenceRules = Rules

    return CountedSeries


def _charge_listed_dates(calendar: Calendar, budget: Budget) -> None:
    for event in calendar.walk("VEVENT"):
        listed = 0
        for name in ("RDATE", "EXDATE"):
            values = event.get(name, [])
            for value in values if isinstance(values, list) else [values]:
                listed += len(getattr(value, "dts", ()))
        if not listed:
            continue
        try:
            budget.spend(DATE_COST * listed, "")
        except BudgetExceeded:
            raise _invalid(
                _(
                    "The event “%(event)s” lists too many dates (RDATE or EXDATE) to be "
                    "worked out; split the calendar or attach a shorter one.",
                    event=event_label(event),
                )
            ) from None


def expand(calendar: Calendar, now: datetime) -> list:
    """The VEVENT occurrences overlapping the window, as components (cancelled ones included;
    the caller drops them). Raises ValidationFailed for too many, too much work or a broken
    series."""
    start, end = window(now)
    # Dates around the window, so floating and all-day events of any zone are all caught; the
    # exact instants are compared later, per space zone.
    span_start = (start - timedelta(days=2)).date()
    span_end = (end + timedelta(days=2)).date()
    budget = Budget(MAX_STEPS, MAX_SECONDS)
    occurrences = []
    label = ""
    try:
        _charge_listed_dates(calendar, budget)
        query = recurring_ical_events.of(
            calendar, components=[ComponentsWithName("VEVENT", series=_counted_series(budget))]
        )
        low = query.to_datetime(span_start)
        high = query.to_datetime(span_end)
        for series in query.series:
            for occurrence in series.between(low, high):
                component = occurrence.as_component(False)
                label = event_label(component)
                budget.spend(1, label)  # the time budget holds between rules too
                occurrences.append(component)
                if len(occurrences) > MAX_OCCURRENCES:
                    raise _invalid(
                        _(
                            "The calendar has more than %(n)d events in the coming year; "
                            "split it or attach a shorter one.",
                            n=MAX_OCCURRENCES,
                        )
                    )
    except ValidationFailed:
        raise
    except BudgetExceeded as exc:
        raise _too_much_work(exc.label or label) from None
    except Exception as exc:
        raise _invalid(
            _("The calendar file could not be read: %(error)s", error=_short(exc))
        ) from exc
    return occurrences
