"""`POST /stripe/webhook`: signed events, stored once, applied by re-reading the object.

The event's own copy of the object may be stale (events arrive late, twice, out of order), so
the handler reads the object again from Stripe and lets `sync_*` move our state forward only.
"""

from __future__ import annotations

import logging

import stripe
from flask import Blueprint, current_app, jsonify, request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.db import utcnow
from app.extensions import db
from app.payments import connect, gateway, services
from app.payments.models import Payment, StripeEvent

log = logging.getLogger(__name__)
webhook_bp = Blueprint("stripe_webhook", __name__)

HANDLED = (
    "checkout.session.completed", "checkout.session.expired",
    "checkout.session.async_payment_succeeded", "checkout.session.async_payment_failed",
    "payment_intent.succeeded", "payment_intent.amount_capturable_updated",
    "payment_intent.canceled", "payment_intent.payment_failed",
    "charge.refunded", "charge.dispute.created", "account.updated",
)


def _refuse(message: str, status: int = 400):
    return jsonify(error={"code": "invalid_webhook", "message": message}), status


@webhook_bp.post("/stripe/webhook")
def receive():
    secret = current_app.config.get("STRIPE_WEBHOOK_SECRET")
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
    stored = StripeEvent(id=str(event.id)[:255], type=str(event.type)[:80],
                         object_id=(obj.get("id") or None), account=event.get("account"),
                         received_at=now)
    try:
        with db.session.begin_nested():
            db.session.add(stored)
    except IntegrityError:
        db.session.rollback()
        return jsonify(received=True, duplicate=True)
    try:
        if event.type in HANDLED and obj.get("id"):
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
    elif event_type == "charge.dispute.created":
        dispute = client.v1.disputes.retrieve(obj["id"])
        _dispute(dispute, now)
    elif event_type == "account.updated":
        connect.sync_account(client.v1.accounts.retrieve(obj["id"]))


def _dispute(dispute, now) -> None:
    payment = db.session.scalar(
        select(Payment).where(
            (Payment.stripe_charge_id == dispute.get("charge"))
            | (Payment.stripe_intent_id == dispute.get("payment_intent"))
        )
    )
    if payment is None or payment.dispute_id == dispute.id:
        return
    payment.dispute_id = dispute.id
    payment.dispute_status = dispute.get("status")
    services.add_log(payment.booking, "dispute_opened", payment=payment,
                     amount=dispute.get("amount"), now=now, detail=dispute.get("reason"))
