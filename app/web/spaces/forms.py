"""The booking request form: a local date and wall-clock times in the space's zone."""

from __future__ import annotations

import datetime as dt
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from app.bookings.series import Repeat
from app.rules.schema import PURPOSES, WAIVER_CATEGORIES
from app.spaces.fields import parse_clock


def wall_to_instant(day: date, minute: int, zone: ZoneInfo) -> datetime | None:
    """The UTC instant of a local wall-clock time, or None if the clocks skip that time."""
    wall = datetime.combine(day, time()) + timedelta(minutes=minute)
    instant = wall.replace(tzinfo=zone).astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) != wall:
        return None
    return instant


# The "booking for" choice shared by the request form and the returned-request form: the user
# themself or a resident group they belong to.
def set_group_choices(field, groups) -> None:
    """Offer the resident groups the user belongs to."""
    field.choices = [("", _("Myself")), *((str(g.id), g.name) for g in groups)]


def validate_group_choice(field) -> None:
    if (field.data or "") not in {value for value, _label in field.choices}:
        raise ValidationError(_("You can only book for a group you belong to."))


def chosen_group(field) -> int | None:
    value = field.data or ""
    return int(value) if value.isdigit() else None


class BookingRequestForm(FlaskForm):
    date = DateField(_l("Date"), validators=[DataRequired(_l("Choose a date."))])
    start_time = StringField(
        _l("From"),
        validators=[DataRequired(_l("Choose a start time."))],
        render_kw={"type": "time", "step": 60 * 5},
    )
    end_time = StringField(
        _l("Until"),
        validators=[DataRequired(_l("Choose an end time."))],
        render_kw={"type": "time", "step": 60 * 5},
    )
    # Length and content of the purpose are the booking service's to check.
    purpose = TextAreaField(_l("Purpose"), render_kw={"rows": 4})
    attendees = IntegerField(
        _l("Number of people"),
        validators=[Optional()],
        render_kw={"min": 1, "inputmode": "numeric"},
    )
    purpose_category = SelectField(
        _l("Kind of use"), choices=list(PURPOSES.items()), default="community"
    )
    waiver = SelectField(
        _l("Fee waiver"),
        choices=[("", _l("None")), *WAIVER_CATEGORIES.items()],
        default="",
        description=_l(
            "A waiver verified on your profile applies at once. Any other is charged in full "
            "until the approver has seen your proof of eligibility."
        ),
    )
    group_id = SelectField(
        _l("Booking for"), choices=[("", _l("Myself"))], default="", validate_choice=False
    )

    # Repeating (a series of requests; see app.bookings.series).
    repeat = SelectField(
        _l("Repeat"),
        choices=[("", _l("Does not repeat")), ("weekly", _l("Weekly")),
                 ("monthly", _l("Monthly, on the same weekday of the month"))],
        default="",
    )
    interval = IntegerField(_l("Every how many weeks / months"), default=1,
                            validators=[Optional()], render_kw={"min": 1, "max": 12})
    weekdays = SelectMultipleField(
        _l("On"), coerce=int, choices=[], validators=[Optional()],
        option_widget=CheckboxInput(), widget=ListWidget(prefix_label=False),
    )
    until = DateField(_l("Until (inclusive)"), validators=[Optional()])
    count = IntegerField(_l("Or this many times"), validators=[Optional()],
                         render_kw={"min": 1, "max": 60})
    skip_conflicts = BooleanField(_l("Skip the dates that cannot be booked"))

    def validate_group_id(self, field) -> None:
        validate_group_choice(field)

    def set_groups(self, groups) -> None:
        set_group_choices(self.group_id, groups)

    @property
    def chosen_group_id(self) -> int | None:
        return chosen_group(self.group_id)

    def repeat_rule(self):
        """The series asked for, or None for a single request."""

        if not self.repeat.data:
            return None
        return Repeat(
            self.repeat.data, interval=self.interval.data or 1,
            weekdays=tuple(self.weekdays.data or ()) or (
                (self.date.data.weekday(),) if self.date.data else ()),
            until=self.until.data, count=self.count.data if not self.until.data else None,
        )

    def validate_start_time(self, field) -> None:
        if parse_clock(field.data) is None:
            raise ValidationError(_("Enter a time such as 18:30."))

    def validate_end_time(self, field) -> None:
        if parse_clock(field.data) is None:
            raise ValidationError(_("Enter a time such as 18:30."))

    def instants(self, zone: ZoneInfo) -> tuple[datetime | None, datetime | None]:
        """The start and end as UTC instants; adds a message to a field that has none.

        An end of 00:00 or 24:00 means midnight at the end of the chosen date.
        """
        day = self.date.data
        start_minute = parse_clock(self.start_time.data)
        end_minute = parse_clock(self.end_time.data)
        if day is None or start_minute is None or end_minute is None:
            return None, None
        if end_minute == 0:
            end_minute = 24 * 60
        start = self._instant(self.start_time, day, start_minute, zone)
        end = self._instant(self.end_time, day, end_minute, zone)
        return start, end

    # `date` in this class body is the form field, hence `dt.date`.
    def _instant(self, field, day: dt.date, minute: int, zone: ZoneInfo) -> datetime | None:
        try:
            instant = wall_to_instant(day, minute, zone)
        except OverflowError:
            instant = None
        if instant is None:
            field.errors = [
                *field.errors,
                _(
                    "%(time)s does not exist on %(date)s in %(zone)s, because the clocks "
                    "change. Please choose another time.",
                    time=field.data,
                    date=day.isoformat(),
                    zone=zone.key,
                ),
            ]
        return instant

    def prefill(self, start_arg: str | None, end_arg: str | None, zone: ZoneInfo) -> None:
        """Fill the date and times from ISO instants such as the calendar links carry."""
        start, end = _parse_iso(start_arg, zone), _parse_iso(end_arg, zone)
        if start is None:
            return
        local_start = start.astimezone(zone)
        self.date.data = local_start.date()
        self.start_time.data = f"{local_start:%H:%M}"
        if end is None or end <= start:
            return
        local_end = end.astimezone(zone)
        if local_end.date() == local_start.date() or (
            local_end.date() == local_start.date() + timedelta(days=1)
            and local_end.time() == time()
        ):
            self.end_time.data = f"{local_end:%H:%M}"


def _parse_iso(value: str | None, zone: ZoneInfo) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace(" ", "+").replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone)
    try:
        parsed = parsed.astimezone(UTC)
        parsed.astimezone(zone)  # a time at the edge of the calendar may not exist locally
    except OverflowError:
        return None
    if not 2000 <= parsed.year <= 2200:
        return None  # no calendar link carries such a time
    return parsed
