"""Forms of the manager pages. They parse input; the rules live in app.spaces (the space
fields' limits and messages in app.spaces.fields, from which SpaceForm takes its own)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
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
from wtforms.validators import InputRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from app.spaces.fields import SPACE_FIELDS, FieldInvalid, check_together, whole
from app.spaces.models import (
    ACCESSIBILITY,
    AMENITIES,
    BOOKING_MODES,
    CHALLENGE_MODES,
    SPACE_TYPES,
)
from app.spaces.photos import MAX_ALT
from app.spaces.services import MAX_REASON


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(html_tag="ul", prefix_label=False)
    option_widget = CheckboxInput()


class Conforms:
    """A WTForms validator that asks the field's entry in SPACE_FIELDS, so the form says what
    the service would say, in the same words."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __call__(self, form, field) -> None:
        try:
            SPACE_FIELDS[self.name].clean(field.data)
        except FieldInvalid as exc:
            raise ValidationError(str(exc.message)) from None


def _space_field(kind, label, name: str, *, optional: bool = False, **kwargs):
    """A form field for SPACE_FIELDS[name]: its validator and HTML limits come from there."""
    spec = SPACE_FIELDS[name]
    render = {**spec.html_limits(), **kwargs.pop("render_kw", {})}
    validators = [Optional()] if optional else []
    return kind(label, validators=[*validators, Conforms(name)], render_kw=render, **kwargs)


class WholeField(IntegerField):
    """A whole number that leaves every complaint, empty or not a number included, to its
    entry in SPACE_FIELDS: an unparsable entry stays text, so the validator names the field and
    its bounds instead of WTForms' generic "Not a valid integer value."."""

    def process_formdata(self, valuelist) -> None:
        if valuelist:
            raw = valuelist[0].strip()
            self.data = (whole(raw) if whole(raw) is not None else raw) if raw else None


def _number(label, name: str, **render):
    return _space_field(WholeField, label, name, render_kw={"inputmode": "numeric", **render})


class SpaceForm(FlaskForm):
    owner_id = SelectField(_l("Owner organisation"), coerce=int)
    name = _space_field(StringField, _l("Name"), "name", render_kw={"autocomplete": "off"})
    type = _space_field(SelectField, _l("Type"), "type", choices=list(SPACE_TYPES.items()))
    description = _space_field(
        TextAreaField, _l("Description"), "description", render_kw={"rows": 5}
    )
    capacity = _number(_l("Capacity (people)"), "capacity")
    address = _space_field(StringField, _l("Address"), "address")
    latitude = _space_field(
        FloatField,
        _l("Latitude"),
        "latitude",
        optional=True,
        render_kw={"inputmode": "decimal"},
    )
    longitude = _space_field(
        FloatField,
        _l("Longitude"),
        "longitude",
        optional=True,
        render_kw={"inputmode": "decimal"},
    )
    timezone = _space_field(StringField, _l("Time zone"), "timezone", default="Asia/Seoul")
    price_per_hour = _number(_l("Price per hour (KRW)"), "price_per_hour", step=100)
    min_minutes = _number(_l("Shortest booking (minutes)"), "min_minutes", step=15)
    max_minutes = _number(_l("Longest booking (minutes)"), "max_minutes", step=15)
    buffer_minutes = _number(_l("Buffer between bookings (minutes)"), "buffer_minutes", step=5)
    booking_mode = _space_field(
        RadioField,
        _l("How residents book"),
        "booking_mode",
        choices=list(BOOKING_MODES.items()),
        default="request",
    )
    challenge_mode = _space_field(
        RadioField,
        _l("Check against macro programs before a request (proof of work)"),
        "challenge_mode",
        choices=list(CHALLENGE_MODES.items()),
        default="auto",
    )
    amenities = _space_field(
        MultiCheckboxField, _l("Amenities"), "amenities", choices=list(AMENITIES.items())
    )
    accessibility = _space_field(
        MultiCheckboxField, _l("Accessibility"), "accessibility",
        choices=list(ACCESSIBILITY.items()),
    )
    jurisdiction_ids = _space_field(
        SelectMultipleField, _l("Jurisdictions"), "jurisdiction_ids", coerce=int
    )
    published = _space_field(
        BooleanField, _l("Published: residents can find and book this space"), "published"
    )

    # Every field the service validates, in the order of SPACE_FIELDS.
    FIELDS = tuple(SPACE_FIELDS)

    def validate(self, extra_validators=None) -> bool:
        """Each field on its own, then the checks that span two fields, so every problem
        shows at once, worded as the service words it."""
        valid = super().validate(extra_validators)
        failed = {name for name in self.FIELDS if self[name].errors}
        values = {name: self[name].data for name in self.FIELDS if name not in failed}
        for name, message in check_together(values, failed).items():
            self[name].errors = [*self[name].errors, str(message)]
            valid = False
        return valid

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


class PhotoForm(FlaskForm):
    """A new photo. The picture and the alt text are checked by app.spaces.photos."""

    file = FileField(
        _l("Photo (JPEG, PNG or WebP, up to 10 MB)"),
        render_kw={"accept": "image/jpeg,image/png,image/webp"},
    )
    alt = StringField(
        _l("Description for people who cannot see it (alt text)"),
        render_kw={"maxlength": MAX_ALT, "autocomplete": "off"},
    )
