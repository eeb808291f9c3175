"""The two Stripe webhook endpoints: signed events, stored once, applied by re-reading the
object.

`POST /stripe/webhook` is the platform's endpoint (the platform account's own events: Checkout,
PaymentIntents, charges, refunds, disputes), verified with STRIPE_WEBHOOK_SECRET only.
`POST /stripe/webhook/connect` is the Connect endpoint (events of connected accounts, e.g.
account.updated, which Stripe sends nowhere else), verified with STRIPE_CONNECT_WEBHOOK_SECRET
only. An event signed with the other endpoint's secret is refused (400) and changes nothing. An
event at the wrong endpoint (a Connect event, `account` set, at the platform endpoint, or a
platform event at the Connect endpoint: an endpoint registered for the wrong kind of events)
is logged as a warning, neither stored nor applied (its delivery to the right endpoint is then
not taken for a duplicate), and answered 200 so Stripe does not retry it there.

The event's own copy of the object may be stale (events arrive late, twice, out of order), so
the handler reads the object again from Stripe and lets `sync_*` move our state forward only.
"""

from __future__ import annotations

import logging

import stripe
from flask import Blueprint, current_app, jsonify, request
from sqlalchemy.exc import IntegrityError

from app.db import utcnow
from app.extensions import db
from app.payments import connect, gateway, reconcile, services
from app.payments.models import StripeEvent

log = logging.getLogger(__name__)
webhook_bp = Blueprint("stripe_webhook", __name__)

# The platform endpoint's events.
HANDLED = (
    "checkout.session.completed", "checkout.session.expired",
    "checkout.session.async_payment_succeeded", "checkout.session.async_payment_failed",
    "payment_intent.succeeded", "payment_intent.amount_capturable_updated",
    "payment_intent.canceled", "payment_intent.payment_failed",
    "charge.refunded", "refund.created", "refund.updated", "refund.failed",
    "charge.refund.updated", "charge.dispute.created", "charge.dispute.updated",
    "charge.dispute.closed",
)
# The Connect endpoint's events.
CONNECT_HANDLED = ("account.updated",)


def _refuse(message: str, status: int = 400):
    return jsonify(error={"code": "invalid_webhook", "message": message}), status


@webhook_bp.post("/stripe/webhook")
def receive():
    return _receive(current_app.config.get("STRIPE_WEBHOOK_SECRET"), connect_endpoint=False)


@webhook_bp.post("/stripe/webhook/connect")
def receive_connect():
    return _receive(current_app.config.get("STRIPE_CONNECT_WEBHOOK_SECRET"),
                    connect_endpoint=True)


def _receive(secret: str | None, *, connect_endpoint: bool):
    if not secret or not gateway.configured():
        return _refuse("Webhooks are not configured.", 503)
    signature = request.headers.get("Stripe-Signature")
    if not signature:
        return _refuse("Unsigned request.")
    try:
        payload = request.get_data().decode("utf-8")
        event = stripe.Webhook.construct_event(payload, signature, secret)
    except (ValueError, UnicodeDecodeError, stripe.SignatureVerificationError):
        return _refuse("The signature does not match.")
    obj = (event.get("data") or {}).get("object") or {}
    now = utcnow()
    account = event.get("account")
    if bool(account) != connect_endpoint:
        log.warning("webhook %s (%s) at the %s endpoint ignored: register the endpoints for "
                    "the right events (docs/payments.md)", event.id, event.type,
                    "Connect" if connect_endpoint else "platform")
        return jsonify(received=True, ignored="wrong endpoint")
    stored = StripeEvent(id=str(event.id)[:255], type=str(event.type)[:80],
                         object_id=(obj.get("id") or None), account=account,
                         received_at=now)
    try:
        with db.session.begin_nested():
            db.session.add(stored)
    except IntegrityError:
        db.session.rollback()
        return jsonify(received=True, duplicate=True)
    handled = CONNECT_HANDLED if connect_endpoint else HANDLED
    try:
        if event.type in handled and obj.get("id"):
            apply(event.type, obj, now)
    except stripe.StripeError as exc:
        if gateway.is_transient(exc):
            # Stripe could not be asked for the object: forget the event so its retry applies.
            db.session.rollback()
            log.warning("webhook %s not applied: %s", event.id, exc)
            return _refuse("Could not read the object from Stripe; retry later.", 503)
        # Stripe does not know the object (another account's, or deleted): nothing to do.
        stored.error = gateway.describe(exc)
    stored.processed_at = utcnow()
    db.session.commit()
    return jsonify(received=True)


def apply(event_type: str, obj, now) -> None:
    client = gateway.client()
    if event_type.startswith("checkout.session."):
        services.sync_session(client.v1.checkout.sessions.retrieve(obj["id"]), now)
    elif event_type.startswith("payment_intent."):
        services.sync_intent(services.retrieve_intent(obj["id"]), now)
    elif event_type == "charge.refunded":
        charge = client.v1.charges.retrieve(obj["id"])
        if charge.get("payment_intent"):
            services.sync_intent(services.retrieve_intent(charge["payment_intent"]), now)
    elif event_type.startswith("refund.") or event_type == "charge.refund.updated":
        reconcile.sync_refund(client.v1.refunds.retrieve(obj["id"]), now)
    elif event_type.startswith("charge.dispute."):
        reconcile.sync_dispute(client.v1.disputes.retrieve(obj["id"]), now)
    elif event_type == "account.updated":
        connect.sync_account(client.v1.accounts.retrieve(obj["id"]))
