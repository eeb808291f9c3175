"""Forms of the account pages: register, log in, profile, password, API tokens."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from sqlalchemy import select
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
    TelField,
)
from wtforms.validators import (
    DataRequired,
    EqualTo,
    InputRequired,
    Length,
    Optional,
    ValidationError,
)

from app.accounts.services import MIN_PASSWORD
from app.extensions import db
from app.orgs.models import Jurisdiction

LANGUAGE_CHOICES = [("ko", "한국어"), ("en", "English")]


def district_choices() -> list[tuple[int, str]]:
    """Districts a resident may declare as home, for a select (0 = not given)."""
    rows = db.session.scalars(
        select(Jurisdiction).where(Jurisdiction.kind == "district").order_by(Jurisdiction.name)
    ).all()
    return [(0, str(_l("— Not given —")))] + [(j.id, j.display_name) for j in rows]


def _choice_id(value) -> int:
    """Select values are ids; anything else becomes -1, which no choice has."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1


def district_by_id(district_id: int | None) -> Jurisdiction | None:
    if not district_id:
        return None
    j = db.session.get(Jurisdiction, district_id)
    return j if j is not None and j.kind == "district" else None


class _ProfileFields(FlaskForm):
    name = StringField(
        _l("Name"),
        validators=[DataRequired(_l("Please enter your name.")), Length(max=120)],
        render_kw={"autocomplete": "name"},
    )
    locale = SelectField(_l("Language"), choices=LANGUAGE_CHOICES, default="ko")
    phone = TelField(
        _l("Phone (optional)"),
        validators=[Optional(), Length(max=40)],
        render_kw={"autocomplete": "tel"},
    )
    district = SelectField(
        _l("District where you live (optional)"),
        coerce=_choice_id,
        default=0,
        validate_choice=False,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.district.choices = district_choices()

    def validate_district(self, field) -> None:
        if field.data not in {value for value, _label in field.choices}:
            raise ValidationError(_l("Choose a district from the list."))


class RegisterForm(_ProfileFields):
    email = EmailField(
        _l("Email"),
        validators=[DataRequired(_l("Please enter a valid email address.")), Length(max=254)],
        render_kw={"autocomplete": "email"},
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(_l("Please choose a password."))],
        render_kw={"autocomplete": "new-password", "minlength": MIN_PASSWORD},
    )
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[
            DataRequired(_l("Please repeat the password.")),
            EqualTo("password", _l("The two passwords do not match.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )


    # Consent to named purposes (app.accounts.consents); booking is required.
    consent_booking = BooleanField(
        _l("I agree to the processing of my personal data for booking spaces (required)."),
        validators=[DataRequired(_l("An account is for booking spaces: please agree to that "
                                    "use of your data to sign up."))],
    )
    consent_notifications = BooleanField(
        _l("Send me optional emails: reminders, digests and summaries (optional).")
    )
    consent_statistics = BooleanField(
        _l("Count my bookings in the anonymised usage statistics (optional).")
    )


class ConsentForm(FlaskForm):
    booking = BooleanField(
        _l("I agree to the processing of my personal data for booking spaces (required)."),
        validators=[DataRequired(_l("Booking needs this consent. To stop all processing, "
                                    "delete your account instead."))],
    )
    notifications = BooleanField(
        _l("Send me optional emails: reminders, digests and summaries (optional).")
    )
    statistics = BooleanField(
        _l("Count my bookings in the anonymised usage statistics (optional).")
    )


class DeleteAccountForm(FlaskForm):
    password = PasswordField(
        _l("Your password"),
        validators=[DataRequired(_l("Please enter your password."))],
        render_kw={"autocomplete": "current-password"},
    )
    understood = BooleanField(
        _l("I understand that my account is deleted for good and cannot be restored."),
        validators=[DataRequired(_l("Please confirm that you understand."))],
    )


class LoginForm(FlaskForm):
    email = EmailField(
        _l("Email"),
        validators=[DataRequired(_l("Please enter your email address."))],
        render_kw={"autocomplete": "username"},
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(_l("Please enter your password."))],
        render_kw={"autocomplete": "current-password"},
    )
    remember = BooleanField(_l("Keep me logged in on this device"))
    next = HiddenField()


class ProfileForm(_ProfileFields):
    pass


class PasswordForm(FlaskForm):
    current_password = PasswordField(
        _l("Current password"),
        validators=[DataRequired(_l("Please enter your current password."))],
        render_kw={"autocomplete": "current-password"},
    )
    new_password = PasswordField(
        _l("New password"),
        validators=[DataRequired(_l("Please choose a password."))],
        render_kw={"autocomplete": "new-password", "minlength": MIN_PASSWORD},
    )
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[
            DataRequired(_l("Please repeat the password.")),
            EqualTo("new_password", _l("The two passwords do not match.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )


class TokenForm(FlaskForm):
    name = StringField(
        _l("Token name"),
        validators=[DataRequired(_l("Please name the token.")), Length(max=80)],
        render_kw={"placeholder": _l("e.g. my calendar script")},
    )


class RevokeTokenForm(FlaskForm):
    token_id = IntegerField(validators=[InputRequired()])


class ForgotPasswordForm(FlaskForm):
    email = EmailField(
        _l("Email"),
        validators=[DataRequired(_l("Please enter your email address.")), Length(max=254)],
        render_kw={"autocomplete": "email"},
    )


class ResetPasswordForm(FlaskForm):
    password = PasswordField(
        _l("New password"),
        validators=[DataRequired(_l("Please choose a password."))],
        render_kw={"autocomplete": "new-password", "minlength": MIN_PASSWORD},
    )
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[
            DataRequired(_l("Please repeat the password.")),
            EqualTo("password", _l("The two passwords do not match.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )


class EmailChangeForm(FlaskForm):
    email = EmailField(
        _l("New email address"),
        validators=[DataRequired(_l("Please enter a valid email address.")), Length(max=254)],
        render_kw={"autocomplete": "email"},
    )
    password = PasswordField(
        _l("Current password"),
        validators=[DataRequired(_l("Please enter your current password."))],
        render_kw={"autocomplete": "current-password"},
    )


class VerificationForm(FlaskForm):
    """A residency or fee-waiver claim with its evidence (checked by app.media.evidence)."""

    kind = SelectField(_l("What to verify"), choices=[("residency", _l("My home district")),
                                                      ("waiver", _l("A fee waiver"))])
    category = SelectField(_l("Fee waiver"), choices=[], validate_choice=False)
    evidence = FileField(
        _l("Evidence (PDF, JPEG or PNG, up to 10 MB)"),
        render_kw={"accept": "application/pdf,image/jpeg,image/png"},
    )
