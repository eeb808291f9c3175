"""The rule-set editor: one form for every rule of `app.rules.schema`, working without
JavaScript. The form only reads typed input (numbers, times, dates) and builds the rule-set
document; whether the document makes sense is `parse_rules`'s to say, and its messages are put
back next to the fields they concern (`place_errors`)."""

from __future__ import annotations

import re
from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
)
from wtforms.validators import Length
from wtforms.widgets import CheckboxInput, ListWidget, TextInput

from app.errors import ValidationFailed
from app.rules.messages import clock
from app.rules.schema import (
    ALLOCATION_MODES,
    APPROVERS,
    ELIGIBILITY,
    FEE_CATEGORIES,
    ON_DEADLINE,
    PURPOSES,
    QUOTA_PER,
    QUOTA_PERIODS,
    STAGE_MODES,
    WAIVER_CATEGORIES,
    parse_rules,
)
from app.spaces.fields import parse_clock
from app.spaces.models import WEEKDAYS

MAX_NOTE = 300
_WHOLE = re.compile(r"^[+-]?\d+$")
MAX_DIGITS = 15  # beyond any rule's range; longer input is refused before int() sees it
_RANGE = re.compile(r"^(\d{1,2}:\d{2})\s*[-–~]\s*(\d{1,2}:\d{2})$")
NONE = ("", _l("— not set —"))


# --- Fields that read typed input ------------------------------------------------------------
class Whole(IntegerField):
    """A whole number or blank (None). The range is the schema's to check."""

    widget = TextInput()

    def __init__(self, label=None, validators=None, **kw):
        kw.setdefault("render_kw", {"inputmode": "numeric", "autocomplete": "off"})
        super().__init__(label, validators, **kw)

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        raw = valuelist[0].strip().replace(",", "")
        self.data = None
        if raw == "":
            return
        if not _WHOLE.match(raw):
            raise ValueError(_l("Enter a whole number, such as 30."))
        if len(raw.lstrip("+-")) > MAX_DIGITS:
            raise ValueError(_l("This number is far too large."))
        self.data = int(raw)


class Clock(StringField):
    """A time of day as HH:MM (24:00 allowed); `.minutes` is None when blank."""

    def __init__(self, label=None, validators=None, **kw):
        kw.setdefault("render_kw", {"placeholder": "--:--", "size": 5, "maxlength": 5,
                                    "autocomplete": "off"})  # fmt: skip
        super().__init__(label, validators, **kw)

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        self.data = (self.data or "").strip()
        if self.data and parse_clock(self.data) is None:
            raise ValueError(_l("Enter a time as HH:MM, such as 09:00 or 24:00."))

    @property
    def minutes(self) -> int | None:
        return parse_clock(self.data) if self.data and not self.errors else None


class Ranges(StringField):
    """Time ranges of one day: "18:00-22:00, 09:00-12:00". Blank is no range."""

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        self.data = (self.data or "").strip()
        if self.ranges is None:
            raise ValueError(
                _l("Write ranges as HH:MM-HH:MM separated by commas, such as 09:00-12:00, "
                   "18:00-22:00.")
            )  # fmt: skip

    @property
    def ranges(self) -> list[list[int]] | None:
        out = []
        for part in filter(None, (p.strip() for p in (self.data or "").split(","))):
            match = _RANGE.match(part)
            lo, hi = (
                (parse_clock(match.group(1)), parse_clock(match.group(2)))
                if match
                else (None, None)
            )
            if lo is None or hi is None:
                return None
            out.append([lo, hi])
        return out


class Day(StringField):
    """A date as YYYY-MM-DD (what a date input sends); `.day` is None when blank or wrong."""

    def __init__(self, label=None, validators=None, **kw):
        kw.setdefault("render_kw", {"type": "date"})
        super().__init__(label, validators, **kw)

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        self.data = (self.data or "").strip()
        if self.data and self.day is None:
            raise ValueError(_l("Enter a date such as 2026-03-01."))

    @property
    def day(self) -> date | None:
        try:
            text = self.data or ""
            return date.fromisoformat(text) if len(text) == 10 else None
        except ValueError:
            return None


