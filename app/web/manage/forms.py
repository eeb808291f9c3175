"""Forms of the manager pages. They parse input; the rules live in app.spaces.services."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    FloatField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from app.spaces.models import AMENITIES, BOOKING_MODES, CHALLENGE_MODES, SPACE_TYPES
from app.spaces.services import MAX_ADDRESS, MAX_DESCRIPTION, MAX_NAME, MAX_REASON


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(html_tag="ul", prefix_label=False)
    option_widget = CheckboxInput()


def _number(label, **render):
    return IntegerField(
        label, validators=[Optional()], render_kw={"inputmode": "numeric", **render}
    )


class SpaceForm(FlaskForm):
    owner_id = SelectField(_l("Owner organisation"), coerce=int)
    name = StringField(_l("Name"), render_kw={"maxlength": MAX_NAME, "autocomplete": "off"})
    type = SelectField(_l("Type"), choices=list(SPACE_TYPES.items()))
    description = TextAreaField(
        _l("Description"), render_kw={"rows": 5, "maxlength": MAX_DESCRIPTION}
    )
    capacity = _number(_l("Capacity (people)"), min=1)
    address = StringField(_l("Address"), render_kw={"maxlength": MAX_ADDRESS})
    latitude = FloatField(
        _l("Latitude"), validators=[Optional()], render_kw={"inputmode": "decimal"}
    )
    longitude = FloatField(
        _l("Longitude"), validators=[Optional()], render_kw={"inputmode": "decimal"}
    )
    timezone = StringField(_l("Time zone"), default="Asia/Seoul")
    price_per_hour = _number(_l("Price per hour (KRW)"), min=0, step=100)
    min_minutes = _number(_l("Shortest booking (minutes)"), min=15, step=15)
    max_minutes = _number(_l("Longest booking (minutes)"), min=15, step=15)
    buffer_minutes = _number(_l("Buffer between bookings (minutes)"), min=0, max=240, step=5)
    booking_mode = RadioField(
        _l("How residents book"), choices=list(BOOKING_MODES.items()), default="request"
    )
    challenge_mode = RadioField(
        _l("Check against macro programs before a request (proof of work)"),
        choices=list(CHALLENGE_MODES.items()),
        default="auto",
    )
    amenities = MultiCheckboxField(_l("Amenities"), choices=list(AMENITIES.items()))
    jurisdiction_ids = SelectMultipleField(_l("Jurisdictions"), coerce=int)
    published = BooleanField(_l("Published: residents can find and book this space"))

    FIELDS = (
        "name",
        "type",
        "description",
        "capacity",
        "address",
        "latitude",
        "longitude",
        "timezone",
        "price_per_hour",
        "min_minutes",
        "max_minutes",
        "buffer_minutes",
        "booking_mode",
        "challenge_mode",
        "amenities",
        "jurisdiction_ids",
        "published",
    )

    def space_fields(self) -> dict:
        """The values for create_space/update_space. Empty numbers go through as None, so the
        service says what is missing."""
        return {name: self[name].data for name in self.FIELDS}


class ClosureForm(FlaskForm):
    start = DateTimeLocalField(
        _l("From"),
        format=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        validators=[InputRequired(_l("Enter the start date and time."))],
    )
    end = DateTimeLocalField(
        _l("Until"),
        format=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        validators=[InputRequired(_l("Enter the end date and time."))],
    )
    reason = StringField(
        _l("Reason (shown to residents)"),
        validators=[Length(max=MAX_REASON)],
        render_kw={"maxlength": MAX_REASON},
    )
