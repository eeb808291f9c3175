"""Turning a notification into words: the inbox line and the email (subject, text, HTML,
attachments), in the reader's language, with links to the right page.

Emails are rendered outside any visitor's request (after the commit, on a worker), inside a
request context built on `BASE_URL` (by default this machine on the served `PORT`) so links are
absolute and correct.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field

import css_inline
from flask import current_app, g, url_for
from flask_babel import force_locale

from app.accounts.group_models import GroupInvitation
from app.accounts.models import PasswordReset
from app.calendars import ics
from app.db import utcnow
from app.extensions import db
from app.notifications.kinds import DIGEST_TEMPLATE, KINDS
from app.rules.schema import APPROVERS
from config import default_base_url


@dataclass
class Attachment:
    filename: str
    content_type: str
    data: bytes


@dataclass
class Rendered:
    subject: str
    text: str
    html: str
    attachments: list[Attachment] = field(default_factory=list)


@contextmanager
def email_context(locale: str):
    """A request context on BASE_URL (for absolute links) speaking `locale`."""
    base = current_app.config.get("BASE_URL") or default_base_url()
    # Flask-Babel keeps the language on `g`, which this request context shares with the
    # caller's application context; force_locale does not restore an outer forced language,
    # so the caller's is put back by hand.
    saved = dict(vars(g._flask_babel)) if "_flask_babel" in g else None
    try:
        with current_app.test_request_context("/", base_url=base), force_locale(locale):
            yield
    finally:
        if saved is not None:
            vars(g._flask_babel).clear()
            vars(g._flask_babel).update(saved)


def link_for(note, *, external: bool = False) -> str:
    """The page a notification opens (a path, or an absolute URL for emails)."""
    spec = KINDS.get(note.kind)
    opens = spec.opens if spec else "booking"
    if opens == "queue":
        return url_for("manage.queue", _external=external)
    if opens == "verify" and note.params.get("token"):
        return url_for("accounts.verify_email", token=note.params["token"], _external=external)
    if opens in ("account", "verify"):
        return url_for("accounts.account", _external=external)
    if opens == "oversight":
        return url_for("oversight.index", _external=external)
    if opens == "verification_queue":
        return url_for("oversight.verifications", _external=external)
    if opens == "verification":
        return url_for("accounts.verification", _external=external)
    if opens == "groups":
        return url_for("accounts.groups", _external=external)
    if opens == "org_review":
        return url_for("orgs.review", _external=external)
    if opens in ("org_application", "org_team") and isinstance(note.params.get("org"), int):
        return url_for("orgs.application", org_id=note.params["org"], _external=external)
    if opens == "statement" and note.params.get("org") and note.params.get("statement"):
        return url_for("settlement.statement", org_id=note.params["org"],
                       statement_id=note.params["statement"], _external=external)
    if opens == "manage_booking" and note.booking_id:
        return url_for("manage.request_page", booking_id=note.booking_id, _external=external)
    if note.booking_id:
        # A closure notice opens the booking page at its note about the closure.
        anchor = "closure-note" if note.kind == "closure_conflict" else None
        return url_for("bookings.detail", booking_id=note.booking_id, _external=external,
                       _anchor=anchor)
    return url_for("notifications.inbox", _external=external)


def invitation_link(params: dict) -> str | None:
    """The page of the invitation in `params` with its token, derived now (it is stored nowhere);
    None when the invitation is gone or was accepted or withdrawn."""
    invitation_id = params.get("invitation")
    if not isinstance(invitation_id, int):
        return None
    invitation = db.session.get(GroupInvitation, invitation_id)
    if invitation is None or not invitation.is_open:
        return None
    return url_for("accounts.invitation", token=invitation.link_token(), _external=True)


def address_link(kind: str, params: dict) -> str | None:
    """The page an email written to an address opens (render_to_address)."""
    if kind == "group_invitation":
        return invitation_link(params)
    if kind == "password_reset":
        # The reset's link, derived now; once used or expired, the page to ask again.
        reset_id = params.get("reset")
        reset = db.session.get(PasswordReset, reset_id) if isinstance(reset_id, int) else None
        if reset is not None and reset.usable(utcnow()):
            return url_for("accounts.reset_password", token=reset.link_token(), _external=True)
        return url_for("accounts.forgot_password", _external=True)
    if kind == "email_change_confirm" and isinstance(params.get("token"), str):
        return url_for("accounts.confirm_email_change", token=params["token"], _external=True)
    if kind in ("email_change_notice", "password_reset_unknown"):
        return url_for("accounts.forgot_password", _external=True)
    return None


def who_text(parts) -> str:
    """Who decides a stage, in the current language (the same words as approvals.stage_who)."""
    if not isinstance(parts, dict):
        return parts or ""
    from flask_babel import gettext as _


    if parts.get("label"):
        return f"{parts['label']} ({parts.get('source', '')})"
    if parts.get("approver") == "jurisdiction" and parts.get("jurisdiction"):
        return _("Officers of %(name)s", name=parts["jurisdiction"])
    label = APPROVERS.get(parts.get("approver") or "", "")
    return f"{label} ({parts.get('source', '')})"


def localized(params):
    """`params` with the parts stored language-free (who decides a stage) put into words."""
    if isinstance(params, dict):
        return {k: who_text(v) if k == "who" else localized(v) for k, v in params.items()}
    if isinstance(params, list):
        return [localized(v) for v in params]
    return params


def _blocks(template_name: str, context: dict) -> dict[str, str]:
    context["params"] = localized(context.get("params") or {})
    env = current_app.jinja_env
    template = env.get_template(template_name)
    current_app.update_template_context(context)
    ctx = template.new_context(context)
    return {
        name: "".join(block(ctx)).strip()
        for name, block in template.blocks.items()
        if name in ("subject", "text", "html", "reason", "account_reason")
    }


def subject_of(note, user=None) -> str:
    """The one-line title (inbox list, email subject) in the current language. Pass the reader
    as `user` when listing many (saves loading it per row)."""
    spec = KINDS[note.kind]
    blocks = _blocks(spec.template, {"params": note.params or {}, "note": note,
                                     "user": user, "link": ""})
    return " ".join(blocks["subject"].split())


def render_email(note, *, user) -> Rendered:
    """The email for notification `note` (call inside `email_context`)."""
    spec = KINDS[note.kind]
    link = link_for(note, external=True)
    if note.kind == "group_invitation":  # the invitation's own page, where it is answered
        link = invitation_link(note.params or {}) or link
    blocks = _blocks(spec.template, {"params": note.params or {}, "note": note, "user": user,
                                     "link": link})
    # A kind about the account itself says why it came (its `account_reason` block) instead of
    # pointing at notification settings, which cannot turn it off.
    rendered = _wrap(blocks, link=link, user=user, reason=blocks.get("account_reason") or None)
    # The approval's calendar file; when payment is due at approval, the payment-due message
    # carries the approval (see announce._approved), so it carries the file too.
    approval = note.kind == "booking_approved" or (
        note.kind == "payment_due" and (note.params or {}).get("approved")
    )
    if approval and note.booking is not None:
        rendered.attachments.append(_ics_for(note.booking))
    return rendered


def render_to_address(row) -> Rendered:
    """The email of outbox `row`, written to an address without an account (call inside
    `email_context`): the kind's template with no reader, and in the footer the template's
    `reason` instead of notification settings the address does not have."""
    spec = KINDS[row.kind]
    params = row.params or {}
    link = address_link(row.kind, params)
    if row.kind == "org_invitation" and isinstance(params.get("token"), str):
        link = url_for("orgs.invitation", token=params["token"], _external=True)
    link = link or url_for("main.index", _external=True)
    blocks = _blocks(spec.template, {"params": params, "note": None, "user": None,
                                     "link": link})
    return _wrap(blocks, link=link, user=None, reason=blocks.get("reason") or "")


def render_digest(notes: list, *, user) -> Rendered:
    items = [
        {"note": n, "subject": subject_of(n, user), "link": link_for(n, external=True)}
        for n in notes
    ]
    # The queue when something in it waits for a decision; otherwise the inbox.
    decide = any(KINDS[n.kind].opens == "queue" for n in notes if n.kind in KINDS)
    link = url_for("manage.queue" if decide else "notifications.inbox", _external=True)
    blocks = _blocks(DIGEST_TEMPLATE, {"items": items, "user": user, "link": link})
    return _wrap(blocks, link=link, user=user)


def _wrap(blocks: dict[str, str], *, link: str, user, reason: str | None = None) -> Rendered:
    """The layout around a message. `reason` (emails to an address without an account) is why
    the email came, said in the footer instead of the notification settings."""
    prefs = None if reason is not None else url_for("notifications.preferences", _external=True)
    env = current_app.jinja_env
    context = {"subject": blocks["subject"], "body": blocks.get("text", ""),
               "body_html": blocks.get("html", ""), "link": link, "prefs": prefs,
               "user": user, "reason": reason}
    current_app.update_template_context(context)
    text = env.get_template("notifications/email.txt").render(context)
    html = env.get_template("notifications/email.html").render(context)
    return Rendered(subject=" ".join(blocks["subject"].split()), text=text.strip() + "\n",
                    html=css_inline.inline(html))


def _ics_for(booking) -> Attachment:
    from flask import request


    host = request.host.split(":")[0] or "gonggan"
    method = "CANCEL" if ics.ics_status(booking.status) == "CANCELLED" else "PUBLISH"
    body = ics.calendar_of(booking.space.name, [booking], host, method=method)
    return Attachment(f"booking-{booking.id}.ics", "text/calendar; method=" + method, body)
