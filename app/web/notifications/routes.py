"""Notification pages: the inbox, the per-kind preferences, the development mail page (the
outbox shown as a mailbox when no mail server is configured) and the admins' outbox.

The unread count in every page's header comes from `unread_notifications()` (one COUNT query,
made only when a page for a logged-in user renders the header, and at most once per request).
"""

from __future__ import annotations

from email.message import EmailMessage

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from app.db import db_int, utcnow
from app.extensions import db
from app.jobs import enqueue_after_commit
from app.notifications import mail, render, services
from app.notifications.inbox import inbox_of
from app.notifications.kinds import (
    AUDIENCE_LABELS,
    CHANNEL_LABELS,
    KINDS,
    REMINDER_CHOICES,
    kinds_for,
)
from app.notifications.models import DELIVERY_STATES, DeliveryState, EmailDelivery, Notification
from app.notifications.resolve import ACTION_KINDS
from app.security import headers
from app.web.accounts.routes import safe_next
from app.web.helpers import paginate, writes_on_get

bp = Blueprint("notifications", __name__)

INBOX_PER_PAGE = 20  # groups (one per booking) per page
GROUP_SHOWN = 9  # earlier messages listed under a group's latest
MAIL_PER_PAGE = 30
OUTBOX_ROWS = 100  # failed and pending rows shown on the outbox page (newest first)
UNREAD_KEY = "gonggan.unread_notifications"
STATE_LABELS = {
    DeliveryState.PENDING: _l("Waiting"),
    DeliveryState.SENDING: _l("Sending"),
    DeliveryState.SENT: _l("Sent"),
    DeliveryState.FAILED: _l("Failed"),
}


@bp.app_context_processor
def _mail_states():
    return {"mail_state_labels": STATE_LABELS}


# --------------------------------------------------------------------------- header badge
@bp.app_template_global()
def unread_notifications() -> int:
    """The logged-in user's unread count (0 for visitors); one query per request at most."""
    if not current_user.is_authenticated:
        return 0
    # Kept on the request (not `g`: an application context may outlive many requests).
    cached = request.environ.get(UNREAD_KEY)
    if cached is None:
        try:
            cached = services.unread_count(current_user)
        except SQLAlchemyError:  # an error page after a failed transaction: no badge
            db.session.rollback()
            cached = 0
        request.environ[UNREAD_KEY] = cached
    return cached


# --------------------------------------------------------------------------- inbox
def _own_notification(note_id: int) -> Notification:
    note = db.session.get(Notification, note_id)
    if note is None or note.user_id != current_user.id:
        abort(404)  # someone else's is not found either
    return note


def _back_to_inbox():
    return redirect(safe_next(request.form.get("next")) or url_for("notifications.inbox"))


@bp.get("/notifications")
@login_required
def inbox():
    """What asks for an action first, then one entry per booking (its latest message, the
    earlier ones folded under it)."""
    unread_only = request.args.get("show") == "unread"
    page = max(request.args.get("page", 1, type=db_int), 1)
    user = current_user._get_current_object()
    box = inbox_of(user, page=page, per_page=INBOX_PER_PAGE, unread_only=unread_only)

    def item(note: Notification) -> dict:
        return {"note": note, "title": _title(note, user),
                "kind": KINDS[note.kind].label if note.kind in KINDS else note.kind}

    groups = [
        {"group": group, "latest": item(group.latest),
         "earlier": [item(n) for n in group.earlier[:GROUP_SHOWN]],
         "hidden": max(len(group.earlier) - GROUP_SHOWN, 0)}
        for group in box.groups
    ]
    return render_template(
        "notifications/inbox.html",
        actions=[item(n) for n in box.actions],
        groups=groups,
        pagination=box,
        unread_only=unread_only,
    )


def _title(note: Notification, user) -> str:
    if note.kind not in KINDS:
        return note.kind
    return render.subject_of(note, user)


@bp.get("/notifications/<int:note_id>/open")
@writes_on_get  # one serialized transaction, like any write
@login_required
def open_notification(note_id: int):
    """Mark it read and go where it points. One asking for an action (pay, change the
    request) stays unread until that is done (app.notifications.resolve)."""
    note = _own_notification(note_id)
    if note.read_at is None and note.kind not in ACTION_KINDS:
        services.mark_read(current_user, [note.id])
        db.session.commit()
    return redirect(render.link_for(note))


