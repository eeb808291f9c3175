"""Forms of the resident's booking pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import Length

from app.bookings.services import MAX_PURPOSE_LENGTH


class CancelForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason (optional)"),
        validators=[Length(max=MAX_PURPOSE_LENGTH)],
        render_kw={"rows": 2, "maxlength": MAX_PURPOSE_LENGTH},
    )