class Checkboxes(SelectMultipleField):
    widget = ListWidget(html_tag="ul", prefix_label=False)
    option_widget = CheckboxInput()

    def __init__(self, label=None, validators=None, **kw):
        kw.setdefault("validate_choice", False)  # unknown values: the schema says so
        super().__init__(label, validators, **kw)


def _select(label, options, blank=True, **kw):
    choices = ([NONE] if blank else []) + list(options.items())
    return SelectField(label, choices=choices, validate_choice=False, **kw)


# --- Repeated rows ---------------------------------------------------------------------------
class QuotaRow(Form):
    per = _select(_l("Counted"), QUOTA_PER)
    period = _select(_l("Period"), QUOTA_PERIODS)
    max_hours = Whole(_l("Max hours"))
    max_bookings = Whole(_l("Max bookings"))


class RefundRow(Form):
    days_before = Whole(_l("Cancelled at least (days before)"))
    percent = Whole(_l("Refund (%)"))


class StageRow(Form):
    approver = _select(_l("Who"), APPROVERS)
    mode = _select(_l("Role"), STAGE_MODES, blank=False, default="decide")
    deadline_days = Whole(_l("Deadline (working days)"))
    on_deadline = _select(_l("At the deadline"), ON_DEADLINE, blank=False, default="expire")
    label = StringField(_l("Name of the stage"), render_kw={"maxlength": 80})


class AutoApproveRow(Form):
    enabled = BooleanField(_l("Approve automatically"))
    residents_only = BooleanField(_l("Residents only"))
    purposes = Checkboxes(_l("For these purposes (none ticked: any purpose)"),
                          choices=list(PURPOSES.items()))  # fmt: skip


class LotteryRow(Form):
    weekdays = Checkboxes(
        _l("Weekdays"), choices=[(i, label) for i, label in enumerate(WEEKDAYS)], coerce=int
    )
    start = Clock(_l("From"))
    end = Clock(_l("Until"))
    draw_days_before = Whole(_l("Draw (days before)"))
    draw_time = Clock(_l("Draw time"))
    cap_per_month = Whole(_l("Wins per person a month (blank: no limit)"))
    resident_priority = BooleanField(_l("Residents drawn first"), default=True)


WaiverRow = type(
    "WaiverRow", (Form,), {cat: Whole(label) for cat, label in WAIVER_CATEGORIES.items()}
)

ROWS = {"quotas": 3, "refund_tiers": 4, "stages": 3, "auto_approve": 2, "lottery": 2}
MAX_ROWS = 20  # as many as a rule set may hold
# Error keys of the schema -> the form's field names, where they differ.
FIELD_OF_KEY = {
    "fees.resident": "fee_resident",
    "fees.non_resident": "fee_non_resident",
    "fees.commercial": "fee_commercial",
    "fees.weekend_percent": "weekend_percent",
    "fees.night_percent": "night_percent",
    "fees.night_start": "night_start",
    "fees.night_end": "night_end",
    "no_show.count": "no_show_count",
    "no_show.within_days": "no_show_within_days",
    "no_show.ban_days": "no_show_ban_days",
}
FEE_FIELDS = ("fee_resident", "fee_non_resident", "fee_commercial")


def _rows(row, name):
    return FieldList(FormField(row), min_entries=ROWS[name], max_entries=MAX_ROWS)


class RuleSetForm(FlaskForm):
    eligibility = _select(_l("Who may book"), ELIGIBILITY)
    residents_first_days = Whole(_l("Residents first: others may book from (days before)"))
    allowed_purposes = Checkboxes(_l("Allowed purposes (none ticked: every purpose)"),
                                  choices=list(PURPOSES.items()))  # fmt: skip
    refused_purposes = Checkboxes(_l("Refused purposes"), choices=list(PURPOSES.items()))
    min_notice_hours = Whole(_l("Minimum notice (hours)"))
    max_days_ahead = Whole(_l("Booking window (days ahead)"))
    min_minutes = Whole(_l("Shortest booking (minutes)"))
    max_minutes = Whole(_l("Longest booking (minutes)"))
    restrict_hours = BooleanField(_l("Restrict the bookable hours"))
    hours_0 = Ranges(WEEKDAYS[0])
    hours_1 = Ranges(WEEKDAYS[1])
    hours_2 = Ranges(WEEKDAYS[2])
    hours_3 = Ranges(WEEKDAYS[3])
    hours_4 = Ranges(WEEKDAYS[4])
    hours_5 = Ranges(WEEKDAYS[5])
    hours_6 = Ranges(WEEKDAYS[6])
    hours_note = StringField(_l("Note on the hours (shown to residents)"),
                             render_kw={"maxlength": 200})  # fmt: skip
    quotas = _rows(QuotaRow, "quotas")
    max_attendees = Whole(_l("Maximum attendees"))
    fee_resident = Whole(FEE_CATEGORIES["resident"])
    fee_non_resident = Whole(FEE_CATEGORIES["non_resident"])
    fee_commercial = Whole(FEE_CATEGORIES["commercial"])
    weekend_percent = Whole(_l("Weekend surcharge (%)"))
    night_percent = Whole(_l("Night surcharge (%)"))
    night_start = Clock(_l("Night from"))
    night_end = Clock(_l("Night until"))
    waivers: FormField[Form] = FormField(WaiverRow)  # WaiverRow is built at runtime
    refund_tiers = _rows(RefundRow, "refund_tiers")
    no_show_count = Whole(_l("No-shows"))
    no_show_within_days = Whole(_l("Within (days)"))
    no_show_ban_days = Whole(_l("Suspended for (days)"))
    stages = _rows(StageRow, "stages")
    auto_approve = _rows(AutoApproveRow, "auto_approve")
    allocation = _select(_l("How time is allocated"), ALLOCATION_MODES)
    lottery = _rows(LotteryRow, "lottery")
    effective_from = Day(_l("Takes effect on"))
    note = StringField(
        _l("What changed and why (kept in the history)"),
        validators=[Length(max=MAX_NOTE)],
        render_kw={"maxlength": MAX_NOTE},
    )
    preview = SubmitField(_l("Preview: which bookings would break"))
    save = SubmitField(_l("Save a new version"))

    def __init__(self, level: str, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.level = level
        self.group_errors: dict[str, list[str]] = {}
        self._row_names: dict[str, list[str]] = {}
        if level != "space":
            del self.lottery
        self._limit_approvers()

    def _limit_approvers(self) -> None:
        # Only a jurisdiction's stages may name its officers (the schema refuses it elsewhere).
        if self.level != "jurisdiction":
            for entry in self.stages:
                entry.form.approver.choices = [
                    c for c in entry.form.approver.choices if c[0] != "jurisdiction"
                ]

    @property
    def hour_fields(self) -> list[Ranges]:
        return [self[f"hours_{d}"] for d in range(7)]

    def add_spare_rows(self) -> None:
        """One empty row after the stored ones, so a rule can be added without JavaScript."""
        for name in ROWS:
            rows = self._fields.get(name)
            if rows is not None and len(rows) < MAX_ROWS and not _blank(rows[-1].form):
                rows.append_entry()
        self._limit_approvers()

    # --- Form -> document --------------------------------------------------------------------
    def to_doc(self) -> dict:
        """The rule-set document the form describes. Fields with typing errors are left out
        (those errors are already on the fields); blank rows are skipped."""
        doc: dict = {}
        self._row_names = {}

        def value(f):
            return None if f.errors else f.data

        if self.eligibility.data:
            doc["eligibility"] = self.eligibility.data
        for name in ("residents_first_days", "min_notice_hours", "max_days_ahead",
                     "min_minutes", "max_minutes", "max_attendees"):  # fmt: skip
            if value(self[name]) is not None:
                doc[name] = self[name].data
        for name in ("allowed_purposes", "refused_purposes"):
            if self[name].data:
                doc[name] = list(self[name].data)
        if self.restrict_hours.data:
            doc["allowed_hours"] = {
                str(d): (f.ranges or []) if not f.errors else []
                for d, f in enumerate(self.hour_fields)
            }
        if (self.hours_note.data or "").strip():
            doc["hours_note"] = (self.hours_note.data or "").strip()

        doc["quotas"] = self._rows_doc("quotas", lambda r: _present({
            "per": r.per.data or None, "period": r.period.data or None,
            "max_hours": value(r.max_hours), "max_bookings": value(r.max_bookings),
        }))  # fmt: skip

        rates = {f.removeprefix("fee_"): value(self[f]) for f in FEE_FIELDS}
        fees = _present({
            "weekend_percent": value(self.weekend_percent),
            "night_percent": value(self.night_percent),
            "night_start": self.night_start.minutes,
            "night_end": self.night_end.minutes,
        })  # fmt: skip
        if any(v is not None for v in rates.values()) or fees:
            doc["fees"] = {"rates": _present(rates), **fees}
        waivers = _present({cat: value(self.waivers.form[cat]) for cat in WAIVER_CATEGORIES})
        if waivers:
            doc["waivers"] = waivers

        doc["refund_tiers"] = self._rows_doc("refund_tiers", lambda r: {
            "days_before": value(r.days_before), "percent": value(r.percent),
        })  # fmt: skip
        no_show = _present({
            "count": value(self.no_show_count),
            "within_days": value(self.no_show_within_days),
            "ban_days": value(self.no_show_ban_days),
        })  # fmt: skip
        if no_show:
            doc["no_show"] = no_show
        doc["stages"] = self._rows_doc("stages", lambda r: _present({
            "approver": r.approver.data or None, "mode": r.mode.data or None,
            "deadline_days": value(r.deadline_days), "on_deadline": r.on_deadline.data or None,
            "label": (r.label.data or "").strip() or None,
        }))  # fmt: skip
        doc["auto_approve"] = self._rows_doc("auto_approve", lambda r: {
            "residents_only": bool(r.residents_only.data), "purposes": list(r.purposes.data or []),
        })  # fmt: skip
        if self.allocation.data:
            doc["allocation"] = self.allocation.data
        if "lottery" in self._fields:
            doc["lottery"] = self._rows_doc("lottery", lambda r: _present({
                "weekdays": list(r.weekdays.data or []) if not r.weekdays.errors else None,
                "start": r.start.minutes, "end": r.end.minutes,
                "draw_days_before": value(r.draw_days_before),
                "draw_minute": r.draw_time.minutes,
                "cap_per_month": value(r.cap_per_month),
                "resident_priority": bool(r.resident_priority.data),
            }))  # fmt: skip
        return {k: v for k, v in doc.items() if v != []}

    def _rows_doc(self, name: str, build) -> list[dict]:
        out, names = [], []
        for entry in self[name]:
            if _blank(entry.form):
                continue
            out.append(build(entry.form))
            names.append(entry.name)
        self._row_names[name] = names
        return out

    # --- Errors of the schema -> fields ------------------------------------------------------
    def place_errors(self, exc: ValidationFailed) -> None:
        """Show each of the schema's messages next to the field or row it is about."""
        for key, messages in exc.errors.items():
            if key == "allowed_hours" and self._place_hours_errors():
                continue
            field = self._field_for(key)
            if field is not None:
                if not field.errors:  # a typing error on the field says it first
                    field.errors = [*field.errors, *messages]
            elif key is None or (group := self._group_for(key)) is None:
                self.form_errors.extend(m for m in messages if m not in self.form_errors)
            else:
                self.group_errors.setdefault(group, []).extend(messages)

    def _field_for(self, key):
        if key is None:
            return None
        name = FIELD_OF_KEY.get(key, key)
        if name in self._fields and name not in ROWS and name != "waivers":
            return self._fields[name]
        if key.startswith("waivers."):
            cat = key.removeprefix("waivers.")
            return self.waivers.form._fields.get(cat)
        return None

    def _group_for(self, key: str) -> str | None:
        """A row ("quotas-1", as rendered) or a section ("fees") for keys without a field."""
        head, _, index = key.partition(".")
        if head in ROWS and index.isdigit():
            names = self._row_names.get(head, [])
            return names[int(index)] if int(index) < len(names) else head
        if head in (*ROWS, "fees", "waivers", "no_show", "allowed_hours"):
            return head
        return None

    def _place_hours_errors(self) -> bool:
        """Find the day whose ranges the schema refuses, by checking each day alone."""
        found = False
        for day, f in enumerate(self.hour_fields):
            if f.errors or not f.ranges:
                continue
            try:
                parse_rules({"allowed_hours": {str(day): f.ranges}}, level=self.level)
            except ValidationFailed as exc:
                f.errors = [*f.errors, *exc.errors.get("allowed_hours", [])]
                found = True
        return found


def _present(values: dict) -> dict:
    return {k: v for k, v in values.items() if v is not None}


def _blank(form: Form) -> bool:
    """A row nobody filled in (defaults of selects and checkboxes do not count)."""
    for f in form:
        if isinstance(f, SelectField) and f.name.rsplit("-", 1)[-1] in ("mode", "on_deadline"):
            continue
        if f.name.endswith("resident_priority"):
            continue
        if f.raw_data and any((v or "").strip() for v in f.raw_data):
            return False
        if not f.raw_data and f.data not in (None, "", [], False):
            return False
    return True


# --- Document -> form ------------------------------------------------------------------------
def doc_to_data(doc: dict, today: date) -> dict:
    """The form's initial values for a (canonical) rule-set document."""
    data = {k: doc.get(k) for k in (
        "residents_first_days", "min_notice_hours", "max_days_ahead", "min_minutes",
        "max_minutes", "max_attendees", "allowed_purposes", "refused_purposes", "quotas",
        "refund_tiers", "stages",
    )}  # fmt: skip
    data["eligibility"] = doc.get("eligibility") or ""
    data["allocation"] = doc.get("allocation") or ""
    data["hours_note"] = doc.get("hours_note") or ""
    hours = doc.get("allowed_hours")
    data["restrict_hours"] = hours is not None
    for day in range(7):
        ranges = (hours or {}).get(str(day), [])
        data[f"hours_{day}"] = ", ".join(f"{clock(lo)}-{clock(hi)}" for lo, hi in ranges)
    fees = doc.get("fees") or {}
    for cat in ("resident", "non_resident", "commercial"):
        data[f"fee_{cat}"] = (fees.get("rates") or {}).get(cat)
    data["weekend_percent"] = fees.get("weekend_percent") or None
    data["night_percent"] = fees.get("night_percent") or None
    if fees:
        data["night_start"] = clock(fees.get("night_start", 22 * 60))
        data["night_end"] = clock(fees.get("night_end", 6 * 60))
    data["waivers"] = doc.get("waivers") or {}
    no_show = doc.get("no_show") or {}
    for key in ("count", "within_days", "ban_days"):
        data[f"no_show_{key}"] = no_show.get(key)
    data["auto_approve"] = [{**a, "enabled": True} for a in doc.get("auto_approve") or []]
    data["lottery"] = [
        {
            **w,
            "start": clock(w["start"]),
            "end": clock(w["end"]),
            "draw_time": clock(w.get("draw_minute", 600)),
        }
        for w in doc.get("lottery") or []
    ]
    data["effective_from"] = today.isoformat()
    return {k: v for k, v in data.items() if v is not None}