@bp.post("/notifications/<int:note_id>/read")
@login_required
def mark_read(note_id: int):
    """Mark one read; with `group` posted, every notification about the same booking."""
    note = _own_notification(note_id)
    if request.form.get("group") and note.booking_id is not None:
        services.mark_read_about(current_user, note.booking_id)
    else:
        services.mark_read(current_user, [note.id])
    db.session.commit()
    return _back_to_inbox()


@bp.post("/notifications/read-all")
@login_required
def mark_all_read():
    changed = services.mark_read(current_user)
    db.session.commit()
    if changed:
        flash(_("All notifications are marked as read."), "success")
    return _back_to_inbox()


# --------------------------------------------------------------------------- preferences
def _kind_groups(kinds) -> list[tuple[object, list]]:
    groups: dict[str, list] = {}
    for spec in kinds:
        groups.setdefault(spec.audience, []).append(spec)
    return [(AUDIENCE_LABELS[a], specs) for a, specs in groups.items()]


def read_preferences(data, kinds) -> tuple[dict[str, str], int | None, dict[str, str]]:
    """Choices from a posted form: ({kind: channel}, reminder hours, {field: error})."""
    errors: dict[str, str] = {}
    offered = {spec.name: spec for spec in kinds}
    choices: dict[str, str] = {}
    for key in data:
        if key.startswith("kind-") and key[5:] not in offered:
            errors[key] = _("There is no such kind of notification.")
    for name, spec in offered.items():
        value = data.get(f"kind-{name}")
        if value is None:
            continue  # not sent: left as it is
        if value not in spec.choices:
            errors[f"kind-{name}"] = (
                _("This notification cannot be turned off.")
                if value == "off" and spec.mandatory
                else _("Choose one of the options shown.")
            )
        else:
            choices[name] = value
    hours = None
    raw = (data.get("reminder_hours") or "").strip()
    if raw:
        try:
            hours = int(raw)
        except ValueError:
            hours = None
        if hours not in REMINDER_CHOICES:
            errors["reminder_hours"] = _("Choose one of the reminder times shown.")
            hours = None
    return choices, hours, errors


def save_preferences(user, choices: dict[str, str], hours: int | None) -> None:
    services.set_preferences(user, choices)
    if hours is not None:
        user.reminder_hours = hours


@bp.route("/account/notifications", methods=["GET", "POST"])
@login_required
def preferences():
    user = current_user._get_current_object()
    kinds = kinds_for(user.role_names)
    shown = {spec.name for spec in kinds}
    current = services.preferences_of(user)
    reminder = user.reminder_hours
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        choices, hours, errors = read_preferences(request.form, kinds)
        if not errors:
            try:
                save_preferences(user, choices, hours)
            except ValueError as exc:  # a choice the service refuses
                db.session.rollback()
                errors[f"kind-{exc.args[0] if exc.args else ''}"] = _(
                    "Choose one of the options shown."
                )
            else:
                db.session.commit()
                flash(_("Your notification settings were saved."), "success")
                return redirect(url_for("notifications.preferences"))
        status = 422
        # Show what was sent, with the errors beside it; nothing was saved.
        current = {**current, **choices}
        reminder = hours if hours is not None else reminder
    return render_template(
        "notifications/preferences.html",
        groups=_kind_groups(kinds),
        current=current,
        reminder=reminder,
        reminder_choices=REMINDER_CHOICES,
        channel_labels=CHANNEL_LABELS,
        errors=errors,
        other_errors=[m for key, m in errors.items()
                      if key != "reminder_hours" and key[5:] not in shown],
    ), status


# --------------------------------------------------------------------------- dev mail
def _dev_mail_on() -> None:
    if mail.backend() not in ("dev", "console"):
        abort(404)  # never with a real mail server


def _mailbox_query():
    query = select(EmailDelivery)
    if not current_user.is_admin:
        query = query.where(EmailDelivery.user_id == current_user.id)
    return query


