"""PaymentIntents and their charges (automatic and manual capture, lapsing holds), refunds
and disputes."""

from __future__ import annotations

import re
import secrets
from typing import Any

from devtools.stripe_double.common import (
    AUTHORIZATION_WINDOW,
    CANCELABLE,
    CAPTURE_METHODS,
    CARD_DECLINED,
    CARD_INSUFFICIENT_FUNDS,
    CARD_REFUND_PENDING,
    CARD_SUCCESS,
    StripeDoubleError,
    bool_param,
    check_charge,
    int_param,
    metadata,
    money,
    public,
    required,
    truthy,
)


class PaymentsMixin:
    def _payment_routes(self) -> tuple:
        return (
            (r"/v1/payment_intents", "POST", self._create_intent),
            (r"/v1/payment_intents/([^/]+)", "GET", self._get_kind("payment_intent")),
            (r"/v1/payment_intents/([^/]+)/confirm", "POST", self._confirm_intent),
            (r"/v1/payment_intents/([^/]+)/capture", "POST", self._capture_intent),
            (r"/v1/payment_intents/([^/]+)/cancel", "POST", self._cancel_intent),
            (r"/v1/charges/([^/]+)", "GET", self._get_kind("charge")),
            (r"/v1/refunds", "POST", self._create_refund),
            (r"/v1/refunds", "GET", self._list_refunds),
            (r"/v1/refunds/([^/]+)", "GET", self._get_kind("refund")),
            (r"/v1/disputes/([^/]+)", "GET", self._get_kind("dispute")),
        )

    # ------------------------------------------------------------------ test helpers
    def expire_authorization(self, intent_id: str, *,
                             reason: str = "automatic") -> dict[str, Any]:
        """Let a ``requires_capture`` hold lapse now, as Stripe does after ``capture_before``:
        the intent is canceled with ``cancellation_reason`` ``"automatic"`` (or ``"expired"``,
        which Stripe also reports for a lapsed authorisation), the charge is fully refunded,
        and ``charge.expired`` then ``payment_intent.canceled`` are emitted."""
        out: list[str] = []
        with self._lock:
            intent = self._find(intent_id, "payment_intent")
            if intent["status"] != "requires_capture":
                raise StripeDoubleError(400, f"PaymentIntent {intent_id} has status "
                                        f"{intent['status']}, not requires_capture.",
                                        code="payment_intent_unexpected_state")
            self._lapse_authorization(intent, out, reason=reason)
        self._flush(out)
        return public(intent)

    def create_dispute(self, charge_or_intent: str, *, reason: str = "fraudulent",
                       amount: int | None = None) -> dict[str, Any]:
        """Open a dispute on a charge and emit ``charge.dispute.created``."""
        out: list[str] = []
        with self._lock:
            charge = self._charge_for(charge_or_intent, "charge")
            dispute = {
                "id": self._id("dp"), "object": "dispute", "amount": amount or charge["amount"],
                "charge": charge["id"], "payment_intent": charge["payment_intent"],
                "currency": charge["currency"], "reason": reason, "status": "needs_response",
                "created": self.now(), "livemode": False, "is_charge_refundable": False,
                "metadata": {}, "evidence_details": {"due_by": self.now() + 7 * 86400,
                                                     "has_evidence": False, "past_due": False,
                                                     "submission_count": 0},
            }
            self._objects[dispute["id"]] = dispute
            charge["disputed"] = True
            self._emit("charge.dispute.created", dispute, out)
        self._flush(out)
        return public(dispute)

    def update_refund(self, refund_id: str, status: str, *,
                      failure_reason: str | None = None) -> dict[str, Any]:
        """Move a refund on as Stripe does later: ``pending`` to ``succeeded``, ``failed`` or
        ``canceled``, or ``succeeded`` to ``failed`` (the bank returned it). Emits
        ``refund.updated`` and ``charge.refund.updated`` (and ``refund.failed`` for a failure);
        a failed or canceled refund gives the amount back to the charge."""
        allowed = {"pending": ("succeeded", "failed", "canceled"), "succeeded": ("failed",)}
        out: list[str] = []
        with self._lock:
            refund = self._find(refund_id, "refund")
            if status not in allowed.get(refund["status"], ()):
                raise StripeDoubleError(400, f"Refund {refund_id} cannot move from "
                                        f"{refund['status']} to {status}.")
            previous = {"status": refund["status"]}
            refund["status"] = status
            if status in ("failed", "canceled"):
                refund["failure_reason"] = failure_reason or (
                    "expired_or_canceled_card" if status == "failed" else None)
                charge = self._objects[refund["charge"]]
                charge["amount_refunded"] -= refund["amount"]
                charge["refunded"] = charge["amount_refunded"] >= charge["amount"]
            self._emit("refund.updated", refund, out, previous)
            self._emit("charge.refund.updated", refund, out, previous)
            if status == "failed":
                self._emit("refund.failed", refund, out, previous)
        self._flush(out)
        return public(refund)

    def close_dispute(self, dispute_id: str, *, won: bool) -> dict[str, Any]:
        """Close a dispute as the bank decided (``won``: the money stays with the merchant);
        emits ``charge.dispute.closed``."""
        out: list[str] = []
        with self._lock:
            dispute = self._find(dispute_id, "dispute")
            if dispute["status"] in ("won", "lost"):
                raise StripeDoubleError(400, f"Dispute {dispute_id} is already closed.")
            previous = {"status": dispute["status"]}
            dispute["status"] = "won" if won else "lost"
            self._emit("charge.dispute.closed", dispute, out, previous)
        self._flush(out)
        return public(dispute)

    # ------------------------------------------------------------------ internals
    def _new_intent(self, *, amount: int, currency: str, capture_method: str = "automatic",
                    metadata: dict | None = None, fee: int | None = None,
                    destination: str | None = None, description: str | None = None,
                    ) -> dict[str, Any]:
        if capture_method not in CAPTURE_METHODS:
            raise StripeDoubleError(400, f"Invalid capture_method: {capture_method}",
                                    param="capture_method")
        if destination is not None:
            self._find_destination(destination)
        intent = {
            "id": self._id("pi"), "object": "payment_intent", "amount": amount,
            "amount_capturable": 0, "amount_received": 0, "application_fee_amount": fee,
            "canceled_at": None, "cancellation_reason": None, "capture_method": capture_method,
            "client_secret": None, "confirmation_method": "automatic", "created": self.now(),
            "currency": currency, "description": description, "last_payment_error": None,
            "latest_charge": None, "livemode": False, "metadata": metadata or {},
            "payment_method": None, "payment_method_types": ["card"],
            "status": "requires_payment_method",
            "transfer_data": {"destination": destination} if destination else None,
        }
        intent["client_secret"] = f"{intent['id']}_secret_{secrets.token_hex(8)}"
        self._objects[intent["id"]] = intent
        return intent

    def _pay_intent(self, intent: dict[str, Any], card: str, out: list[str],
                    method: str = "card") -> str | None:
        """Attempt a card payment (or, ``method``, a wallet payment, which always succeeds
        and has no card: no number, brand or capture deadline). Returns a decline message,
        or None on success."""
        card = CARD_SUCCESS if method != "card" else re.sub(r"\D", "", card or "")
        details: dict[str, Any] = (
            {"type": "card", "card": {"brand": "visa", "last4": card[-4:]}} if method == "card"
            else {"type": method, method: {"buyer_id": self._id("buyer")}})
        destination = (intent["transfer_data"] or {}).get("destination")
        charge = {
            "id": self._id("ch"), "object": "charge", "amount": intent["amount"],
            "amount_captured": 0, "amount_refunded": 0, "application_fee": None,
            "application_fee_amount": intent["application_fee_amount"],
            "balance_transaction": None, "captured": False, "created": self.now(),
            "currency": intent["currency"], "destination": destination, "disputed": False,
            "failure_code": None, "failure_message": None, "livemode": False,
            "metadata": dict(intent["metadata"]), "paid": False, "payment_intent": intent["id"],
            "payment_method_details": details, "_card": card,
            "refunded": False, "status": "failed", "transfer": None,
            "transfer_data": intent["transfer_data"],
        }
        self._objects[charge["id"]] = charge
        intent["latest_charge"] = charge["id"]
        intent["payment_method"] = self._id("pm")
        if card not in (CARD_SUCCESS, CARD_REFUND_PENDING):
            code, decline, message = {
                CARD_DECLINED: ("card_declined", "generic_decline", "Your card was declined."),
                CARD_INSUFFICIENT_FUNDS: ("card_declined", "insufficient_funds",
                                          "Your card has insufficient funds."),
            }.get(card, ("incorrect_number", None, "Your card number is incorrect."))
            charge.update(failure_code=decline or code, failure_message=message)
            intent["status"] = "requires_payment_method"
            intent["last_payment_error"] = {"type": "card_error", "code": code,
                                            "decline_code": decline, "message": message,
                                            "charge": charge["id"]}
            self._emit("charge.failed", charge, out)
            self._emit("payment_intent.payment_failed", intent, out)
            return message
        charge.update(paid=True, status="succeeded")
        intent["last_payment_error"] = None
        if intent["capture_method"] == "manual":
            if method == "card":
                charge["payment_method_details"]["card"]["capture_before"] = (
                    self.now() + AUTHORIZATION_WINDOW)
            intent.update(status="requires_capture", amount_capturable=intent["amount"])
            self._emit("charge.succeeded", charge, out)
            self._emit("payment_intent.amount_capturable_updated", intent, out)
        else:
            charge.update(captured=True, amount_captured=intent["amount"])
            intent.update(status="succeeded", amount_received=intent["amount"])
            self._emit("charge.succeeded", charge, out)
            self._emit("payment_intent.succeeded", intent, out)
            self._settle_charge(charge, out)
        return None

    def _lapse_authorization(self, intent: dict[str, Any], out: list[str], *,
                             reason: str = "automatic") -> None:
        charge = self._objects[intent["latest_charge"]]
        charge.update(amount_refunded=charge["amount"], refunded=True)
        intent.update(status="canceled", canceled_at=self.now(), amount_capturable=0,
                      cancellation_reason=reason)
        self._emit("charge.expired", charge, out)
        self._emit("payment_intent.canceled", intent, out)

    # ------------------------------------------------------------------ routes
    def _create_intent(self, params: dict, out: list[str]):
        transfer = params.get("transfer_data") or {}
        amount = int_param(params, "amount", required=True, minimum=1)
        currency = required(params, "currency").lower()
        check_charge(amount, currency, "amount")
        intent = self._new_intent(
            amount=amount,
            currency=currency,
            capture_method=params.get("capture_method") or "automatic",
            metadata=metadata(params.get("metadata")),
            fee=int_param(params, "application_fee_amount", minimum=0),
            destination=transfer.get("destination"), description=params.get("description"))
        self._emit("payment_intent.created", intent, out)
        if truthy(params.get("confirm")):
            return self._confirm_intent(params, out, intent["id"])
        return 200, public(intent)

    def _confirm_intent(self, params: dict, out: list[str], intent_id: str):
        """Confirm with a test PaymentMethod: pm_card_visa succeeds, pm_card_chargeDeclined
        (or pm_card_visa_chargeDeclined) is declined with a 402 card_error."""
        intent = self._find(intent_id, "payment_intent")
        if intent["status"] not in ("requires_payment_method", "requires_confirmation"):
            raise StripeDoubleError(
                400, "You cannot confirm this PaymentIntent because it has a status of "
                f"{intent['status']}.", code="payment_intent_unexpected_state")
        pm = params.get("payment_method") or "pm_card_visa"
        card = CARD_DECLINED if "Declined" in pm else (
            CARD_INSUFFICIENT_FUNDS if "insufficient" in pm.lower() else CARD_SUCCESS)
        failure = self._pay_intent(intent, card, out)
        if failure:
            err = intent["last_payment_error"]
            raise StripeDoubleError(402, failure, type_="card_error", code=err["code"],
                                    decline_code=err["decline_code"], charge=err["charge"],
                                    payment_intent=public(intent))
        return 200, public(intent)

    def _capture_intent(self, params: dict, out: list[str], intent_id: str):
        intent = self._find(intent_id, "payment_intent")
        if intent["status"] != "requires_capture":
            raise StripeDoubleError(
                400, "This PaymentIntent could not be captured because it has a status of "
                f"{intent['status']}. Only a PaymentIntent with one of the following statuses "
                "may be captured: requires_capture.", code="payment_intent_unexpected_state",
                payment_intent=public(intent))
        amount = int_param(params, "amount_to_capture", minimum=1) or intent["amount_capturable"]
        if amount > intent["amount_capturable"]:
            raise StripeDoubleError(400, "The amount to capture must be less than or equal to "
                                    "the amount capturable.", code="amount_too_large",
                                    param="amount_to_capture")
        fee = int_param(params, "application_fee_amount", minimum=0)
        charge = self._objects[intent["latest_charge"]]
        if fee is not None:
            intent["application_fee_amount"] = charge["application_fee_amount"] = fee
        charge.update(captured=True, amount_captured=amount,
                      amount_refunded=intent["amount"] - amount)
        intent.update(status="succeeded", amount_received=amount, amount_capturable=0)
        self._emit("charge.captured", charge, out)
        self._emit("payment_intent.succeeded", intent, out)
        self._settle_charge(charge, out)
        return 200, public(intent)

    def _cancel_intent(self, params: dict, out: list[str], intent_id: str):
        intent = self._find(intent_id, "payment_intent")
        if intent["status"] not in CANCELABLE:
            raise StripeDoubleError(
                400, "You cannot cancel this PaymentIntent because it has a status of "
                f"{intent['status']}. Only a PaymentIntent with one of the following statuses "
                f"may be canceled: {', '.join(CANCELABLE)}.",
                code="payment_intent_unexpected_state", payment_intent=public(intent))
        if intent["latest_charge"] and intent["status"] == "requires_capture":
            charge = self._objects[intent["latest_charge"]]
            charge.update(amount_refunded=charge["amount"], refunded=True)
        reason = params.get("cancellation_reason") or "requested_by_customer"
        intent.update(status="canceled", canceled_at=self.now(), amount_capturable=0,
                      cancellation_reason=reason)
        self._emit("payment_intent.canceled", intent, out)
        return 200, public(intent)

    def _list_refunds(self, params: dict, out: list[str]):
        """Refunds, newest first, optionally of one PaymentIntent or charge."""
        limit = int_param(params, "limit", minimum=1) or 10
        if limit > 100:
            raise StripeDoubleError(400, "Invalid integer: limit must be at most 100",
                                    param="limit")
        found = [public(o) for o in reversed(list(self._objects.values()))
                 if o["object"] == "refund"
                 and params.get("payment_intent") in (None, o["payment_intent"])
                 and params.get("charge") in (None, o["charge"])]
        return 200, {"object": "list", "url": "/v1/refunds", "has_more": len(found) > limit,
                     "data": found[:limit]}

    def _create_refund(self, params: dict, out: list[str]):
        target = params.get("payment_intent") or params.get("charge")
        if not target:
            raise StripeDoubleError(400, "One of the following params should be provided for "
                                    "this request: payment_intent or charge.",
                                    code="parameter_missing")
        reverse_transfer = bool_param(params, "reverse_transfer")
        refund_fee = bool_param(params, "refund_application_fee")
        charge = self._charge_for(target, "payment_intent" if params.get("payment_intent")
                                  else "charge")
        # A partial capture marks the uncaptured rest as refunded; only the captured part
        # can be refunded for real.
        released = charge["amount"] - charge["amount_captured"] if charge["captured"] else 0
        already = charge["amount_refunded"] - released
        remaining = charge["amount_captured"] - already
        if remaining <= 0:
            raise StripeDoubleError(400, f"Charge {charge['id']} has already been refunded.",
                                    code="charge_already_refunded")
        amount = int_param(params, "amount", minimum=1)
        if amount is None:
            amount = remaining
        if amount > remaining:
            raise StripeDoubleError(
                400, f"Refund amount ({money(amount, charge['currency'])}) is greater than "
                f"unrefunded amount on charge ({money(remaining, charge['currency'])})",
                code="amount_too_large", param="amount")
        refund = {
            "id": self._id("re"), "object": "refund", "amount": amount,
            "application_fee_refunded": 0, "balance_transaction": None, "charge": charge["id"],
            "created": self.now(), "currency": charge["currency"], "livemode": False,
            "metadata": metadata(params.get("metadata")),
            "payment_intent": charge["payment_intent"], "reason": params.get("reason"),
            "refund_application_fee": refund_fee, "reverse_transfer": reverse_transfer,
            "status": "pending" if charge.get("_card") == CARD_REFUND_PENDING else "succeeded",
            "failure_reason": None, "transfer_reversal": None,
        }
        self._objects[refund["id"]] = refund
        connect_events = self._connect_refund(charge, refund, already,
                                              reverse_transfer=reverse_transfer,
                                              refund_fee=refund_fee)
        previous = {"amount_refunded": charge["amount_refunded"], "refunded": charge["refunded"]}
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] >= charge["amount"]
        self._emit("refund.created", refund, out)
        self._emit("charge.refunded", charge, out, previous)
        for event_type, obj, prev in connect_events:
            self._emit(event_type, obj, out, prev)
        return 200, public(refund)
