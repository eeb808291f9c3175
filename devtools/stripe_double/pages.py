"""The hosted browser pages: the test-payment page of a Checkout Session and Connect
onboarding links."""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import parse_qsl

from devtools.stripe_double.common import CARD_DECLINED, CARD_SUCCESS, StripeDoubleError, money

WALLET_NAMES = {"kakao_pay": "카카오페이 / KakaoPay", "naver_pay": "네이버페이 / Naver Pay"}


class PagesMixin:
    def browser_request(self, method: str, path: str, raw: bytes
                        ) -> tuple[int, str | None, str]:
        """Handle a browser request: ``(status, redirect location or None, html)``."""
        out: list[str] = []
        location: str | None = None
        status, page = 200, ""
        with self._lock:
            self._emit_expiries_into(out)
            match = re.fullmatch(r"/checkout/([^/]+)(?:/(pay|cancel))?", path)
            onboard = re.fullmatch(r"/connect/onboard/([^/]+)", path)
            if match:
                session = self._objects.get(match.group(1))
                action = match.group(2)
                if session is None or session["object"] != "checkout.session":
                    status, page = 404, "<!doctype html><p>Unknown Checkout Session.</p>"
                elif action is None:
                    page = self.checkout_page(session)
                elif action == "cancel":
                    location = session["cancel_url"] or self.browser_url + "/"
                elif method != "POST":
                    status, page = 405, "<!doctype html><p>POST required.</p>"
                elif session["status"] != "open":
                    status, page = 409, self.checkout_page(session,
                                                           "This session is no longer open.")
                else:
                    form = dict(parse_qsl(raw.decode("utf-8")))
                    failure = self.pay_session(session, form.get("card", ""), out,
                                               method=form.get("method") or "card")
                    if failure:
                        status, page = 402, self.checkout_page(
                            session, f"{failure} / 카드가 거절되었습니다.")
                    else:
                        location = session["success_url"].replace("{CHECKOUT_SESSION_ID}",
                                                                  session["id"])
            elif onboard:
                try:
                    location = self.onboard(onboard.group(1), out)
                except StripeDoubleError:
                    status, page = 404, "<!doctype html><p>Unknown account link.</p>"
            else:
                status, page = 404, "<!doctype html><p>Not found.</p>"
        self._flush(out)
        return (303 if location is not None else status), location, page

    def checkout_page(self, session: dict[str, Any], error: str | None = None) -> str:
        rows = "".join(
            f"<li>{html.escape(i['description'])} × {i['quantity']} — "
            f"{money(i['amount_total'], i['currency'])}</li>" for i in session["_line_items"])
        sid = html.escape(session["id"])
        status = session["status"]
        body = (f'<p class="error" role="alert">{html.escape(error)}</p>' if error else "")
        if status == "open":
            body += (
                f'<form method="post" action="/checkout/{sid}/pay">'
                '<label for="card">카드 번호 / Card number</label> '
                '<input id="card" name="card" inputmode="numeric" autocomplete="off" '
                f'value="{CARD_SUCCESS}" required> '
                '<button type="submit" name="action" value="pay">결제 / Pay</button></form>'
                + "".join(
                    f'<form method="post" action="/checkout/{sid}/pay">'
                    f'<input type="hidden" name="method" value="{html.escape(kind)}">'
                    f'<button type="submit">{html.escape(WALLET_NAMES.get(kind, kind))}'
                    "</button></form>"
                    for kind in session.get("payment_method_types", ["card"])
                    if kind != "card")
                + f'<form method="post" action="/checkout/{sid}/cancel">'
                '<button type="submit">취소 / Cancel</button></form>'
                f"<p><small>{CARD_SUCCESS} succeeds · {CARD_DECLINED} is declined</small></p>")
        else:
            body += f"<p>This Checkout Session is <strong>{html.escape(status)}</strong>.</p>"
        return (
            '<!doctype html><html lang="ko"><head><meta charset="utf-8">'
            "<title>TEST PAYMENT — Stripe double</title></head><body>"
            '<p class="banner"><strong>TEST PAYMENT — no real money</strong><br>'
            "<strong>테스트 결제 — 실제 돈이 오가지 않습니다</strong></p>"
            f"<h1>{money(session['amount_total'], session['currency'])}</h1>"
            f"<ul>{rows}</ul>{body}</body></html>")
