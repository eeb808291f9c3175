"""Connect: Express accounts and onboarding links, the money movement of destination charges
(application fees, transfers, their refunds and reversals) and payouts to connected accounts."""

from __future__ import annotations

import secrets
from typing import Any

from devtools.stripe_double.common import (
    CONNECT_COUNTRIES,
    StripeDoubleError,
    metadata,
    proportional_step,
    public,
    required,
    truthy,
)


def _sublist(url: str) -> dict[str, Any]:
    return {"object": "list", "data": [], "has_more": False, "total_count": 0, "url": url}


class ConnectMixin:
    def _connect_routes(self) -> tuple:
        return (
            (r"/v1/accounts", "POST", self._create_account),
            (r"/v1/accounts/([^/]+)", "GET", self._get_kind("account")),
            (r"/v1/account_links", "POST", self._create_account_link),
            (r"/v1/transfers/([^/]+)", "GET", self._get_kind("transfer")),
            (r"/v1/transfers/([^/]+)/reversals/([^/]+)", "GET", self._get_reversal),
            (r"/v1/application_fees/([^/]+)", "GET", self._get_kind("application_fee")),
            (r"/v1/payouts/([^/]+)", "GET", self._get_kind("payout")),
        )

    # ------------------------------------------------------------------ test helpers
    def connected_balance(self, account_id: str, currency: str | None = None) -> int:
        """The connected account's balance: transfers in, less reversals and payouts. It can
        be negative (a refund reversed a transfer that was already paid out)."""
        with self._lock:
            self._find(account_id, "account")
            return self._balance(account_id, self._currency_of(account_id, currency))

    def pay_out(self, account_id: str, currency: str | None = None) -> dict[str, Any]:
        """Pay the account's balance out (net transfers not yet paid out) as a ``paid`` payout;
        emits the Connect events ``payout.created`` and ``payout.paid``."""
        out: list[str] = []
        with self._lock:
            account = self._find(account_id, "account")
            currency = self._currency_of(account_id, currency)
            amount = self._balance(account_id, currency)
            if amount <= 0:
                raise StripeDoubleError(
                    400, f"Insufficient funds in Stripe account. The {currency.upper()} balance "
                    f"of {account_id} is {amount}.", code="balance_insufficient")
            now = self.now()
            payout = {
                "id": self._id("po"), "object": "payout", "amount": amount,
                "arrival_date": now, "automatic": True, "balance_transaction": None,
                "created": now, "currency": currency, "description": None,
                "destination": account["_bank_account"], "failure_code": None,
                "failure_message": None, "livemode": False, "metadata": {},
                "method": "standard", "source_type": "card", "statement_descriptor": None,
                "status": "pending", "type": "bank_account", "_account": account_id,
            }
            self._objects[payout["id"]] = payout
            self._emit("payout.created", payout, out, account=account_id)
            payout["status"] = "paid"
            self._emit("payout.paid", payout, out, {"status": "pending"}, account=account_id)
        self._flush(out)
        return public(payout)

    def _currency_of(self, account_id: str, currency: str | None) -> str:
        if currency:
            return currency.lower()
        seen = {o["currency"] for o in self._objects.values()
                if o["object"] == "transfer" and o["destination"] == account_id}
        return seen.pop() if len(seen) == 1 else self._objects[account_id]["default_currency"]

    def _balance(self, account_id: str, currency: str) -> int:
        total = 0
        for obj in self._objects.values():
            if obj.get("currency") != currency:
                continue
            if obj["object"] == "transfer" and obj["destination"] == account_id:
                total += obj["amount"] - obj["amount_reversed"]
            elif obj["object"] == "payout" and obj["_account"] == account_id:
                total -= obj["amount"]
        return total

    # ------------------------------------------------------------------ destination charges
    def _find_destination(self, destination: str) -> None:
        acct = self._objects.get(destination)
        if acct is None or acct["object"] != "account":
            raise StripeDoubleError(400, f"No such destination: '{destination}'",
                                    code="resource_missing",
                                    param="transfer_data[destination]")

    def _settle_charge(self, charge: dict[str, Any], out: list[str]) -> None:
        """On capture of a destination charge: collect the application fee and transfer the
        rest to the connected account."""
        destination = charge["destination"]
        if not destination:
            return
        now, currency = self.now(), charge["currency"]
        fee_amount = charge["application_fee_amount"] or 0
        if fee_amount:
            fee = {
                "id": self._id("fee"), "object": "application_fee", "account": destination,
                "amount": fee_amount, "amount_refunded": 0, "charge": charge["id"],
                "created": now, "currency": currency, "livemode": False,
                "originating_transaction": None, "refunded": False,
            }
            fee["refunds"] = _sublist(f"/v1/application_fees/{fee['id']}/refunds")
            self._objects[fee["id"]] = fee
            charge["application_fee"] = fee["id"]
            self._emit("application_fee.created", fee, out)
        transfer = {
            "id": self._id("tr"), "object": "transfer",
            "amount": charge["amount_captured"] - fee_amount, "amount_reversed": 0,
            "created": now, "currency": currency, "description": None,
            "destination": destination, "destination_payment": self._id("py"),
            "livemode": False, "metadata": {}, "reversed": False,
            "source_transaction": charge["id"], "source_type": "card", "transfer_group": None,
        }
        transfer["reversals"] = _sublist(f"/v1/transfers/{transfer['id']}/reversals")
        self._objects[transfer["id"]] = transfer
        charge["transfer"] = transfer["id"]
        self._emit("transfer.created", transfer, out)

    def _connect_refund(self, charge: dict[str, Any], refund: dict[str, Any], already: int, *,
                        reverse_transfer: bool, refund_fee: bool) -> list[tuple]:
        """Reverse the transfer and refund the application fee in proportion to the refund
        (``already``: what earlier refunds took of the captured amount). Returns the events
        to emit once the refund itself has been announced."""
        events: list[tuple] = []
        whole, after = charge["amount_captured"], already + refund["amount"]
        if reverse_transfer and charge["transfer"]:
            transfer = self._objects[charge["transfer"]]
            part = min(proportional_step(transfer["amount"], already, after, whole),
                       transfer["amount"] - transfer["amount_reversed"])
            if part > 0:
                reversal = {
                    "id": self._id("trr"), "object": "transfer_reversal", "amount": part,
                    "created": self.now(), "currency": transfer["currency"],
                    "destination_payment_refund": self._id("pyr"), "metadata": {},
                    "source_refund": refund["id"], "transfer": transfer["id"],
                }
                self._objects[reversal["id"]] = reversal
                previous = {"amount_reversed": transfer["amount_reversed"],
                            "reversed": transfer["reversed"]}
                self._add_to_list(transfer["reversals"], reversal)
                transfer["amount_reversed"] += part
                transfer["reversed"] = transfer["amount_reversed"] >= transfer["amount"]
                refund["transfer_reversal"] = reversal["id"]
                events.append(("transfer.reversed", transfer, previous))
        if refund_fee and charge["application_fee"]:
            fee = self._objects[charge["application_fee"]]
            part = min(proportional_step(fee["amount"], already, after, whole),
                       fee["amount"] - fee["amount_refunded"])
            if part > 0:
                fee_refund = {"id": self._id("fr"), "object": "fee_refund", "amount": part,
                              "balance_transaction": None, "created": self.now(),
                              "currency": fee["currency"], "fee": fee["id"], "metadata": {}}
                self._objects[fee_refund["id"]] = fee_refund
                previous = {"amount_refunded": fee["amount_refunded"],
                            "refunded": fee["refunded"]}
                self._add_to_list(fee["refunds"], fee_refund)
                fee["amount_refunded"] += part
                fee["refunded"] = fee["amount_refunded"] >= fee["amount"]
                refund["application_fee_refunded"] = part
                events.append(("application_fee.refunded", fee, previous))
        return events

    @staticmethod
    def _add_to_list(sublist: dict[str, Any], obj: dict[str, Any]) -> None:
        sublist["data"].insert(0, obj)
        sublist["total_count"] += 1

    def _get_reversal(self, params: dict, out: list[str], transfer_id: str, reversal_id: str):
        self._find(transfer_id, "transfer")
        reversal = self._find(reversal_id, "transfer_reversal")
        if reversal["transfer"] != transfer_id:
            raise StripeDoubleError(404, f"No such transfer reversal: '{reversal_id}'",
                                    code="resource_missing", param="id")
        return 200, self._expand(reversal, params)

    # ------------------------------------------------------------------ accounts
    def _create_account(self, params: dict, out: list[str]):
        kind = params.get("type")
        controller = params.get("controller")
        if kind not in ("express", "standard", "custom") and not controller:
            raise StripeDoubleError(400, "Invalid type: must be one of express, standard, or "
                                    "custom", param="type")
        country = (params.get("country") or "US").upper()  # Stripe: the platform's country
        if country not in CONNECT_COUNTRIES:
            raise StripeDoubleError(
                400, f"Connected accounts cannot be created in {country}: Stripe does not "
                "support accounts in this country yet.", code="country_unsupported",
                param="country")
        requested = [name for name, cap in (params.get("capabilities") or {}).items()
                     if isinstance(cap, dict) and truthy(cap.get("requested"))]
        account = {
            "id": self._id("acct"), "object": "account", "type": kind or "express",
            "business_type": params.get("business_type"),
            "capabilities": {name: "inactive" for name in requested or ["card_payments",
                                                                         "transfers"]},
            "charges_enabled": False, "payouts_enabled": False, "details_submitted": False,
            "country": country, "created": self.now(),
            "default_currency": {"JP": "jpy", "US": "usd", "GB": "gbp", "SG": "sgd"}.get(
                country, "eur"), "email": params.get("email"), "livemode": False,
            "metadata": metadata(params.get("metadata")),
            "requirements": {"currently_due": ["external_account", "tos_acceptance.date"],
                             "disabled_reason": "requirements.past_due",
                             "eventually_due": [], "past_due": []},
            "_bank_account": self._id("ba"),
        }
        self._objects[account["id"]] = account
        return 200, public(account)

    def _create_account_link(self, params: dict, out: list[str]):
        account = self._find(required(params, "account"), "account")
        link_type = required(params, "type")
        if link_type not in ("account_onboarding", "account_update"):
            raise StripeDoubleError(400, f"Invalid type: {link_type}", param="type")
        token = secrets.token_urlsafe(16)
        now = self.now()
        self._account_links[token] = {"account": account["id"], "used": False,
                                      "return_url": required(params, "return_url"),
                                      "refresh_url": params.get("refresh_url"),
                                      "expires_at": now + 300}
        return 200, {"object": "account_link", "created": now, "expires_at": now + 300,
                     "url": f"{self.browser_url}/connect/onboard/{token}"}

    def onboard(self, token: str, out: list[str]) -> str:
        """Complete onboarding through a link (the hosted page); returns where to redirect."""
        link = self._account_links.get(token)
        if link is None:
            raise StripeDoubleError(404, "Unknown account link.")
        if link["used"] or link["expires_at"] < self.now():
            return link["refresh_url"] or link["return_url"]
        link["used"] = True
        account = self._objects[link["account"]]
        previous = {"charges_enabled": account["charges_enabled"],
                    "payouts_enabled": account["payouts_enabled"]}
        account.update(charges_enabled=True, payouts_enabled=True, details_submitted=True,
                       capabilities={k: "active" for k in account["capabilities"]},
                       requirements={"currently_due": [], "disabled_reason": None,
                                     "eventually_due": [], "past_due": []})
        self._emit("account.updated", account, out, previous, account=account["id"])
        return link["return_url"]
