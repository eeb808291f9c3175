"""Checkout Sessions: create, retrieve, expire, and paying one on the hosted page."""

from __future__ import annotations

from typing import Any

from devtools.stripe_double.common import (
    CAPTURE_METHODS,
    KRW_ONLY,
    PAYMENT_METHOD_TYPES,
    StripeDoubleError,
    check_charge,
    int_param,
    metadata,
    public,
    required,
)


class CheckoutMixin:
    def _checkout_routes(self) -> tuple:
        return (
            (r"/v1/checkout/sessions", "POST", self._create_session),
            (r"/v1/checkout/sessions/([^/]+)", "GET", self._get_session),
            (r"/v1/checkout/sessions/([^/]+)/expire", "POST", self._expire_session_api),
        )

    def _create_session(self, params: dict, out: list[str]):
        mode = params.get("mode")
        if mode != "payment":
            raise StripeDoubleError(400, "The double only supports mode=payment.", param="mode")
        success_url = required(params, "success_url")
        items = params.get("line_items")
        if not isinstance(items, list) or not items:
            raise StripeDoubleError(400, "line_items is required in payment mode.",
                                    code="parameter_missing", param="line_items")
        line_items, currency, total = [], None, 0
        for i, item in enumerate(items):
            price = item.get("price_data") or {}
            if not price:
                raise StripeDoubleError(400, "The double only supports price_data line items.",
                                        param=f"line_items[{i}][price_data]")
            item_currency = required(price, "currency").lower()
            if currency and item_currency != currency:
                raise StripeDoubleError(400, "All line items must use the same currency.",
                                        param=f"line_items[{i}][price_data][currency]")
            currency = item_currency
            unit = int_param(price, "unit_amount", required=True, minimum=0)
            quantity = int_param(item, "quantity", required=True, minimum=1)
            name = (price.get("product_data") or {}).get("name")
            if not name:
                raise StripeDoubleError(400, "Missing required param: product_data[name].",
                                        code="parameter_missing",
                                        param=f"line_items[{i}][price_data][product_data][name]")
            total += unit * quantity
            line_items.append({"object": "item", "description": name, "quantity": quantity,
                               "currency": currency, "amount_total": unit * quantity,
                               "price": {"unit_amount": unit, "currency": currency}})
        check_charge(total, currency, "line_items")
        now = self.now()
        expires_at = int_param(params, "expires_at")
        if expires_at is None:
            expires_at = now + 24 * 3600
        elif not now + 30 * 60 <= expires_at <= now + 24 * 3600:  # as Stripe: no slack
            raise StripeDoubleError(400, "The `expires_at` timestamp must be between 30 minutes "
                                    "and 24 hours from Checkout Session creation.",
                                    param="expires_at")
        pid = params.get("payment_intent_data") or {}
        capture_method = pid.get("capture_method") or "automatic"
        fee = int_param(pid, "application_fee_amount", minimum=0)
        destination = (pid.get("transfer_data") or {}).get("destination")
        if destination:
            self._find_destination(destination)
        if capture_method not in CAPTURE_METHODS:
            raise StripeDoubleError(400, f"Invalid capture_method: {capture_method}",
                                    param="payment_intent_data[capture_method]")
        types = params.get("payment_method_types") or ["card"]
        if not isinstance(types, list):
            raise StripeDoubleError(400, "Invalid array", param="payment_method_types")
        for i, kind in enumerate(types):
            if kind not in PAYMENT_METHOD_TYPES:
                raise StripeDoubleError(
                    400, f"Invalid payment_method_types[{i}]: must be one of "
                    f"{', '.join(PAYMENT_METHOD_TYPES)}", param=f"payment_method_types[{i}]")
            if kind in KRW_ONLY and currency != "krw":
                raise StripeDoubleError(
                    400, f"The currency provided ({currency}) is invalid. Payments with "
                    f"{kind} support the following currencies: krw.",
                    param="payment_method_types")
        session = {
            "id": self._id("cs"), "object": "checkout.session", "amount_subtotal": total,
            "amount_total": total, "cancel_url": params.get("cancel_url"),
            "client_reference_id": params.get("client_reference_id"), "created": now,
            "currency": currency, "customer": None,
            "customer_email": params.get("customer_email"), "expires_at": expires_at,
            "livemode": False, "locale": params.get("locale"),
            "metadata": metadata(params.get("metadata")), "mode": "payment",
            "payment_intent": None, "payment_method_types": list(types),
            "payment_status": "unpaid", "status": "open",
            "success_url": success_url, "url": None,
            "_line_items": line_items,
            "_intent_data": {"capture_method": capture_method, "fee": fee,
                             "destination": destination,
                             "metadata": metadata(pid.get("metadata")),
                             "description": pid.get("description")},
        }
        session["url"] = f"{self.browser_url}/checkout/{session['id']}"
        self._objects[session["id"]] = session
        return 200, self._expand(session, params)

    def _get_session(self, params: dict, out: list[str], session_id: str):
        return 200, self._expand(self._find(session_id, "checkout.session"), params)

    def _expire_session_api(self, params: dict, out: list[str], session_id: str):
        session = self._find(session_id, "checkout.session")
        if session["status"] != "open":
            raise StripeDoubleError(
                400, f"Only Checkout Sessions with a status in [\"open\"] can be expired. This "
                f"Checkout Session has a status of \"{session['status']}\".",
                code="checkout_session_unexpected_state")
        self._expire_session(session, out)
        return 200, public(session)

    def _expire_session(self, session: dict[str, Any], out: list[str]) -> None:
        session["status"] = "expired"
        session["url"] = None
        self._emit("checkout.session.expired", session, out)

    def pay_session(self, session: dict[str, Any], card: str, out: list[str],
                    method: str = "card") -> str | None:
        """Pay an open session with ``card`` (the hosted page's form), or with a wallet
        (``method``: one of the session's ``payment_method_types``). Returns a decline
        message, or None when the session completed."""
        if method not in session["payment_method_types"]:
            return f"{method} is not offered on this Checkout Session."
        data = session["_intent_data"]
        intent = self._objects.get(session["payment_intent"] or "")
        if intent is None:
            intent = self._new_intent(
                amount=session["amount_total"], currency=session["currency"],
                capture_method=data["capture_method"], metadata=dict(data["metadata"]),
                fee=data["fee"], destination=data["destination"],
                description=data["description"])
            intent["payment_method_types"] = list(session["payment_method_types"])
            session["payment_intent"] = intent["id"]
        failure = self._pay_intent(intent, card, out, method=method)
        if failure:
            return failure
        session["status"] = "complete"
        session["url"] = None
        session["payment_status"] = "paid" if intent["status"] == "succeeded" else "unpaid"
        self._emit("checkout.session.completed", session, out)
        return None
