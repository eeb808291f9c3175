"""Writing the security event log (see models.py) and answering a throttled request."""

from __future__ import annotations

import logging
import math
import time

from flask import has_request_context, request
from flask_babel import ngettext
from flask_limiter.errors import RateLimitExceeded
from flask_login import current_user

from app.db import utcnow
from app.extensions import db, limiter
from app.security.models import THROTTLED, SecurityEvent

log = logging.getLogger(__name__)


def user_agent() -> str:
    return (request.headers.get("User-Agent") or "")[:200]


def record(kind: str, *, user=None, user_id: int | None = None, space_id: int | None = None,
           detail: dict | None = None) -> SecurityEvent:
    """Add an event about the current request (if any) to the session (the caller commits)."""
    if user is not None:
        user_id = user.id
    # Outside a request (a command, a test calling a service) there is no address or path.
    where = ({"path": request.path[:200], "agent": user_agent()} if has_request_context()
             else {})
    event = SecurityEvent(
        at=utcnow(), kind=kind, ip=request.remote_addr if has_request_context() else None,
        user_id=user_id, space_id=space_id, detail={**where, **(detail or {})},
    )
    db.session.add(event)
    return event


def _first_in_minute(key: str) -> bool:
    """Whether this is the first breach of `key` this minute: a flood of refused requests writes
    one row a minute, not one per request."""
    try:
        return limiter.storage.incr(f"gonggan-seen/{key}", 60) == 1
    except Exception:  # noqa: BLE001 - the log is best effort; the refusal stands regardless
        return False


def retry_after_seconds() -> int:
    current = limiter.current_limit
    if current is None:
        return 60
    return max(1, math.ceil(current.reset_at - time.time()))


def wait_text(seconds: int) -> str:
    if seconds < 60:
        return ngettext("%(num)d second", "%(num)d seconds", seconds)
    minutes = math.ceil(seconds / 60)
    if minutes < 120:
        return ngettext("%(num)d minute", "%(num)d minutes", minutes)
    return ngettext("%(num)d hour", "%(num)d hours", math.ceil(minutes / 60))


def note_throttled(exc: RateLimitExceeded) -> int:
    """Log a refused request (once a minute per limit, address and account) and return how many
    seconds the person has to wait."""
    retry = retry_after_seconds()
    db.session.rollback()
    user_id = current_user.id if current_user and current_user.is_authenticated else None
    scope = exc.limit.scope or request.endpoint or ""
    if _first_in_minute(f"{scope}/{request.remote_addr}/{user_id}"):
        try:
            record(THROTTLED, user_id=user_id,
                   detail={"limit": str(exc.limit.limit), "scope": scope})
            db.session.commit()
        except Exception:  # noqa: BLE001 - the refusal stands whether or not it is logged
            db.session.rollback()
            log.exception("could not record a throttled request")
    return retry
