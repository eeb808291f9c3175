"""Template filters and globals: money, local times, labels."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask, current_app, request, url_for
from flask_babel import format_currency, get_locale
from flask_babel import gettext as _
from flask_login import current_user


def money(amount: int, currency: str = "KRW") -> str:
    """₩15,000 from 15000 (KRW has no minor unit); "Free" for zero."""
    if not amount:
        return _("Free")
    if currency in ("KRW", "JPY"):
        return format_currency(amount, currency)
    return format_currency(amount / 100, currency)


def local(dt: datetime | None, zone: str | ZoneInfo = "Asia/Seoul", fmt: str = "datetime") -> str:
    """Show an aware UTC instant in a zone: fmt is datetime, date, time, or a strftime pattern."""
    if dt is None:
        return ""
    tz = zone if isinstance(zone, ZoneInfo) else ZoneInfo(zone)
    value = dt.astimezone(tz)
    lang = str(get_locale() or "ko")
    weekday = value.weekday()
    names = (
        ["월", "화", "수", "목", "금", "토", "일"]
        if lang == "ko"
        else ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    )
    if fmt == "date":
        return f"{value:%Y-%m-%d} ({names[weekday]})"
    if fmt == "time":
        return f"{value:%H:%M}"
    if fmt == "datetime":
        return f"{value:%Y-%m-%d} ({names[weekday]}) {value:%H:%M}"
    return value.strftime(fmt)


def url_with(**changes) -> str:
    """The current URL with some query arguments changed (None removes one)."""
    args = request.args.to_dict(flat=False)
    for key, value in changes.items():
        if value is None:
            args.pop(key, None)
        else:
            args[key] = [str(value)]
    return url_for(request.endpoint, **(request.view_args or {}), **args)


def register(app: Flask) -> None:
    # Imported here: these modules import models, which import this package's neighbours.
    from app.bookings.approvals import STAGE_STATE_LABELS, stage_who
    from app.rules import messages
    from app.rules.schema import APPROVERS
    from app.spaces.models import WEEKDAYS

    app.jinja_env.filters["money"] = money
    app.jinja_env.filters["local"] = local
    app.jinja_env.filters["weekday_name"] = lambda day: str(WEEKDAYS[day])
    app.jinja_env.globals["url_with"] = url_with
    app.jinja_env.globals.update(
        reason_text=messages.reason_text,
        quote_line_text=lambda line, currency: messages.line_text(
            line, lambda v: money(v, currency)
        ),
        stored_line_text=lambda line, currency: messages.stored_line_text(
            line, lambda v: money(v, currency)
        ),
        stage_who=stage_who,
        stage_states=STAGE_STATE_LABELS,
        fee_category_text=messages.FEE_CATEGORY_TEXT,
        approver_labels=APPROVERS,
        clock=messages.clock,
    )

    @app.context_processor
    def _globals():
        return {
            "current_locale": str(get_locale() or "ko"),
            "current_user": current_user,
            "config": current_app.config,
        }

    from app.notifications import templating

    templating.register(app)
