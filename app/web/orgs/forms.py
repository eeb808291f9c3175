"""Forms of the organisation pages. They parse input; the rules live in app.orgs."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import RadioField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from app.orgs.models import APPLICATION_KIND_LABELS


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(html_tag="ul", prefix_label=False)
    option_widget = CheckboxInput()


class ApplicationForm(FlaskForm):
    kind = RadioField(_l("Kind of organisation"),
                      choices=[(k, label) for k, label in APPLICATION_KIND_LABELS.items()],
                      validate_choice=False)
    legal_name = StringField(_l("Legal name"), validators=[Length(max=160)])
    name = StringField(_l("Name shown to residents"), validators=[Length(max=160)])
    representative = StringField(_l("Representative"), validators=[Length(max=80)])
    contact_email = StringField(_l("Contact email"), validators=[Length(max=254)])
    contact_phone = StringField(_l("Contact phone"), validators=[Length(max=40)])
    address = StringField(_l("Address"), validators=[Length(max=300)])
    registration_number = StringField(_l("Registration number"),
                                      validators=[Optional(), Length(max=20)])
    jurisdiction_ids = MultiCheckboxField(_l("Jurisdictions"), coerce=int,
                                          validate_choice=False)
    evidence = FileField(_l("Evidence document (PDF, JPEG or PNG, up to 10 MB)"))


class DecisionForm(FlaskForm):
    decision = RadioField(_l("Decision"), choices=[
        ("approve", _l("Approve")),
        ("request_info", _l("Ask for more information")),
        ("reject", _l("Reject")),
    ], validate_choice=False)
    reason = TextAreaField(_l("Reason or what to add (the applicant reads it)"),
                           validators=[Length(max=2000)])


class InviteForm(FlaskForm):
    email = StringField(_l("Email address"), validators=[Length(max=254)])
    role = SelectField(_l("Role"), validate_choice=False)
