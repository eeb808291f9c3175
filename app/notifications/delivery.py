"""Delivering the outbox: claim a row, render it once, send it, record the outcome.

A row is claimed with one conditional UPDATE (pending and due → sending), so however many
workers try the same row, one sends it. Failures that may pass (connection refused, time-out,
4xx) are tried again with exponential back-off — 1, 2, 4, … minutes, at most `MAIL_RETRY_MAX`
minutes apart — up to `MAIL_MAX_ATTEMPTS`; refusals (5xx) fail at once. Every failure is kept
on the row (`last_error`) for the outbox page. A worker that died while sending leaves its row
`sending`; after `MAIL_SENDING_STALE_MINUTES` it is sent again, with the same Message-ID so
mail systems can tell it is the same message.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import and_, inspect, or_, select, update
from sqlalchemy.orm import joinedload

from app.db import rowcount, serialized_writes, utcnow
from app.extensions import db
from app.jobs import job
from app.notifications import mail, render
from app.notifications.models import DeliveryState, EmailDelivery, Notification

log = logging.getLogger(__name__)


def _cfg(name: str, default):
    from flask import current_app

    return current_app.config.get(name, default)


def backoff(attempts: int) -> timedelta:
    """Wait after the `attempts`-th failed attempt: 1, 2, 4, 8 … minutes, capped."""
    base = float(_cfg("MAIL_RETRY_BASE_SECONDS", 60))
    cap = float(_cfg("MAIL_RETRY_MAX_SECONDS", 6 * 3600))
    return timedelta(seconds=min(cap, base * 2 ** max(0, attempts - 1)))


def _due_condition(now: datetime):
    stale = now - timedelta(minutes=float(_cfg("MAIL_SENDING_STALE_MINUTES", 15)))
    return or_(
        and_(EmailDelivery.status == DeliveryState.PENDING, EmailDelivery.next_attempt_at <= now),
        and_(EmailDelivery.status == DeliveryState.SENDING, EmailDelivery.claimed_at <= stale),
    )


def claim(delivery_id: int, now: datetime) -> bool:
    with serialized_writes():
        got = rowcount(db.session.execute(
            update(EmailDelivery)
            .where(EmailDelivery.id == delivery_id, _due_condition(now))
            .values(
                status=DeliveryState.SENDING, claimed_at=now, attempts=EmailDelivery.attempts + 1
            )
            .execution_options(synchronize_session=False)
        ))
        db.session.commit()
    return got == 1


@job("notifications.deliver")
def deliver(delivery_id: int | None, now: datetime | None = None) -> str:
    """Send one outbox row if it is due and nobody else is sending it. Returns what happened:
    "sent", "retry", "failed" or "skipped"."""
    if delivery_id is None:
        return "skipped"
    now = now or utcnow()
    if not claim(delivery_id, now):
        return "skipped"
    # The row with what it is about, in one query (the claim changed it behind the session).
    row = db.session.scalars(
        select(EmailDelivery)
        .where(EmailDelivery.id == delivery_id)
        .options(
            joinedload(EmailDelivery.user),
            joinedload(EmailDelivery.notification).joinedload(Notification.booking),
        )
        .execution_options(populate_existing=True)
    ).one()
    try:
        content = _content(row)
        mail.send(content)
    except mail.PermanentFailure as exc:
        return _finish(row, DeliveryState.FAILED, str(exc), now)
    except Exception as exc:  # TemporaryFailure, or a bug while rendering: try again later
        if not isinstance(exc, mail.TemporaryFailure):
            log.exception("rendering email %s failed", delivery_id)
        error = str(exc) if isinstance(exc, mail.TemporaryFailure) else repr(exc)
        if row.attempts >= int(_cfg("MAIL_MAX_ATTEMPTS", 8)):
            return _finish(row, DeliveryState.FAILED, error, now)
        return _finish(row, DeliveryState.PENDING, error, now, retry_at=now + backoff(row.attempts))
    return _finish(row, DeliveryState.SENT, None, now)


def _finish(row: EmailDelivery, status: str, error: str | None, now: datetime, *,
            retry_at: datetime | None = None) -> str:
    values: dict = {"status": status}
    if error:  # a success keeps the last error: the row shows it needed another try
        values["last_error"] = error[:2000]
    if status == DeliveryState.SENT:
        values["sent_at"] = now
    if retry_at is not None:
        values["next_attempt_at"] = retry_at
    state = inspect(row)
    for attr in ("subject", "body_text", "body_html"):  # content rendered at this attempt
        if state.attrs[attr].history.added:
            values[attr] = getattr(row, attr)
    row_id = row.id
    # The row was loaded (and the message rendered) in a read transaction. On SQLite such a
    # transaction cannot start writing once another process has written since it began: that
    # fails at once with "database is locked", whatever the busy timeout. So the outcome is
    # written in a write transaction of its own.
    db.session.rollback()
    with serialized_writes():
        db.session.execute(
            update(EmailDelivery).where(EmailDelivery.id == row_id).values(**values)
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
    return "retry" if status == DeliveryState.PENDING else status


def _content(row: EmailDelivery):
    """The MIME message for `row`: rendered at the first attempt and stored, so retries send
    the same words (and the development mail page shows them)."""

    attachments = []
    with render.email_context(row.locale):
        if row.kind == "digest":
            notes = list(db.session.scalars(
                select(Notification).where(Notification.id.in_(row.params.get("ids", [])))
                .order_by(Notification.created_at, Notification.id)
            ))
            rendered = render.render_digest(notes, user=row.user)
        elif row.notification is None and (row.params or {}).get("to_address"):
            rendered = render.render_to_address(row)
        elif row.notification is None:
            raise mail.PermanentFailure("the notification was deleted before it was sent")
        else:
            rendered = render.render_email(row.notification, user=row.user)
        attachments = rendered.attachments
    if row.subject is None:  # kept with the outcome, in the same commit
        row.subject = rendered.subject[:300]
        row.body_text = rendered.text
        row.body_html = rendered.html
    # The text is stored with the subject; the message id when the row was queued.
    assert row.body_text is not None and row.message_id is not None
    return mail.build_message(to=row.to_address, subject=row.subject, text=row.body_text,
                              html=row.body_html, message_id=row.message_id,
                              attachments=attachments)


@job("notifications.deliver_due")
def deliver_due(now: datetime | None = None, limit: int = 500) -> dict[str, int]:
    """Send every outbox row that is due (retries, and anything whose after-commit dispatch
    was lost). Safe on several workers at once: each row is claimed."""
    now = now or utcnow()
    ids = list(db.session.scalars(
        select(EmailDelivery.id).where(_due_condition(now))
        .order_by(EmailDelivery.next_attempt_at, EmailDelivery.id).limit(limit)
    ))
    db.session.rollback()
    counts: dict[str, int] = {}
    for delivery_id in ids:
        outcome = deliver(delivery_id, now)
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts
