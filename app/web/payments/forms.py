"""Forms of the payment pages."""

from __future__ import annotations

from babel import Locale
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from app.payments.gateway import CONNECT_COUNTRIES
from app.payments.states import OFFLINE_METHODS

MAX_AMOUNT = 2**31 - 1


class OfflinePaymentForm(FlaskForm):
    method = SelectField(_l("Payment method"), choices=list(OFFLINE_METHODS.items()))
    amount = IntegerField(
        _l("Amount"),
        validators=[InputRequired(_l("Enter the amount.")),
                    NumberRange(1, MAX_AMOUNT, _l("Enter an amount above zero."))],
    )
    reference = StringField(
        _l("Reference (receipt, transfer or voucher number)"),
        validators=[InputRequired(_l("Give a reference: receipt, transfer or voucher number.")),
                    Length(max=120)],
    )


class RefundForm(FlaskForm):
    amount = IntegerField(
        _l("Amount to refund"),
        validators=[InputRequired(_l("Enter the amount.")),
                    NumberRange(1, MAX_AMOUNT, _l("Enter an amount above zero."))],
    )
    reason = TextAreaField(_l("Reason"), validators=[Length(max=500)], render_kw={"rows": 2})
    reference = StringField(_l("How it was handed back (offline payments)"),
                            validators=[Optional(), Length(max=120)])


class OrgPaymentSettingsForm(FlaskForm):
    card_holds = BooleanField(_l("Authorise the card at request, charge it at approval"))
    country = SelectField(_l("Country where the organisation is registered"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        names = (get_locale() or Locale("ko")).territories
        codes = sorted({"KR", *CONNECT_COUNTRIES}, key=lambda c: (c != "KR", names.get(c, c)))
        self.country.choices = [(c, f"{names.get(c, c)} ({c})") for c in codes]