@bp.get("/dev/mail")
@login_required
def dev_mail():
    _dev_mail_on()
    query = _mailbox_query().order_by(EmailDelivery.created_at.desc(), EmailDelivery.id.desc())
    pagination = paginate(query, per_page=MAIL_PER_PAGE)
    return render_template("notifications/dev_mail.html", pagination=pagination,
                           backend=mail.backend())


@bp.get("/dev/mail/<int:delivery_id>")
@login_required
def dev_mail_message(delivery_id: int):
    _dev_mail_on()
    row = db.session.scalar(_mailbox_query().where(EmailDelivery.id == delivery_id))
    if row is None:
        abort(404)
    message = _message_of(row)
    return render_template("notifications/dev_mail_message.html", row=row, message=message)


@bp.get("/dev/mail/<int:delivery_id>/html")
@login_required
@headers.view_options(content_security_policy=headers.EMAIL_PREVIEW_POLICY,
                      frame_options="SAMEORIGIN")
def dev_mail_html(delivery_id: int):
    """The email's HTML as its own document, framed by the message page (its inline styles are
    allowed here only; nothing in it runs)."""
    _dev_mail_on()
    row = db.session.scalar(_mailbox_query().where(EmailDelivery.id == delivery_id))
    if row is None:
        abort(404)
    # Not rendered yet: the message page says so beside the (empty) frame.
    return Response(row.body_html or "", mimetype="text/html")


def _message_of(row: EmailDelivery) -> dict | None:
    """The email as it goes out (headers, text, HTML, attachment names), when it was rendered."""
    if row.subject is None:
        return None
    msg: EmailMessage = mail.build_message(
        to=row.to_address, subject=row.subject, text=row.body_text or "",
        html=row.body_html, message_id=row.message_id or "",
        attachments=_attachments_of(row),
    )
    headers = [(k, v) for k, v in msg.items() if k not in ("Content-Type", "MIME-Version")]
    names = [part.get_filename() for part in msg.iter_attachments() if part.get_filename()]
    return {"headers": headers, "text": row.body_text or "", "html": row.body_html or "",
            "attachments": names}


def _attachments_of(row: EmailDelivery) -> list:
    """Attachments are not stored; rebuild them as delivery does (only their names are shown)."""
    if row.notification is None or row.notification.kind not in KINDS:
        return []
    try:
        with render.email_context(row.locale):
            return render.render_email(row.notification, user=row.user).attachments
    except Exception:  # a template missing or broken: the page still shows the stored text
        db.session.rollback()
        return []


# --------------------------------------------------------------------------- admin outbox
def _admin_only() -> None:
    if not current_user.is_admin:
        abort(403)


@bp.get("/admin/outbox")
@login_required
def outbox():
    _admin_only()
    counts = dict(
        db.session.execute(
            select(EmailDelivery.status, func.count(EmailDelivery.id)).group_by(
                EmailDelivery.status
            )
        ).tuples().all()
    )
    rows = db.session.scalars(
        select(EmailDelivery)
        .where(EmailDelivery.status.in_(
            (DeliveryState.FAILED, DeliveryState.PENDING, DeliveryState.SENDING)))
        .order_by(EmailDelivery.created_at.desc(), EmailDelivery.id.desc())
        .limit(OUTBOX_ROWS)
    ).all()
    return render_template(
        "notifications/outbox.html",
        counts={state: counts.get(state, 0) for state in DELIVERY_STATES},
        rows=rows,
        kinds=KINDS,
        limit=OUTBOX_ROWS,
        now=utcnow(),
    )


@bp.post("/admin/outbox/<int:delivery_id>/retry")
@login_required
def retry(delivery_id: int):
    _admin_only()
    row = db.session.get(EmailDelivery, delivery_id)
    if row is None:
        abort(404)
    if row.status != DeliveryState.FAILED:
        flash(_("Only a failed email can be sent again."), "error")
        return redirect(url_for("notifications.outbox"))
    row.status = DeliveryState.PENDING
    row.next_attempt_at = utcnow()
    enqueue_after_commit("notifications.deliver", row)
    db.session.commit()
    flash(_("The email will be sent again."), "success")
    return redirect(url_for("notifications.outbox"))

