"""What one person can actually book: the rules judged for every free slot of a calendar.

`SlotJudge` loads once what the rule engine needs (the rule sets in force, the jurisdiction
tree and, for a signed-in person, their residency, quota usage and no-shows) and then judges
any number of slots in memory with the same engine a request goes through
(`app.rules.engine.evaluate`). Queries: the tree, the rule sets, and the person's facts once
per distinct quota period the slots fall in (a week calendar touches at most two months).

Anonymous visitors get the generic view: rules about the person (residency, quotas, no-shows)
are left out, since nothing is known about them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _

from app.bookings.judging import applicant_facts
from app.rules.engine import Applicant, Ask, Reason, combine, evaluate, period_bounds
from app.rules.messages import reason_text
from app.rules.services import jurisdictions_by_id, resident_keys, rule_sets_in_force
from app.spaces.models import Space

# Reasons that depend on who asks: not judged for an anonymous visitor.
PERSONAL = frozenset({"residents_only", "residents_first", "quota_bookings", "quota_hours",
                      "no_show"})
# Reasons that depend on what the form says (the kind of use, the chosen end): a calendar slot
# stands for its shortest booking with the default kind of use, so these are left to the form.
FORM_DEPENDENT = frozenset({"purpose_not_allowed", "purpose_refused", "min_length",
                            "max_length"})


@dataclass(frozen=True)
class Problem:
    code: str
    short: str  # a few words for a calendar cell or a result card
    text: str  # the full sentence, citing the rule set


@dataclass(frozen=True)
class SlotVerdict:
    problems: tuple[Problem, ...]
    mode: str  # instant | request | lottery
    draw_at: datetime | None
    total: int  # the price of the slot, in minor units

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def lottery(self) -> bool:
        return self.mode == "lottery"

    @property
    def short(self) -> str:
        return self.problems[0].short if self.problems else ""

    @property
    def text(self) -> str:
        return " ".join(p.text for p in self.problems)


def short_reason(reason: Reason) -> str:
    """A few words for a calendar cell; the full sentence goes into its tooltip."""
    p = dict(reason.params)
    code = reason.code
    if code == "min_notice":
        return _("Needs %(hours)d hours' notice", hours=p["hours"])
    if code == "max_ahead":
        return _("Not open for booking yet")
    if code == "residents_first":
        return _("Residents first until %(date)s", date=str(p["date"])[5:].replace("-", "/"))
    if code == "residents_only":
        return _("Residents only")
    if code in ("quota_bookings", "quota_hours"):
        return _("Your limit is reached")
    if code == "no_show":
        return _("Booking suspended")
    if code == "hours":
        return _("Not bookable at this hour")
    if code == "max_attendees":
        return _("Too many people")
    return _("Not bookable")


class SlotJudge:
    """Judges slots of one space for one person (or an anonymous visitor) at `now`."""

    def __init__(
        self,
        space: Space,
        user,
        *,
        now: datetime,
        attendees: int = 1,
        purpose: str = "community",
        max_days_ahead: int | None = None,
        tree=None,
        found=None,
        usage: bool = True,
    ) -> None:
        """`tree` and `found` (the rule sets in force) when the caller loaded them for many
        spaces; `usage=False` leaves out quota usage and no-shows (a search result judges
        residency only, so a page of results costs no query per space)."""
        self.space = space
        self.user = user
        self.now = now
        self.attendees = max(1, attendees)
        self.purpose = purpose
        self.max_days_ahead = max_days_ahead
        self.personal = bool(getattr(user, "is_authenticated", False))
        self.tree = tree if tree is not None else jurisdictions_by_id()
        if found is None:
            found = rule_sets_in_force(space, now, tree=self.tree)
        self.usage = usage
        self.effective = combine([(source, rules) for source, rules, _ in found])
        self._facts: dict[tuple, Applicant] = {}
        lim = self.effective.min_minutes
        self.min_minutes = max(space.min_minutes, lim.value if lim else 0)

    def _applicant(self, start: datetime) -> Applicant:
        if not self.personal:
            return Applicant()
        # Quota usage depends on the period (week, month) the slot falls in: one set of facts
        # per distinct combination of periods, so a week needs one or two.
        key = tuple(
            period_bounds(start, quota.period, self.space.zone)
            for _source, rules in self.effective.parts
            for quota in rules.quotas
        )
        if key not in self._facts and not self.usage:
            keys = resident_keys(self.user, self.space, list(self.effective.sources), self.tree)
            self._facts[key] = Applicant(
                resident_of=keys, is_space_resident="space-area" in keys
            )
        elif key not in self._facts:
            self._facts[key] = applicant_facts(
                self.space, self.effective, self.user, start=start, group_id=None, tree=self.tree
            )
        return self._facts[key]

    def slot_length(self, slot_minutes: int) -> timedelta:
        return timedelta(minutes=max(self.min_minutes, slot_minutes))

    def judge(self, start: datetime, end: datetime) -> SlotVerdict:
        """The verdict on booking [start, end) with the form's defaults (or `attendees`)."""
        app = self._applicant(start)
        ask = Ask(
            start=start,
            end=end,
            zone=self.space.zone,
            now=self.now,
            purpose=self.purpose,
            attendees=self.attendees,
            default_rate=self.space.price_per_hour,
            base_mode=self.space.booking_mode,
        )
        decision = evaluate(self.effective, ask, app)
        problems: list[Problem] = []
        if self.attendees > self.space.capacity:
            problems.append(Problem(
                "capacity", _("Too many people"),
                _("This space holds at most %(n)d people.", n=self.space.capacity),
            ))
        if self.max_days_ahead is not None and start > self.now + timedelta(
            days=self.max_days_ahead
        ):
            problems.append(Problem(
                "too_far", _("Not open for booking yet"),
                _("Bookings can be made at most %(days)d days ahead.", days=self.max_days_ahead),
            ))
        for reason in decision.reasons:
            if reason.code in FORM_DEPENDENT or (not self.personal and reason.code in PERSONAL):
                continue
            problems.append(Problem(reason.code, short_reason(reason), reason_text(reason)))
        return SlotVerdict(tuple(problems), decision.mode, decision.draw_at, decision.quote.total)
