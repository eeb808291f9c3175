"""Forms of the resident's booking pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange

from app.bookings.services import MAX_PURPOSE_LENGTH
from app.rules.schema import PURPOSES, WAIVER_CATEGORIES
from app.web.spaces.forms import chosen_group, set_group_choices, validate_group_choice


class CancelForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason (optional)"),
        validators=[Length(max=MAX_PURPOSE_LENGTH)],
        render_kw={"rows": 2, "maxlength": MAX_PURPOSE_LENGTH},
    )


class ResubmitForm(FlaskForm):
    """A resident's answer to a request returned for changes (the time stays the same)."""

    purpose_category = SelectField(_l("Kind of use"), choices=list(PURPOSES.items()))
    purpose = TextAreaField(
        _l("Purpose"),
        validators=[Length(max=MAX_PURPOSE_LENGTH)],
        render_kw={"rows": 4, "maxlength": MAX_PURPOSE_LENGTH},
    )
    attendees = IntegerField(
        _l("Number of people"),
        validators=[
            InputRequired(_l("Enter the number of people.")),
            NumberRange(min=1, max=100_000, message=_l("Enter a number from 1 to 100,000.")),
        ],
    )
    waiver = SelectField(
        _l("Fee waiver"), choices=[("", _l("None")), *WAIVER_CATEGORIES.items()], default=""
    )
    group_id = SelectField(
        _l("Booking for"), choices=[("", _l("Myself"))], default="", validate_choice=False
    )

    def validate_group_id(self, field) -> None:
        validate_group_choice(field)

    def set_groups(self, groups) -> None:
        set_group_choices(self.group_id, groups)

    @property
    def chosen_group_id(self) -> int | None:
        return chosen_group(self.group_id)
