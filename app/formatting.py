"""Formatting for people: money, local times, the current URL with other arguments."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import request, url_for
from flask_babel import format_currency, get_locale
from flask_babel import gettext as _
from tossi import postfix


def money(amount: int, currency: str = "KRW") -> str:
    """₩15,000 from 15000 (KRW has no minor unit); "Free" for zero."""
    if not amount:
        return _("Free")
    if currency in ("KRW", "JPY"):
        return format_currency(amount, currency)
    return format_currency(amount / 100, currency)


def josa(word: object, particle: str) -> str:
    """`word` with the Korean particle that fits its last sound: josa("행정실", "이") is
    "행정실이", josa("교육청", "으로") "교육청으로", josa("서울", "으로") "서울로". Sentences
    that can avoid a particle after a variable should; this is for those that cannot."""
    return postfix(str(word), particle)


def zone_name(zone: str) -> str:
    """A time zone as people name it: "Korea time" for Asia/Seoul, the zone's id otherwise."""
    return _("Korea time") if zone == "Asia/Seoul" else zone


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


def deadline(dt: datetime | None, zone: str | ZoneInfo = "Asia/Seoul") -> str:
    """A deadline as people read it, the same on every page and in every message: one at local
    midnight is the end of the day before ('2026-12-09 (수) 24:00', not '2026-12-10 (목)
    00:00'), which is how deadlines counted in whole days fall."""
    if dt is None:
        return ""
    if local(dt, zone, "time") == "00:00":
        return f"{local(dt - timedelta(minutes=1), zone, 'date')} 24:00"
    return local(dt, zone)


def url_with(**changes) -> str:
    """The current URL with some query arguments changed (None removes one)."""
    args: dict[str, Any] = request.args.to_dict(flat=False)
    for key, value in changes.items():
        if value is None:
            args.pop(key, None)
        else:
            args[key] = [str(value)]
    endpoint = request.endpoint
    assert endpoint is not None  # only called while rendering the page of a matched route
    return url_for(endpoint, **(request.view_args or {}), **args)
