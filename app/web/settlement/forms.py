"""Forms of the settlement pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField
from wtforms.validators import InputRequired, Length

from app.payments.settlement_models import KOREAN_BANKS


class BankAccountForm(FlaskForm):
    bank_code = SelectField(_l("Bank"), choices=[("", "—"), *KOREAN_BANKS.items()],
                            validators=[InputRequired(_l("Choose the bank."))])
    # Never filled from the stored account: the full number is not sent back to the browser.
    number = StringField(_l("Account number"),
                         validators=[InputRequired(_l("Enter the account number.")),
                                     Length(max=40)],
                         render_kw={"autocomplete": "off", "inputmode": "numeric"})
    holder = StringField(_l("Account holder (as the bank has it)"),
                         validators=[InputRequired(_l("Enter the account holder's name.")),
                                     Length(max=60)])


class VerifyForm(FlaskForm):
    number = StringField(_l("Account number, from the owner's bankbook copy"),
                         validators=[InputRequired(_l("Enter the account number.")),
                                     Length(max=40)],
                         render_kw={"autocomplete": "off", "inputmode": "numeric"})


class IssueForm(FlaskForm):
    month = StringField(_l("Month (YYYY-MM)"),
                        validators=[InputRequired(_l("Enter the month.")), Length(max=7)],
                        render_kw={"placeholder": "2026-11", "pattern": r"\d{4}-\d{2}"})


class PaidForm(FlaskForm):
    reference = StringField(_l("Bank's transfer reference"),
                            validators=[InputRequired(_l("Give the bank's reference of the "
                                                         "transfer.")), Length(max=120)])
    paid_on = DateField(_l("Transfer day"),
                        validators=[InputRequired(_l("Give the day the transfer was made."))])
